package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shardeum/distributor/config"
)

// RepoRoot is the directory of the module's go.mod (the harness runs from anywhere inside it).
func RepoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the distributor module (go env GOMOD is empty)")
	}
	return filepath.Dir(mod), nil
}

// Build compiles the distributor into dir and returns its path.
func Build(root, dir string) (string, error) {
	bin := filepath.Join(dir, "distributor")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// FreePort asks the kernel for a free port on 127.0.0.1 (closed again before the distributor binds
// it; the window is tiny on a quiet machine).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Options is what differs between scenarios in the distributor's configuration.
type Options struct {
	MaxClientsPerChild int // 0 = the distributor's default
	ClientQueueFrames  int // 0 = default
	// ClientStallTimeoutMS closes a client that takes no bytes this long (1008); 0 = default.
	ClientStallTimeoutMS int
	Verbose              bool
	// FirehoseSource "redis" makes `distributor start` an edge whose children read the Redis
	// streams at RedisURL instead of the data logs; "" keeps the default (files).
	FirehoseSource string
	// RedisURL is REDIS_URL: the streams an edge reads, or where StartIngress publishes.
	RedisURL string
}

// Distributor is one running `distributor start` in its own temporary directory.
type Distributor struct {
	bin     string
	Dir     string // temp dir: config, data logs, logs
	DataLog string // DATA_LOG_DIR
	Addr    string // 127.0.0.1:port
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	logFile *os.File
}

// Start writes a config into a new temporary directory under base and starts the
// distributor there, returning once GET /is-alive answers 200.
func Start(ctx context.Context, bin, root, base string, o Options) (*Distributor, error) {
	return launch(ctx, bin, root, base, "start", o)
}

// StartIngress starts `distributor ingress` like Start (its own directory, config and port):
// it follows its DataLog, where the load is to be written, and publishes into the Redis streams
// at o.RedisURL; Addr serves its /status. It returns once GET /is-alive answers 200 (see
// WaitActive for when it publishes).
func StartIngress(ctx context.Context, bin, root, base string, o Options) (*Distributor, error) {
	if o.RedisURL == "" {
		return nil, errors.New("harness: StartIngress needs Options.RedisURL")
	}
	return launch(ctx, bin, root, base, "ingress", o)
}

// launch runs `bin command --config` on a config written from o into a new directory under base.
func launch(ctx context.Context, bin, root, base, command string, o Options) (*Distributor, error) {
	dir, err := os.MkdirTemp(base, command+"-")
	if err != nil {
		return nil, err
	}
	d := &Distributor{bin: bin, Dir: dir, DataLog: filepath.Join(dir, "data-logs"), exited: make(chan struct{})}
	if err := os.MkdirAll(d.DataLog, 0o755); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	d.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	b, _ := json.MarshalIndent(configFor(o, root, d.DataLog, port), "", "  ")
	cfgPath := filepath.Join(dir, "distributor-config.json")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		return nil, err
	}
	if d.logFile, err = os.Create(filepath.Join(dir, "distributor.log")); err != nil {
		return nil, err
	}
	warmPageCache(bin)
	d.cmd = exec.Command(bin, command, "--config", cfgPath)
	d.cmd.Dir = dir
	d.cmd.Env = CleanEnv()
	d.cmd.Stdout, d.cmd.Stderr = d.logFile, d.logFile
	if err := d.cmd.Start(); err != nil {
		d.logFile.Close()
		return nil, fmt.Errorf("start distributor %s: %w", command, err)
	}
	go func() { d.waitErr = d.cmd.Wait(); close(d.exited) }()
	if err := d.waitAlive(ctx, 30*time.Second); err != nil {
		d.Stop()
		return nil, fmt.Errorf("distributor %s: %w; log:\n%s", command, err, d.LogTail(2000))
	}
	return d, nil
}

// configFor is the configuration file's content for o.
func configFor(o Options, root, dataLog string, port int) map[string]any {
	cfg := map[string]any{
		"DISTRIBUTOR_IP":   "127.0.0.1",
		"DISTRIBUTOR_PORT": port,
		"ARCHIVER_DB_DIR":  filepath.Join(root, "testdata", "archiver-db"),
		"DATA_LOG_DIR":     dataLog,
		"VERBOSE":          o.Verbose,
	}
	if o.MaxClientsPerChild > 0 {
		cfg[config.KeyMaxClientsPerChild] = o.MaxClientsPerChild
	}
	if o.ClientQueueFrames > 0 {
		cfg[config.KeyClientQueueFrames] = o.ClientQueueFrames
	}
	if o.ClientStallTimeoutMS > 0 {
		cfg[config.KeyClientStallTimeoutMS] = o.ClientStallTimeoutMS
	}
	if o.FirehoseSource != "" {
		cfg[config.KeyFirehoseSource] = o.FirehoseSource
	}
	if o.RedisURL != "" {
		cfg[config.KeyRedisURL] = o.RedisURL
	}
	return cfg
}

