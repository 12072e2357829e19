package collector

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/protocol"
)

// SubscriptionType is what a firehose collector puts in collectorInfo.
const SubscriptionType = "FIREHOSE"

// Handshake returns the signed JSON a collector sends as the `data` query parameter:
// {"collectorInfo":{"subscriptionType":"FIREHOSE","timestamp":<ms>},"sender":<key>,"sign":{…}},
// plus a top-level "cursor" object when resuming (stream name -> last processed frame cursor).
func Handshake(s protocol.Signer, now time.Time, cursor map[string]string) ([]byte, error) {
	obj := map[string]any{
		"collectorInfo": map[string]any{
			"subscriptionType": SubscriptionType,
			"timestamp":        float64(now.UnixMilli()),
		},
		"sender": s.Keys.PublicHex,
	}
	if len(cursor) > 0 {
		c := make(map[string]any, len(cursor))
		for k, v := range cursor {
			c[k] = v
		}
		obj["cursor"] = c
	}
	b, err := s.SignObject(obj)
	if err != nil {
		return nil, fmt.Errorf("sign handshake for %s: %w", s.Keys.PublicHex, err)
	}
	return b, nil
}

// SubscribeURL is ws://addr/?data=<URI-encoded handshake>. addr is host:port or a ws:// or
// http:// URL (its path is replaced by "/").
func SubscribeURL(addr string, handshake []byte) (string, error) {
	if !strings.Contains(addr, "://") {
		addr = "ws://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return "", fmt.Errorf("distributor address %q: %w", addr, err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("distributor address %q: scheme must be ws, wss, http or https", addr)
	}
	if u.Host == "" {
		return "", fmt.Errorf("distributor address %q: no host", addr)
	}
	u.Path = "/"
	u.RawQuery = url.Values{"data": {string(handshake)}}.Encode()
	return u.String(), nil
}

// DialError is a refused upgrade: the HTTP status and the start of the body the server answered with.
type DialError struct {
	Status int
	Body   string
	Err    error
}

func (e *DialError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("subscribe refused: HTTP %d %s", e.Status, strings.TrimSpace(e.Body))
	}
	return fmt.Sprintf("subscribe: %v", e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

// Dial opens the WebSocket subscription. hc may be nil (http.DefaultClient).
func Dial(ctx context.Context, addr string, handshake []byte, hc *http.Client) (*websocket.Conn, error) {
	u, err := SubscribeURL(addr, handshake)
	if err != nil {
		return nil, err
	}
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		de := &DialError{Err: err}
		if resp != nil {
			de.Status = resp.StatusCode
			if resp.Body != nil {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
				resp.Body.Close()
				de.Body = string(b)
			}
		}
		return nil, de
	}
	return c, nil
}

// HTTPClient returns a client whose transport allows many concurrent dials to one host, for runs
// with hundreds of subscribers, and reads each connection through a 64 KiB buffer: coder/websocket
// reads 4 KiB at a time, which would cost a read(2) (and, on loopback, the sender a window
// update) for every two frames.
func HTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = -1
	t.MaxConnsPerHost = 0
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, recvBuf)
		}); err != nil {
			return err
		}
		return serr
	}}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return newBufferedConn(c, readBuf), nil
	}
	return &http.Client{Transport: t}
}

const (
	recvBuf = 256 << 10 // each subscriber's socket receive buffer (the kernel doubles it)
	readBuf = 64 << 10  // what a subscriber reads at once
)

// bufferedConn reads its connection through a large buffer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

// newBufferedConn buffers c's reads in size bytes, whose pages it touches now. A fresh buffer's
// pages are mapped on first touch; a thousand subscribers first touching theirs in the load's
// first rounds made 14,000 page faults in 300 ms, and every frame of those rounds late.
func newBufferedConn(c net.Conn, size int) *bufferedConn {
	r := bufio.NewReaderSize(zeros{}, size)
	r.Peek(size) // fills (writes) the whole buffer
	r.Reset(c)   // same buffer, now reading c
	return &bufferedConn{Conn: c, r: r}
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
