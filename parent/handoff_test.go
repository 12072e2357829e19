package parent_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/shardeum/distributor/parent"
)

// No byte is lost in the handoff: bytes the client sent right behind its upgrade
// request (here a WebSocket close frame, in the same TCP write) were already read by
// the parent's HTTP server; they must reach the child, which answers the close.
func TestHandoffKeepsBytesSentWithTheRequest(t *testing.T) {
	e := newEnv(t, 5, false)
	r := startParent(t, e, runOpts{})
	c := newCollector(t)
	req := upgradeRequest("/?data=" + url.QueryEscape(string(c.handshake(t, e.hashKey, time.Now()))))
	// Masked close frame, code 1000, zero mask key.
	closeFrame := []byte{0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8}

	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(append([]byte(req), closeFrame...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	// The child's answer to our close frame: a close frame of its own.
	rest, err := io.ReadAll(br)
	if err != nil && !isTimeout(err) {
		t.Logf("read: %v", err)
	}
	if isTimeoutOnly(err, rest) || len(rest) < 2 || rest[0] != 0x88 {
		t.Fatalf("no close frame answered (the bytes behind the request were lost?): got % x, err %v", rest, err)
	}
	if !bytes.Equal(rest[2:4], []byte{0x03, 0xe8}) {
		t.Errorf("close answer % x, want code 1000", rest)
	}
	r.waitStatus("client gone", func(st parent.Status) bool { return st.Clients == 0 })
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func isTimeoutOnly(err error, got []byte) bool { return isTimeout(err) && len(got) == 0 }
