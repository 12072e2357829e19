package parent_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sys/unix"

	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/parent"
	"github.com/shardeum/distributor/protocol"
)

// bin is the real distributor binary, built once in TestMain: children run it (`child`),
// and the process-level tests run it as the parent (`start`, `status`).
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "parent-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "distributor")
	build := exec.Command("go", "build", "-o", bin, "github.com/shardeum/distributor")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the distributor binary:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the module root (tests run in parent/).
func repoRoot(t testing.TB) string {
	t.Helper()
	abs, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// ---- environment: data logs, config ----

type env struct {
	t       testing.TB
	dir     string
	logDir  string
	cfgPath string
	hashKey protocol.HashKey
	mu      sync.Mutex
	fields  map[string]any // the config file's content
}

const testHashKey = "69fa4195670576c0160d660c3be36556ff8d504725be8a59b5a96509e0c994bc"

// newEnv makes a temp dir with empty data logs for the three streams and a config file
// binding 127.0.0.1:0. withDB points ARCHIVER_DB_DIR at the bundled testdata/archiver-db.
func newEnv(t testing.TB, maxPerChild int, withDB bool) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	e.logDir = filepath.Join(e.dir, "data-logs")
	if err := os.MkdirAll(e.logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"cycle", "receipt", "originalTx"} {
		write(t, filepath.Join(e.logDir, "active-"+s+"-log.txt"), s+"-log1.txt")
		write(t, filepath.Join(e.logDir, s+"-log1.txt"), "")
	}
	hk, err := protocol.ParseHashKey(testHashKey)
	if err != nil {
		t.Fatal(err)
	}
	e.hashKey = hk
	dbDir := filepath.Join(e.dir, "no-archiver-db")
	if withDB {
		dbDir = filepath.Join(repoRoot(t), "testdata", "archiver-db")
	}
	e.cfgPath = filepath.Join(e.dir, "distributor-config.json")
	e.fields = map[string]any{
		"DISTRIBUTOR_IP":          "127.0.0.1",
		"DISTRIBUTOR_PORT":        0,
		"DISTRIBUTOR_HASH_KEY":    testHashKey,
		"ARCHIVER_DB_DIR":         dbDir,
		"DATA_LOG_DIR":            e.logDir,
		"FILE_STREAM_INTERVAL_MS": 20,
		"MAX_CLIENTS_PER_CHILD":   maxPerChild,
		"limitToSubscribersOnly":  false,
		"subscribers":             []any{},
	}
	e.save()
	return e
}

func write(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e *env) set(key string, v any) {
	e.mu.Lock()
	e.fields[key] = v
	e.mu.Unlock()
	e.save()
}

func (e *env) save() {
	e.mu.Lock()
	b, err := json.MarshalIndent(e.fields, "", "  ")
	e.mu.Unlock()
	if err != nil {
		e.t.Fatal(err)
	}
	tmp := e.cfgPath + ".tmp"
	write(e.t, tmp, string(b))
	if err := os.Rename(tmp, e.cfgPath); err != nil {
		e.t.Fatal(err)
	}
}

// load reads the config file the way `distributor start` does (no environment).
func (e *env) load() (*config.Config, error) {
	return config.Load(config.LoadOptions{Path: e.cfgPath, Dir: e.dir, Env: func(string) (string, bool) { return "", false },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// appendLine appends one JSON line to a stream's active file.
func (e *env) appendLine(stream, line string) {
	e.t.Helper()
	f, err := os.OpenFile(filepath.Join(e.logDir, stream+"-log1.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		e.t.Fatal(err)
	}
}

// ---- a parent run in this process, children real subprocesses ----

type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

type running struct {
	t     testing.TB
	env   *env
	addr  string
	clock *clock
	logs  *syncBuffer
	stop  func() // cancels Run and waits for it
	seen  map[int]bool
	seenM sync.Mutex
}

type runOpts struct {
	sweep    time.Duration
	grace    time.Duration
	childExe string // default: the built distributor
}

// startParent runs parent.Run in-process. On cleanup it stops it, then checks that
// every child it ever saw is gone and no goroutine of the run is left.
func startParent(t testing.TB, e *env, ro runOpts) *running {
	t.Helper()
	baseline := len(goroutines())
	cfg, err := e.load()
	if err != nil {
		t.Fatal(err)
	}
	r := &running{t: t, env: e, clock: &clock{}, logs: &syncBuffer{}, seen: map[int]bool{}}
	logger := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- parent.Run(ctx, cfg, parent.Options{
			Grace:           ro.grace,
			Logger:          logger,
			ConfigLoader:    e.load,
			Ready:           func(a net.Addr) { ready <- a },
			ChildExecutable: cmp.Or(ro.childExe, bin),
			SweepInterval:   ro.sweep,
			Now:             r.clock.Now,
		})
	}()
	select {
	case a := <-ready:
		r.addr = a.String()
	case err := <-done:
		cancel()
		t.Fatalf("Run returned before listening: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("parent not listening after 10 s")
	}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return 30 s after cancel")
			}
		})
	}
	t.Cleanup(func() {
		r.stop()
		r.seenM.Lock()
		for pid := range r.seen {
			if alive(pid) {
				t.Errorf("child %d still alive after Run returned (orphan)", pid)
			}
		}
		r.seenM.Unlock()
		waitGoroutines(t, baseline)
		if t.Failed() || os.Getenv("SHOWLOG") != "" {
			t.Logf("parent log:\n%s", r.logs.String())
		}
	})
	return r
}

