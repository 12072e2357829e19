package parent_test

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/parent"
	"github.com/shardeum/distributor/protocol"
)

// A newer connection for the same key closes the older with 1000, in whichever child
// it is; the newer one keeps streaming.
func TestDuplicateKeyClosesOlderWith1000(t *testing.T) {
	e := newEnv(t, 1, false) // one client per child: old and new live in different children
	r := startParent(t, e, runOpts{})
	c := newCollector(t)
	other := r.dial(newCollector(t))
	old := r.dial(c)
	r.waitStatus("2 clients", func(st parent.Status) bool { return st.Clients == 2 })
	newer := r.dial(c)
	if code := old.closed(t, 10*time.Second); code != websocket.StatusNormalClosure {
		t.Fatalf("older connection closed with %d, want 1000", code)
	}
	st := r.waitStatus("2 clients after replacement", func(st parent.Status) bool { return st.Clients == 2 && len(st.Children) == 2 })
	keys := 0
	for _, ch := range st.Children {
		for _, cl := range ch.Clients {
			if cl.Key == c.kp.PublicHex {
				keys++
			}
		}
	}
	if keys != 1 {
		t.Errorf("key listed %d times in /status, want 1", keys)
	}
	e.feedUntil(t, "receipt", newer, other)
	if !other.isOpen() || !newer.isOpen() {
		t.Error("a client other than the replaced one was closed")
	}
}

func subscriber(key string, exp int64) map[string]any {
	return map[string]any{"publicKey": key, "expirationTimestamp": exp, "subscriptionType": "FIREHOSE"}
}

// Timer path: with limitToSubscribersOnly, a subscriber whose expiry passes is closed
// with 1001 by the periodic sweep; one with expirationTimestamp 0 stays.
func TestExpiredSubscriberClosedByTimer(t *testing.T) {
	e := newEnv(t, 5, false)
	a, forever := newCollector(t), newCollector(t)
	exp := time.Now().Add(time.Hour).UnixMilli()
	e.set("limitToSubscribersOnly", true)
	e.set("subscribers", []any{subscriber(a.kp.PublicHex, exp), subscriber(forever.kp.PublicHex, 0)})
	r := startParent(t, e, runOpts{sweep: 50 * time.Millisecond})

	wa := r.dial(a)
	wf := r.dial(forever)
	r.waitStatus("2 clients", func(st parent.Status) bool { return st.Clients == 2 })
	// Not listed: refused.
	if _, err := dialWS(r.addr, newCollector(t).handshake(t, e.hashKey, r.clock.Now()), ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("unlisted collector: err = %v, want HTTP 401", err)
	}
	r.clock.advance(2 * time.Hour) // a's subscription is now expired
	if code := wa.closed(t, 10*time.Second); code != websocket.StatusGoingAway {
		t.Fatalf("expired subscriber closed with %d, want 1001", code)
	}
	r.waitStatus("1 client", func(st parent.Status) bool { return st.Clients == 1 })
	if !wf.isOpen() {
		t.Fatal("subscriber with expirationTimestamp 0 was closed")
	}
	// And it can no longer connect.
	if _, err := dialWS(r.addr, a.handshake(t, e.hashKey, r.clock.Now()), ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("expired collector reconnect: err = %v, want HTTP 401", err)
	}
}

