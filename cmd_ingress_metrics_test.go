package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
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

// A running `distributor ingress` serves Prometheus's exposition on /metrics: what it published by
// stream, its lease and role, Redis's reachability, and the process_* and go_* families. A standby
// shows the lease not held.
func TestIngressMetrics(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	env := []string{"REDIS_URL=" + srv.URL(), "DATA_LOG_DIR=" + dir}
	w, err := logwriter.NewWriter(dir, logreader.Receipt, 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for n := range 25 {
		if err := w.Append(fmt.Appendf(nil, `{"n":%d}`, n)); err != nil {
			t.Fatal(err)
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

	a := startIngressProc(t, "A", env...)
	fr.read(25) // all 25 are in Redis
	b := startIngressProc(t, "B", env...)

	scrape := func(p *ingressProc) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+"/metrics", nil)
		req.Header.Set("Accept", "text/plain;version=0.0.4")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("ingress %s /metrics: %v", p.name, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Fatalf("ingress %s /metrics: %s %s %.300s", p.name, resp.Status, resp.Header.Get("Content-Type"), body)
		}
		return string(body)
	}
	body := scrape(a)
	for _, want := range []string{
		`distributor_ingress_published_total{stream="receipt"} 25`,
		`distributor_ingress_published_total{stream="cycle"} 0`,
		`distributor_ingress_pending{stream="receipt"}`,
		`distributor_ingress_lag_seconds{stream="receipt"}`,
		"distributor_ingress_lease_held 1",
		`distributor_ingress_role{role="active"} 1`,
		`distributor_ingress_role{role="standby"} 0`,
		"distributor_ingress_redis_up 1",
		"process_cpu_seconds_total", "go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("active ingress /metrics lacks %q:\n%s", want, body)
		}
	}
	body = scrape(b)
	for _, want := range []string{"distributor_ingress_lease_held 0", `distributor_ingress_role{role="standby"} 1`,
		`distributor_ingress_published_total{stream="receipt"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("standby ingress /metrics lacks %q:\n%s", want, body)
		}
	}
	// The other routes are the ingress's own, as before.
	if st := a.status(); st.Kind != "ingress" {
		t.Errorf("/status kind %q", st.Kind)
	}
}
