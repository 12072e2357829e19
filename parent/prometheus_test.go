package parent_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/shardeum/distributor/parent"
)

// Accept headers: Prometheus 2's classic one, and Prometheus 3's default scrape_protocols.
const (
	acceptText  = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
	acceptProm3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5," +
		"application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3," +
		"text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
)

// families every exposition must carry (issue 18).
var wantFamilies = []string{
	"distributor_subscribers", "distributor_children", "distributor_frames_sent_total",
	"distributor_bytes_sent_total", "distributor_lines_read_total", "distributor_reader_lag_seconds",
	"distributor_clients_closed_total", "distributor_handshakes_total", "distributor_http_requests_total",
	"distributor_http_request_duration_seconds",
	"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
	"go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds",
}

// scrape GETs /metrics with accept and decodes the exposition in the format the reply names.
func scrape(t testing.TB, addr, accept string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics (Accept %s) = %d %s", accept, resp.StatusCode, b)
	}
	format := expfmt.ResponseFormat(resp.Header)
	if format.FormatType() == expfmt.TypeUnknown {
		t.Fatalf("GET /metrics (Accept %s): Content-Type %q is no Prometheus format", accept, resp.Header.Get("Content-Type"))
	}
	dec := expfmt.NewDecoder(resp.Body, format)
	out := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decoding the exposition (%s): %v", format, err)
		}
		// OpenMetrics names a counter's family without _total.
		name := mf.GetName()
		if mf.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total") {
			name += "_total"
		}
		out[name] = mf
	}
}

