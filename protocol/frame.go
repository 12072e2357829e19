package protocol

import (
	"fmt"
	"sync"
)

// Kind names a firehose stream; it is the key the entry sits under in a frame.
type Kind string

const (
	KindCycle      Kind = "cycle"
	KindReceipt    Kind = "receipt"
	KindOriginalTx Kind = "originalTx"
)

// Kinds lists the streams in a fixed order.
var Kinds = []Kind{KindCycle, KindReceipt, KindOriginalTx}

// Valid reports whether k is one of the three firehose streams.
func (k Kind) Valid() bool {
	return k == KindCycle || k == KindReceipt || k == KindOriginalTx
}

// Frame returns the canonical signed frame {"cursor":cursor,<kind>:<line parsed>,"sign":{…}}
// ("cursor" omitted when empty). The line is any JSON value; it is canonicalised with the
// reviver, and the cursor is covered by the signature.
// The frame's capacity is close to its length: frames are kept (a child's ring holds thousands),
// and one grown by appending would carry up to twice its size.
func (s Signer) Frame(kind Kind, line []byte, cursor string) ([]byte, error) {
	b, err := s.AppendFrame(make([]byte, 0, len(line)+len(cursor)+len(kind)+frameOverhead), kind, line, cursor)
	if err != nil {
		return nil, err
	}
	if cap(b)-len(b) <= len(b)/8 {
		return b, nil
	}
	return append(make([]byte, 0, len(b)), b...), nil // the line was far from canonical
}

// frameOverhead is a frame's bytes besides its cursor, kind and line: the braces, quotes and keys,
// and the "sign" member (a 64-digit owner and a 192-digit sig).
const frameOverhead = 320

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func putFrameBuf(bp *[]byte) {
	if cap(*bp) <= 1<<20 { // do not keep huge buffers alive
		framePool.Put(bp)
	}
}

// AppendFrame appends the frame to dst. It is the hot path of the service: one parse into a
// pooled arena, one canonical write straight into dst, one hash and one signature.
func (s Signer) AppendFrame(dst []byte, kind Kind, line []byte, cursor string) ([]byte, error) {
	if err := s.check(); err != nil {
		return dst, err
	}
	// "cursor" < "cycle" < "originalTx" < "receipt" < "sign" in UTF-16 order, so the frame's
	// members can be written in this fixed order. Other kinds take the general path.
	if !(compareUTF16(string(kind), "cursor") > 0 && compareUTF16(string(kind), "sign") < 0) {
		return s.frameSlow(dst, kind, line, cursor)
	}
	d := getDoc()
	defer putDoc(d)
	root, err := d.parse(line)
	if err != nil {
		return dst, fmt.Errorf("protocol: %s line: %w", kind, err)
	}
	start := len(dst)
	e := encoder{buf: append(dst, '{')}
	if cursor != "" {
		e.buf = append(e.buf, `"cursor":`...)
		e.buf = appendQuoted(e.buf, cursor)
		e.buf = append(e.buf, ',')
	}
	e.buf = appendQuoted(e.buf, string(kind))
	e.buf = append(e.buf, ':')
	valueStart := len(e.buf)
	if err := e.node(d, root, false); err != nil {
		return dst, fmt.Errorf("protocol: %s line: %w", kind, err)
	}
	if e.nonFixed {
		bp := framePool.Get().(*[]byte)
		tmp := append((*bp)[:0], e.buf[valueStart:]...)
		e.buf, err = AppendCanonical(e.buf[:valueStart], tmp)
		*bp = tmp[:0]
		putFrameBuf(bp)
		if err != nil {
			return dst, fmt.Errorf("protocol: %s line: %w", kind, err)
		}
	}
	e.buf = append(e.buf, '}')
	h := s.HashKey.Sum(e.buf[start:])
	e.buf[len(e.buf)-1] = ','
	e.buf = s.appendSignMember(e.buf, h)
	return append(e.buf, '}'), nil
}

func (s Signer) frameSlow(dst []byte, kind Kind, line []byte, cursor string) ([]byte, error) {
	if kind == "cursor" || kind == "sign" || kind == "" {
		return dst, fmt.Errorf("protocol: invalid frame kind %q", kind)
	}
	obj := map[string]any{string(kind): RawJSON(line)}
	if cursor != "" {
		obj["cursor"] = cursor
	}
	out, err := s.SignObject(obj)
	if err != nil {
		return dst, err
	}
	return append(dst, out...), nil
}
