package fanout_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/protocol"
)

// Clients that fall behind the shared stream read the data log at their own position: they are
// never closed for being slow, get every line once and in order, and rejoin the shared stream.
// These tests give the clients small socket buffers, so that a client that stops reading fills
// them (and its queue) after a few frames.

// smallBuffer is the receive buffer of the tests' slow clients.
const smallBuffer = 16 << 10

// configWith is testConfig with more keys.
func configWith(t testing.TB, dataDir string, keys map[string]any) []byte {
	t.Helper()
	m := map[string]any{"DATA_LOG_DIR": dataDir, "FILE_STREAM_INTERVAL_MS": 20}
	for k, v := range keys {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dialSmall is dialVia with a small receive buffer on the client's side, set before it connects
// (the child sets the server's send buffer itself).
func dialSmall(t testing.TB, fp *fakeParent, p *child.Process, h child.Handoff) *websocket.Conn {
	t.Helper()
	errc := fp.handOffNext(p, h)
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, smallBuffer)
		}); err != nil {
			return err
		}
		return serr
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, derr := websocket.Dial(ctx, fp.url("?data=x"), &websocket.DialOptions{
		CompressionMode: websocket.CompressionDisabled,
		HTTPClient:      &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}},
	})
	if herr := <-errc; herr != nil {
		if ws != nil {
			ws.CloseNow()
		}
		t.Fatal(herr)
	}
	if derr != nil {
		t.Fatal(derr)
	}
	ws.SetReadLimit(16 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// stats returns the child's stats, failing the test on an error.
func stats(t testing.TB, p *child.Process) child.Stats {
	t.Helper()
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func clientState(st child.Stats, id string) (child.ClientStats, bool) {
	for _, c := range st.Clients {
		if c.ID == id {
			return c, true
		}
	}
	return child.ClientStats{}, false
}

// writeUntil appends receipts in batches, each once fast has received the last, until cond holds
// for the child's stats. It fails the test if cond never holds within limit lines.
func writeUntil(t *testing.T, l *logs, p *child.Process, fast *received, limit int, what string, cond func(child.Stats) bool) {
	t.Helper()
	for l.seq["receipt"] < limit {
		l.append("receipt", 16)
		fast.waitCount("receipt", l.seq["receipt"]-l.before["receipt"])
		if cond(stats(t, p)) {
			return
		}
	}
	t.Fatalf("%s: not after %d receipts", what, l.seq["receipt"])
}

// appendPaced appends n receipts in batches, each once fast has received the last: the writer
// keeps pace with a client that reads, as a collector's would.
func appendPaced(l *logs, fast *received, n int) {
	for end := l.seq["receipt"] + n; l.seq["receipt"] < end; {
		l.append("receipt", min(16, end-l.seq["receipt"]))
		fast.waitCount("receipt", l.seq["receipt"]-l.before["receipt"])
	}
}

// TestSlowClientReadsTheLog: a client that stops reading falls behind (its socket and its queue
// fill), moves to the data log and is not closed; the writer wraps its file numbers meanwhile.
// When the client reads again it gets every line once, in order, rejoins the shared stream
// and keeps receiving live lines. A client that keeps reading is not disturbed.
func TestSlowClientReadsTheLog(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 200, 10) // file numbers wrap every 2,000 lines
	l.pad = strings.Repeat("s", 1000)
	cfg := configWith(t, l.dir, map[string]any{"CLIENT_QUEUE_FRAMES": 64})
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	key := hashKey(t, cfg)
	fastWS := dialSmall(t, fp, p, child.Handoff{ClientID: "fast", Key: "f"})
	ev.waitConnected(t, "fast")
	fast := collectLight(t, fastWS, key)
	slowWS := dialSmall(t, fp, p, child.Handoff{ClientID: "slow", Key: "s", Remote: "127.0.0.9"})
	ev.waitConnected(t, "slow")

	// Both read the first 1,700 lines, so that what follows crosses the wrap from file 10 to 1.
	slowR := collect(t, slowWS, key)
	appendPaced(l, fast, 1700)
	slowR.waitCount("receipt", 1700)
	slowR.pause()

	writeUntil(t, l, p, fast, 2600, "slow client moved to the log", func(st child.Stats) bool {
		c, _ := clientState(st, "slow")
		return st.MovedToLog >= 1 && c.State == child.StateLagging
	})
	appendPaced(l, fast, 300) // more while it lags: the writer wraps (file 10 -> 1) meanwhile
	total := l.seq["receipt"]
	fast.waitCount("receipt", total)
	st := stats(t, p)
	if c, _ := clientState(st, "slow"); c.LagLines <= 0 {
		t.Fatalf("a lagging client's stats: %+v", c)
	}

	slowR.resume()
	slowR.waitCount("receipt", total)
	ev.waitFor(t, "no close", func() bool { return len(ev.closed) == 0 })
	// Rejoined: it gets live lines from the shared stream again.
	deadline := time.Now().Add(30 * time.Second)
	for stats(t, p).Rejoined < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the slow client never rejoined the shared stream: %+v", stats(t, p))
		}
		l.append("receipt", 1) // a line moves the catch-up along (it meets the ring or the hub meets it)
		total++
		slowR.waitCount("receipt", total)
	}
	l.append("receipt", 50)
	total += 50
	slowR.waitCount("receipt", total)
	fast.waitCount("receipt", total)
	assertRun(t, "slow client", seqs(slowR.snapshot(), "receipt"), 1, total)
	assertRun(t, "fast client", seqs(fast.snapshot(), "receipt"), 1, total)
	if c, _ := clientState(stats(t, p), "slow"); c.State != child.StateLive {
		t.Fatalf("after rejoining, the slow client is %+v", c)
	}
}

