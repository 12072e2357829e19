package promexport

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// Instrument counts and times every request h answers, under the route label routeOf gives it
// (keep the set small and fixed: one series per route and code). The time runs from the call to
// the return of h, which has written the reply by then.
func (e *Exporter) Instrument(routeOf func(*http.Request) string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := recorders.Get().(*recorder)
		rec.w, rec.code = w, 0
		defer func() {
			code := rec.code
			if code == 0 {
				code = http.StatusOK // nothing written: net/http answers 200
			}
			rec.w = nil
			recorders.Put(rec)
			e.ObserveRequest(routeOf(r), code, time.Since(start))
		}()
		h.ServeHTTP(rec, r)
	})
}

var recorders = sync.Pool{New: func() any { return new(recorder) }}

// recorder notes the status code. It passes ReadFrom through, so a reply written in pieces
// (queryapi's writev path) still goes out in one system call, and Flush; Unwrap gives
// http.ResponseController the rest.
type recorder struct {
	w    http.ResponseWriter
	code int
}

func (r *recorder) Header() http.Header { return r.w.Header() }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 && code >= 200 {
		r.code = code
	}
	r.w.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.w.Write(b)
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if rf, ok := r.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(r.w, src)
}

func (r *recorder) Flush() {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if f, ok := r.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.w }
