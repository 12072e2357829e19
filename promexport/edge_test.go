package promexport_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/shardeum/distributor/promexport"
)

// An edge's Snapshot carries the Redis streams its children read: distributor_source_lag_seconds
// has one series per stream. A node that reads files has none.
func TestSourceLag(t *testing.T) {
	var snap promexport.Snapshot
	e := promexport.New(promexport.Options{Snapshot: func() promexport.Snapshot { return snap }})
	if n, err := testutil.GatherAndCount(e.Gatherer(), "distributor_source_lag_seconds"); err != nil || n != 0 {
		t.Errorf("a files node has %d source-lag series (%v), want none", n, err)
	}
	snap.Sources = []promexport.Source{{Name: "cycle", LagSeconds: 1.5}, {Name: "receipt", LagSeconds: 0.25}}
	want := `
# HELP distributor_source_lag_seconds On an edge (FIREHOSE_SOURCE=redis): now minus the newest Redis stream entry read, by stream, for the child furthest behind.
# TYPE distributor_source_lag_seconds gauge
distributor_source_lag_seconds{stream="cycle"} 1.5
distributor_source_lag_seconds{stream="receipt"} 0.25
`
	if err := testutil.GatherAndCompare(e.Gatherer(), strings.NewReader(want), "distributor_source_lag_seconds"); err != nil {
		t.Error(err)
	}
}

// Handler serves a process's own families with process_* and go_*, in the format Prometheus asks
// for; a collector that does not register is an error.
func TestHandler(t *testing.T) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "distributor_test_gauge", Help: "A test gauge."})
	g.Set(3)
	h, err := promexport.Handler(g)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"distributor_test_gauge 3", "process_cpu_seconds_total", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %q:\n%.500s", want, body)
		}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	if _, err := promexport.Handler(g, g); err == nil {
		t.Error("Handler accepted the same collector twice")
	}
	srv.CloseClientConnections()
}
