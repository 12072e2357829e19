package queryapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/shardeum/distributor/queryapi"
)

// BenchmarkRoutes measures one request's server-side cost (body read, signature verification,
// queries, encoding, signing) through the real handler, rotating over 1000 distinct signed bodies
// for the same rows, as scripts/bench-rest.sh does over HTTP.
func BenchmarkRoutes(b *testing.B) {
	dir := copyArchive(b)
	walArchive(b, dir) // as the archiver runs them
	for _, mode := range []string{"cached", "uncached"} {
		e := newEnvDir(b, dir)
		if mode == "uncached" { // no whole-reply cache; the row cache stays
			e = newEnvDir(b, dir, func(o *queryapi.Options) { o.ResponseCacheBytes = -1 })
		}
		benchRoutes(b, e, mode)
	}
}

func benchRoutes(b *testing.B, e *env, mode string) {
	for _, bc := range []struct {
		name, path string
		params     map[string]any
	}{
		{"totalData", "/totalData", map[string]any{}},
		{"cycleinfo_count100", "/cycleinfo", map[string]any{"count": 100.0}},
		{"receipt_cycles3-30_page1", "/receipt", map[string]any{"startCycle": 3.0, "endCycle": 30.0, "page": 1.0}},
	} {
		bodies := make([][]byte, 1000)
		for i := range bodies {
			obj := map[string]any{"sender": e.client.Keys.PublicHex, "nonce": float64(i)}
			for k, v := range bc.params {
				obj[k] = v
			}
			var err error
			if bodies[i], err = e.client.SignObject(obj); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(mode+"/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			// CPU time of the process per request: on a shared, loaded machine wall time says little.
			before := cpuTime()
			defer func() { b.ReportMetric(float64(cpuTime()-before)/float64(b.N), "cpu-ns/op") }()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					req := httptest.NewRequest("POST", bc.path, bytes.NewReader(bodies[i%len(bodies)]))
					req.Header.Set("Content-Type", "application/json")
					req.RemoteAddr = "127.0.0.1:1"
					w := httptest.NewRecorder()
					e.api.ServeHTTP(w, req)
					if w.Code != http.StatusOK || (i == 0 && bytes.Contains(w.Body.Bytes(), []byte(`"success":false`))) {
						b.Fatalf("%d %.200s", w.Code, w.Body.Bytes())
					}
					i++
				}
			})
		})
	}
}

func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
