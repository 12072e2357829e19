package parent

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/promexport"
	"github.com/shardeum/distributor/protocol"
)

// isUpgrade reports whether r asks for a WebSocket (Upgrade: websocket, on any path,
// as the reference: collectors dial ws://host:port/?data=... but some add a path).
func isUpgrade(r *http.Request) bool {
	return headerHas(r.Header, "Upgrade", "websocket")
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// handshakeData extracts the signed handshake from the `data` query parameter.
// Like the reference it is percent-decoded twice: once as a query parameter
// ('+' is a space), once more as decodeURIComponent does ('+' stays). If the
// second decoding fails (a lone '%'), the once-decoded text is used, where the
// reference would throw and leave the socket hanging.
func handshakeData(r *http.Request) ([]byte, string) {
	raw := r.URL.RawQuery
	if len(raw) > maxDataBytes*3 {
		return nil, fmt.Sprintf("query too large (%d bytes)", len(raw))
	}
	vals, _ := url.ParseQuery(raw)
	once, ok := vals["data"]
	if !ok || len(once) == 0 || once[0] == "" {
		return nil, "missing data parameter"
	}
	s := once[0]
	if twice, err := url.PathUnescape(s); err == nil {
		s = twice
	}
	if len(s) > maxDataBytes {
		return nil, fmt.Sprintf("data too large (%d bytes)", len(s))
	}
	return []byte(s), ""
}

// authenticate runs the one shared auth implementation on the handshake.
func (p *parent) authenticate(r *http.Request) (protocol.Handshake, string) {
	data, why := handshakeData(r)
	if why != "" {
		return protocol.Handshake{}, why
	}
	body, err := protocol.Parse(data)
	if err != nil {
		return protocol.Handshake{}, "data is not JSON: " + err.Error()
	}
	auth := p.cfg.Load().Auth()
	auth.Now = p.opts.Now
	if msg := auth.Validate(body, protocol.HandshakeSchema); msg != "" {
		return protocol.Handshake{}, msg
	}
	hs, err := protocol.ParseHandshake(body)
	if err != nil {
		return protocol.Handshake{}, err.Error()
	}
	return hs, ""
}

// checkWebSocket refuses upgrades that could not complete a WebSocket handshake,
// so a child never receives junk.
func checkWebSocket(r *http.Request) string {
	switch {
	case r.Method != http.MethodGet:
		return "method " + r.Method
	case !headerHas(r.Header, "Connection", "upgrade"):
		return "no Connection: upgrade"
	case r.Header.Get("Sec-WebSocket-Key") == "":
		return "no Sec-WebSocket-Key"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return "Sec-WebSocket-Version not 13"
	case r.ContentLength != 0 || len(r.TransferEncoding) > 0:
		return "request has a body"
	}
	return ""
}

// serveUpgrade authenticates a WebSocket upgrade and hands the connection to a child.
//
// The handoff runs on a goroutine of its own, after the handler returned: net/http then drops the
// connection's buffers and the parsed request (about 12 KB). In a storm of upgrades each waits for
// a child to spawn, and with those buffers held the storm set the parent's heap for the rest of
// its life (scenario D: 1,000 upgrades at once).
func (p *parent) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	if !p.enter() {
		p.prom.Handshake(promexport.HandshakeUnavailable)
		w.Header().Set("Connection", "close")
		http.Error(w, "Service Unavailable: shutting down", http.StatusServiceUnavailable)
		return
	}
	conn, pre, hs, ok := p.takeUpgrade(w, r)
	if !ok {
		p.wg.Done()
		return
	}
	go func(remote string) {
		defer p.wg.Done()
		p.place(conn, pre, remote, hs)
	}(r.RemoteAddr)
}

