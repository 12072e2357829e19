package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/child"
)

func TestCloseClientWith1000(t *testing.T) {
	checkGoroutines(t)
	ev := newEvents()
	p := spawn(t, testConfig(t, t.TempDir(), 0), ev)
	fp := newFakeParent(t)
	ws, err := dialVia(t, fp, p, child.Handoff{ClientID: "c1", Key: "k1", Remote: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	ev.waitConnected(t, "c1")
	st, err := p.Stats()
	if err != nil || len(st.Clients) != 1 || st.Clients[0].ID != "c1" || st.Clients[0].Key != "k1" || st.Pid != p.Pid() {
		t.Fatalf("stats = %+v, %v", st, err)
	}
	if err := p.CloseClient("c1", 1000, "replaced by a newer connection"); err != nil {
		t.Fatal(err)
	}
	code, reason, _ := readCloseCode(t, ws)
	if code != websocket.StatusNormalClosure || reason != "replaced by a newer connection" {
		t.Fatalf("close = %d %q", code, reason)
	}
	if c := ev.waitClosed(t, "c1"); c.code != 1000 || c.pid != p.Pid() {
		t.Fatalf("ClientClosed = %+v", c)
	}
	if err := p.CloseClient("nope", 1000, "x"); err == nil {
		t.Fatal("CloseClient of an unknown client succeeded")
	}
}

func TestShutdownCloses1001(t *testing.T) {
	checkGoroutines(t)
	ev := newEvents()
	p := spawn(t, testConfig(t, t.TempDir(), 0), ev)
	fp := newFakeParent(t)
	var conns []*websocket.Conn
	for _, id := range []string{"a", "b"} {
		ws, err := dialVia(t, fp, p, child.Handoff{ClientID: id, Key: id})
		if err != nil {
			t.Fatal(err)
		}
		ev.waitConnected(t, id)
		conns = append(conns, ws)
	}
	done := make(chan error, 1)
	go func() { done <- p.Shutdown(5 * time.Second) }()
	for _, ws := range conns {
		if code, _, _ := readCloseCode(t, ws); code != websocket.StatusGoingAway {
			t.Fatalf("close code %d, want 1001", code)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-p.Exited()
	assertNoProcess(t, p.Pid())
	if _, err := dialVia(t, fp, p, child.Handoff{ClientID: "late"}); err == nil {
		t.Fatal("handoff to an exited child succeeded")
	}
}

func TestKilledChild(t *testing.T) {
	checkGoroutines(t)
	ev := newEvents()
	p := spawn(t, testConfig(t, t.TempDir(), 0), ev)
	fp := newFakeParent(t)
	ws, err := dialVia(t, fp, p, child.Handoff{ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	ev.waitConnected(t, "c1")
	if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	case <-time.After(20 * time.Second):
		t.Fatal("Exited did not close after kill -9")
	}
	assertNoProcess(t, p.Pid())
	if code, _, _ := readCloseCode(t, ws); code != -1 {
		t.Fatalf("client saw close code %d from a killed child", code)
	}
	// ErrExited, not the ack's time limit: the handoff knows at once that the child is gone.
	_, err = dialVia(t, fp, p, child.Handoff{ClientID: "c2"})
	if !errors.Is(err, child.ErrExited) {
		t.Fatalf("handoff to a killed child: %v", err)
	}
	if _, err := p.Stats(); err == nil {
		t.Fatal("Stats of a killed child succeeded")
	}
}

// TestSpawnErrors: a child that cannot start or cannot take its configuration is an error that
// names the cause, and leaves no process behind.
func TestSpawnErrors(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	_, err := child.Spawn(ctx, child.SpawnOptions{Executable: filepath.Join(t.TempDir(), "missing"), Config: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing executable: %v", err)
	}
	before := childPids(t)
	_, err = child.Spawn(ctx, child.SpawnOptions{Executable: childBin, Config: []byte(`{"DATA_LOG_DIR": 5}`),
		Logger: testLogger(t)})
	if err == nil || !strings.Contains(err.Error(), "DATA_LOG_DIR") {
		t.Fatalf("bad configuration: %v", err)
	}
	if after := childPids(t); after != before {
		t.Fatalf("children before %q, after %q", before, after)
	}
}

// childPids lists this process's children (from /proc).
func childPids(t *testing.T) string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("cannot list processes: %v", err)
	}
	var pids []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == fmt.Sprint(os.Getpid()) {
			pids = append(pids, e.Name())
		}
	}
	return strings.Join(pids, " ")
}

// TestSigtermIsGraceful: SIGTERM to a child (a service manager stopping the group) closes its
// clients with 1001 and ends it; the parent sees it exit.
func TestSigtermIsGraceful(t *testing.T) {
	checkGoroutines(t)
	ev := newEvents()
	p := spawn(t, testConfig(t, t.TempDir(), 0), ev)
	fp := newFakeParent(t)
	ws, err := dialVia(t, fp, p, child.Handoff{ClientID: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ev.waitConnected(t, "t")
	if err := syscall.Kill(p.Pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := readCloseCode(t, ws); code != websocket.StatusGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	select {
	case <-p.Exited():
	case <-time.After(20 * time.Second):
		t.Fatal("child did not exit after SIGTERM")
	}
}
