package child

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// terminateGrace bounds a child's own graceful stop on SIGTERM or when its parent vanished.
const terminateGrace = 5 * time.Second

// openSigTable maps the signature table the parent passed, if any. Without one (or if it cannot
// be mapped: logged) the child signs every frame itself.
func openSigTable(log *slog.Logger) *SigTable {
	v := os.Getenv(sigTableEnv)
	if v == "" {
		return nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		log.Error("signature table: bad fd; signing every frame here", "env", sigTableEnv, "value", v)
		return nil
	}
	f := os.NewFile(uintptr(fd), "signatures")
	defer f.Close() // the mapping stays
	t, err := mapSigTable(f)
	if err != nil {
		log.Error("signing every frame here", "err", err)
		return nil
	}
	return t
}

// handoffFD is the child's end of the handoff socketpair (cmd.ExtraFiles[0]).
const handoffFD = 3

// Server is what a child process runs: Control for its parent, and the process's own end.
type Server interface {
	Control
	// Stop closes every client with 1001 and why, stops, and returns once stopped: at most
	// about grace later. Calls after the first wait for the first.
	Stop(grace time.Duration, why string)
	// Done is closed once the server has stopped, by Shutdown or Stop.
	Done() <-chan struct{}
}

// Env is what a child's Server is given by Serve.
type Env struct {
	Log      *slog.Logger // the child's log: JSON lines on its stderr, which the parent re-logs
	Handoffs *Receiver    // connections the parent hands over
	Sigs     *SigTable    // shared with the other children; nil: sign every frame here
}

// Serve is the body of the hidden `distributor child` command: it starts the Server that newServer
// returns and serves it to the parent that spawned this process, until the parent shuts it down or
// vanishes (its stdin or the handoff socket reaching EOF, SIGTERM, or go-plugin's connection
// closing: each stops the server with terminateGrace).
func Serve(newServer func(Env) Server) error {
	if os.Getenv(handshake.MagicCookieKey) != handshake.MagicCookieValue {
		return errors.New("child: this command is run by the distributor's parent process (distributor start), not by hand")
	}
	// go-plugin redirects os.Stderr into an RPC stream once serving: log to the real stderr, which the
	// parent reads and re-logs.
	stderr := os.Stderr
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))

	f := os.NewFile(handoffFD, "handoff")
	fc, err := net.FileConn(f)
	_ = f.Close()
	if err != nil {
		return fmt.Errorf("child: handoff socket (fd %d): %w", handoffFD, err)
	}
	uc, ok := fc.(*net.UnixConn)
	if !ok {
		_ = fc.Close()
		return fmt.Errorf("child: fd %d is a %T, not a Unix socket", handoffFD, fc)
	}
	defer uc.Close()

	srv := newServer(Env{Log: log, Handoffs: newReceiver(uc), Sigs: openSigTable(log)})

	// The parent holds the write end of our stdin: EOF means it is gone (the kernel's Pdeathsig is the
	// first line of defence; this one also works where Pdeathsig does not exist).
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		select {
		case <-srv.Done(): // stopped already: the parent closed stdin as it should
		default:
			log.Warn("parent is gone; exiting", "why", "stdin closed")
			srv.Stop(terminateGrace, "parent gone")
		}
	}()

	// SIGTERM (a service manager stopping the whole group) is a graceful stop: clients get 1001.
	// SIGINT is ignored by go-plugin's Serve: the parent handles Ctrl-C and shuts its children down.
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	defer signal.Stop(term)
	go func() {
		select {
		case <-term:
			log.Info("SIGTERM: closing clients and exiting")
			srv.Stop(terminateGrace, "server terminated")
		case <-srv.Done():
		}
	}()

	served := make(chan struct{})
	go func() {
		defer close(served)
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: handshake,
			Plugins:         map[string]plugin.Plugin{pluginName: &controlPlugin{impl: srv}},
			Logger:          hclog.New(&hclog.LoggerOptions{Name: "go-plugin", Level: hclog.Warn, Output: stderr, JSONFormat: true}),
		})
	}()

	select {
	case <-srv.Done():
	case <-served: // the parent closed the plugin connection (go-plugin's Kill)
		srv.Stop(terminateGrace, "parent closed the connection")
	}
	log.Debug("child exiting")
	return nil
}
