package parent_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/parent"
)

// kill -9 of a child: its clients see the drop, the parent cleans its tables and
// lives on, and the next client gets a new child.
func TestChildKilledNineCleanedAndReplaced(t *testing.T) {
	e := newEnv(t, 2, false)
	r := startParent(t, e, runOpts{})
	a, b, c := r.dial(newCollector(t)), r.dial(newCollector(t)), r.dial(newCollector(t))
	st := r.waitStatus("3 clients in 2 children", func(st parent.Status) bool { return st.Clients == 3 && len(st.Children) == 2 })
	victim, survivor := st.Children[0], st.Children[1]
	if len(victim.Clients) != 2 {
		t.Fatalf("first child has %d clients, want 2", len(victim.Clients))
	}
	if err := syscall.Kill(victim.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*wsClient{a, b} {
		if code := w.closed(t, 10*time.Second); code == websocket.StatusNormalClosure || code == websocket.StatusGoingAway {
			t.Errorf("client of the killed child got close %d; it should see a drop", code)
		}
	}
	st = r.waitStatus("killed child gone from the tables", func(st parent.Status) bool { return len(st.Children) == 1 && st.Clients == 1 })
	if st.Children[0].Pid != survivor.Pid || !c.isOpen() {
		t.Fatalf("surviving child/client affected: %+v", st.Children)
	}
	waitGone(t, []int{victim.Pid}, stopDeadline)

	// The survivor has room for one more; then a third client needs a new child.
	d := r.dial(newCollector(t))
	f := r.dial(newCollector(t))
	st = r.waitStatus("3 clients in 2 children again", func(st parent.Status) bool { return st.Clients == 3 && len(st.Children) == 2 })
	for _, ch := range st.Children {
		if ch.Pid == victim.Pid {
			t.Fatal("killed child listed again")
		}
	}
	e.feedUntil(t, "originalTx", c, d, f)
	if !strings.Contains(r.logs.String(), "child exited unexpectedly") {
		t.Error("the unexpected exit was not logged")
	}
}

// /is-alive is 200 OK; /is-healthy is 503 with the reason when the archive DB is
// missing (the firehose still serves) and 200 OK with the bundled DB.
func TestHealthEndpoints(t *testing.T) {
	t.Run("no DB", func(t *testing.T) {
		e := newEnv(t, 5, false)
		r := startParent(t, e, runOpts{})
		expectGet(t, r.addr, "/is-alive", 200, "OK")
		code, body := get(t, r.addr, "/is-healthy")
		if code != 503 || !strings.Contains(body, "archive DB") {
			t.Errorf("/is-healthy = %d %q, want 503 naming the archive DB", code, body)
		}
		w := r.dial(newCollector(t)) // firehose still up
		e.feedUntil(t, "cycle", w)
		if !strings.Contains(r.logs.String(), "archive DB unavailable") {
			t.Error("DB failure not logged")
		}
	})
	t.Run("bundled DB", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(repoRoot(t), "testdata", "archiver-db", "cycles.sqlite3")); err != nil {
			t.Skip("testdata/archiver-db not present yet")
		}
		e := newEnv(t, 5, true)
		r := startParent(t, e, runOpts{})
		expectGet(t, r.addr, "/is-healthy", 200, "OK")
		before := metrics(t, r.addr)
		w := r.dial(newCollector(t))
		r.waitStatus("1 child", childCount(1))
		expectGet(t, r.addr, "/is-healthy", 200, "OK") // readers healthy too
		n := e.feedUntil(t, "cycle", w)
		after := metrics(t, r.addr)
		if after["cycle"].Count != before["cycle"].Count+float64(n) || after["cycle"].Last <= before["cycle"].Last {
			t.Errorf("/metrics cycle: before %+v, %d lines appended, after %+v", before["cycle"], n, after["cycle"])
		}
		if after["receipt"] != before["receipt"] || before["receipt"].Count == 0 {
			t.Errorf("/metrics receipt: before %+v after %+v (want the DB count, unchanged)", before["receipt"], after["receipt"])
		}
		w.close()
		r.waitStatus("0 children", childCount(0))
		if again := metrics(t, r.addr); again["cycle"].Count != after["cycle"].Count {
			t.Errorf("/metrics cycle after the child left: %+v, want %+v", again["cycle"], after["cycle"])
		}
	})
}

