package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/redisstream"
	"github.com/shardeum/distributor/redisstream/redistest"
)

// ingressProc is a running `distributor ingress` whose log lines a test can wait for.
type ingressProc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	addr string

	mu     sync.Mutex
	lines  []string
	change chan struct{} // closed and replaced when a line arrives or the process ends
	exited bool
	done   chan struct{}
}

func startIngressProc(t *testing.T, name string, env ...string) *ingressProc {
	t.Helper()
	cmd := runner{env: append([]string{"DISTRIBUTOR_IP=127.0.0.1", "DISTRIBUTOR_PORT=0"}, env...)}.
		command(t, "ingress", "--lease-ttl", "1s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ingress %s: %v", name, err)
	}
	p := &ingressProc{t: t, name: name, cmd: cmd, change: make(chan struct{}), done: make(chan struct{})}
	go p.scan(stderr)
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("ingress %s log:\n%s", name, strings.Join(p.all(), "\n"))
		}
	})
	line := p.waitFor("listening", 20*time.Second)
	_, a, _ := strings.Cut(line, "addr=")
	p.addr, _, _ = strings.Cut(a, " ")
	return p
}

func (p *ingressProc) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		close(p.change)
		p.change = make(chan struct{})
		p.mu.Unlock()
	}
	p.cmd.Wait()
	p.mu.Lock()
	p.exited = true
	close(p.change)
	p.mu.Unlock()
	close(p.done)
}

func (p *ingressProc) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// waitFor waits for the first log line containing s and returns it.
func (p *ingressProc) waitFor(s string, timeout time.Duration) string {
	p.t.Helper()
	return p.waitForNth(s, 1, timeout)
}

// waitForNth waits for the nth log line containing s.
func (p *ingressProc) waitForNth(s string, n int, timeout time.Duration) string {
	p.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		seen := 0
		for _, l := range p.lines {
			if strings.Contains(l, s) {
				if seen++; seen == n {
					p.mu.Unlock()
					return l
				}
			}
		}
		exited, change := p.exited, p.change
		p.mu.Unlock()
		if exited {
			p.t.Fatalf("ingress %s exited before logging %q (#%d):\n%s", p.name, s, n, strings.Join(p.all(), "\n"))
		}
		select {
		case <-change:
		case <-deadline.C:
			p.t.Fatalf("ingress %s did not log %q (#%d) within %v:\n%s", p.name, s, n, timeout, strings.Join(p.all(), "\n"))
		}
	}
}

func (p *ingressProc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("ingress %s: %v: %v", p.name, sig, err)
	}
}

func (p *ingressProc) status() redisstream.IngressStatus {
	p.t.Helper()
	resp, err := http.Get("http://" + p.addr + "/status")
	if err != nil {
		p.t.Fatalf("ingress %s /status: %v", p.name, err)
	}
	defer resp.Body.Close()
	var st redisstream.IngressStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		p.t.Fatalf("ingress %s /status: %v", p.name, err)
	}
	return st
}

// frameReader reads one stream through redisstream.Reader and checks every frame: signature,
// cursor, and the line numbers following each other.
type frameReader struct {
	t    *testing.T
	r    *redisstream.Reader
	hk   protocol.HashKey
	next int
}

func (fr *frameReader) read(k int) {
	fr.t.Helper()
	for range k {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		rec, err := fr.r.Next(ctx)
		cancel()
		if err != nil {
			fr.t.Fatalf("line %d: %v", fr.next, err)
		}
		if err := protocol.VerifyJSON(fr.hk, rec.Frame); err != nil {
			fr.t.Fatalf("line %d (%s): %v", fr.next, rec.ID, err)
		}
		var f struct {
			Cursor  string
			Receipt struct{ N int }
		}
		if err := json.Unmarshal(rec.Frame, &f); err != nil || f.Cursor != rec.Cursor || f.Receipt.N != fr.next {
			fr.t.Fatalf("entry %s: cursor %q (entry %q), line %d, want line %d (%v)", rec.ID, f.Cursor, rec.Cursor, f.Receipt.N, fr.next, err)
		}
		fr.next++
	}
}

