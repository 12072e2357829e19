package fanout_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/child"
)

var childBin string

func TestMain(m *testing.M) {
	if os.Getenv(asParentEnv) != "" {
		os.Exit(runAsParent())
	}
	dir, err := os.MkdirTemp("", "child-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	childBin = filepath.Join(dir, "testchild")
	// Children inherit the environment: a race-built child must not linger a second at exit.
	_ = os.Setenv("GORACE", "atexit_sleep_ms=0")
	args := []string{"build", "-o", childBin}
	if raceEnabled && os.Getenv("NORACECHILD") == "" {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./internal/testchild")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build test child:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// events records what children report, and lets a test wait for a report.
type events struct {
	mu        sync.Mutex
	connected []child.ClientInfo
	closed    []closedEvent
	problems  []string
	changed   chan struct{}
}

type closedEvent struct {
	pid    int
	id     string
	code   int
	reason string
}

func newEvents() *events { return &events{changed: make(chan struct{})} }

func (e *events) bump() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *events) ClientConnected(pid int, c child.ClientInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.connected = append(e.connected, c)
	e.bump()
}

func (e *events) ClientClosed(pid int, id string, code int, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = append(e.closed, closedEvent{pid, id, code, reason})
	e.bump()
}

func (e *events) ReaderProblem(pid int, stream, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.problems = append(e.problems, stream+": "+msg)
	e.bump()
}

// waitFor waits until cond (called with the lock held) is true.
func (e *events) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		ok, ch := cond(), e.changed
		e.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (e *events) waitClosed(t *testing.T, id string) closedEvent {
	t.Helper()
	var got closedEvent
	e.waitFor(t, "ClientClosed "+id, func() bool {
		for _, c := range e.closed {
			if c.id == id {
				got = c
				return true
			}
		}
		return false
	})
	return got
}

func (e *events) waitConnected(t *testing.T, id string) {
	t.Helper()
	e.waitFor(t, "ClientConnected "+id, func() bool {
		for _, c := range e.connected {
			if c.ID == id {
				return true
			}
		}
		return false
	})
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(&tlogWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tlogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *tlogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
		if bytes.Contains(p, []byte("DATA RACE")) { // the child's race detector, via its stderr
			w.t.Error("data race in the child process")
		}
	}
	return len(p), nil
}

// checkGoroutines fails the test if goroutines of the process boundary (go-plugin, yamux, net/rpc,
// websocket, this package) outlive it. Call it first in a test: cleanups run last-in first-out.
func checkGoroutines(t *testing.T) {
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			leaked := leakedGoroutines()
			if leaked == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutines left behind:\n%s", leaked)
				return
			}
			time.Sleep(20 * time.Millisecond) // polling: goroutine exit has no event to wait on
		}
	})
}

func leakedGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "checkGoroutines") || strings.Contains(g, "leakedGoroutines") || strings.Contains(g, "testing.(*M).Run") {
			continue
		}
		for _, mark := range []string{"distributor/child.", "distributor/child_test.", "hashicorp/go-plugin", "hashicorp/yamux", "net/rpc", "coder/websocket"} {
			if strings.Contains(g, mark) {
				out = append(out, g)
				break
			}
		}
	}
	return strings.Join(out, "\n\n")
}

// spawn starts a child with cfg and makes sure it is gone when the test ends.
func spawn(t *testing.T, cfg []byte, ev child.Events) *child.Process {
	t.Helper()
	return spawnBin(t, childBin, cfg, ev)
}

var (
	plainChildOnce sync.Once
	plainChild     string
	plainChildErr  error
)

// plainChildBin is the test child built without -race: for tests about throughput, where the race
// detector's slow-down (ten times and more on the data-log reader) would measure the detector.
// Under a suite without -race it is childBin.
func plainChildBin(t *testing.T) string {
	t.Helper()
	if !raceEnabled || os.Getenv("NORACECHILD") != "" {
		return childBin
	}
	plainChildOnce.Do(func() {
		plainChild = childBin + "-norace"
		cmd := exec.Command("go", "build", "-o", plainChild, "./internal/testchild")
		out, err := cmd.CombinedOutput()
		if err != nil {
			plainChildErr = fmt.Errorf("build test child without -race: %v: %s", err, out)
		}
	})
	if plainChildErr != nil {
		t.Fatal(plainChildErr)
	}
	return plainChild
}

// spawnBin is spawn with the child executable bin.
func spawnBin(t *testing.T, bin string, cfg []byte, ev child.Events) *child.Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lw := &tlogWriter{t: t}
	p, err := child.Spawn(ctx, child.SpawnOptions{
		Executable: bin, Args: []string{"child"}, Config: cfg, Events: ev,
		Logger: slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("spawn: %v", err)
	}
	t.Cleanup(func() {
		_ = p.Kill()
		<-p.Exited()
		assertNoProcess(t, p.Pid())
		lw.mu.Lock()
		lw.done = true
		lw.mu.Unlock()
	})
	return p
}

// assertNoProcess fails unless pid is gone (not even a zombie).
func assertNoProcess(t *testing.T, pid int) {
	t.Helper()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		t.Errorf("process %d still exists: %s", pid, b)
	}
}

// fakeParent accepts TCP connections on 127.0.0.1 and hands each to a child, as the parent does:
// it reads the request bytes itself first (possibly more than the request), then calls Handoff.
type fakeParent struct {
	ln net.Listener
}

func newFakeParent(t testing.TB) *fakeParent {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return &fakeParent{ln: ln}
}

func (fp *fakeParent) url(query string) string { return "ws://" + fp.ln.Addr().String() + "/" + query }

// readHead reads from conn until the end of the HTTP head, returning every byte read.
func readHead(conn net.Conn) ([]byte, error) {
	var pre []byte
	buf := make([]byte, 512)
	for !bytes.Contains(pre, []byte("\r\n\r\n")) {
		n, err := conn.Read(buf)
		pre = append(pre, buf[:n]...)
		if err != nil {
			return pre, err
		}
	}
	return pre, nil
}

// handOffNext accepts the next connection, reads its request head and hands it to p with h, as the
// parent does; the handoff's error arrives on the channel.
func (fp *fakeParent) handOffNext(p *child.Process, h child.Handoff) <-chan error {
	errc := make(chan error, 1)
	go func() {
		conn, err := fp.ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer conn.Close()
		pre, err := readHead(conn)
		if err != nil {
			errc <- err
			return
		}
		errc <- p.Handoff(conn, pre, h)
	}()
	return errc
}

// dialVia dials a WebSocket through fp and hands the server side to p with h.
func dialVia(t testing.TB, fp *fakeParent, p *child.Process, h child.Handoff) (*websocket.Conn, error) {
	t.Helper()
	errc := fp.handOffNext(p, h)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, derr := websocket.Dial(ctx, fp.url("?data=x"), &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	herr := <-errc
	if herr != nil {
		if ws != nil {
			ws.CloseNow()
		}
		return nil, herr
	}
	if derr != nil {
		return nil, derr
	}
	ws.SetReadLimit(16 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return ws, nil
}

// readCloseCode reads until the connection ends and returns the close code (-1 if none).
func readCloseCode(t *testing.T, ws *websocket.Conn) (websocket.StatusCode, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	frames := 0
	for {
		_, _, err := ws.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			reason := ""
			if ok := asCloseError(err, &ce); ok {
				reason = ce.Reason
			}
			return websocket.CloseStatus(err), reason, frames
		}
		frames++
	}
}

func asCloseError(err error, ce *websocket.CloseError) bool { return errors.As(err, ce) }

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