func get(t testing.TB, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func expectGet(t testing.TB, addr, path string, code int, body string) {
	t.Helper()
	c, b := get(t, addr, path)
	if c != code || b != body {
		t.Errorf("GET %s = %d %q, want %d %q", path, c, b, code, body)
	}
}

// /status lists the parent, every child with its clients (key, remote, since,
// frames sent, queue depth) and readers.
func TestStatusEndpoint(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{})
	c := newCollector(t)
	w := r.dial(c)
	e.feedUntil(t, "receipt", w)
	st := r.waitStatus("frames counted", func(st parent.Status) bool {
		return len(st.Children) == 1 && len(st.Children[0].Clients) == 1 && st.Children[0].Clients[0].FramesSent >= 1
	})
	if st.Pid != os.Getpid() || st.Listen != r.addr || st.UptimeSeconds <= 0 {
		t.Errorf("parent fields: %+v", st)
	}
	ch := st.Children[0]
	cl := ch.Clients[0]
	if cl.Key != c.kp.PublicHex || !strings.HasPrefix(cl.Remote, "127.0.0.1:") || cl.ConnectedSince.IsZero() || ch.State != "running" {
		t.Errorf("child/client fields: %+v", ch)
	}
	streams := map[string]bool{}
	for _, rd := range ch.Readers {
		streams[rd.Stream] = true
		// A node that reads files: no Redis stream key or entry ID; the receipt reader read a line.
		if rd.Source != "files" || rd.Key != "" || rd.LastID != "" || (rd.Stream == "receipt") != (rd.LagSeconds != nil) {
			t.Errorf("reader %s: source %q key %q lastId %q lagSeconds %v", rd.Stream, rd.Source, rd.Key, rd.LastID, rd.LagSeconds)
		}
	}
	if !streams["cycle"] || !streams["receipt"] || !streams["originalTx"] {
		t.Errorf("readers = %+v", ch.Readers)
	}
	if st.Source != "files" || st.RESTForward != "" {
		t.Errorf("source %q restForward %q, want files and none", st.Source, st.RESTForward)
	}
}

type metric struct {
	Count float64 `json:"count"`
	Last  float64 `json:"lastUpdationTimestamp"`
}

func metrics(t testing.TB, addr string) map[string]metric {
	t.Helper()
	code, body := get(t, addr, "/metrics")
	var m map[string]metric
	if code != 200 || json.Unmarshal([]byte(body), &m) != nil {
		t.Fatalf("/metrics = %d %s", code, body)
	}
	return m
}

// A client that arrives in the instant its child dies still gets in: the handoff to
// the dead child fails (or the parent has already dropped it) and a new child takes it.
func TestHandoffRightAfterChildKilled(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{})
	for i := 0; i < 5; i++ {
		old := r.dial(newCollector(t))
		st := r.waitStatus("1 child", func(st parent.Status) bool { return len(st.Children) == 1 && st.Clients == 1 })
		victim := st.Children[0].Pid
		if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		w := r.dial(newCollector(t)) // no waiting for the parent to notice
		st = r.waitStatus("the new client alone in a new child", func(st parent.Status) bool {
			return len(st.Children) == 1 && st.Clients == 1 && st.Children[0].Pid != victim
		})
		old.closed(t, 5*time.Second)
		w.close()
		r.waitStatus("0 children", childCount(0))
	}
	t.Logf("handoffs that met the dead child and were retried elsewhere: %d (5 rounds)", strings.Count(r.logs.String(), "child failed a handoff"))
	if os.Getenv("SHOWLOG") != "" {
		t.Log(r.logs.String())
	}
}

