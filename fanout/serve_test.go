package fanout_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/protocol"
)

// TestFramesSignedInOrder: every line of every stream reaches every client once, signed, in order;
// a malformed line is reported and skipped without disturbing anyone.
func TestFramesSignedInOrder(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 50, 10)
	cfg := testConfig(t, l.dir, 0)
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	var rs []*received
	for _, id := range []string{"a", "b"} {
		ws, err := dialVia(t, fp, p, child.Handoff{ClientID: id, Key: "key-" + id, Remote: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		ev.waitConnected(t, id)
		rs = append(rs, collect(t, ws, hashKey(t, cfg)))
	}
	for i := 0; i < 3; i++ {
		l.append("cycle", 40)
		l.append("receipt", 70)
		l.append("originalTx", 55)
	}
	l.raw("receipt", `{"seq": broken`) // not JSON: the reader skips and reports it
	// Valid JSON the signer cannot take (nested deeper than protocol.MaxDepth): skipped and reported.
	l.raw("receipt", `{"deep":`+strings.Repeat("[", protocol.MaxDepth+10)+strings.Repeat("]", protocol.MaxDepth+10)+`}`)
	l.append("receipt", 10)
	for _, r := range rs {
		r.waitCount("cycle", 120)
		r.waitCount("receipt", 220)
		r.waitCount("originalTx", 165)
		fs := r.snapshot()
		assertRun(t, "cycle", seqs(fs, "cycle"), 1, 120)
		assertRun(t, "receipt", seqs(fs, "receipt"), 1, 220)
		assertRun(t, "originalTx", seqs(fs, "originalTx"), 1, 165)
	}
	ev.waitFor(t, "reader problems for the broken and the too-deep line", func() bool {
		invalid, unsigned := false, false
		for _, p := range ev.problems {
			invalid = invalid || strings.HasPrefix(p, "receipt: ") && strings.Contains(p, "invalid-json")
			unsigned = unsigned || strings.HasPrefix(p, "receipt: ") && strings.Contains(p, "skipped") && strings.Contains(p, "nesting")
		}
		return invalid && unsigned
	})
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Clients) != 2 || len(st.Readers) != 3 {
		t.Fatalf("stats: %+v", st)
	}
	for _, c := range st.Clients {
		if c.FramesSent != 505 {
			t.Errorf("client %s: FramesSent %d, want 505", c.ID, c.FramesSent)
		}
	}
	for _, r := range st.Readers {
		// Entries counts what the reader emitted: the unsignable line too, not the invalid one.
		want := map[string]uint64{"cycle": 120, "receipt": 221, "originalTx": 165}[r.Stream]
		if r.Entries != want || r.Position == "" {
			t.Errorf("reader %+v: want %d entries and a position", r, want)
		}
	}
}

// Test20000Receipts: 20,000 receipts with rotation every 1,000 lines reach every client, in order.
func Test20000Receipts(t *testing.T) {
	checkGoroutines(t)
	const n = 20000
	l := newLogs(t, 1000, 10)
	l.pad = strings.Repeat("r", 200)
	cfg := testConfig(t, l.dir, 0)
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	var rs []*received
	for _, id := range []string{"a", "b", "c"} {
		ws, err := dialVia(t, fp, p, child.Handoff{ClientID: id, Key: id})
		if err != nil {
			t.Fatal(err)
		}
		ev.waitConnected(t, id)
		rs = append(rs, collectLight(t, ws, hashKey(t, cfg)))
	}
	// A collector writes at the archive's pace, not in one burst: keep the writer within 3,000 lines
	// of the slowest client (the test's clients verify signatures, which is slower than writing).
	for l.seq["receipt"] < n {
		for _, r := range rs {
			r.waitCount("receipt", l.seq["receipt"]-3000)
		}
		l.append("receipt", 500)
	}
	for _, r := range rs {
		r.waitCount("receipt", n)
		assertRun(t, "receipt", seqs(r.snapshot(), "receipt"), 1, n)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.closed) != 0 {
		t.Fatalf("clients closed: %+v", ev.closed)
	}
}