// TestLappedClientClosed: a client that stopped reading while the writer went on for more than the
// stream's history holds and rotated its next line away gets what is still there for it, then
// 4404 with a reason that says how far behind it was. The other client is not disturbed.
func TestLappedClientClosed(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 200, 4) // the writer deletes a file two files after it
	l.pad = strings.Repeat("l", 10000)
	cfg := configWith(t, l.dir, map[string]any{"CLIENT_QUEUE_FRAMES": 64})
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	key := hashKey(t, cfg)
	fastWS := dialSmall(t, fp, p, child.Handoff{ClientID: "fast", Key: "f"})
	ev.waitConnected(t, "fast")
	fast := collectLight(t, fastWS, key)
	slowWS := dialSmall(t, fp, p, child.Handoff{ClientID: "lapped", Key: "l", Remote: "127.0.0.9"})
	ev.waitConnected(t, "lapped")

	writeUntil(t, l, p, fast, 2000, "client moved to the log", func(st child.Stats) bool {
		return st.MovedToLog >= 1
	})
	appendPaced(l, fast, 3000) // 30 MB: more than the history keeps; its next line is long gone
	total := l.seq["receipt"]
	fast.waitCount("receipt", total)

	r := collect(t, slowWS, key)
	code, reason := r.waitEnd()
	if int(code) != protocol.CloseCursorGone || !strings.Contains(reason, "lapped") || !strings.Contains(reason, "behind") {
		t.Fatalf("lapped client closed with %d %q, want 4404 saying how far behind it was", code, reason)
	}
	got := seqs(r.snapshot(), "receipt")
	assertRun(t, "lapped client before its close", got, 1, len(got))
	c := ev.waitClosed(t, "lapped")
	if c.code != protocol.CloseCursorGone {
		t.Fatalf("reported close %+v", c)
	}
	if st := stats(t, p); st.Lapped != 1 {
		t.Fatalf("stats after the lap: %+v", st)
	}
	l.append("receipt", 10)
	fast.waitCount("receipt", total+10)
	assertRun(t, "fast client", seqs(fast.snapshot(), "receipt"), 1, total+10)
}

// TestStalledClientClosed: a client that takes no bytes at all for CLIENT_STALL_TIMEOUT_MS is
// closed with 1008, and counted; the other client is not disturbed.
func TestStalledClientClosed(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 1000, 10)
	l.pad = strings.Repeat("t", 1000)
	cfg := configWith(t, l.dir, map[string]any{"CLIENT_QUEUE_FRAMES": 64, "CLIENT_STALL_TIMEOUT_MS": 300})
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	key := hashKey(t, cfg)
	fastWS := dialSmall(t, fp, p, child.Handoff{ClientID: "fast", Key: "f"})
	ev.waitConnected(t, "fast")
	fast := collectLight(t, fastWS, key)
	_ = dialSmall(t, fp, p, child.Handoff{ClientID: "stalled", Key: "s"})
	ev.waitConnected(t, "stalled")

	l.append("receipt", 2000) // far more than its socket buffers hold
	fast.waitCount("receipt", 2000)
	c := ev.waitClosed(t, "stalled")
	if c.code != protocol.CloseSlowConsumer || !strings.Contains(c.reason, "stalled") {
		t.Fatalf("stalled client closed with %+v, want 1008 saying it stalled", c)
	}
	if st := stats(t, p); st.Stalled != 1 {
		t.Fatalf("stats after the stall: %+v", st)
	}
	l.append("receipt", 10)
	fast.waitCount("receipt", 2010)
	assertRun(t, "fast client", seqs(fast.snapshot(), "receipt"), 1, 2010)
}

// TestLiveClientsWhileManyLag: 50 of a child's clients stop reading and move to the data log;
// its two live clients keep receiving every line meanwhile. Then the 50 read again, and each
// gets every line once, in order.
func TestLiveClientsWhileManyLag(t *testing.T) {
	checkGoroutines(t)
	const lagging = 50
	l := newLogs(t, 2000, 10)
	l.pad = strings.Repeat("m", 1000)
	cfg := configWith(t, l.dir, map[string]any{"CLIENT_QUEUE_FRAMES": 32, "MAX_CLIENTS_PER_CHILD": 100})
	ev := newEvents()
	p := spawn(t, cfg, ev)
	fp := newFakeParent(t)
	key := hashKey(t, cfg)
	var live []*received
	for _, id := range []string{"live1", "live2"} {
		ws := dialSmall(t, fp, p, child.Handoff{ClientID: id, Key: id})
		ev.waitConnected(t, id)
		live = append(live, collectLight(t, ws, key))
	}
	var lagWS []*websocket.Conn
	for i := range lagging {
		id := "lag" + string(rune('A'+i/26)) + string(rune('a'+i%26))
		lagWS = append(lagWS, dialSmall(t, fp, p, child.Handoff{ClientID: id, Key: id}))
		ev.waitConnected(t, id)
	}
	writeUntil(t, l, p, live[0], 5000, "every silent client moved to the log", func(st child.Stats) bool {
		return st.MovedToLog >= lagging
	})
	appendPaced(l, live[0], 200) // live lines while 50 lag
	total := l.seq["receipt"]
	for _, r := range live {
		r.waitCount("receipt", total)
		assertRun(t, "live client", seqs(r.snapshot(), "receipt"), 1, total)
	}
	var lagR []*received
	for _, ws := range lagWS {
		lagR = append(lagR, collectLight(t, ws, key))
	}
	for _, r := range lagR {
		r.waitCount("receipt", total)
		assertRun(t, "lagging client", seqs(r.snapshot(), "receipt"), 1, total)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.closed) != 0 {
		t.Fatalf("clients closed: %+v", ev.closed)
	}
}
