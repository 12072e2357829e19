package parent_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/shardeum/distributor/protocol"
)

type reply struct {
	code   int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, url, contentType string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the reply: %v", method, url, err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

// signedBody is a collector's signed REST request body.
func signedBody(t testing.TB, hk protocol.HashKey, c collector, params map[string]any) []byte {
	t.Helper()
	obj := map[string]any{"sender": c.kp.PublicHex}
	for k, v := range params {
		obj[k] = v
	}
	b, err := protocol.Signer{HashKey: hk, Keys: c.kp}.SignObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// freePort is a port nothing listens on now, for a parent that must come back on the same one.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// An edge without an archive, with REST_FORWARD_URL naming a parent that has one, answers every
// REST route byte for byte as that parent does (signed requests, signed replies, errors, other
// methods and a query string included), keeps /status, /is-healthy and /metrics its own, and is
// healthy while the upstream answers. With the upstream down, forwarded requests get a 502 with a
// JSON reason and /is-healthy a 503 naming REST_FORWARD_URL; each change is logged once, and
// forwarding resumes when the upstream is back.
func TestRESTForwardedToArchiveNode(t *testing.T) {
	ue := newEnv(t, 5, false)
	ue.set("ARCHIVER_DB_DIR", testDBCopy(t))
	port := freePort(t)
	ue.set("DISTRIBUTOR_PORT", port)
	up := startParent(t, ue, runOpts{})

	ee := newEnv(t, 5, false) // ARCHIVER_DB_DIR names a directory that does not exist
	ee.set("REST_FORWARD_URL", "http://"+up.addr+"/")
	edge := startParent(t, ee, runOpts{})
	waitLog(t, edge, "no local archive; REST forwarded to REST_FORWARD_URL")

	c := newCollector(t)
	type request struct {
		method, path, contentType string
		body                      []byte
	}
	var reqs []request
	for _, q := range []struct {
		path   string
		params map[string]any
	}{
		{"/cycleinfo", map[string]any{"count": 3.0}},
		{"/receipt", map[string]any{"count": 2.0}},
		{"/originalTx", map[string]any{"count": 2.0}},
		{"/account", map[string]any{"count": 2.0}},
		{"/transaction", map[string]any{"count": 2.0}},
		{"/totalData", map[string]any{}},
		{"/cycleinfo", map[string]any{"start": 0.0, "end": 2.0}},
	} {
		reqs = append(reqs, request{"POST", q.path, "application/json", signedBody(t, ue.hashKey, c, q.params)})
	}
	reqs = append(reqs,
		request{"POST", "/receipt", "application/json", []byte(`{"count":1}`)},                                          // unsigned
		request{"POST", "/receipt?x=1", "application/json", signedBody(t, ue.hashKey, c, map[string]any{"count": 1.0})}, // a query string
		request{"GET", "/config", "", nil},
		request{"GET", "/no-such-route", "", nil},
		request{"OPTIONS", "/receipt", "", nil},
	)
	for _, rq := range reqs {
		want := do(t, rq.method, "http://"+up.addr+rq.path, rq.contentType, rq.body)
		got := do(t, rq.method, "http://"+edge.addr+rq.path, rq.contentType, rq.body)
		if got.code != want.code || !bytes.Equal(got.body, want.body) {
			t.Errorf("%s %s through the edge: %d %.200s\nthe upstream answers: %d %.200s", rq.method, rq.path, got.code, got.body, want.code, want.body)
		}
		if g, w := got.header.Get("Content-Type"), want.header.Get("Content-Type"); g != w {
			t.Errorf("%s %s: Content-Type %q through the edge, %q from the upstream", rq.method, rq.path, g, w)
		}
		if rq.method == "POST" && rq.path == "/receipt" && got.code == 200 {
			if err := protocol.VerifyJSON(ue.hashKey, got.body); err != nil {
				t.Errorf("POST /receipt through the edge: reply signature: %v", err)
			}
		}
	}
	// The replies are real answers, not errors that happen to match.
	if r := do(t, "POST", "http://"+edge.addr+"/totalData", "application/json", reqs[5].body); r.code != 200 || !bytes.Contains(r.body, []byte(`"totalCycles"`)) {
		t.Errorf("POST /totalData through the edge: %d %.300s", r.code, r.body)
	}

	// This node's own routes stay local.
	st := edge.status()
	if st.RESTForward != "http://"+up.addr || st.DB == "ok" || st.Pid == 0 {
		t.Errorf("edge /status: restForward %q db %q", st.RESTForward, st.DB)
	}
	if ust := up.status(); ust.RESTForward != "" || ust.DB != "ok" {
		t.Errorf("upstream /status: restForward %q db %q", ust.RESTForward, ust.DB)
	}
	expectGet(t, edge.addr, "/is-healthy", 200, "OK")
	expectGet(t, edge.addr, "/is-alive", 200, "OK")
	if code, body := get(t, edge.addr, "/metrics"); code != 200 || !strings.Contains(body, `"cycle"`) {
		t.Errorf("edge GET /metrics = %d %.200s, want its own JSON metrics", code, body)
	}

	// The upstream goes away.
	up.stop()
	for range 2 {
		r := do(t, "POST", "http://"+edge.addr+"/receipt", "application/json", reqs[1].body)
		var e struct {
			StatusCode int    `json:"statusCode"`
			Error      string `json:"error"`
			Message    string `json:"message"`
		}
		if r.code != 502 || json.Unmarshal(r.body, &e) != nil || e.StatusCode != 502 ||
			!strings.Contains(e.Message, "REST_FORWARD_URL http://"+up.addr) || !strings.Contains(e.Message, "refused") {
			t.Fatalf("POST /receipt with the upstream down: %d %s, want 502 with a JSON reason", r.code, r.body)
		}
		if r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("502 headers: %v", r.header)
		}
	}
	var h healthBody
	waitFor(t, "/is-healthy 503 with the upstream down", func() bool {
		code, body := get(t, edge.addr, "/is-healthy")
		return code == 503 && json.Unmarshal([]byte(body), &h) == nil
	})
	if !strings.Contains(h.Reason, "REST_FORWARD_URL http://"+up.addr) || strings.Contains(h.Reason, "archive DB unavailable") {
		t.Errorf("/is-healthy reason %q should name REST_FORWARD_URL", h.Reason)
	}
	if n := strings.Count(edge.logs.String(), "REST_FORWARD_URL failing"); n != 1 {
		t.Errorf("the upstream's failure was logged %d times, want once", n)
	}

	// It comes back on the same address: forwarding resumes, logged once.
	up2 := startParent(t, ue, runOpts{})
	if up2.addr != up.addr {
		t.Fatalf("upstream came back on %s, not %s", up2.addr, up.addr)
	}
	if r := do(t, "POST", "http://"+edge.addr+"/receipt", "application/json", reqs[1].body); r.code != 200 {
		t.Errorf("POST /receipt after the upstream came back: %d %.300s", r.code, r.body)
	}
	waitLog(t, edge, "REST_FORWARD_URL answers again")
	waitFor(t, "/is-healthy 200 with the upstream back", func() bool { code, _ := get(t, edge.addr, "/is-healthy"); return code == 200 })
}

// Without an archive and without REST_FORWARD_URL, data routes answer as before: a 500 that says
// the archive is unavailable, and /status names no forward. A REST_FORWARD_URL added by a reload
// (SIGUSR1) takes effect: the next request is forwarded.
func TestRESTNoArchiveThenForwardByReload(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{})
	waitLog(t, r, "no local archive and no REST_FORWARD_URL")
	body := signedBody(t, e.hashKey, newCollector(t), map[string]any{"count": 1.0})
	got := do(t, "POST", "http://"+r.addr+"/receipt", "application/json", body)
	if got.code != 500 || !bytes.Contains(got.body, []byte("archive DB unavailable")) {
		t.Errorf("POST /receipt without archive or forward: %d %s", got.code, got.body)
	}
	if st := r.status(); st.RESTForward != "" || st.Source != "files" {
		t.Errorf("/status: restForward %q source %q", st.RESTForward, st.Source)
	}

	ue := newEnv(t, 5, false)
	ue.set("ARCHIVER_DB_DIR", testDBCopy(t))
	up := startParent(t, ue, runOpts{})
	e.set("REST_FORWARD_URL", "http://"+up.addr)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitLog(t, r, "SIGUSR1: configuration reloaded")
	want := do(t, "POST", "http://"+up.addr+"/receipt", "application/json", body)
	got = do(t, "POST", "http://"+r.addr+"/receipt", "application/json", body)
	if want.code != 200 || got.code != 200 || !bytes.Equal(got.body, want.body) {
		t.Errorf("POST /receipt after the reload: %d %.200s\nthe upstream answers %d %.200s", got.code, got.body, want.code, want.body)
	}
	waitLog(t, r, "no local archive; REST forwarded to REST_FORWARD_URL")
}
