package fanout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
	"github.com/shardeum/distributor/protocol"
)

// rframe is a frame a test client received.
type rframe struct {
	kind   string
	seq    int
	cursor string
}

// received collects the frames one client receives, verifying each signature.
type received struct {
	t       *testing.T
	key     protocol.HashKey
	light   bool // verify every 100th frame only, read the rest by its canonical layout (for volume)
	mu      sync.Mutex
	frames  []rframe
	counts  map[string]int
	ended   bool
	stopped bool // the test stopped processing (see processed): later reads are ignored
	code    websocket.StatusCode
	reason  string
	changed chan struct{}
	done    chan struct{}
	resumed chan struct{} // non-nil while paused: closed by resume
}

// pause stops reading (after the read in progress, if any) until resume.
func (r *received) pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.resumed == nil {
		r.resumed = make(chan struct{})
	}
}

func (r *received) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.resumed != nil {
		close(r.resumed)
		r.resumed = nil
	}
}

// collect reads ws until it ends. The test's cleanup waits for the reading goroutine.
func collect(t *testing.T, ws *websocket.Conn, key protocol.HashKey) *received {
	r := &received{t: t, key: key, counts: map[string]int{}, changed: make(chan struct{}), done: make(chan struct{})}
	go r.run(ws)
	t.Cleanup(func() {
		ws.CloseNow()
		<-r.done
	})
	return r
}

func (r *received) run(ws *websocket.Conn) {
	defer close(r.done)
	for {
		r.mu.Lock()
		resumed := r.resumed
		r.mu.Unlock()
		if resumed != nil {
			<-resumed
		}
		_, data, err := ws.Read(context.Background())
		if err != nil {
			r.mu.Lock()
			r.ended, r.code = true, websocket.CloseStatus(err)
			var ce websocket.CloseError
			if asCloseError(err, &ce) {
				r.reason = ce.Reason
			}
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
			return
		}
		r.mu.Lock()
		stopped := r.stopped
		r.mu.Unlock()
		if stopped {
			continue
		}
		var f rframe
		var derr error
		if r.light && len(r.frames)%100 != 0 {
			f, derr = scanFrame(data)
		} else {
			f, derr = verified.decode(r.key, data)
		}
		if derr != nil {
			r.t.Errorf("bad frame: %v: %.200s", derr, data)
		}
		r.mu.Lock()
		r.frames = append(r.frames, f)
		r.counts[f.kind]++
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}
}

// collectLight is collect for volume tests: one frame in 100 is verified, the others are read by
// their canonical layout {"cursor":…,"<kind>":{…"seq":N…},"sign":…} (signatures and order are
// checked in full by the other tests; -race makes ed25519 very slow).
func collectLight(t *testing.T, ws *websocket.Conn, key protocol.HashKey) *received {
	r := &received{t: t, key: key, light: true, counts: map[string]int{}, changed: make(chan struct{}), done: make(chan struct{})}
	go r.run(ws)
	t.Cleanup(func() {
		ws.CloseNow()
		<-r.done
	})
	return r
}

func scanFrame(data []byte) (rframe, error) {
	var f rframe
	rest, ok := bytes.CutPrefix(data, []byte(`{"cursor":"`))
	if !ok {
		return f, fmt.Errorf("frame does not start with its cursor")
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return f, fmt.Errorf("unterminated cursor")
	}
	f.cursor, rest = string(rest[:i]), rest[i+1:]
	rest, ok = bytes.CutPrefix(rest, []byte(`,"`))
	if !ok {
		return f, fmt.Errorf("no kind after the cursor")
	}
	i = bytes.IndexByte(rest, '"')
	if i < 0 {
		return f, fmt.Errorf("unterminated kind")
	}
	f.kind = string(rest[:i])
	j := bytes.Index(rest, []byte(`"seq":`))
	if j < 0 {
		return f, fmt.Errorf("no seq")
	}
	rest = rest[j+6:]
	for len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
		f.seq = f.seq*10 + int(rest[0]-'0')
		rest = rest[1:]
	}
	return f, nil
}

// verified caches decoded frames by their bytes: every client gets the same bytes for a line, so
// each is verified once (ed25519 under -race is slow).
var verified = &frameCache{m: map[string]rframe{}}

type frameCache struct {
	mu sync.Mutex
	m  map[string]rframe
}

func (c *frameCache) decode(key protocol.HashKey, data []byte) (rframe, error) {
	c.mu.Lock()
	f, ok := c.m[string(data)]
	c.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := decodeFrame(key, data)
	if err == nil {
		c.mu.Lock()
		if len(c.m) > 200000 {
			clear(c.m)
		}
		c.m[string(data)] = f
		c.mu.Unlock()
	}
	return f, err
}

