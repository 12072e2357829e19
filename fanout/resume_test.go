package fanout_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/protocol"
)

// TestResumeStress: a client disconnects and resumes fifteen times while the writer appends and
// rotates without pause: two times in three on a long-running child (the join comes from its ring),
// every third time on a freshly spawned child, whose ring does not hold the cursor (a catch-up reader
// meets the ring mid-stream). The receipts the client gets must still be one unbroken run.
func TestResumeStress(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 1000, 10)
	cfg := testConfig(t, l.dir, 512)
	ev := newEvents()
	long := spawn(t, cfg, ev)
	var fresh *child.Process
	fp := newFakeParent(t)
	key := hashKey(t, cfg)

	stop, total := make(chan struct{}), make(chan int)
	go func() {
		for {
			select {
			case <-stop:
				total <- l.seq["receipt"]
				return
			default:
			}
			l.append("receipt", 5)
			time.Sleep(4 * time.Millisecond) // a collector's pace (about 1,000 lines/s), not a synchronisation
		}
	}()
	n := -1
	stopWriter := func() {
		if n < 0 {
			close(stop)
			n = <-total
		}
	}
	defer stopWriter()

	var got []int
	cursor := ""
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 15; i++ {
		h := child.Handoff{ClientID: "s" + string(rune('a'+i%26)) + string(rune('0'+i/26)), Key: "s"}
		if cursor != "" {
			h.Cursor = map[string]string{"receipt": cursor}
		}
		p := long
		if i%3 == 2 {
			if fresh != nil {
				if err := fresh.Shutdown(5 * time.Second); err != nil {
					t.Fatal(err)
				}
			}
			fresh = spawn(t, cfg, ev)
			p = fresh
		}
		ws, err := dialVia(t, fp, p, h)
		if err != nil {
			t.Fatal(err)
		}
		r := collectLight(t, ws, key)
		r.waitCount("receipt", 20+rng.IntN(300))
		fs := r.processed()
		_ = ws.Close(websocket.StatusNormalClosure, "")
		r.waitEnd()
		got = append(got, seqs(fs, "receipt")...)
		cursor = fs[len(fs)-1].cursor
		ev.waitClosed(t, h.ClientID)
	}
	stopWriter()
	ws, err := dialVia(t, fp, long, child.Handoff{ClientID: "final", Key: "s", Cursor: map[string]string{"receipt": cursor}})
	if err != nil {
		t.Fatal(err)
	}
	r := collectLight(t, ws, key)
	r.waitCount("receipt", n-got[len(got)-1])
	got = append(got, seqs(r.snapshot(), "receipt")...)
	assertRun(t, "resumed fifteen times", got, got[0], n)
	t.Logf("%d receipts over 16 connections, first %d", len(got), got[0])
}

// TestReload: a new key pair reaches the child; frames are signed with it from then on.
func TestReload(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 100, 10)
	cfg := testConfig(t, l.dir, 0)
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	ws, err := dialVia(t, fp, p, child.Handoff{ClientID: "r", Key: "r"})
	if err != nil {
		t.Fatal(err)
	}
	ev.waitConnected(t, "r")
	kp, err := protocol.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(cfg, &m)
	m["DISTRIBUTOR_PUBLIC_KEY"] = kp.PublicHex
	m["DISTRIBUTOR_SECRET_KEY"] = hexOf(kp.Secret)
	cfg2, _ := json.Marshal(m)
	if err := p.Reload(cfg2); err != nil {
		t.Fatal(err)
	}
	if err := p.Reload([]byte(`{"DISTRIBUTOR_PORT": "x"`)); err == nil {
		t.Fatal("Reload accepted a malformed configuration")
	}
	l.append("cycle", 1)
	ctx, cancel := contextWithTimeout(20 * time.Second)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := protocol.VerifyJSON(hashKey(t, cfg2), data); err != nil {
		t.Fatal(err)
	}
	var f struct {
		Sign struct{ Owner string } `json:"sign"`
	}
	_ = json.Unmarshal(data, &f)
	if f.Sign.Owner != kp.PublicHex {
		t.Fatalf("signed by %s, want the reloaded key %s", f.Sign.Owner, kp.PublicHex)
	}
}