// Started before its archive exists: data routes answer a clean 500 (with CORS) and
// /is-healthy 503; once the files appear, the next sweep opens them and REST is served.
func TestArchiveAppearsLater(t *testing.T) {
	src := filepath.Join(repoRoot(t), "testdata", "archiver-db")
	if _, err := os.Stat(filepath.Join(src, "cycles.sqlite3")); err != nil {
		t.Skip("testdata/archiver-db not present yet")
	}
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{sweep: 50 * time.Millisecond})
	resp, err := http.Post("http://"+r.addr+"/totalData", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(body), "archive DB unavailable") || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("POST /totalData without DB = %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if code, _ := get(t, r.addr, "/is-healthy"); code != 503 {
		t.Fatalf("/is-healthy without DB = %d", code)
	}
	before := metrics(t, r.addr)

	dst := filepath.Join(e.dir, "no-archiver-db")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(src)
	for _, de := range entries {
		b, err := os.ReadFile(filepath.Join(src, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(e.dir, de.Name()+".part") // whole files appear at once, as an archiver's do
		write(t, tmp, string(b))
		if err := os.Rename(tmp, filepath.Join(dst, de.Name())); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "/is-healthy 200 after the archive appeared", func() bool { c, _ := get(t, r.addr, "/is-healthy"); return c == 200 })
	resp, err = http.Post("http://"+r.addr+"/totalData", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "sender is required") {
		t.Errorf("POST /totalData with DB = %d %s", resp.StatusCode, body)
	}
	after := metrics(t, r.addr)
	if after["cycle"].Count <= before["cycle"].Count {
		t.Errorf("/metrics cycle count %v -> %v: DB rows not added", before["cycle"].Count, after["cycle"].Count)
	}
	waitLog(t, r, "archive DB opened")
}

// When no child can be started, the subscriber gets 503 (after one retry) and the
// parent goes on serving.
func TestSpawnFailureAnswers503(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{childExe: filepath.Join(t.TempDir(), "no-such-binary")})
	_, err := dialWS(r.addr, newCollector(t).handshake(t, e.hashKey, time.Now()), "")
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("dial with no child binary: %v, want HTTP 503", err)
	}
	if n := strings.Count(r.logs.String(), "spawn child failed"); n != 2 {
		t.Errorf("%d spawn failures logged, want 2 (one try, one retry)", n)
	}
	expectGet(t, r.addr, "/is-alive", 200, "OK")
	if st := r.status(); len(st.Children) != 0 || st.Clients != 0 {
		t.Errorf("tables after failed spawns: %+v", st)
	}
}

// Stopping while a child is still starting (its client waiting for it): Run returns, the client
// is refused or closed, and the late child is stopped.
func TestStopWhileChildStarting(t *testing.T) {
	e := newEnv(t, 5, false)
	slow := filepath.Join(t.TempDir(), "slow-distributor")
	write(t, slow, "#!/bin/sh\necho $$ >> "+filepath.Join(e.dir, "slow-pids")+"\nsleep 1\nexec "+bin+" \"$@\"\n")
	if err := os.Chmod(slow, 0o755); err != nil {
		t.Fatal(err)
	}
	r := startParent(t, e, runOpts{childExe: slow, grace: 3 * time.Second})
	dialed := make(chan error, 1)
	go func() {
		w, err := dialWS(r.addr, newCollector(t).handshake(t, e.hashKey, time.Now()), "")
		if err == nil {
			w.closed(t, stopDeadline)
			w.close()
		}
		dialed <- err
	}()
	waitFor(t, "the child to be starting", func() bool {
		b, _ := os.ReadFile(filepath.Join(e.dir, "slow-pids"))
		return len(b) > 0
	})
	r.stop() // fails the test unless Run returns
	if err := <-dialed; err != nil && !strings.Contains(err.Error(), "503") {
		t.Errorf("client of the starting child: %v (want 503 or a close)", err)
	}
	b, _ := os.ReadFile(filepath.Join(e.dir, "slow-pids"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	waitGone(t, []int{pid}, stopDeadline)
}