// Two ingress processes: kill -9 of the active one, the standby takes over; SIGSTOP of that one
// until a third takes over, then SIGCONT: it appends nothing. Every line reaches the stream once,
// in order, signed.
func TestIngressProcessesStandbyAndFencing(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	env := []string{"REDIS_URL=" + srv.URL(), "DATA_LOG_DIR=" + dir}
	w, err := logwriter.NewWriter(dir, logreader.Receipt, 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n := 0
	write := func(k int) {
		for range k {
			if err := w.Append(fmt.Appendf(nil, `{"n":%d,"tx":"%064d"}`, n, n)); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := redisstream.Open(ctx, c, config.DefaultRedisStreamPrefix, logreader.Receipt, "", redisstream.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hk, _ := protocol.ParseHashKey(config.DefaultHashKey)
	fr := &frameReader{t: t, r: r, hk: hk}

	write(10)
	a := startIngressProc(t, "A", env...)
	fr.read(10) // A's reader is open: writing on, with rotations, cannot race its start
	b := startIngressProc(t, "B", env...)
	write(140)
	fr.read(140)
	if st := b.status(); st.Role != redisstream.RoleStandby || st.Lease.Held {
		t.Errorf("B while A publishes: role %s, lease held %v", st.Role, st.Lease.Held)
	}
	if st := a.status(); st.Role != redisstream.RoleActive || !st.Lease.Held || st.Streams[1].Stream != "receipt" {
		t.Errorf("A: %+v", st)
	}
	out := runner{}.run(t, "status", "--addr", a.addr)
	if out.code != 0 || !strings.Contains(out.stdout, "role active") || !strings.Contains(out.stdout, "distributor:receipt") {
		t.Errorf("distributor status of the ingress: %d %s %s", out.code, out.stdout, out.stderr)
	}

	killed := time.Now()
	a.signal(syscall.SIGKILL)
	write(150)
	took := b.waitFor("lease taken", 20*time.Second)
	if ts, _, ok := strings.Cut(strings.TrimPrefix(took, "time="), " "); ok {
		if at, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			t.Logf("standby took the lease %v after the kill (lease TTL 1 s)", at.Sub(killed).Round(time.Millisecond))
		}
	}
	fr.read(150)

	c3 := startIngressProc(t, "C", env...)
	stopped := time.Now()
	b.signal(syscall.SIGSTOP)
	write(100)
	took = c3.waitFor("lease taken", 20*time.Second)
	if ts, _, ok := strings.Cut(strings.TrimPrefix(took, "time="), " "); ok {
		if at, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			t.Logf("C took the lease %v after B was stopped", at.Sub(stopped).Round(time.Millisecond))
		}
	}
	fr.read(100)
	b.signal(syscall.SIGCONT)
	b.waitFor("lease lost", 20*time.Second)
	write(100)
	fr.read(100)
	if got, err := c.XLen(context.Background(), config.DefaultRedisStreamPrefix+"receipt").Result(); err != nil || got != int64(n) {
		t.Errorf("stream holds %d entries (%v), %d lines were written", got, err, n)
	}
	// Healthy: C publishes, B stands by.
	for _, p := range []*ingressProc{b, c3} {
		resp, err := http.Get("http://" + p.addr + "/is-healthy")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s /is-healthy: %s %s", p.name, resp.Status, body)
		}
	}
	// SIGTERM: C releases the lease and exits 0; B takes it again and continues.
	c3.signal(syscall.SIGTERM)
	<-c3.done
	if code := c3.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("ingress C exit status %d after SIGTERM", code)
	}
	b.waitForNth("lease taken", 2, 20*time.Second)
	write(50)
	fr.read(50)
}

// kill -9 of a lone ingress between appends, then a new one: it continues after the last entry,
// with no gap and no duplicate.
func TestIngressProcessKillRestart(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	env := []string{"REDIS_URL=" + srv.URL(), "DATA_LOG_DIR=" + dir}
	w, err := logwriter.NewWriter(dir, logreader.Receipt, 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n := 0
	write := func(k int) {
		for range k {
			if err := w.Append(fmt.Appendf(nil, `{"n":%d}`, n)); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := redisstream.Open(ctx, c, config.DefaultRedisStreamPrefix, logreader.Receipt, "", redisstream.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hk, _ := protocol.ParseHashKey(config.DefaultHashKey)
	fr := &frameReader{t: t, r: r, hk: hk}
	write(10)
	a := startIngressProc(t, "A", env...)
	fr.read(10) // A's reader is open: writing on, with rotations, cannot race its start
	write(290)
	fr.read(110)
	a.signal(syscall.SIGKILL) // likely mid-stream: lines read and signed, not all appended
	write(100)
	b := startIngressProc(t, "B", env...)
	b.waitFor("continuing after the stream's last entry", 20*time.Second)
	fr.read(280)
	if got, err := c.XLen(context.Background(), config.DefaultRedisStreamPrefix+"receipt").Result(); err != nil || got != int64(n) {
		t.Errorf("stream holds %d entries (%v), %d lines were written", got, err, n)
	}
}
