package promexport_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/shardeum/distributor/promexport"
)

// Prometheus's Accept headers ask for the exposition; browsers, curl and JSON clients do not.
func TestWants(t *testing.T) {
	for _, c := range []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{"*/*"}, false},
		{[]string{"application/json"}, false},
		{[]string{"text/plain"}, false},
		{[]string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, false},
		{[]string{"text/plain;version=0.0.4"}, true},
		{[]string{"text/plain; version=0.0.4; q=1, */*; q=0.1"}, true},
		{[]string{"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"}, true},
		{[]string{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7"}, true},
		{[]string{"application/vnd.google.protobuf"}, false},
		{[]string{"text/plain;version=0.0.4;q=0"}, false},
		{[]string{"application/json", "text/plain;version=0.0.4"}, true},
	} {
		r, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
		for _, a := range c.accept {
			r.Header.Add("Accept", a)
		}
		if got := promexport.Wants(r); got != c.want {
			t.Errorf("Wants(Accept %q) = %v, want %v", c.accept, got, c.want)
		}
	}
}

// Instrument counts each request under its route and code, and a reply written through
// io.ReaderFrom (queryapi's writev path) still reaches the client whole.
func TestInstrument(t *testing.T) {
	e := promexport.New(promexport.Options{})
	body := strings.Repeat("x", 100<<10)
	h := e.Instrument(func(r *http.Request) string { return r.URL.Path }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/parts":
			rf, ok := w.(io.ReaderFrom)
			if !ok {
				t.Error("the instrumented writer hides io.ReaderFrom")
				return
			}
			bufs := net.Buffers{[]byte(body[:50<<10]), []byte(body[50<<10:])}
			_, _ = rf.ReadFrom(&bufs)
		case "/missing":
			http.NotFound(w, r)
		default: // writes nothing: 200
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (int, []byte) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, b := get("/parts"); code != 200 || !bytes.Equal(b, []byte(body)) {
		t.Errorf("/parts = %d, %d bytes, want 200 and %d bytes", code, len(b), len(body))
	}
	get("/missing")
	get("/missing")
	get("/empty")
	want := `
# HELP distributor_http_requests_total HTTP requests answered (WebSocket upgrades excluded), by route and status code.
# TYPE distributor_http_requests_total counter
distributor_http_requests_total{code="200",route="/empty"} 1
distributor_http_requests_total{code="200",route="/parts"} 1
distributor_http_requests_total{code="404",route="/missing"} 2
`
	if err := testutil.GatherAndCompare(e.Gatherer(), strings.NewReader(want), "distributor_http_requests_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(e.Gatherer(), "distributor_http_request_duration_seconds"); err != nil || n != 3 {
		t.Errorf("%d duration series (%v), want 3 (one per route)", n, err)
	}
	srv.CloseClientConnections()
}

// The middleware's cost per request (a handler that only writes its status, into a recorder).
func BenchmarkInstrument(b *testing.B) {
	e := promexport.New(promexport.Options{})
	h := e.Instrument(func(r *http.Request) string { return "/receipt" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	r := httptest.NewRequest(http.MethodPost, "/receipt", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