func decodeFrame(key protocol.HashKey, data []byte) (rframe, error) {
	if err := protocol.VerifyJSON(key, data); err != nil {
		return rframe{}, fmt.Errorf("signature: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return rframe{}, err
	}
	var f rframe
	for k, v := range m {
		switch k {
		case "cursor":
			_ = json.Unmarshal(v, &f.cursor)
		case "sign":
		default:
			var line struct {
				Seq    int    `json:"seq"`
				Stream string `json:"stream"`
			}
			if err := json.Unmarshal(v, &line); err != nil {
				return f, err
			}
			if line.Stream != k {
				return f, fmt.Errorf("line of %s under key %s", line.Stream, k)
			}
			f.kind, f.seq = k, line.Seq
		}
	}
	if f.kind == "" || f.cursor == "" {
		return f, fmt.Errorf("frame without kind or cursor")
	}
	return f, nil
}

// waitFor waits until cond holds for the frames received so far (or fails the test).
func (r *received) waitFor(what string, cond func(frames []rframe, ended bool) bool) {
	r.waitForCounts(what, func(fs []rframe, _ map[string]int, ended bool) bool { return cond(fs, ended) })
}

func (r *received) waitForCounts(what string, cond func(frames []rframe, counts map[string]int, ended bool) bool) {
	r.t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, ended, ch := cond(r.frames, r.counts, r.ended), r.ended, r.changed
		n := len(r.frames)
		r.mu.Unlock()
		if ok {
			return
		}
		if ended {
			r.t.Fatalf("connection ended (code %d %q) after %d frames, waiting for %s", r.code, r.reason, n, what)
		}
		select {
		case <-ch:
		case <-deadline.C:
			r.t.Fatalf("timed out after %d frames waiting for %s", n, what)
		}
	}
}

// waitCount waits for n frames of kind.
func (r *received) waitCount(kind string, n int) {
	r.t.Helper()
	r.waitForCounts(fmt.Sprintf("%d %s frames", n, kind), func(_ []rframe, counts map[string]int, _ bool) bool { return counts[kind] >= n })
}

// waitEnd waits for the connection to end and returns its close code and reason.
func (r *received) waitEnd() (websocket.StatusCode, string) {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		r.t.Fatal("connection did not end")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.code, r.reason
}

// processed returns the frames received so far and stops processing, as a collector that goes
// away does: what is read afterwards (while the test closes the connection, when coder/websocket's
// close handshake may consume a message under a concurrent Read) is ignored.
func (r *received) processed() []rframe {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	return append([]rframe(nil), r.frames...)
}

func (r *received) snapshot() []rframe {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rframe(nil), r.frames...)
}

func countKind(fs []rframe, kind string) int {
	n := 0
	for _, f := range fs {
		if f.kind == kind {
			n++
		}
	}
	return n
}

// seqs returns the seq numbers of kind's frames, in arrival order.
func seqs(fs []rframe, kind string) []int {
	var out []int
	for _, f := range fs {
		if f.kind == kind {
			out = append(out, f.seq)
		}
	}
	return out
}

// assertRun fails unless got is exactly from, from+1, ..., to.
func assertRun(t *testing.T, what string, got []int, from, to int) {
	t.Helper()
	if len(got) != to-from+1 {
		t.Fatalf("%s: got %d frames, want %d (%d..%d); first %v", what, len(got), to-from+1, from, to, head(got))
	}
	for i, s := range got {
		if s != from+i {
			t.Fatalf("%s: frame %d has seq %d, want %d (gap or duplicate)", what, i, s, from+i)
		}
	}
}

func head(xs []int) []int {
	if len(xs) > 10 {
		return xs[:10]
	}
	return xs
}

// logs writes the three streams of a data-log directory as a collector does.
type logs struct {
	t   testing.TB
	dir string
	w   map[string]*logwriter.Writer
	seq map[string]int
	pad string
	// before counts, per stream, the lines written before the clients connected (an edge's
	// clients start after what the ingress had published).
	before map[string]int
}

func newLogs(t testing.TB, maxEntries, maxFiles int) *logs {
	l := &logs{t: t, dir: t.TempDir(), w: map[string]*logwriter.Writer{}, seq: map[string]int{}, before: map[string]int{}}
	for _, s := range logreader.Streams {
		w, err := logwriter.NewWriter(l.dir, s, maxEntries, maxFiles)
		if err != nil {
			t.Fatal(err)
		}
		l.w[string(s)] = w
		t.Cleanup(func() { _ = w.Close() })
	}
	return l
}

// append writes n lines to stream, numbered on from the last.
func (l *logs) append(stream string, n int) {
	l.t.Helper()
	for i := 0; i < n; i++ {
		l.seq[stream]++
		line := fmt.Sprintf(`{"seq":%d,"stream":%q,"writtenAt":%d,"pad":%q}`, l.seq[stream], stream, time.Now().UnixMicro(), l.pad)
		if err := l.w[stream].Append([]byte(line)); err != nil {
			l.t.Fatal(err)
		}
	}
}

func (l *logs) raw(stream, line string) {
	l.t.Helper()
	if err := l.w[stream].Append([]byte(line)); err != nil {
		l.t.Fatal(err)
	}
}

var _ = strings.Repeat
