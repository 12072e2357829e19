package parent_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/parent"
	"github.com/shardeum/distributor/protocol"
)

// Forged, garbled and oversized handshakes get 401 (or 431/400 for what is not a
// handshake at all) and a closed socket, never a hang; no child is spawned for them;
// after 1,000 garbage handshakes in a row the parent still serves.
func TestBadHandshakesRefused(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{})
	c := newCollector(t)
	good := c.handshake(t, e.hashKey, time.Now())

	// Forged: signed by one key, claiming another sender.
	mallory := newCollector(t)
	forged, err := protocol.Signer{HashKey: e.hashKey, Keys: mallory.kp}.SignObject(map[string]any{
		"collectorInfo": map[string]any{"subscriptionType": "FIREHOSE", "timestamp": float64(time.Now().UnixMilli())},
		"sender":        c.kp.PublicHex,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Tampered: a valid signature over different content.
	tampered := strings.Replace(string(good), `"FIREHOSE"`, `"ACCOUNTS"`, 1)
	// Signed with another hash key.
	otherKey, _ := protocol.ParseHashKey(strings.Repeat("11", 32))
	wrongHash := c.handshake(t, otherKey, time.Now())

	cases := map[string]string{
		"forged owner":     "/?data=" + url.QueryEscape(string(forged)),
		"tampered":         "/?data=" + url.QueryEscape(tampered),
		"wrong hash key":   "/?data=" + url.QueryEscape(string(wrongHash)),
		"no data":          "/",
		"empty data":       "/?data=",
		"not JSON":         "/?data=%7B%22collectorInfo",
		"bad percent":      "/?data=%E0%A4%A",
		"lone percent x2":  "/?data=%25zz",
		"JSON array":       "/?data=" + url.QueryEscape(`[1,2,3]`),
		"JSON null":        "/?data=null",
		"no sign":          "/?data=" + url.QueryEscape(`{"collectorInfo":{},"sender":"ab"}`),
		"sign not object":  "/?data=" + url.QueryEscape(`{"collectorInfo":{},"sender":"ab","sign":"x"}`),
		"garbage sig":      "/?data=" + url.QueryEscape(`{"collectorInfo":{},"sender":"ab","sign":{"owner":"ab","sig":"zz"}}`),
		"deep nesting":     "/?data=" + url.QueryEscape(strings.Repeat(`{"a":`, 2000)+"1"+strings.Repeat("}", 2000)),
		"oversized 20 KiB": "/?data=" + url.QueryEscape(`{"x":"`+strings.Repeat("a", 20<<10)+`"}`),
		"oversized signed": "/?data=" + url.QueryEscape(string(bigSigned(t, c, e.hashKey))),
	}
	for name, target := range cases {
		code, body := rawRequest(t, r.addr, upgradeRequest(target))
		if code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401; answer %q", name, code, trim(body))
		}
	}
	// Whole request head over 64 KiB: refused by the HTTP layer (431), socket closed.
	code, _ := rawRequest(t, r.addr, upgradeRequest("/?data="+strings.Repeat("a", 100<<10)))
	if code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("100 KiB request line: status %d, want 431", code)
	}
	// An Upgrade that is not a WebSocket handshake: 400.
	code, _ = rawRequest(t, r.addr, "GET /?data="+url.QueryEscape(string(good))+" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n")
	if code != http.StatusBadRequest {
		t.Errorf("upgrade without WebSocket headers: status %d, want 400", code)
	}
	// A client that never finishes its headers does not block anyone.
	slow, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "GET /?data="); err != nil {
		t.Fatal(err)
	}

	// 1,000 garbage handshakes in a row.
	floodStart := time.Now()
	for i := 0; i < 1000; i++ {
		target := fmt.Sprintf("/?data=%%7B%%22garbage%%22%%3A%d", i)
		if i%3 == 1 {
			target = "/?data=" + url.QueryEscape(tampered)
		}
		if code, body := rawRequest(t, r.addr, upgradeRequest(target)); code != http.StatusUnauthorized {
			t.Fatalf("garbage %d: status %d, want 401; %q", i, code, trim(body))
		}
	}
	st := r.status()
	if len(st.Children) != 0 {
		t.Errorf("%d children spawned for refused handshakes, want 0", len(st.Children))
	}
	resp, err := http.Get("http://" + r.addr + "/is-alive")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/is-alive after the flood: %d", resp.StatusCode)
	}
	w := r.dial(c) // the genuine collector still gets in
	r.waitStatus("1 client", func(st parent.Status) bool { return st.Clients == 1 })
	w.close()
	// Each refusal is logged once, but a flood only up to 50 lines a second: the rest
	// are counted in summary lines.
	r.stop()
	logs := r.logs.String()
	lines := strings.Count(logs, "websocket upgrade refused")
	summarised := 0
	for _, m := range regexp.MustCompile(`refusals not logged \(over 50 a second\)" count=(\d+)`).FindAllStringSubmatch(logs, -1) {
		n, _ := strconv.Atoi(m[1])
		summarised += n
	}
	want := 1000 + len(cases) + 1 // + the 400; the 431 is net/http's
	if lines+summarised != want {
		t.Errorf("refusals logged %d + summarised %d = %d, want %d", lines, summarised, lines+summarised, want)
	}
	if lines > 50*int(time.Since(floodStart)/time.Second+2) {
		t.Errorf("%d refusal lines logged during the flood: not rate limited", lines)
	}
	t.Logf("1,000 garbage handshakes: %d refusal lines, %d summarised", lines, summarised)
}

func bigSigned(t *testing.T, c collector, hk protocol.HashKey) []byte {
	b, err := protocol.Signer{HashKey: hk, Keys: c.kp}.SignObject(map[string]any{
		"collectorInfo": map[string]any{"subscriptionType": "FIREHOSE", "timestamp": float64(time.Now().UnixMilli())},
		"sender":        c.kp.PublicHex,
		"padding":       strings.Repeat("p", 20<<10),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trim(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// The 401 answer is a proper HTTP response and the connection is closed after it.
func TestUnauthorizedAnswer(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{})
	code, body := rawRequest(t, r.addr, upgradeRequest("/?data=%7B"))
	if code != 401 || !strings.Contains(body, "Unauthorized: Authentication failed") || !strings.Contains(body, "Connection: close") {
		t.Fatalf("answer %q", body)
	}
	if !strings.Contains(r.logs.String(), "remote=127.0.0.1:") {
		t.Errorf("refusal log lacks the remote address:\n%s", r.logs.String())
	}
}

// A percent-encoded-twice handshake (what a client that encodes twice sends) is
// accepted, as by the reference.
func TestHandshakeDecodedTwice(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{})
	c := newCollector(t)
	data := c.handshake(t, e.hashKey, time.Now())
	u := "ws://" + r.addr + "/?data=" + url.QueryEscape(url.QueryEscape(string(data)))
	w, err := dialURL(u)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	r.waitStatus("1 client", func(st parent.Status) bool { return st.Clients == 1 })
}
