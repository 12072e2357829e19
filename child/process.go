package child

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
)

// Process is the parent's handle on one child process. All methods are safe for concurrent use.
type Process struct {
	pid     int
	log     *slog.Logger
	client  *plugin.Client
	runner  *procRunner
	control Control
	hand    *handoffSender
	stdinW  *os.File // closing it (or the parent dying) tells the child its parent is gone
	exited  chan struct{}

	shutdownOnce sync.Once
}

// ErrExited is returned (wrapped) by calls to a child that is gone.
var ErrExited = errors.New("child process exited")

const defaultStartTimeout = 30 * time.Second

// Spawn starts a child, connects to it and hands it its configuration. ctx bounds the start only (not
// the child's life: see Shutdown and Kill). The child is SIGKILLed by the kernel if this process dies.
func Spawn(ctx context.Context, o SpawnOptions) (*Process, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	exe, args := o.Executable, o.Args
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("spawn child: %w", err)
		}
	}
	if args == nil {
		args = []string{"child"}
	}
	startTimeout := defaultStartTimeout
	if dl, ok := ctx.Deadline(); ok {
		startTimeout = time.Until(dl)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("spawn child: %w", err)
	}

	parentEnd, childEnd, err := newHandoffPair()
	if err != nil {
		return nil, fmt.Errorf("spawn child: %w", err)
	}
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		_ = parentEnd.Close()
		_ = childEnd.Close()
		return nil, fmt.Errorf("spawn child: stdin pipe: %w", err)
	}
	r := newProcRunner(exe, args, stdinR, childEnd)
	r.sigs = o.SigTable
	p := &Process{log: log, runner: r, stdinW: stdinW, exited: make(chan struct{}), hand: newHandoffSender(parentEnd)}

	var socketDir string
	fwd := &stderrForwarder{log: log}
	p.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		Plugins:          map[string]plugin.Plugin{pluginName: &controlPlugin{}},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC},
		RunnerFunc: func(_ hclog.Logger, cmd *exec.Cmd, dir string) (runner.Runner, error) {
			socketDir = dir
			return r, r.prepare(cmd.Env)
		},
		StartTimeout: startTimeout,
		Logger:       newHCLogger(log),
		Stderr:       fwd,
	})

	fail := func(stage string, err error) (*Process, error) {
		_ = r.Kill(context.Background())
		p.client.Kill()
		_ = stdinW.Close()
		p.hand.fail(ErrExited)
		if r.cmd == nil || r.cmd.Process == nil {
			_ = stdinR.Close()
			_ = childEnd.Close()
		}
		return nil, fmt.Errorf("spawn child %s: %s: %w", exe, stage, err)
	}
	if _, err := p.client.Start(); err != nil {
		return fail("start", err)
	}
	p.pid = r.pid
	fwd.pid.Store(int64(r.pid))
	p.hand.pid = r.pid
	rpcClient, err := p.client.Client()
	if err != nil {
		return fail("connect", err)
	}
	// The plugin's Unix socket has served its purpose (the connection is up): leave nothing on disk.
	if socketDir != "" {
		_ = os.RemoveAll(socketDir)
	}
	raw, err := rpcClient.Dispense(pluginName)
	if err != nil {
		return fail("dispense", err)
	}
	p.control = raw.(Control)
	go p.hand.readAcks()
	go p.watch()

	var events Events = discardEvents{}
	if o.Events != nil {
		events = o.Events
	}
	if err := p.control.Start(o.Config, pidEvents{events, p.pid}); err != nil {
		_ = p.Kill()
		return nil, fmt.Errorf("spawn child %s: configure (pid %d): %w", exe, p.pid, err)
	}
	log.Debug("child started", "pid", p.pid)
	return p, nil
}

// watch waits for the child to be reaped, then releases everything the parent held for it.
func (p *Process) watch() {
	<-p.runner.done
	p.hand.fail(fmt.Errorf("child %d: %w", p.pid, ErrExited))
	_ = p.stdinW.Close()
	p.client.Kill() // reaps go-plugin's goroutines and its socket directory
	p.log.Info("child exited", "pid", p.pid, "status", exitStatus(p.runner))
	close(p.exited)
}

