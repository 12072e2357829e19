package parent_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/parent"
)

// proc is the real binary running `distributor start` as the parent.
type proc struct {
	cmd    *exec.Cmd
	addr   string
	logs   *syncBuffer
	exited chan struct{}
	err    error
}

var listeningRE = regexp.MustCompile(`msg=listening addr=([0-9.]+:[0-9]+)`)

// cleanEnv is the environment without configuration keys, so the host's cannot leak in.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		skip := false
		for _, key := range config.Keys {
			if key.Name == k {
				skip = true
			}
		}
		if !skip {
			out = append(out, kv)
		}
	}
	return out
}

// startProcess runs `distributor start args...` in dir and waits for its
// `listening addr=` log line.
func startProcess(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"start"}, args...)...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &syncBuffer{}, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("distributor log:\n%s", p.logs.String())
		}
	})
	select {
	case p.addr = <-found:
	case <-p.exited:
		t.Fatalf("distributor start exited: %v\n%s", p.err, p.logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("no `listening addr=` line after 20 s:\n%s", p.logs.String())
	}
	return p
}

// waitExit waits for the process to exit; it fails the test if it still runs after within.
func (p *proc) waitExit(t *testing.T, within time.Duration, after string) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(within):
		t.Fatalf("parent still running %s after %s", within, after)
	}
}

// SIGTERM on the parent: clients get 1001, every child exits by itself (none has to be killed),
// and the parent exits with status 0, leaving no process behind. The grace is long, so that a
// slow machine cannot make the parent kill a child.
func TestSIGTERMGraceful(t *testing.T) {
	e := newEnv(t, 2, false)
	p := startProcess(t, e.dir, "--grace", "30s")
	r := &running{t: t, env: e, addr: p.addr, clock: &clock{}, seen: map[int]bool{}}
	clients := []*wsClient{r.dial(newCollector(t)), r.dial(newCollector(t)), r.dial(newCollector(t))}
	st := r.waitStatus("3 clients in 2 children", func(st parent.Status) bool { return st.Clients == 3 && len(st.Children) == 2 })
	if st.Pid != p.cmd.Process.Pid {
		t.Fatalf("/status pid %d, process %d", st.Pid, p.cmd.Process.Pid)
	}
	pids := []int{st.Children[0].Pid, st.Children[1].Pid}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i, w := range clients {
		if code := w.closed(t, stopDeadline); code != websocket.StatusGoingAway {
			t.Errorf("client %d closed with %d, want 1001", i, code)
		}
		var ce websocket.CloseError
		if !errors.As(w.err, &ce) || !strings.Contains(ce.Reason, "resume from your last cursor") {
			t.Errorf("client %d closed with %v, want a reason that tells it to resume", i, w.err)
		}
	}
	p.waitExit(t, stopDeadline, "SIGTERM")
	if p.err != nil {
		t.Errorf("exit: %v, want status 0", p.err)
	}
	waitGone(t, pids, stopDeadline)
	logs := p.logs.String()
	if strings.Contains(logs, "killing it") {
		t.Error("a child was killed: it did not exit by itself within the grace")
	}
	if !strings.Contains(logs, "stopped") {
		t.Error("no `stopped` log line")
	}
}

// kill -9 of the parent: the children die with it (no orphans).
func TestParentKilledNineNoOrphans(t *testing.T) {
	e := newEnv(t, 1, false)
	p := startProcess(t, e.dir)
	r := &running{t: t, env: e, addr: p.addr, clock: &clock{}, seen: map[int]bool{}}
	a, b := r.dial(newCollector(t)), r.dial(newCollector(t))
	st := r.waitStatus("2 children", func(st parent.Status) bool { return st.Clients == 2 && len(st.Children) == 2 })
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	waitGone(t, []int{st.Children[0].Pid, st.Children[1].Pid}, stopDeadline)
	a.closed(t, stopDeadline)
	b.closed(t, stopDeadline)
}

