// Package firehosetest is a scripted firehose server for the tools' tests: a real WebSocket server
// (httptest + coder/websocket) that checks a collector's signed handshake the way the distributor
// does and then sends frames given by the test, made with protocol.Signer.Frame. It is not the
// distributor; the end-to-end tests run the real one.
package firehosetest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/protocol"
)

// Message is one thing the server does on a connection, in order.
type Message struct {
	Data   []byte // a text frame (unless Binary)
	Binary bool
	// Close, when non-zero, closes the connection with this code and Reason instead of sending.
	Close  websocket.StatusCode
	Reason string
	// Wait, when true, waits for the client to close the connection (or the test to end).
	Wait bool
	// Cut, when true, drops the connection without a close frame.
	Cut bool
}

// Handshake is what the server saw in an accepted upgrade.
type Handshake struct {
	Raw    string         // the data parameter
	Object map[string]any // parsed
}

// Server plays Script to each connection that presents a valid handshake.
type Server struct {
	URL    string // ws://127.0.0.1:port
	Addr   string // 127.0.0.1:port
	Script []Message
	// Handshakes receives every accepted handshake (buffered; extra ones are dropped).
	Handshakes chan Handshake
	// ClientClose receives the close status the client sent, when the script waits for it.
	ClientClose chan websocket.StatusCode

	hashKey protocol.HashKey
	srv     *httptest.Server
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// Start serves script on 127.0.0.1; the server is closed when the test ends.
func Start(t testing.TB, hashKey protocol.HashKey, script []Message) *Server {
	t.Helper()
	s := &Server{Script: script, Handshakes: make(chan Handshake, 64),
		ClientClose: make(chan websocket.StatusCode, 64), hashKey: hashKey}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.Addr = strings.TrimPrefix(s.srv.URL, "http://")
	s.URL = "ws://" + s.Addr
	t.Cleanup(func() {
		s.cancel()
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.wg.Wait()
	})
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.wg.Add(1)
	defer s.wg.Done()
	data := r.URL.Query().Get("data")
	obj, err := s.checkHandshake(data)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	select {
	case s.Handshakes <- Handshake{Raw: data, Object: obj}:
	default:
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	for _, m := range s.Script {
		switch {
		case m.Cut:
			c.CloseNow()
			return
		case m.Close != 0:
			c.Close(m.Close, m.Reason)
			return
		case m.Wait:
			_, _, err := c.Read(s.ctx)
			if code := websocket.CloseStatus(err); code != -1 {
				s.ClientClose <- code
			}
			return
		default:
			typ := websocket.MessageText
			if m.Binary {
				typ = websocket.MessageBinary
			}
			if err := c.Write(s.ctx, typ, m.Data); err != nil {
				return
			}
		}
	}
	c.Close(websocket.StatusNormalClosure, "script done")
}

func (s *Server) checkHandshake(data string) (map[string]any, error) {
	if data == "" {
		return nil, fmt.Errorf("no data parameter")
	}
	if err := protocol.VerifyJSON(s.hashKey, []byte(data)); err != nil {
		return nil, fmt.Errorf("Invalid signature: %v", err)
	}
	v, err := protocol.Parse([]byte(data))
	if err != nil {
		return nil, err
	}
	obj, _ := v.(map[string]any)
	info, _ := obj["collectorInfo"].(map[string]any)
	sign, _ := obj["sign"].(map[string]any)
	sender, _ := obj["sender"].(string)
	if info == nil || info["subscriptionType"] != "FIREHOSE" {
		return nil, fmt.Errorf("collectorInfo.subscriptionType must be FIREHOSE")
	}
	if ts, ok := info["timestamp"].(float64); !ok || time.Since(time.UnixMilli(int64(ts))).Abs() > 30*time.Second {
		return nil, fmt.Errorf("collectorInfo.timestamp missing or not within 30 s")
	}
	if sign == nil || sign["owner"] != sender {
		return nil, fmt.Errorf("sign.owner must be the sender")
	}
	return obj, nil
}

// Entry is a generated data line {"seq":N,"writtenAt":µs,"receiptId":…} like the bench's.
func Entry(seq int64, writtenAt time.Time) []byte {
	return fmt.Appendf(nil, `{"receiptId":"r%06d","seq":%d,"writtenAt":%d}`, seq, seq, writtenAt.UnixMicro())
}

// Frame signs line as a frame of kind with cursor, failing the test on error.
func Frame(t testing.TB, s protocol.Signer, kind protocol.Kind, line []byte, cursor string) []byte {
	t.Helper()
	f, err := s.Frame(kind, line, cursor)
	if err != nil {
		t.Fatalf("sign frame %s: %v", line, err)
	}
	return f
}

// Text is a Message sending data as a text frame.
func Text(data []byte) Message { return Message{Data: data} }