// TestResumeAfterDisconnect: a client that reconnects with the cursor of the last frame it processed
// gets everything after it (from the ring), then the live stream: no gap, no duplicate.
func TestResumeAfterDisconnect(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 100, 10)
	cfg := testConfig(t, l.dir, 0)
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	ws, err := dialVia(t, fp, p, child.Handoff{ClientID: "a1", Key: "a"})
	if err != nil {
		t.Fatal(err)
	}
	ev.waitConnected(t, "a1")
	r := collect(t, ws, hashKey(t, cfg))
	l.append("receipt", 250)
	l.append("cycle", 30)
	r.waitCount("receipt", 250)
	r.waitCount("cycle", 30)
	fs := r.snapshot()
	// The client processed receipts up to 180 and every cycle, then went away.
	cursor := map[string]string{"receipt": cursorOf(t, fs, "receipt", 180), "cycle": cursorOf(t, fs, "cycle", 30)}
	if err := ws.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	ev.waitClosed(t, "a1")
	l.append("receipt", 120) // while it is away
	l.append("cycle", 5)

	ws2, err := dialVia(t, fp, p, child.Handoff{ClientID: "a2", Key: "a", Cursor: cursor})
	if err != nil {
		t.Fatal(err)
	}
	r2 := collect(t, ws2, hashKey(t, cfg))
	r2.waitCount("receipt", 190)
	l.append("receipt", 60) // live again
	l.append("originalTx", 3)
	r2.waitCount("receipt", 250)
	r2.waitCount("cycle", 5)
	r2.waitCount("originalTx", 3)
	fs2 := r2.snapshot()
	assertRun(t, "resumed receipts", seqs(fs2, "receipt"), 181, 430)
	assertRun(t, "resumed cycles", seqs(fs2, "cycle"), 31, 35)
	assertRun(t, "live originalTx", seqs(fs2, "originalTx"), 1, 3)
}

func cursorOf(t *testing.T, fs []rframe, kind string, seq int) string {
	t.Helper()
	for _, f := range fs {
		if f.kind == kind && f.seq == seq {
			return f.cursor
		}
	}
	t.Fatalf("no %s frame %d", kind, seq)
	return ""
}

// TestResumeOutsideRing: a cursor this child never saw (older than its start, and more lines than
// its ring holds) is served by a catch-up reader that then hands over to the live stream while the
// writer keeps appending.
func TestResumeOutsideRing(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 1000, 10)
	cfg := testConfig(t, l.dir, 256)
	ev := newEvents()
	// A first child gives the client its cursors.
	p1 := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	ws, err := dialVia(t, fp, p1, child.Handoff{ClientID: "x1", Key: "x"})
	if err != nil {
		t.Fatal(err)
	}
	ev.waitConnected(t, "x1")
	r := collect(t, ws, hashKey(t, cfg))
	l.append("receipt", 100)
	r.waitCount("receipt", 100)
	cursor := map[string]string{"receipt": cursorOf(t, r.snapshot(), "receipt", 40)}
	if err := p1.Shutdown(5e9); err != nil {
		t.Fatal(err)
	}
	// 3,000 more lines (more than ten times the client's queue) before a new child starts: the
	// cursor is outside anything the new child holds, and the catch-up must pace itself.
	l.append("receipt", 3000)
	p2 := spawn(t, cfg, ev)
	ws2, err := dialVia(t, fp, p2, child.Handoff{ClientID: "x2", Key: "x", Cursor: cursor})
	if err != nil {
		t.Fatal(err)
	}
	r2 := collectLight(t, ws2, hashKey(t, cfg))
	// The writer goes on while the client catches up: the hand-over happens mid-stream.
	for i := 0; i < 20; i++ {
		l.append("receipt", 100)
	}
	r2.waitCount("receipt", 3100+2000-40)
	l.append("receipt", 50)
	r2.waitCount("receipt", 3100+2050-40)
	assertRun(t, "caught-up receipts", seqs(r2.snapshot(), "receipt"), 41, 5150)
}

// TestCursorGone: a cursor whose file the writer has deleted closes the client with 4404.
func TestCursorGone(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 10, 4)
	cfg := testConfig(t, l.dir, 0)
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	ws, err := dialVia(t, fp, p, child.Handoff{ClientID: "g1", Key: "g"})
	if err != nil {
		t.Fatal(err)
	}
	ev.waitConnected(t, "g1")
	r := collect(t, ws, hashKey(t, cfg))
	l.append("cycle", 5)
	r.waitCount("cycle", 5)
	cursor := map[string]string{"cycle": cursorOf(t, r.snapshot(), "cycle", 3)}
	l.append("cycle", 100) // ten rotations over four files: the first file is long gone
	// A fresh child (its ring cannot have the cursor) must look on disk.
	p2 := spawn(t, cfg, ev)
	ws2, err := dialVia(t, fp, p2, child.Handoff{ClientID: "g2", Key: "g", Cursor: cursor})
	if err != nil {
		t.Fatal(err)
	}
	r2 := collect(t, ws2, hashKey(t, cfg))
	code, reason := r2.waitEnd()
	if int(code) != protocol.CloseCursorGone || !strings.Contains(reason, "no longer on disk") {
		t.Fatalf("close %d %q, want %d", code, reason, protocol.CloseCursorGone)
	}
	if c := ev.waitClosed(t, "g2"); c.code != protocol.CloseCursorGone {
		t.Fatalf("ClientClosed %+v", c)
	}
	// A malformed cursor too.
	ws3, err := dialVia(t, fp, p2, child.Handoff{ClientID: "g3", Key: "g", Cursor: map[string]string{"cycle": "not-a-cursor"}})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := collect(t, ws3, hashKey(t, cfg)).waitEnd(); int(code) != protocol.CloseCursorGone {
		t.Fatalf("malformed cursor: close %d", code)
	}
}

