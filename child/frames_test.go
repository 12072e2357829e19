package child_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/logreader"
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
	mu      sync.Mutex
	frames  []rframe
	ended   bool
	code    websocket.StatusCode
	reason  string
	changed chan struct{}
	done    chan struct{}
}

// collect reads ws until it ends. The test's cleanup waits for the reading goroutine.
func collect(t *testing.T, ws *websocket.Conn, key protocol.HashKey) *received {
	r := &received{t: t, key: key, changed: make(chan struct{}), done: make(chan struct{})}
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
		f, err := decodeFrame(r.key, data)
		if err != nil {
			r.t.Errorf("bad frame: %v: %.200s", err, data)
		}
		r.mu.Lock()
		r.frames = append(r.frames, f)
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}
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
	r.t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, ended, ch := cond(r.frames, r.ended), r.ended, r.changed
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
	r.waitFor(fmt.Sprintf("%d %s frames", n, kind), func(fs []rframe, _ bool) bool { return countKind(fs, kind) >= n })
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
	t   *testing.T
	dir string
	w   map[string]*logreader.Writer
	seq map[string]int
	pad string
}

func newLogs(t *testing.T, maxEntries, maxFiles int) *logs {
	l := &logs{t: t, dir: t.TempDir(), w: map[string]*logreader.Writer{}, seq: map[string]int{}}
	for _, s := range logreader.Streams {
		w, err := logreader.NewWriter(l.dir, s, maxEntries, maxFiles)
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
