package harness

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartRedis runs a real redis-server that answers on its URL; Memory and StreamLengths read
// what was put in it; Stop ends the process cleanly and frees the port.
func TestRedisStartMeasureStop(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed (apt-get install redis-server)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := StartRedis(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			r.Stop()
		}
	}()
	o, err := redis.ParseURL(r.URL())
	if err != nil {
		t.Fatalf("URL %q: %v", r.URL(), err)
	}
	c := redis.NewClient(o)
	defer c.Close()
	for i := 0; i < 100; i++ {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"frame", "0123456789abcdef"}}).Err(); err != nil {
			t.Fatalf("XADD through %s: %v", r.URL(), err)
		}
	}
	n, err := r.StreamLengths(ctx, "s", "absent")
	if err != nil || n["s"] != 100 || n["absent"] != 0 {
		t.Errorf("StreamLengths = %v, %v; want s 100, absent 0", n, err)
	}
	m, err := r.Memory(ctx)
	if err != nil || m.Used <= 0 || m.Peak < m.Used || m.RSS <= 0 || m.Dataset <= 0 {
		t.Errorf("Memory = %+v, %v; want used, peak >= used, RSS and dataset", m, err)
	}
	if p, err := ReadProc(r.Pid()); err != nil || p.RSS <= 0 {
		t.Errorf("ReadProc(redis-server %d) = %+v, %v", r.Pid(), p, err)
	}
	if err := r.Stop(); err != nil {
		t.Errorf("Stop: %v; want a clean exit on SIGTERM", err)
	}
	stopped = true
	if conn, err := net.DialTimeout("tcp", r.Addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Stop", r.Addr)
	}
}

// StartIngress refuses to start without a Redis URL, saying so.
func TestStartIngressNeedsRedisURL(t *testing.T) {
	_, err := StartIngress(context.Background(), "/nonexistent/distributor", t.TempDir(), t.TempDir(), Options{})
	if err == nil || !strings.Contains(err.Error(), "RedisURL") {
		t.Fatalf("StartIngress without RedisURL: %v; want an error naming RedisURL", err)
	}
}
