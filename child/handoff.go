package child

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The handoff channel is a SOCK_SEQPACKET socketpair: the parent keeps one end, the child inherits the
// other as fd 3. Nothing exists on the file system, so nothing can be left behind or reached by another
// user. Each handoff is ONE message (boundaries preserved): 4-byte big-endian header length, the JSON
// header, then the request bytes the parent already read, with the connection's fd attached (SCM_RIGHTS).
// The child answers each with one JSON ack naming the same sequence number.

const (
	maxPre          = 128 << 10 // request bytes a handoff can carry
	maxHandoffMsg   = maxPre + 16<<10
	handoffSockBuf  = 1 << 20
	handoffAckLimit = 15 * time.Second // a live child acks in microseconds; this only bounds a wedged one
)

type handoffHeader struct {
	Seq      uint64            `json:"seq"`
	ClientID string            `json:"id"`
	Key      string            `json:"key"`
	Remote   string            `json:"remote"`
	Cursor   map[string]string `json:"cursor,omitempty"`
}

type handoffAck struct {
	Seq uint64 `json:"seq"`
	Err string `json:"err,omitempty"`
}

// newHandoffPair returns the parent's end as a connection and the child's end as a file to inherit.
func newHandoffPair() (*net.UnixConn, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("handoff socketpair: %w", err)
	}
	for _, fd := range fds {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, handoffSockBuf)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, handoffSockBuf)
	}
	parentFile := os.NewFile(uintptr(fds[0]), "handoff-parent")
	defer parentFile.Close()
	c, err := net.FileConn(parentFile)
	if err != nil {
		_ = unix.Close(fds[1])
		return nil, nil, fmt.Errorf("handoff socket: %w", err)
	}
	return c.(*net.UnixConn), os.NewFile(uintptr(fds[1]), "handoff-child"), nil
}

// handoffSender is the parent's end: it sends fds and matches acks to callers.
type handoffSender struct {
	conn *net.UnixConn
	pid  int

	mu      sync.Mutex
	seq     uint64
	pending map[uint64]chan error
	broken  error
}

func newHandoffSender(conn *net.UnixConn) *handoffSender {
	return &handoffSender{conn: conn, pending: make(map[uint64]chan error)}
}

// An ack is one SOCK_SEQPACKET message: a sequence number and, for a refusal, the child's reason,
// cut to maxAckErr bytes so that the ack always fits the parent's buffer (kept per child, for the
// child's life: 20 children at 64 KiB were a megabyte of the parent's heap).
const (
	maxAckErr   = 512 // JSON escapes at most 6 bytes for one: the ack stays under maxAckBytes
	maxAckBytes = 4096
)

// readAcks runs until the child's end closes (the child exited) or close is called.
func (s *handoffSender) readAcks() {
	buf := make([]byte, maxAckBytes)
	for {
		n, _, _, _, err := s.conn.ReadMsgUnix(buf, nil)
		if err == nil && n == 0 {
			err = errors.New("handoff socket closed by the child")
		}
		if err != nil {
			s.fail(fmt.Errorf("child %d is gone (%v)", s.pid, err))
			return
		}
		var ack handoffAck
		if err := json.Unmarshal(buf[:n], &ack); err != nil {
			s.fail(fmt.Errorf("child %d sent a malformed handoff ack: %v", s.pid, err))
			return
		}
		s.mu.Lock()
		ch := s.pending[ack.Seq]
		delete(s.pending, ack.Seq)
		s.mu.Unlock()
		if ch != nil {
			if ack.Err != "" {
				ch <- fmt.Errorf("child %d refused the handoff: %s", s.pid, ack.Err)
			} else {
				ch <- nil
			}
		}
	}
}

// fail marks the channel broken and fails every handoff waiting for an ack.
func (s *handoffSender) fail(err error) {
	s.mu.Lock()
	if s.broken == nil {
		s.broken = err
	}
	for seq, ch := range s.pending {
		ch <- s.broken
		delete(s.pending, seq)
	}
	s.mu.Unlock()
	_ = s.conn.Close()
}

