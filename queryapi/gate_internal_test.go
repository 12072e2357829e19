package queryapi

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// held starts n /totalData requests and returns a channel of their statuses as they finish.
func (e *ienv) held(n int) <-chan int {
	e.t.Helper()
	done := make(chan int, n)
	for i := 0; i < n; i++ {
		go func() {
			status, _, err := e.post(context.Background(), "/totalData", nil)
			if err != nil {
				status = -1
			}
			done <- status
		}()
	}
	return done
}

// await receives from ch, or fails the test if nothing comes within 10 s (a deadline for a
// broken gate, not a synchronisation: the event normally arrives at once).
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10 s", what)
		panic("unreachable")
	}
}

// gateEnv is an API whose gate has n slots, never lets a request bypass it (unless maxWait is
// set), and reports through channels: inside receives when a request holds a slot (and blocks it
// until release is closed, for the first blockN entrants), queued when one finds no free slot,
// gone when a queued one is dropped.
type gateEnv struct {
	*ienv
	inside, queued, gone chan struct{}
	release              chan struct{}
	entrants             atomic.Int32
}

func newGateEnv(t *testing.T, n int, blockN int32, maxWait time.Duration) *gateEnv {
	g := &gateEnv{ienv: newIenv(t, Options{MaxInFlight: n}), inside: make(chan struct{}, 100),
		queued: make(chan struct{}, 100), gone: make(chan struct{}, 100), release: make(chan struct{})}
	if maxWait == 0 {
		maxWait = time.Hour
	}
	g.api.gate.maxWait = maxWait
	g.api.gate.entered = func() {
		k := g.entrants.Add(1)
		g.inside <- struct{}{}
		if k <= blockN {
			<-g.release
		}
	}
	g.api.gate.waiting = func() { g.queued <- struct{}{} }
	g.api.gate.gone = func() { g.gone <- struct{}{} }
	g.start()
	t.Cleanup(func() {
		select {
		case <-g.release:
		default:
			close(g.release)
		}
	})
	return g
}

// TestGateLimitsCPUWork: with 2 slots held, a third request queues and starts its work only when
// a slot is freed; every request is answered.
func TestGateLimitsCPUWork(t *testing.T) {
	g := newGateEnv(t, 2, 2, 0)
	done := g.held(2)
	await(t, g.inside, "first holder")
	await(t, g.inside, "second holder")
	third := make(chan []byte, 1)
	go func() {
		_, b, _ := g.post(context.Background(), "/cycleinfo", map[string]any{"count": 3.0})
		third <- b
	}()
	await(t, g.queued, "queued third request") // it found both slots taken
	if n := len(g.api.gate.slots); n != 2 {
		t.Fatalf("%d slots taken, want 2", n)
	}
	select {
	case <-g.inside:
		t.Fatal("a third request started its work while both slots were held")
	default:
	}
	close(g.release)
	await(t, g.inside, "third request's work") // now it runs
	for i := 0; i < 2; i++ {
		if s := await(t, done, "held reply"); s != http.StatusOK {
			t.Errorf("held request: HTTP %d", s)
		}
	}
	if b := await(t, third, "third reply"); len(b) == 0 {
		t.Error("third request not answered")
	}
}

// TestGateBypassAfterMaxWait: if the slot holders are stuck (a locked database), a queued request
// goes ahead after maxWait instead of waiting for them.
func TestGateBypassAfterMaxWait(t *testing.T) {
	g := newGateEnv(t, 1, 1, 20*time.Millisecond)
	done := g.held(1)
	await(t, g.inside, "holder")
	b := g.mustPost("/cycleinfo", map[string]any{"count": 2.0}) // would hang if it waited for the holder
	if len(b) == 0 {
		t.Fatal("empty reply")
	}
	close(g.release)
	if s := await(t, done, "held reply"); s != http.StatusOK {
		t.Errorf("held request: HTTP %d", s)
	}
}

// TestGateDropsGoneClients: a request whose client leaves while it queues is dropped without
// taking a slot, and the gate is empty once the others finish.
func TestGateDropsGoneClients(t *testing.T) {
	g := newGateEnv(t, 1, 1, 0)
	done := g.held(1)
	await(t, g.inside, "holder")
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		_, _, err := g.post(ctx, "/totalData", nil)
		gone <- err
	}()
	await(t, g.queued, "queued request")
	cancel()
	if err := await(t, gone, "cancelled request's end"); err == nil {
		t.Fatal("cancelled request answered")
	}
	await(t, g.gone, "drop") // the server saw the client leave while the request queued
	close(g.release)
	if s := await(t, done, "held reply"); s != http.StatusOK {
		t.Errorf("held request: HTTP %d", s)
	}
	// The dropped request never entered: one entrant in all, and the next request gets the slot.
	g.mustPost("/totalData", nil)
	if n := g.entrants.Load(); n != 2 {
		t.Errorf("%d requests entered, want 2 (the held one and the last)", n)
	}
}

// TestGatePanicFreesSlot: a panic during a request's work is a 500 and does not keep its slot
// (with one slot and no bypass, the next request would wait forever).
func TestGatePanicFreesSlot(t *testing.T) {
	e := newIenv(t, Options{MaxInFlight: 1})
	e.api.gate.maxWait = time.Hour
	var n atomic.Int32
	e.api.gate.entered = func() {
		if n.Add(1) == 1 {
			panic("boom")
		}
	}
	e.start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status, _, err := e.post(ctx, "/totalData", nil)
	if err != nil || status != http.StatusInternalServerError {
		t.Fatalf("panicking request: HTTP %d, %v", status, err)
	}
	status, _, err = e.post(ctx, "/totalData", nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("next request: HTTP %d, %v (slot leaked?)", status, err)
	}
}