// getAccept GETs /metrics with an Accept header.
func getAccept(t testing.TB, addr, accept string) (code int, contentType, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// value is the sample of mf whose labels include want (a counter, gauge or untyped).
func value(t testing.TB, fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	mf := fams[name]
	if mf == nil {
		t.Fatalf("no family %s", name)
	}
next:
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	t.Fatalf("family %s has no sample with labels %v", name, want)
	return 0
}

func sum(t testing.TB, fams map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	mf := fams[name]
	if mf == nil {
		t.Fatalf("no family %s", name)
	}
	var s float64
	for _, m := range mf.GetMetric() {
		s += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return s
}

// After 1,000 receipts reach 3 subscribers (in 2 children), Prometheus's Accept header gets an
// exposition with every family, >= 3,000 frames sent and >= 1,000 receipt lines read; a plain GET
// still gets the reference's JSON. Then the counters do not go backwards when a child exits.
func TestPrometheusMetrics(t *testing.T) {
	e := newEnv(t, 2, false)
	r := startParent(t, e, runOpts{})
	ws := []*wsClient{r.dial(newCollector(t)), r.dial(newCollector(t)), r.dial(newCollector(t))}
	st := r.waitStatus("3 clients in 2 children", func(st parent.Status) bool { return st.Clients == 3 && len(st.Children) == 2 })
	if code, _ := rawRequest(t, r.addr, upgradeRequest("/?data=%7B%7D")); code != 401 {
		t.Fatalf("unsigned handshake: %d, want 401", code)
	}
	e.feedUntil(t, "receipt", ws...) // every client is subscribed from here on

	const n = 1000
	var batch strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&batch, `{"metricsTest":%d}`+"\n", i)
	}
	e.appendLine("receipt", strings.TrimSuffix(batch.String(), "\n"))
	for i, w := range ws {
		got := 0
		deadline := time.After(60 * time.Second)
		for got < n {
			select {
			case f := <-w.msgs:
				if strings.Contains(string(f), `metricsTest`) {
					got++
				}
			case <-w.done:
				t.Fatalf("client %d closed after %d of %d frames: %v", i, got, n, w.err)
			case <-deadline:
				t.Fatalf("client %d got %d of %d frames within 60 s", i, got, n)
			}
		}
	}

	fams := scrape(t, r.addr, acceptText)
	for _, name := range wantFamilies {
		if fams[name] == nil {
			t.Errorf("exposition lacks %s", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	frames := value(t, fams, "distributor_frames_sent_total")
	if frames < 3*n {
		t.Errorf("distributor_frames_sent_total = %v, want >= %d", frames, 3*n)
	}
	if v := value(t, fams, "distributor_lines_read_total", "stream", "receipt"); v < n {
		t.Errorf(`distributor_lines_read_total{stream="receipt"} = %v, want >= %d`, v, n)
	}
	if v := value(t, fams, "distributor_reader_lag_seconds", "stream", "receipt"); v < 0 {
		t.Errorf(`distributor_reader_lag_seconds{stream="receipt"} = %v, want >= 0`, v)
	}
	if v := sum(t, fams, "distributor_subscribers"); v != 3 {
		t.Errorf("distributor_subscribers sums to %v over its states, want 3", v)
	}
	for _, state := range []string{"live", "lagging", "stalled"} {
		value(t, fams, "distributor_subscribers", "state", state)
	}
	if v := value(t, fams, "distributor_children"); v != float64(len(st.Children)) {
		t.Errorf("distributor_children = %v, want %d", v, len(st.Children))
	}
	if v := value(t, fams, "distributor_handshakes_total", "result", "accepted"); v != 3 {
		t.Errorf(`distributor_handshakes_total{result="accepted"} = %v, want 3`, v)
	}
	if v := value(t, fams, "distributor_handshakes_total", "result", "unauthorized"); v != 1 {
		t.Errorf(`distributor_handshakes_total{result="unauthorized"} = %v, want 1`, v)
	}
	if v := value(t, fams, "distributor_http_requests_total", "route", "/status", "code", "200"); v < 1 {
		t.Errorf(`distributor_http_requests_total{route="/status",code="200"} = %v, want >= 1`, v)
	}
	if h := fams["distributor_http_request_duration_seconds"]; h.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("distributor_http_request_duration_seconds is a %v, want a histogram", h.GetType())
	}
	value(t, fams, "distributor_clients_closed_total", "code", "1001") // exposed before any close

	// Prometheus 3's negotiation gets OpenMetrics, with the same families. (Its text is not
	// decoded here: expfmt's strict OpenMetrics parser refuses the Go collector's
	// go_memstats_alloc_bytes gauge beside the go_memstats_alloc_bytes_total counter, which
	// OpenMetrics names alike; Prometheus itself takes it.)
	code, ct, om := getAccept(t, r.addr, acceptProm3)
	if code != 200 || !strings.HasPrefix(ct, "application/openmetrics-text") || !strings.HasSuffix(om, "# EOF\n") {
		t.Errorf("GET /metrics (Prometheus 3) = %d %q, want 200 OpenMetrics ending in # EOF", code, ct)
	}
	for _, name := range wantFamilies {
		if !strings.Contains(om, "# TYPE "+strings.TrimSuffix(name, "_total")+" ") {
			t.Errorf("OpenMetrics exposition lacks %s", name)
		}
	}

	// A plain GET, and one asking for JSON, get the reference's JSON.
	if m := metrics(t, r.addr); m["receipt"].Count < n {
		t.Errorf("plain GET /metrics: receipt %+v, want a count >= %d", m["receipt"], n)
	}
	if code, ct, body := getAccept(t, r.addr, "application/json"); code != 200 || !strings.HasPrefix(ct, "application/json") ||
		!strings.Contains(body, `"receipt":{"count":`) {
		t.Errorf("GET /metrics Accept: application/json = %d %s %s, want the JSON", code, ct, body)
	}

	// The first child's two clients leave: it exits, and the sums do not go backwards.
	first := st.Children[0]
	for _, w := range ws {
		for _, c := range first.Clients {
			if c.Key == w.key {
				w.close()
			}
		}
	}
	r.waitStatus("1 child left", childCount(1))
	waitGone(t, []int{first.Pid}, 10*time.Second)
	after := scrape(t, r.addr, acceptText)
	if v := value(t, after, "distributor_frames_sent_total"); v < frames {
		t.Errorf("distributor_frames_sent_total went from %v to %v when a child exited", frames, v)
	}
	if v := value(t, after, "distributor_lines_read_total", "stream", "receipt"); v < n {
		t.Errorf(`distributor_lines_read_total{stream="receipt"} = %v after a child exited, want >= %d`, v, n)
	}
	if v := value(t, after, "distributor_children"); v != 1 {
		t.Errorf("distributor_children = %v, want 1", v)
	}
	if v := sum(t, after, "distributor_clients_closed_total"); v != 2 {
		t.Errorf("distributor_clients_closed_total sums to %v, want 2 (the two clients that left)", v)
	}
}