// TestPaceCoalescesWrites: paced in rounds, lines reach a client in one write a round (the readers
// read once a round, and a round's frames go out together), not one per line; the child reports
// its pace, and refuses a negative one.
func TestPaceCoalescesWrites(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 1000, 10)
	cfg := testConfig(t, l.dir, 0)
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	ws, err := dialVia(t, fp, p, child.Handoff{ClientID: "a", Key: "key-a", Remote: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	ev.waitConnected(t, "a")
	r := collect(t, ws, hashKey(t, cfg))
	const delay = 300 * time.Millisecond
	if err := p.Pace(child.Pace{FlushDelay: delay, Procs: 1, Batch: true}); err != nil {
		t.Fatal(err)
	}
	if err := p.Pace(child.Pace{FlushDelay: -time.Second}); err == nil {
		t.Error("a negative flush delay was accepted")
	}
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pace != (child.Pace{FlushDelay: delay, Procs: 1, Batch: true}) {
		t.Errorf("stats pace %+v, want the one set", st.Pace)
	}
	assertSchedPolicy(t, p.Pid(), 3) // SCHED_BATCH, every thread
	w0 := clientWrites(t, p, "a")
	start := time.Now()
	l.append("receipt", 200) // read in the rounds it took to write them: one, or two at a boundary
	r.waitCount("receipt", 200)
	elapsed := time.Since(start)
	writes := clientWrites(t, p, "a") - w0
	assertRun(t, "receipt", seqs(r.snapshot(), "receipt"), 1, 200)
	// A round's frames go out together: one or two writes on a quiet machine. On a loaded one the
	// runtime may preempt the reader in the middle of the round's lines, and the flusher writes what
	// was published so far, so the bound is frames per write rather than writes per round; written
	// one by one, 200 frames would take about 200 writes.
	if writes == 0 || 200/writes < 10 {
		t.Errorf("200 frames took %d write(2) calls, want at least 10 frames a write", writes)
	}
	t.Logf("200 frames in %v (%v rounds), %d writes", elapsed, delay, writes)
}

// clientWrites is the count of write(2) calls that took bytes for client id.
func clientWrites(t *testing.T, p *child.Process, id string) uint64 {
	t.Helper()
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Clients {
		if c.ID == id {
			return c.Writes
		}
	}
	t.Fatalf("no client %q in the child's stats", id)
	return 0
}

// assertSchedPolicy checks the scheduling policy of every thread of pid (Linux only).
func assertSchedPolicy(t *testing.T, pid, want int) {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/sched", pid, task.Name()))
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "policy" && strings.TrimSpace(v) != fmt.Sprint(want) {
				t.Errorf("thread %s of child %d has policy %s, want %d", task.Name(), pid, strings.TrimSpace(v), want)
			}
		}
	}
}

// TestStatsCountClientsThatLeft: the child's frames and bytes sent include what clients that have
// left were sent, so a parent that asks after they left still counts them.
func TestStatsCountClientsThatLeft(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 1000, 10)
	cfg := testConfig(t, l.dir, 0)
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	var rs []*received
	var wss []*websocket.Conn
	for _, id := range []string{"a", "b"} {
		ws, err := dialVia(t, fp, p, child.Handoff{ClientID: id, Key: id})
		if err != nil {
			t.Fatal(err)
		}
		ev.waitConnected(t, id)
		wss = append(wss, ws)
		rs = append(rs, collect(t, ws, hashKey(t, cfg)))
	}
	l.append("receipt", 100)
	for _, r := range rs {
		r.waitCount("receipt", 100)
	}
	wss[0].Close(websocket.StatusNormalClosure, "done")
	ev.waitClosed(t, "a")
	// The client leaves the child's table after its close is reported: nothing announces it.
	var st child.Stats
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var err error
		if st, err = p.Stats(); err != nil {
			t.Fatal(err)
		}
		if len(st.Clients) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client a still in the child's table: %+v", st.Clients)
		}
	}
	if st.FramesSent < 200 || st.BytesSent < st.Clients[0].BytesSent*2-1000 {
		t.Fatalf("the child counts %d frames, %d bytes sent; want both clients' 200 frames and their bytes (b alone: %+v)",
			st.FramesSent, st.BytesSent, st.Clients[0])
	}
}
