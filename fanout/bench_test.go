package fanout_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shardeum/distributor/child"
)

// BenchmarkFanout measures a real child end to end: b.N receipt lines (about 1 KiB each) appended
// to the data log, each signed once and written to every one of n WebSocket clients on 127.0.0.1.
// One op is one line delivered to all clients; frames/s counts frames received in total.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

// counter counts frames received by all clients and lets the writer wait for them.
type counter struct {
	mu   sync.Mutex
	cond *sync.Cond
	n    int
}

func (c *counter) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	c.cond.Broadcast()
}

func (c *counter) waitFor(n int) {
	c.mu.Lock()
	for c.n < n {
		c.cond.Wait()
	}
	c.mu.Unlock()
}

func benchFanout(b *testing.B, n int) {
	l := newLogs(b, 1000, 10)
	l.pad = strings.Repeat("b", 1000)
	cfg := testConfig(b, l.dir, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := child.Spawn(ctx, child.SpawnOptions{Executable: childBin, Config: cfg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.Kill() }()
	fp := newFakeParent(b)
	cnt := &counter{}
	cnt.cond = sync.NewCond(&cnt.mu)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		ws, err := dialVia(b, fp, p, child.Handoff{ClientID: fmt.Sprint("c", i), Key: fmt.Sprint("k", i)})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, _, err := ws.Read(context.Background()); err != nil {
					return
				}
				cnt.add()
			}
		}()
		defer ws.CloseNow()
	}
	w0 := writeSyscalls(p.Pid())
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		l.append("receipt", 1)
		if i%1000 == 0 && i > 2000 { // stay within the writer's ten files and the clients' queues
			cnt.waitFor(n * (i - 2000))
		}
	}
	cnt.waitFor(n * b.N)
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "frames/s")
	if w0 >= 0 {
		// write(2) calls the child made per frame delivered (socket writes, and its log and RPC writes).
		b.ReportMetric(float64(writeSyscalls(p.Pid())-w0)/float64(n*b.N), "writes/frame")
	}
	_ = p.Kill()
	wg.Wait()
}

// writeSyscalls is the number of write system calls process pid made so far (syscw in
// /proc/<pid>/io), or -1 where that is not available.
func writeSyscalls(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
