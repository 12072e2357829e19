package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"strings"
	"testing"
)

// A real runtime trace of a real net/http server whose handler has the query API's shape (read
// the body, yield, write the reply), driven over keep-alive connections, is cut into requests
// and every stage is accounted for.
func TestStagesOfARealTrace(t *testing.T) {
	const conns, perConn = 4, 50
	srv, addr := startServer(t)
	defer srv.Close()

	var tr bytes.Buffer
	if err := trace.Start(&tr); err != nil {
		t.Fatal(err)
	}
	drive(t, addr, conns, perConn)
	trace.Stop()

	file := filepath.Join(t.TempDir(), "trace.out")
	if err := os.WriteFile(file, tr.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	parsed, err := exec.Command("go", "tool", "trace", "-d=parsed", file).Output()
	if err != nil {
		t.Fatalf("go tool trace -d=parsed: %v", err)
	}
	byG, err := readTransitions(bytes.NewReader(parsed))
	if err != nil {
		t.Fatal(err)
	}
	var all []marks
	for _, ts := range byG {
		all = append(all, requests(ts)...)
	}
	// A stretch between two network waits is one request, or two when the next request was
	// already in the socket; the first and last of a connection are cut off.
	if len(all) < conns*perConn/2 || len(all) > conns*perConn {
		t.Fatalf("found %d requests in the trace, want between %d and %d", len(all), conns*perConn/2, conns*perConn)
	}
	for _, m := range all {
		for i := 1; i < len(m); i++ {
			if m[i] < m[i-1] {
				t.Fatalf("marks out of order: %v", m)
			}
		}
	}
	var out strings.Builder
	if err := run(bytes.NewReader(parsed), &out); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(stageNames, "server") {
		if !strings.Contains(out.String(), "\n"+name+" ") {
			t.Errorf("no %q row in:\n%s", name, out.String())
		}
	}
}

func TestNoRequestsIsAnError(t *testing.T) {
	err := run(strings.NewReader("M=1 P=0 G=1 StateTransition Time=5 GoID=1 Running->Waiting Reason=\"network\"\n"), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "go tool trace -d=parsed") {
		t.Fatalf("err = %v, want one saying what input is expected", err)
	}
}

func startServer(t *testing.T) (*http.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reply := bytes.Repeat([]byte("x"), 64<<10)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		runtime.Gosched() // the gate's yield
		w.Write(reply)
	})}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return srv, ln.Addr().String()
}

// drive posts perConn requests on each of conns keep-alive connections, concurrently.
func drive(t *testing.T, addr string, conns, perConn int) {
	t.Helper()
	tp := &http.Transport{MaxIdleConnsPerHost: conns}
	defer tp.CloseIdleConnections()
	client := &http.Client{Transport: tp}
	errs := make(chan error, conns)
	for c := 0; c < conns; c++ {
		go func() {
			for i := 0; i < perConn; i++ {
				resp, err := client.Post("http://"+addr+"/", "application/json", strings.NewReader(`{"n":1}`))
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			errs <- nil
		}()
	}
	for c := 0; c < conns; c++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
