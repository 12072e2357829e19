package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is one redis-server (Debian's package) on a free 127.0.0.1 port in its own directory
// under the harness's base, without persistence: what the ingress and the edges share.
type Redis struct {
	Dir  string
	Addr string // 127.0.0.1:port
	cmd  *exec.Cmd
	log  *os.File

	exited  chan struct{}
	waitErr error
	client  *redis.Client
}

// StartRedis starts redis-server (--save "" --appendonly no) and returns once it answers PING.
func StartRedis(ctx context.Context, base string) (*Redis, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is not installed (apt-get install redis-server): %w", err)
	}
	dir, err := os.MkdirTemp(base, "redis-")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	r := &Redis{Dir: dir, Addr: "127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{})}
	if r.log, err = os.Create(filepath.Join(dir, "redis.log")); err != nil {
		return nil, err
	}
	r.cmd = exec.Command(path, "--save", "", "--appendonly", "no", "--port", strconv.Itoa(port),
		"--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no", "--logfile", "")
	r.cmd.Dir = dir
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		r.log.Close()
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	go func() { r.waitErr = r.cmd.Wait(); close(r.exited) }()
	r.client = redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialTimeout: time.Second})
	if err := r.waitPing(ctx, 30*time.Second); err != nil {
		r.Stop()
		return nil, fmt.Errorf("redis-server on %s: %w; log:\n%s", r.Addr, err, r.LogTail(2000))
	}
	return r, nil
}

func (r *Redis) waitPing(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := r.client.Ping(pctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer to PING after %v: %w", limit, err)
		}
		select {
		case <-r.exited:
			return fmt.Errorf("exited before it answered PING: %v", r.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// URL is REDIS_URL for the ingress and the edges (db 0).
func (r *Redis) URL() string { return "redis://" + r.Addr + "/0" }

// Pid is the redis-server process's id.
func (r *Redis) Pid() int { return r.cmd.Process.Pid }

// Stop asks the server to exit (SIGTERM: without persistence it saves nothing) and waits up to
// 10 s, then kills it. It returns why the stop was not clean, if it was not.
func (r *Redis) Stop() error {
	defer r.log.Close()
	r.client.Close()
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
		return r.waitErr
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
		return errors.New("redis-server did not exit within 10 s of SIGTERM; killed")
	}
}

// LogTail returns the last n bytes of the server's log.
func (r *Redis) LogTail(n int64) string {
	b, _ := os.ReadFile(r.log.Name())
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return string(b)
}

// RedisMemory is the server's own account of its memory (INFO memory), in bytes.
type RedisMemory struct {
	Used    int64 // used_memory: what its allocator holds for data and buffers
	Peak    int64 // used_memory_peak
	RSS     int64 // used_memory_rss, as the server sees it
	Dataset int64 // used_memory_dataset: the data alone
}

// Memory reads INFO memory.
func (r *Redis) Memory(ctx context.Context) (RedisMemory, error) {
	var m RedisMemory
	info, err := r.client.Info(ctx, "memory").Result()
	if err != nil {
		return m, fmt.Errorf("redis INFO memory on %s: %w", r.Addr, err)
	}
	fields := map[string]*int64{"used_memory": &m.Used, "used_memory_peak": &m.Peak, "used_memory_rss": &m.RSS,
		"used_memory_dataset": &m.Dataset}
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if p := fields[k]; ok && p != nil {
			if *p, err = strconv.ParseInt(v, 10, 64); err != nil {
				return m, fmt.Errorf("redis INFO memory on %s: %s: %q is not a number", r.Addr, k, v)
			}
		}
	}
	if m.Used == 0 {
		return m, fmt.Errorf("redis INFO memory on %s: no used_memory in %.300q", r.Addr, info)
	}
	return m, nil
}

// StreamLengths is XLEN of each key (0 for a key that does not exist).
func (r *Redis) StreamLengths(ctx context.Context, keys ...string) (map[string]int64, error) {
	out := make(map[string]int64, len(keys))
	for _, k := range keys {
		n, err := r.client.XLen(ctx, k).Result()
		if err != nil {
			return out, fmt.Errorf("redis XLEN %s on %s: %w", k, r.Addr, err)
		}
		out[k] = n
	}
	return out, nil
}

// Client is a client of the server, for tests that put data in it; Stop closes it.
func (r *Redis) Client() *redis.Client { return r.client }