// `distributor status` prints the process table of a running distributor.
func TestStatusCommand(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{})
	c := newCollector(t)
	w := r.dial(c)
	e.feedUntil(t, "cycle", w)
	st := r.waitStatus("frame counted", func(st parent.Status) bool {
		return st.Clients == 1 && st.Children[0].Clients[0].FramesSent >= 1
	})
	out, err := exec.Command(bin, "status", "--addr", r.addr).CombinedOutput()
	if err != nil {
		t.Fatalf("distributor status: %v\n%s", err, out)
	}
	s := string(out)
	t.Logf("distributor status:\n%s", s)
	for _, want := range []string{
		"PROCESS", "parent", "child", itoa(st.Pid), itoa(st.Children[0].Pid),
		"KEY", c.kp.PublicHex, "127.0.0.1:", "CONNECTED SINCE", "FRAMES SENT", "QUEUE", "STATE", "live",
		"MOVED TO LOG", "REJOINED", "LAPPED", "STALLED",
		"STREAM", "cycle", "receipt", "originalTx", "POSITION",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Nothing listening: a clear error and a non-zero status.
	out, err = exec.Command(bin, "status", "--addr", "127.0.0.1:1", "--timeout", "2s").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "status:") {
		t.Errorf("status against a closed port: err %v, output %q", err, out)
	}
}

// `distributor start` from the repository root with the shipped distributor-config.json
// (bundled testdata/archiver-db and testdata/data-logs) serves and is healthy.
func TestStartWithShippedConfig(t *testing.T) {
	root := repoRoot(t)
	for _, p := range []string{"distributor-config.json", "testdata/archiver-db", "testdata/data-logs"} {
		if _, err := os.Stat(root + "/" + p); err != nil {
			t.Skipf("%s not in the repository yet", p)
		}
	}
	p := startProcess(t, root, "--DISTRIBUTOR_IP", "127.0.0.1", "--DISTRIBUTOR_PORT", "0")
	expectGet(t, p.addr, "/is-alive", 200, "OK")
	expectGet(t, p.addr, "/is-healthy", 200, "OK")
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.waitExit(t, stopDeadline, "SIGINT")
	if p.err != nil {
		t.Errorf("exit: %v", p.err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// A child that does not answer (SIGSTOP) cannot hold up a graceful stop: the parent kills it
// when the grace runs out (and says so), and exits, leaving no process behind. A stop that waited
// for the hung child would never end: the test's deadline, far past the grace, catches that.
func TestSIGTERMWithHungChildKilledAtGrace(t *testing.T) {
	e := newEnv(t, 1, false)
	p := startProcess(t, e.dir, "--grace", "5s")
	r := &running{t: t, env: e, addr: p.addr, clock: &clock{}, seen: map[int]bool{}}
	hung, fine := r.dial(newCollector(t)), r.dial(newCollector(t))
	st := r.waitStatus("2 children", func(st parent.Status) bool { return st.Clients == 2 && len(st.Children) == 2 })
	stopped := st.Children[0].Pid
	if err := syscall.Kill(stopped, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// A reload now waits on the hung child; it must not hold up the stop either.
	if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	p.logs.await(t, "reloading the configuration", stopDeadline)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := fine.closed(t, stopDeadline); code != websocket.StatusGoingAway {
		t.Errorf("client of the healthy child closed with %d, want 1001", code)
	}
	p.waitExit(t, stopDeadline, "SIGTERM with a hung child (grace 5s)")
	if p.err != nil {
		t.Errorf("exit: %v, want status 0", p.err)
	}
	if !strings.Contains(p.logs.String(), `killing it" pid=`+strconv.Itoa(stopped)) {
		t.Errorf("the parent did not say it killed the hung child %d at the grace", stopped)
	}
	waitGone(t, []int{stopped, st.Children[1].Pid}, stopDeadline)
	hung.closed(t, stopDeadline) // dropped with the killed child
	if os.Getenv("SHOWLOG") != "" {
		t.Log(p.logs.String())
	}
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