// status fetches GET /status and remembers every child pid it names.
func (r *running) status() parent.Status {
	r.t.Helper()
	st, err := fetchStatus(r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.seenM.Lock()
	for _, c := range st.Children {
		r.seen[c.Pid] = true
	}
	r.seenM.Unlock()
	return st
}

func fetchStatus(addr string) (parent.Status, error) {
	var st parent.Status
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return st, fmt.Errorf("/status: %d %s", resp.StatusCode, body)
	}
	return st, json.Unmarshal(body, &st)
}

// waitStatus polls /status until ok accepts it or the deadline passes.
func (r *running) waitStatus(what string, ok func(parent.Status) bool) parent.Status {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := r.status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", "  ")
			r.t.Fatalf("timed out waiting for %s; last /status:\n%s", what, b)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
}

func childCount(n int) func(parent.Status) bool {
	return func(st parent.Status) bool { return len(st.Children) == n }
}

// ---- collectors ----

type collector struct {
	kp protocol.KeyPair
}

func newCollector(t testing.TB) collector {
	t.Helper()
	kp, err := protocol.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	return collector{kp: kp}
}

// handshake is the signed `data` object a collector sends.
func (c collector) handshake(t testing.TB, hk protocol.HashKey, now time.Time) []byte {
	t.Helper()
	obj := map[string]any{
		"collectorInfo": map[string]any{"subscriptionType": "FIREHOSE", "timestamp": float64(now.UnixMilli())},
		"sender":        c.kp.PublicHex,
	}
	b, err := protocol.Signer{HashKey: hk, Keys: c.kp}.SignObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wsURL(addr string, data []byte) string {
	return "ws://" + addr + "/?data=" + url.QueryEscape(string(data))
}

type wsClient struct {
	conn *websocket.Conn
	key  string
	msgs chan []byte
	done chan struct{}
	err  error // set before done closes
}

// dial connects a collector and starts reading; it fails the test on refusal.
func (r *running) dial(c collector) *wsClient {
	r.t.Helper()
	w, err := dialWS(r.addr, c.handshake(r.t, r.env.hashKey, r.clock.Now()), c.kp.PublicHex)
	if err != nil {
		r.t.Fatalf("dial: %v", err)
	}
	r.t.Cleanup(func() { w.close() })
	return w
}

func dialWS(addr string, data []byte, key string) (*wsClient, error) {
	w, err := dialURL(wsURL(addr, data))
	if w != nil {
		w.key = key
	}
	return w, err
}

func dialURL(u string) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	w := &wsClient{conn: conn, msgs: make(chan []byte, 1024), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				w.err = err
				return
			}
			select {
			case w.msgs <- b:
			default:
			}
		}
	}()
	return w, nil
}

func (w *wsClient) close() {
	_ = w.conn.CloseNow()
	<-w.done
}

// closed waits for the connection to end and returns its close code (-1: dropped
// without a close frame).
func (w *wsClient) closed(t testing.TB, within time.Duration) websocket.StatusCode {
	t.Helper()
	select {
	case <-w.done:
		return websocket.CloseStatus(w.err)
	case <-time.After(within):
		t.Fatalf("client %.8s still open after %s", w.key, within)
		return 0
	}
}