// takeUpgrade checks and authenticates an upgrade and takes its connection over from net/http,
// with the bytes the child needs to complete the handshake. A refused upgrade is answered here.
func (p *parent) takeUpgrade(w http.ResponseWriter, r *http.Request) (net.Conn, []byte, protocol.Handshake, bool) {
	if why := checkWebSocket(r); why != "" {
		p.prom.Handshake(promexport.HandshakeBadRequest)
		p.refusals.refuse(r.RemoteAddr, http.StatusBadRequest, why)
		w.Header().Set("Connection", "close")
		http.Error(w, "Bad Request: not a WebSocket handshake", http.StatusBadRequest)
		return nil, nil, protocol.Handshake{}, false
	}
	hs, why := p.authenticate(r)
	if why != "" {
		p.prom.Handshake(promexport.HandshakeUnauthorized)
		p.refusals.refuse(r.RemoteAddr, http.StatusUnauthorized, why)
		w.Header().Set("Connection", "close")
		http.Error(w, "Unauthorized: Authentication failed", http.StatusUnauthorized)
		return nil, nil, hs, false
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot take over this connection", http.StatusInternalServerError)
		return nil, nil, hs, false
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		p.log.Warn("hijack failed", "remote", r.RemoteAddr, "err", err)
		return nil, nil, hs, false
	}
	_ = conn.SetDeadline(time.Time{})
	pre := requestBytes(r)
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		pre = append(pre, b...)
	}
	return conn, pre, hs, true
}

// place hands an upgraded connection to a child, or answers 503 if none could take it.
func (p *parent) place(conn net.Conn, pre []byte, remote string, hs protocol.Handshake) {
	if err := p.handoff(conn, pre, remote, hs); err != nil {
		p.prom.Handshake(promexport.HandshakeUnavailable)
		p.log.Warn("websocket handoff failed", "remote", remote, "key", hs.Sender, "err", err)
		writeRaw(conn, http.StatusServiceUnavailable, "Service Unavailable: no child could take the connection")
	} else {
		p.prom.Handshake(promexport.HandshakeAccepted)
	}
	conn.Close() // the parent's copy; the child has its own descriptor
}

// requestBytes re-serialises the request head exactly as the child needs it to
// complete the handshake: request line with the raw URI, Host, every header.
func requestBytes(r *http.Request) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.Method, r.RequestURI, r.Host)
	_ = r.Header.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

func writeRaw(conn net.Conn, code int, body string) {
	_ = conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		code, http.StatusText(code), len(body), body)
}

// handoff places the client and passes conn to its child; one retry on another
// (or a new) child if the first one fails.
func (p *parent) handoff(conn net.Conn, pre []byte, remote string, hs protocol.Handshake) error {
	var exclude *slot
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		c, spawn, err := p.reserve(hs.Sender, remote, exclude)
		if err != nil {
			return err
		}
		s := c.slot
		if spawn {
			p.spawn(s)
		} else {
			<-s.ready
		}
		if s.err != nil {
			p.release(c)
			lastErr, exclude = fmt.Errorf("spawn child: %w", s.err), s
			continue
		}
		if p.isClosed() {
			p.release(c)
			return errClosed
		}
		err = s.proc.Handoff(conn, pre, child.Handoff{ClientID: c.id, Key: hs.Sender, Remote: remote, Cursor: hs.Cursor})
		if err == nil {
			if old := p.replace(c); old != nil {
				p.log.Info("newer connection for key; closing the older with 1000", "key", c.key, "client", old.id, "pid", old.slot.pid)
				p.closeClient(old, int(protocol.CloseReplaced), "replaced by a newer connection")
			}
			return nil
		}
		lastErr, exclude = fmt.Errorf("handoff to child %d: %w", s.pid, err), s
		// A child that still answers Stats refused this one connection: keep it (and its
		// clients). One that is gone or wedged is taken out and killed.
		if r := p.collect([]*slot{s})[s]; r.err != nil || isExited(s.proc) {
			p.markDead(s, err)
		}
		p.release(c)
		if errors.Is(err, net.ErrClosed) {
			break
		}
	}
	return lastErr
}

func isExited(proc *child.Process) bool {
	select {
	case <-proc.Exited():
		return true
	default:
		return false
	}
}
