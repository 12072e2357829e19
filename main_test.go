package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardeum/distributor/config"
)

// binary is the distributor built once for the CLI tests, which run it for real.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "distributor-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "distributor")
	build := exec.Command("go", "build", "-o", binary, "-ldflags", "-X main.version=9.8.7-test", ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one finished run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// runner describes a run: the working directory (a fresh one when ""), extra environment and stdin.
type runner struct {
	dir   string
	env   []string
	stdin string
}

// run executes the binary with a clean configuration environment and waits for it.
func (c runner) run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := c.command(t, args...)
	cmd.Stdin = strings.NewReader(c.stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{code, out.String(), errb.String()}
}

func (c runner) command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	dir := c.dir
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), c.env...)
	return cmd
}

// cleanEnv is the test process's environment without any configuration key.
func cleanEnv() []string {
	keys := map[string]bool{}
	for _, k := range config.Keys {
		keys[k.Name] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !keys[name] {
			out = append(out, kv)
		}
	}
	return out
}

// wantOneLineError checks a failed run: the status, and a single clean line on stderr.
func wantOneLineError(t *testing.T, r result, code int, want string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr is not exactly one line: %q", r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
		t.Errorf("stderr has a stack trace: %q", r.stderr)
	}
	if got := strings.TrimSuffix(r.stderr, "\n"); got != want {
		t.Errorf("stderr\n got: %s\nwant: %s", got, want)
	}
}

func writeConfig(t *testing.T, dir, name, body string) string {
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
