package protocol

import (
	"errors"
	"math"
)

// encoder writes canonical JSON (safeStringify) into buf.
type encoder struct {
	buf   []byte
	depth int
	// nonFixed is set when the output is not a fixed point of Canonicalize (see doc.go); signers
	// canonicalise once more before hashing.
	nonFixed bool
	// skipSign makes the root object omit its "sign" member and record where a "sign" member
	// belongs in key order: at signAt, with a comma before it (signComma) or after it.
	skipSign  bool
	signAt    int
	signComma bool
	signAfter bool
	signing   bool // refuse roots that cannot carry a "sign" member
	// bareRoot is set when signing a root that the reference's safeJsonParse revives as a Buffer
	// or Uint8Array (an object shaped like a Buffer, or a bb/u8ab object): signObj signs it and
	// hangs "sign" on it, but safeStringify prints a Buffer or Uint8Array by its bytes alone, so
	// what the reference sends is the canonical value without a "sign" member.
	bareRoot bool
}

var errBigIntToNumber = errors.New("protocol: cannot convert a BigInt value to a number (Buffer data)")

// node writes the arena node i. underSig: the node is the value of a key named "sig".
func (e *encoder) node(d *doc, i int32, underSig bool) error {
	n := d.nodes[i]
	switch n.kind {
	case kNull:
		e.buf = append(e.buf, "null"...)
	case kTrue:
		e.buf = append(e.buf, "true"...)
	case kFalse:
		e.buf = append(e.buf, "false"...)
	case kNumber:
		e.buf = appendNumberLiteral(e.buf, d.src[n.a:n.b])
	case kString:
		e.str(d, n)
	case kArray:
		e.buf = append(e.buf, '[')
		for j, k := range d.kids[n.a : n.a+n.b] {
			if j > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.node(d, k, false); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case kObject:
		return e.object(d, d.members[n.a:n.a+n.b], underSig, false)
	case kBigInt:
		e.buf = append(e.buf, `{"dataType":"bi","value":"`...)
		e.buf = append(e.buf, d.scratch[n.a:n.b]...)
		e.buf = append(e.buf, `"}`...)
	case kBytes:
		e.bytes(d.scratch[n.a:n.b], n.flags&flagU8 != 0)
	default:
		return errors.New("protocol: internal error: unexpected node")
	}
	return nil
}

func (e *encoder) str(d *doc, n node) {
	if n.flags&flagScratch == 0 {
		// Clean source text: valid UTF-8 with nothing to escape.
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, d.src[n.a:n.b]...)
		e.buf = append(e.buf, '"')
		return
	}
	e.buf = appendQuoted(e.buf, d.scratch[n.a:n.b])
}

func (e *encoder) bytes(b []byte, u8 bool) {
	e.buf = append(e.buf, `{"value":"`...)
	e.buf = appendBase64(e.buf, b)
	if u8 {
		e.buf = append(e.buf, `","dataType":"u8ab"}`...)
	} else {
		e.buf = append(e.buf, `","dataType":"bb"}`...)
	}
}

// object writes an object from its sorted members; root enables skipSign handling.
func (e *encoder) object(d *doc, ms []member, underSig, root bool) error {
	signDropped := false
	if root && e.skipSign {
		for j, m := range ms {
			if string(d.bytesOf(m.key)) == "sign" {
				tmp := make([]member, 0, len(ms)-1)
				tmp = append(tmp, ms[:j]...)
				ms = append(tmp, ms[j+1:]...)
				signDropped = true
				break
			}
		}
	}
	if len(ms) == 2 && string(d.bytesOf(ms[0].key)) == "data" && string(d.bytesOf(ms[1].key)) == "type" {
		t := d.nodes[ms[1].val]
		if t.kind == kString && string(d.bytesOf(t)) == "Buffer" {
			if b, ok, err := d.bufferData(ms[0].val); err != nil {
				return err
			} else if ok {
				if root && e.signing {
					if err := e.bufferRoot(signDropped); err != nil {
						return err
					}
				}
				e.bytes(b, false)
				if underSig {
					e.nonFixed = true
				}
				return nil
			}
		}
	}
	e.buf = append(e.buf, '{')
	signDone := !(root && e.skipSign)
	for j, m := range ms {
		if !signDone && compareUTF16(d.bytesOf(m.key), []byte("sign")) > 0 {
			e.markSign(j > 0, true)
			signDone = true
		}
		if j > 0 {
			e.buf = append(e.buf, ',')
		}
		e.str(d, m.key)
		e.buf = append(e.buf, ':')
		if err := e.node(d, m.val, m.key.flags&flagSig != 0); err != nil {
			return err
		}
	}
	if !signDone {
		e.markSign(len(ms) > 0, false)
	}
	e.buf = append(e.buf, '}')
	return nil
}

// bufferRoot handles a root to be signed that prints as a Buffer. Without a "sign" member the
// reference revives it as a Buffer, which prints without the "sign" signObj adds (bareRoot).
// With one, it is a plain object of three members to the reference, whose signature covers the
// old "sign" and so never verifies; we drop an old "sign" before signing, which leaves a
// Buffer, so no output matches the reference's.
func (e *encoder) bufferRoot(signDropped bool) error {
	if signDropped {
		return errors.New("protocol: cannot sign an object shaped like a Buffer ({type, data}) besides its sign member")
	}
	e.bareRoot = true
	return nil
}

func (e *encoder) markSign(before, after bool) {
	e.signAt = len(e.buf)
	e.signComma = before
	e.signAfter = after
}

// insertSign returns the root object with sign (a complete `"sign":{...}` member) in place.
func (e *encoder) insertSign(dst []byte, sign []byte) []byte {
	dst = append(dst, e.buf[:e.signAt]...)
	if e.signComma {
		dst = append(dst, ',')
	}
	dst = append(dst, sign...)
	if !e.signComma && e.signAfter {
		dst = append(dst, ',')
	}
	return append(dst, e.buf[e.signAt:]...)
}

// bufferData returns Buffer.from(data) for the "data" of a Buffer-shaped object, and whether
// data is of a kind Buffer.from accepts there (string, array or typed array).
func (d *doc) bufferData(i int32) ([]byte, bool, error) {
	n := d.nodes[i]
	switch n.kind {
	case kString:
		return toUTF8(nil, d.bytesOf(n)), true, nil
	case kBytes:
		return d.scratch[n.a:n.b], true, nil
	case kArray:
		out := make([]byte, 0, n.b)
		for _, k := range d.kids[n.a : n.a+n.b] {
			f, err := d.toNumber(k)
			if err != nil {
				return nil, false, err
			}
			out = append(out, toUint8(f))
		}
		return out, true, nil
	}
	return nil, false, nil
}

// toNumber is JavaScript's ToNumber of node i.
func (d *doc) toNumber(i int32) (float64, error) {
	n := d.nodes[i]
	switch n.kind {
	case kNumber:
		return d.float(n), nil
	case kTrue:
		return 1, nil
	case kFalse, kNull:
		return 0, nil
	case kString:
		return stringToNumber(d.bytesOf(n)), nil
	case kBigInt:
		return 0, errBigIntToNumber
	case kArray, kBytes:
		return stringToNumber(d.jsString(nil, i)), nil
	}
	return math.NaN(), nil
}