func (s *handoffSender) send(conn net.Conn, pre []byte, h Handoff) error {
	if len(pre) > maxPre {
		return fmt.Errorf("handoff to child %d: %d bytes of request exceed the %d-byte limit", s.pid, len(pre), maxPre)
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return fmt.Errorf("handoff to child %d: %T has no file descriptor", s.pid, conn)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("handoff to child %d: %w", s.pid, err)
	}

	ch := make(chan error, 1)
	s.mu.Lock()
	if s.broken != nil {
		err := s.broken
		s.mu.Unlock()
		return err
	}
	s.seq++
	seq := s.seq
	s.pending[seq] = ch
	s.mu.Unlock()

	hdr, _ := json.Marshal(handoffHeader{Seq: seq, ClientID: h.ClientID, Key: h.Key, Remote: h.Remote, Cursor: h.Cursor})
	msg := make([]byte, 4, 4+len(hdr)+len(pre))
	binary.BigEndian.PutUint32(msg, uint32(len(hdr)))
	msg = append(append(msg, hdr...), pre...)

	var sendErr error
	ctlErr := raw.Control(func(fd uintptr) {
		_, _, sendErr = s.conn.WriteMsgUnix(msg, unix.UnixRights(int(fd)), nil)
	})
	if ctlErr != nil || sendErr != nil {
		s.mu.Lock()
		delete(s.pending, seq)
		s.mu.Unlock()
		if ctlErr != nil {
			return fmt.Errorf("handoff to child %d: connection: %w", s.pid, ctlErr)
		}
		return fmt.Errorf("handoff to child %d: send: %w", s.pid, sendErr)
	}

	t := time.NewTimer(handoffAckLimit)
	defer t.Stop()
	select {
	case err := <-ch:
		return err
	case <-t.C:
		s.mu.Lock()
		delete(s.pending, seq)
		s.mu.Unlock()
		return fmt.Errorf("handoff to child %d: no ack within %s", s.pid, handoffAckLimit)
	}
}

// Arrival is one connection handed to the child, as Receiver.Next returns it.
type Arrival struct {
	Seq     uint64 // acknowledge with Receiver.Ack(Seq, …)
	Handoff Handoff
	Pre     []byte   // the request bytes the parent already read from Conn
	Conn    net.Conn // nil if the descriptor could not be used; Err says why
	Err     error
}

// Receiver is the child's end of the handoff channel.
type Receiver struct {
	conn *net.UnixConn
	buf  []byte
	oob  []byte
	wmu  sync.Mutex
}

func newReceiver(conn *net.UnixConn) *Receiver {
	return &Receiver{conn: conn, buf: make([]byte, maxHandoffMsg), oob: make([]byte, unix.CmsgSpace(4*4))}
}

// Next returns the next handoff; an error means the parent's end is gone (or the channel is
// corrupt). Every Arrival must be acknowledged (Ack), whether the child keeps it or not.
func (r *Receiver) Next() (Arrival, error) {
	n, oobn, flags, _, err := r.conn.ReadMsgUnix(r.buf, r.oob)
	if err != nil {
		return Arrival{}, err
	}
	if n == 0 && oobn == 0 {
		return Arrival{}, errors.New("handoff socket closed by the parent")
	}
	var m arrival
	fds := parseRights(r.oob[:oobn])
	if len(fds) > 1 {
		for _, fd := range fds[1:] {
			_ = unix.Close(fd)
		}
	}
	body := r.buf[:n]
	switch {
	case flags&unix.MSG_TRUNC != 0:
		m.err = errors.New("handoff message truncated")
	case flags&unix.MSG_CTRUNC != 0:
		m.err = errors.New("handoff control message truncated")
	case len(body) < 4 || int(binary.BigEndian.Uint32(body)) > len(body)-4:
		m.err = errors.New("handoff message malformed")
	default:
		hl := int(binary.BigEndian.Uint32(body))
		if err := json.Unmarshal(body[4:4+hl], &m.hdr); err != nil {
			m.err = fmt.Errorf("handoff header: %w", err)
		}
		m.pre = append([]byte(nil), body[4+hl:]...)
	}
	if len(fds) == 0 {
		if m.err == nil {
			m.err = errors.New("handoff carried no file descriptor")
		}
		return m.export(), nil
	}
	_ = unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, clientSendBuf)
	f := os.NewFile(uintptr(fds[0]), "client")
	if m.err == nil {
		m.conn, m.err = net.FileConn(f)
	}
	_ = f.Close() // FileConn dup'ed it
	return m.export(), nil
}

// arrival is an Arrival being decoded.
type arrival struct {
	hdr  handoffHeader
	pre  []byte
	conn net.Conn
	err  error
}

func (m arrival) export() Arrival {
	return Arrival{Seq: m.hdr.Seq, Pre: m.pre, Conn: m.conn, Err: m.err,
		Handoff: Handoff{ClientID: m.hdr.ClientID, Key: m.hdr.Key, Remote: m.hdr.Remote, Cursor: m.hdr.Cursor}}
}

const clientSendBuf = 256 << 10

func parseRights(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for _, m := range msgs {
		if rights, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, rights...)
		}
	}
	return fds
}

// Ack answers the handoff numbered seq: nil when the child owns the connection now, else why it
// refused it (the parent then still owns it).
func (r *Receiver) Ack(seq uint64, err error) error {
	a := handoffAck{Seq: seq}
	if err != nil {
		a.Err = err.Error()
		if len(a.Err) > maxAckErr {
			a.Err = a.Err[:maxAckErr] + "..."
		}
	}
	b, _ := json.Marshal(a)
	r.wmu.Lock()
	defer r.wmu.Unlock()
	_, _, werr := r.conn.WriteMsgUnix(b, nil, nil)
	return werr
}