func (w *wsClient) isOpen() bool {
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

// frame waits for the next frame.
func (w *wsClient) frame(t testing.TB, within time.Duration) []byte {
	t.Helper()
	select {
	case b := <-w.msgs:
		return b
	case <-w.done:
		t.Fatalf("client closed while waiting for a frame: %v", w.err)
	case <-time.After(within):
		t.Fatalf("no frame within %s", within)
	}
	return nil
}

// ---- raw HTTP on a TCP socket ----

// rawRequest writes req on a fresh connection and returns the status code and the
// whole answer, read until the server closes (deadline 10 s: a hang fails).
func rawRequest(t testing.TB, addr, req string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatalf("write: %v", err)
	}
	b, err := io.ReadAll(conn)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reading the answer (server must answer and close): %v; got %q", err, b)
	}
	line, _, _ := strings.Cut(string(b), "\r\n")
	parts := strings.Fields(line)
	if len(parts) < 2 {
		t.Fatalf("no status line in %q", b)
	}
	code, _ := strconv.Atoi(parts[1])
	return code, string(b)
}

func upgradeRequest(target string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
}

// ---- processes and goroutines ----

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// stopDeadline bounds the waits for a stopping process and its clients: far above any grace the
// tests give, so that it fails only a stop that hangs, never a slow machine.
const stopDeadline = 60 * time.Second

// waitGone waits until every process of pids has exited (a zombie counts as gone); it fails the
// test if one is still running after within. The exit is awaited through a pidfd, which becomes
// readable when the process exits.
func waitGone(t testing.TB, pids []int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if errors.Is(err, unix.ESRCH) {
			continue // already reaped
		}
		if err != nil {
			t.Fatalf("pidfd_open(%d): %v", pid, err)
		}
		for {
			ms := max(time.Until(deadline).Milliseconds(), 0)
			n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(ms))
			if errors.Is(err, unix.EINTR) {
				continue
			}
			unix.Close(fd)
			if err != nil {
				t.Fatalf("poll on the pidfd of %d: %v", pid, err)
			}
			if n == 0 {
				t.Fatalf("process %d still running after %s", pid, within)
			}
			break
		}
	}
}

// goroutines lists the stacks of this process's goroutines, less the runtime's and
// the test framework's own (signal.Notify's loop lives for the process, by design).
func goroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		switch {
		case strings.Contains(g, "os/signal.signal_recv"),
			strings.Contains(g, "testing.(*M).Run"),
			strings.Contains(g, "testing.(*T).Run"),
			strings.Contains(g, "testing.tRunner"),
			strings.Contains(g, "runtime.goexit") && strings.Contains(g, "created by runtime"):
			continue
		}
		out = append(out, g)
	}
	return out
}

// waitGoroutines waits until no goroutine beyond the baseline count is left.
func waitGoroutines(t testing.TB, baseline int) {
	t.Helper()
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for {
		gs := goroutines()
		if len(gs) <= baseline {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines left (baseline %d):\n%s", len(gs), baseline, strings.Join(gs, "\n\n"))
			return
		}
		time.Sleep(10 * time.Millisecond)
		http.DefaultClient.CloseIdleConnections()
	}
}

type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed by the next Write, if a waiter made one
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return s.b.Write(p)
}

// await waits until the buffer holds substr; it fails the test if it does not after within.
func (s *syncBuffer) await(t testing.TB, substr string, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for {
		s.mu.Lock()
		if bytes.Contains(s.b.Bytes(), []byte(substr)) {
			s.mu.Unlock()
			return
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("log has no %q after %s", substr, within)
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// feedUntil appends lines to stream until every client has received a frame of it.
// (A child subscribes a client to its readers just after the 101 answer, so a line
// appended in that instant is not for the new client: retry instead of assuming.)
// It returns how many lines it appended.
func (e *env) feedUntil(t testing.TB, stream string, clients ...*wsClient) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	got := make([]bool, len(clients))
	for n := 1; ; n++ {
		e.appendLine(stream, fmt.Sprintf(`{"feed":%d,"writtenAt":%d}`, n, time.Now().UnixMicro()))
		tick := time.After(200 * time.Millisecond)
		for i, w := range clients {
			for !got[i] {
				select {
				case f := <-w.msgs:
					got[i] = strings.Contains(string(f), `"`+stream+`"`)
				case <-w.done:
					t.Fatalf("client %d closed while waiting for a %s frame: %v", i, stream, w.err)
				case <-tick:
					goto next
				}
			}
		}
		return n
	next:
		if time.Now().After(deadline) {
			t.Fatalf("no %s frame for every client within 15 s", stream)
		}
	}
}
