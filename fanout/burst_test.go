package fanout_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/child"
)

// TestBurstNotLapped: a writer bursts 20,000 receipts at full speed (rotating every 1,000 lines over
// ten files, deleting the old ones) while two clients are connected. The child's reader must keep
// ahead of the rotation while the lines are signed (it reads ahead of the signing), so every client
// gets all 20,000, in order, and the reader reports no gap (files rotated away before it read them).
func TestBurstNotLapped(t *testing.T) {
	checkGoroutines(t)
	const n = 20000
	l := newLogs(t, 1000, 10)
	l.pad = strings.Repeat("r", 200)
	// The clients' queues hold the whole burst: this test is about the reader, not client pace
	// (TestSlowConsumer covers clients that fall behind).
	cfg := testConfig(t, l.dir, n)
	ev := newEvents()
	// A race-built child reads ten times slower than it would: under -race the writer (at full
	// speed) would lap it whatever it did. This test is about the real speed.
	p := spawnBin(t, plainChildBin(t), cfg, ev)
	fp := newFakeParent(t)
	var rs []*received
	for _, id := range []string{"a", "b"} {
		ws, err := dialVia(t, fp, p, child.Handoff{ClientID: id, Key: id})
		if err != nil {
			t.Fatal(err)
		}
		ev.waitConnected(t, id)
		rs = append(rs, collectLight(t, ws, hashKey(t, cfg)))
	}
	start := time.Now()
	l.append("receipt", n)
	wrote := time.Since(start)
	for _, r := range rs {
		r.waitCount("receipt", n)
	}
	t.Logf("burst of %d receipts written in %v, delivered to both clients in %v", n, wrote, time.Since(start))
	for _, r := range rs {
		assertRun(t, "burst receipts", seqs(r.snapshot(), "receipt"), 1, n)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, pr := range ev.problems {
		t.Errorf("reader problem during the burst: %s", pr)
	}
	if len(ev.closed) != 0 {
		t.Fatalf("clients closed: %+v", ev.closed)
	}
}

// TestFrameRightAfterConnect: a line appended as soon as the client's handshake completes reaches
// it: the child joins the client to its streams before it sends the 101. Repeated, since the
// window it closes is narrow.
func TestFrameRightAfterConnect(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 1000, 10)
	cfg := testConfig(t, l.dir, 0)
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	key := hashKey(t, cfg)
	for i := 0; i < 20; i++ {
		id := "n" + string(rune('a'+i))
		ws, err := dialVia(t, fp, p, child.Handoff{ClientID: id, Key: id})
		if err != nil {
			t.Fatal(err)
		}
		l.append("cycle", 1) // right after Dial returned: the client saw the 101
		ctx, cancel := contextWithTimeout(20 * time.Second)
		_, data, err := ws.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("client %s: no frame for the line appended right after it connected: %v", id, err)
		}
		f, err := decodeFrame(key, data)
		if err != nil {
			t.Fatal(err)
		}
		if f.kind != "cycle" || f.seq != l.seq["cycle"] {
			t.Fatalf("client %s: first frame %+v, want cycle %d", id, f, l.seq["cycle"])
		}
		ws.CloseNow()
		ev.waitClosed(t, id)
	}
}
