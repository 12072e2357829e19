package child

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// procRunner is go-plugin's runner.Runner for a child: go-plugin builds the environment and the private
// socket directory, procRunner owns the exec.Cmd so that it can add the handoff socket (fd 3), a stdin
// pipe whose EOF tells the child its parent is gone, Pdeathsig, and a channel closed once the child is
// reaped (go-plugin itself only exposes a polled Exited() bool).
type procRunner struct {
	path string
	args []string
	// files the child inherits; closed in the parent once the child started (or failed to).
	stdin   *os.File
	handoff *os.File
	sigs    *os.File // the parent's signature table, or nil (not ours: not closed)

	cmd      *exec.Cmd
	stdout   io.ReadCloser
	stderr   io.ReadCloser
	pid      int
	waitOnce sync.Once
	waitErr  error
	done     chan struct{} // closed when the child has been reaped
}

func newProcRunner(path string, args []string, stdin, handoff *os.File) *procRunner {
	return &procRunner{path: path, args: args, stdin: stdin, handoff: handoff, done: make(chan struct{})}
}

// childGOGC is a child's GOGC unless the parent's environment sets one. A child allocates little
// (about a frame per line read) and keeps little (its rings), so the heap headroom Go's default
// allows is most of its memory, paid again in each of many children; halving it costs no
// measurable CPU (scenario D). No GOMEMLIMIT is set: a child's live heap grows with its clients and
// rings, which the configuration sizes, so no one limit fits every deployment.
const childGOGC = "50"

// prepare is go-plugin's RunnerFunc: cmd carries the environment go-plugin wants the child to see
// (the parent's own, plus go-plugin's variables).
func (r *procRunner) prepare(env []string) error {
	cmd := exec.Command(r.path, r.args...)
	cmd.Env = withDefault(env, "GOGC", childGOGC)
	cmd.Stdin = r.stdin
	cmd.ExtraFiles = []*os.File{r.handoff} // fd 3 in the child
	if r.sigs != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, r.sigs) // fd 4
		cmd.Env = append(cmd.Env, sigTableEnv+"=4")
	}
	cmd.SysProcAttr = childSysProcAttr()
	var err error
	if r.stdout, err = cmd.StdoutPipe(); err != nil {
		return err
	}
	if r.stderr, err = cmd.StderrPipe(); err != nil {
		return err
	}
	r.cmd = cmd
	return nil
}

// withDefault returns env with key=value added unless env already gives key a value: the
// operator's environment wins. An empty value counts as unset, as the Go runtime reads it.
func withDefault(env []string, key, value string) []string {
	set := false
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			set = v != "" // the last one counts, as in exec.Cmd
		}
	}
	if set {
		return env
	}
	return append(env, key+"="+value)
}

func (r *procRunner) Start(context.Context) error {
	err := r.cmd.Start()
	// The child has its own copies now (or will never run): drop the parent's.
	_ = r.stdin.Close()
	_ = r.handoff.Close()
	if err != nil {
		close(r.done)
		return err
	}
	r.pid = r.cmd.Process.Pid
	return nil
}

func (r *procRunner) Wait(context.Context) error {
	r.waitOnce.Do(func() {
		r.waitErr = r.cmd.Wait()
		close(r.done)
	})
	return r.waitErr
}

func (r *procRunner) Kill(context.Context) error {
	if r.cmd == nil || r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *procRunner) Diagnose(context.Context) string { return "" }
func (r *procRunner) Stdout() io.ReadCloser           { return r.stdout }
func (r *procRunner) Stderr() io.ReadCloser           { return r.stderr }
func (r *procRunner) Name() string                    { return r.path }
func (r *procRunner) ID() string {
	if r.pid == 0 {
		return ""
	}
	return strconv.Itoa(r.pid)
}
func (r *procRunner) PluginToHost(n, a string) (string, string, error) { return n, a, nil }
func (r *procRunner) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }
