package config_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shardeum/distributor/config"
)

// The well-known test keys of protocol/testdata/vectors.json.
const (
	distributorPub = "758b1c119412298802cd28dbfa394cdfeecc4074492d60844cc192d632d84de3"
	collectorPub   = "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737"
	strangerPub    = "a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0"
	strangerSec    = "2222222222222222222222222222222222222222222222222222222222222222" + strangerPub
)

// env is an environment for LoadOptions.Env.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

// writeFile writes a config file into dir and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// load runs Load in dir with the given environment and flags (no process environment).
func load(t *testing.T, o config.LoadOptions, e env) (*config.Config, error) {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if e == nil {
		e = env{}
	}
	o.Env = e.lookup
	return config.Load(o)
}

func mustLoad(t *testing.T, o config.LoadOptions, e env) *config.Config {
	t.Helper()
	c, err := load(t, o, e)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// wantError checks that err is a one-line *config.Error with exactly the message want.
func wantError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T %q is not a *config.Error", err, err)
	}
	got := err.Error()
	if strings.ContainsAny(got, "\r\n") {
		t.Errorf("error is not one line: %q", got)
	}
	if got != want {
		t.Errorf("error\n got: %s\nwant: %s", got, want)
	}
}

// records is a slog handler that keeps what is logged, for asserting on warnings.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Level.String()+" "+rec.Message)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }
func (r *records) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

func slogNew(h slog.Handler) *slog.Logger { return slog.New(h) }