func exitStatus(r *procRunner) string {
	if r.cmd != nil && r.cmd.ProcessState != nil {
		return r.cmd.ProcessState.String()
	}
	return "unknown"
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.pid }

// Exited is closed once the child is gone (whatever the cause) and the parent has released it.
func (p *Process) Exited() <-chan struct{} { return p.exited }

func (p *Process) gone() error {
	select {
	case <-p.exited:
		return fmt.Errorf("child %d: %w", p.pid, ErrExited)
	default:
		return nil
	}
}

// Handoff passes conn's file descriptor and pre (the request bytes the parent already read from it)
// to the child, which completes the WebSocket handshake itself. It returns once the child owns the
// connection; the caller then closes its own copy. An error means the child did not take it (the
// caller still owns conn and may try another child); it comes promptly if the child is gone.
func (p *Process) Handoff(conn net.Conn, pre []byte, h Handoff) error {
	if err := p.gone(); err != nil {
		return err
	}
	return p.hand.send(conn, pre, h)
}

// CloseClient asks the child to close one client with code and reason.
func (p *Process) CloseClient(clientID string, code int, reason string) error {
	if err := p.gone(); err != nil {
		return err
	}
	if err := p.control.CloseClient(clientID, code, reason); err != nil {
		return fmt.Errorf("child %d: close client %s: %w", p.pid, clientID, err)
	}
	return nil
}

// Reload hands the child a new configuration (config.Config.JSON()).
func (p *Process) Reload(config []byte) error {
	if err := p.gone(); err != nil {
		return err
	}
	if err := p.control.Reload(config); err != nil {
		return fmt.Errorf("child %d: reload: %w", p.pid, err)
	}
	return nil
}

// Pace tells the child how to spend the machine (see Pace).
func (p *Process) Pace(pc Pace) error {
	if err := p.gone(); err != nil {
		return err
	}
	if err := p.control.Pace(pc); err != nil {
		return fmt.Errorf("child %d: pace: %w", p.pid, err)
	}
	return nil
}

// Stats returns a snapshot of the child's clients and readers.
func (p *Process) Stats() (Stats, error) {
	if err := p.gone(); err != nil {
		return Stats{}, err
	}
	s, err := p.control.Stats()
	if err != nil {
		return Stats{}, fmt.Errorf("child %d: stats: %w", p.pid, err)
	}
	return s, nil
}

// Shutdown asks the child to close every client with 1001, stop its readers and exit, and waits for it.
// A child still running after grace is killed (and Shutdown says so). Calling it again just waits.
func (p *Process) Shutdown(grace time.Duration) error {
	killed := false
	p.shutdownOnce.Do(func() {
		go func() { _ = p.control.Shutdown(grace) }() // its reply races the exit; Exited is the answer
		t := time.NewTimer(grace + time.Second/2)
		defer t.Stop()
		select {
		case <-p.exited:
		case <-t.C:
			killed = true
			_ = p.Kill()
		}
	})
	<-p.exited
	if killed {
		return fmt.Errorf("child %d did not exit within %s: killed", p.pid, grace)
	}
	return nil
}

// Kill ends the child at once (SIGKILL) and waits until it is gone.
func (p *Process) Kill() error {
	if err := p.runner.Kill(context.Background()); err != nil {
		return fmt.Errorf("kill child %d: %w", p.pid, err)
	}
	<-p.exited
	return nil
}

// pidEvents stamps the pid the parent knows onto every report.
type pidEvents struct {
	Events
	pid int
}

func (e pidEvents) ClientConnected(_ int, c ClientInfo) { e.Events.ClientConnected(e.pid, c) }
func (e pidEvents) ClientClosed(_ int, id string, code int, reason string) {
	e.Events.ClientClosed(e.pid, id, code, reason)
}
func (e pidEvents) ReaderProblem(_ int, stream, msg string) {
	e.Events.ReaderProblem(e.pid, stream, msg)
}

type discardEvents struct{}

func (discardEvents) ClientConnected(int, ClientInfo)       {}
func (discardEvents) ClientClosed(int, string, int, string) {}
func (discardEvents) ReaderProblem(int, string, string)     {}