// CleanEnv is the harness's environment without any configuration key, so the temp config file
// is what the distributor runs with.
func CleanEnv() []string {
	keys := map[string]bool{}
	for _, k := range config.Keys {
		keys[k.Name] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !keys[name] {
			env = append(env, kv)
		}
	}
	return env
}

// Pid is the parent process's id.
func (d *Distributor) Pid() int { return d.cmd.Process.Pid }

func (d *Distributor) waitAlive(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	url := "http://" + d.Addr + "/is-alive"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.exited:
			return fmt.Errorf("distributor exited before it was alive: %v", d.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("distributor not alive on %s after %v", d.Addr, limit)
		}
	}
}

// Stop sends SIGTERM and waits up to 10 s for a graceful exit, then kills. It returns the exit
// error of an unclean stop.
func (d *Distributor) Stop() error {
	defer d.logFile.Close()
	if d.cmd.Process == nil {
		return nil
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
		return d.waitErr
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
		return errors.New("distributor did not exit within 10 s of SIGTERM; killed")
	}
}

// Children lists the parent's child processes now.
func (d *Distributor) Children() []int { return ChildrenOf(d.Pid()) }

// LogTail returns the last n bytes of the distributor's output.
func (d *Distributor) LogTail(n int64) string {
	b, _ := os.ReadFile(d.logFile.Name())
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return string(b)
}

// Replay is a running `distributor replay --generate` writing into the data-log directory.
type Replay struct {
	cmd     *exec.Cmd
	Started time.Time // when the process was started
	exited  chan struct{}
	err     error
	mu      sync.Mutex
	output  strings.Builder
}

// ReplayArgs is the load generator's command line: count receipts at rate per second (0 = as
// fast as possible), rotating every maxEntries, maxFiles files before wrapping.
func ReplayArgs(dataLog string, count, rate, maxEntries, maxFiles int) []string {
	return []string{"replay", "--generate", fmt.Sprint(count), "--streams", "receipt", "--dir", dataLog,
		"--rate", fmt.Sprint(rate), "--max-entries", fmt.Sprint(maxEntries), "--max-files", fmt.Sprint(maxFiles), "--quiet"}
}

// StartReplay runs bin with args (see ReplayArgs) in the background; its output is kept for errors.
func StartReplay(bin string, args []string) (*Replay, error) {
	r := &Replay{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	r.cmd.Env = CleanEnv()
	pr, pw := io.Pipe()
	r.cmd.Stdout, r.cmd.Stderr = pw, pw
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			r.mu.Lock()
			if r.output.Len() < 64<<10 {
				r.output.WriteString(sc.Text() + "\n")
			}
			r.mu.Unlock()
		}
	}()
	r.Started = time.Now()
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start replay: %w", err)
	}
	go func() { r.err = r.cmd.Wait(); pw.Close(); close(r.exited) }()
	return r, nil
}

// Stop ends the replay if it still runs and waits for it.
func (r *Replay) Stop() {
	select {
	case <-r.exited:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
}

// Err is the replay's exit error, once it exited (after Stop or Exited).
func (r *Replay) Err() error {
	select {
	case <-r.exited:
		return r.err
	default:
		return nil
	}
}

// Exited is closed when the replay process has exited.
func (r *Replay) Exited() <-chan struct{} { return r.exited }

// Output is the start of what the replay printed (stdout and stderr, up to 64 KiB).
func (r *Replay) Output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.output.String()
}

// warmPageCache reads bin once, so that every binary starts a run with all its pages in the page
// cache. A process's RSS counts the pages of its binary it maps, and on a fault the kernel maps the
// neighbours already cached with the one asked for (fault-around, 64 KiB): a binary whose pages
// were reclaimed since it was built (this machine's kdamond pages out cold memory) showed tens of
// MB less in scenario D than the same binary freshly built, which made old-against-new comparisons
// depend on the binaries' ages.
func warmPageCache(bin string) {
	f, err := os.Open(bin)
	if err != nil {
		return // exec reports it
	}
	defer f.Close()
	_, _ = io.Copy(io.Discard, f)
}
