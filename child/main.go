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
func openSigTable(log *slog.Logger) *sigTable {
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

// Main is the body of the hidden `distributor child` command: it serves Control to the parent that
// spawned it and returns when the parent shuts it down or vanishes.
func Main() error {
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

	srv := newServer(log, newHandoffReceiver(uc))
	srv.sigs = openSigTable(log)

	// The parent holds the write end of our stdin: EOF means it is gone (the kernel's Pdeathsig is the
	// first line of defence; this one also works where Pdeathsig does not exist).
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		srv.parentGone("stdin closed")
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
			srv.stop(terminateGrace, "server terminated")
		case <-srv.done:
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
	case <-srv.done:
	case <-served: // the parent closed the plugin connection (go-plugin's Kill)
		srv.stop(terminateGrace, "parent closed the connection")
	}
	log.Debug("child exiting")
	return nil
}