// SIGUSR1 path: the sweep timer is far away (30 s); SIGUSR1 reloads, closes the
// expired subscriber and the one removed from the file with 1001; a config that
// fails to load keeps the old one.
func TestSIGUSR1ReloadClosesExpiredAndRemoved(t *testing.T) {
	e := newEnv(t, 5, false)
	expiring, removed, stays := newCollector(t), newCollector(t), newCollector(t)
	exp := time.Now().Add(time.Hour).UnixMilli()
	e.set("limitToSubscribersOnly", true)
	e.set("subscribers", []any{subscriber(expiring.kp.PublicHex, exp), subscriber(removed.kp.PublicHex, 0), subscriber(stays.kp.PublicHex, 0)})
	r := startParent(t, e, runOpts{})

	we, wr, ws := r.dial(expiring), r.dial(removed), r.dial(stays)
	r.waitStatus("3 clients", func(st parent.Status) bool { return st.Clients == 3 })

	// A broken file: reload fails, old config kept, nobody closed, new handshakes still checked against it.
	write(t, e.cfgPath, `{"DISTRIBUTOR_PORT": "not a number"`)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitLog(t, r, "reload failed")
	if !we.isOpen() || !wr.isOpen() || !ws.isOpen() {
		t.Fatal("a client was closed by a failed reload")
	}

	e.set("subscribers", []any{subscriber(expiring.kp.PublicHex, exp), subscriber(stays.kp.PublicHex, 0)}) // removes `removed`
	r.clock.advance(2 * time.Hour)                                                                         // expires `expiring`
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if code := wr.closed(t, 10*time.Second); code != websocket.StatusGoingAway {
		t.Errorf("removed subscriber closed with %d, want 1001", code)
	}
	if code := we.closed(t, 10*time.Second); code != websocket.StatusGoingAway {
		t.Errorf("expired subscriber closed with %d, want 1001", code)
	}
	r.waitStatus("1 client", func(st parent.Status) bool { return st.Clients == 1 })
	if !ws.isOpen() {
		t.Error("listed, unexpired subscriber was closed")
	}
	if _, err := dialWS(r.addr, removed.handshake(t, e.hashKey, r.clock.Now()), ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("removed collector reconnect: err = %v, want HTTP 401", err)
	}
}

// waitLog waits until the parent's log contains s.
func waitLog(t *testing.T, r *running, s string) {
	t.Helper()
	r.logs.await(t, s, 30*time.Second)
}

// SIGUSR1 reaches every child: after a key change, frames are signed by the new key.
func TestSIGUSR1ReloadReachesChildren(t *testing.T) {
	e := newEnv(t, 1, false)
	r := startParent(t, e, runOpts{})
	a, b := r.dial(newCollector(t)), r.dial(newCollector(t)) // two children
	r.waitStatus("2 children", func(st parent.Status) bool { return len(st.Children) == 2 && st.Clients == 2 })

	kp, err := protocol.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	e.set("DISTRIBUTOR_PUBLIC_KEY", kp.PublicHex)
	e.set("DISTRIBUTOR_SECRET_KEY", hex.EncodeToString(kp.Secret))
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitLog(t, r, "SIGUSR1: configuration reloaded")
	for i, w := range []*wsClient{a, b} {
		deadline := time.Now().Add(15 * time.Second)
		for {
			e.appendLine("cycle", `{"counter":9}`)
			f := w.frame(t, 10*time.Second)
			var m struct {
				Sign struct{ Owner string } `json:"sign"`
			}
			if err := json.Unmarshal(f, &m); err != nil {
				t.Fatal(err)
			}
			if m.Sign.Owner == kp.PublicHex {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("client %d: frames still signed by %s after reload", i, m.Sign.Owner)
			}
		}
	}
	if !strings.Contains(r.logs.String(), "msg=\"SIGUSR1: configuration reloaded\" subscribers=0 limitToSubscribersOnly=false children=2") {
		t.Errorf("reload did not report 2 children")
	}
}

// Several connections for one key at once: exactly one survives, every other is
// closed with 1000, whatever order their handoffs complete in.
func TestDuplicateKeyConcurrent(t *testing.T) {
	e := newEnv(t, 2, false) // spread over children
	r := startParent(t, e, runOpts{})
	c := newCollector(t)
	const n = 6
	ws := make([]*wsClient, n)
	var wg sync.WaitGroup
	for i := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := dialWS(r.addr, c.handshake(t, e.hashKey, time.Now()), c.kp.PublicHex)
			if err != nil {
				t.Errorf("dial %d: %v", i, err)
				return
			}
			ws[i] = w
		}()
	}
	wg.Wait()
	for _, w := range ws {
		if w != nil {
			t.Cleanup(w.close)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	r.waitStatus("one connection left for the key", func(st parent.Status) bool { return st.Clients == 1 })
	waitFor(t, "all but one connection closed", func() bool {
		open := 0
		for _, w := range ws {
			if w.isOpen() {
				open++
			}
		}
		return open == 1
	})
	for i, w := range ws {
		if w.isOpen() {
			continue
		}
		if code := w.closed(t, time.Second); code != websocket.StatusNormalClosure {
			t.Errorf("connection %d closed with %d, want 1000", i, code)
		}
	}
}
