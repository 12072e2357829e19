package protocol

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
	"slices"
	"sync"
)

// MaxDepth is the deepest nesting of arrays and objects Parse and Marshal accept. Node's
// JSON.parse with a reviver throws RangeError a little beyond 2000 levels, so anything we
// accept, the reference accepts too.
const MaxDepth = 2000

// BigInt is a revived {"dataType":"bi"} value. Hex is lower case without leading zeros, "0" for
// zero (Marshal normalises any hex it is given).
type BigInt struct{ Hex string }

// Bytes is a revived {"dataType":"bb"} (a Node Buffer) or, with Uint8Array set,
// {"dataType":"u8ab"} value.
type Bytes struct {
	Data       []byte
	Uint8Array bool
}

// SyntaxError reports JSON that JSON.parse (or the Shardus reviver) would reject.
type SyntaxError struct {
	Offset int // byte offset in the input
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("protocol: invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// Parse is safeJsonParse: JSON.parse with the Shardus type reviver. Values are nil, bool,
// float64, string (WTF-8 for lone surrogates), []any, map[string]any, BigInt and Bytes.
func Parse(data []byte) (any, error) {
	d := getDoc()
	defer putDoc(d)
	root, err := d.parse(data)
	if err != nil {
		return nil, err
	}
	return d.toAny(root), nil
}

// Canonicalize returns Marshal(Parse(data)) without building Go values.
func Canonicalize(data []byte) ([]byte, error) {
	return AppendCanonical(nil, data)
}

// AppendCanonical appends the canonical form of data to dst.
func AppendCanonical(dst, data []byte) ([]byte, error) {
	d := getDoc()
	defer putDoc(d)
	root, err := d.parse(data)
	if err != nil {
		return dst, err
	}
	e := encoder{buf: dst}
	if err := e.node(d, root, false); err != nil {
		return dst, err
	}
	return e.buf, nil
}

// kind is the type of a parsed node.
type kind uint8

const (
	kNull kind = iota
	kFalse
	kTrue
	kNumber // a,b: literal span in src
	kString // a,b: content span in src (clean) or scratch (flagScratch)
	kArray  // a: first index in kids, b: count
	kObject // a: first index in members, b: count (sorted, deduplicated, reserved keys removed)
	kBigInt // a,b: normalised hex in scratch
	kBytes  // a,b: decoded bytes in scratch; flagU8 for u8ab
	kBadBig // a "bi" object BigInt() rejects; a: its offset in src
)

const (
	flagScratch  uint8 = 1 << iota // string content lives in doc.scratch, already decoded
	flagPoison                     // this value, or a value it keeps, is a kBadBig
	flagU8                         // kBytes is a Uint8Array
	flagReserved                   // member key is __proto__, constructor or prototype
	flagSig                        // member key is "sig"
	flagDataType                   // member key is "dataType"
)

type node struct {
	a, b  int32
	kind  kind
	flags uint8
}

type member struct {
	key node // kString
	val int32
	seq int32  // position in the source object, for last-wins on duplicates
	pfx uint64 // the key's first 8 bytes, big-endian, zero-padded: most comparisons stop here
}

// doc is one parse: the input and an arena of nodes. Pooled; nothing in it escapes.
type doc struct {
	src     []byte
	nodes   []node
	members []member
	kids    []int32
	scratch []byte
	stackM  []member
	stackK  []int32
	pos     int
	depth   int
}

var docPool = sync.Pool{New: func() any { return new(doc) }}

func getDoc() *doc { return docPool.Get().(*doc) }

func putDoc(d *doc) {
	if cap(d.scratch) > 1<<20 || cap(d.nodes) > 1<<16 {
		return // do not keep huge arenas alive
	}
	d.src = nil
	docPool.Put(d)
}

func (d *doc) reset(src []byte) {
	d.src = src
	d.nodes = d.nodes[:0]
	d.members = d.members[:0]
	d.kids = d.kids[:0]
	d.scratch = d.scratch[:0]
	d.stackM = d.stackM[:0]
	d.stackK = d.stackK[:0]
	d.pos = 0
	d.depth = 0
}

func (d *doc) fail(msg string) error { return &SyntaxError{Offset: d.pos, Msg: msg} }

// parse parses src as one JSON text and returns the root node index.
func (d *doc) parse(src []byte) (int32, error) {
	d.reset(src)
	d.skipSpace()
	root, err := d.value(false)
	if err != nil {
		return 0, err
	}
	d.skipSpace()
	if d.pos < len(d.src) {
		return 0, d.fail("unexpected data after the JSON value")
	}
	if d.nodes[root].flags&flagPoison != 0 {
		return 0, d.badBigError(root)
	}
	return root, nil
}

func (d *doc) badBigError(root int32) error {
	off := 0
	var find func(i int32) bool
	find = func(i int32) bool {
		n := d.nodes[i]
		switch n.kind {
		case kBadBig:
			off = int(n.a)
			return true
		case kArray:
			for _, k := range d.kids[n.a : n.a+n.b] {
				if d.nodes[k].flags&flagPoison != 0 && find(k) {
					return true
				}
			}
		case kObject:
			for _, m := range d.members[n.a : n.a+n.b] {
				if d.nodes[m.val].flags&flagPoison != 0 && find(m.val) {
					return true
				}
			}
		}
		return false
	}
	find(root)
	// Poison kept by reserved-key members is not reachable from the tree; offset 0 then.
	return &SyntaxError{Offset: off, Msg: `"bi" value is not a hexadecimal BigInt (BigInt("0x"+value) throws)`}
}

func (d *doc) skipSpace() {
	for d.pos < len(d.src) {
		switch d.src[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *doc) add(n node) int32 {
	d.nodes = append(d.nodes, n)
	return int32(len(d.nodes) - 1)
}

// value parses the value at d.pos (no leading space). underSig: the value sits directly under a
// key named "sig", so the reviver leaves it alone.
func (d *doc) value(underSig bool) (int32, error) {
	if d.pos >= len(d.src) {
		return 0, d.fail("unexpected end of input")
	}
	switch c := d.src[d.pos]; c {
	case '{':
		return d.object(underSig)
	case '[':
		return d.array()
	case '"':
		n, err := d.str()
		if err != nil {
			return 0, err
		}
		return d.add(n), nil
	case 't':
		return d.literal("true", kTrue)
	case 'f':
		return d.literal("false", kFalse)
	case 'n':
		return d.literal("null", kNull)
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return d.number()
		}
		return 0, d.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

func (d *doc) literal(word string, k kind) (int32, error) {
	if len(d.src)-d.pos < len(word) || string(d.src[d.pos:d.pos+len(word)]) != word {
		return 0, d.fail("invalid literal")
	}
	d.pos += len(word)
	return d.add(node{kind: k}), nil
}

func (d *doc) number() (int32, error) {
	start := d.pos
	s := d.src
	i := d.pos
	if s[i] == '-' {
		i++
	}
	if i >= len(s) {
		d.pos = i
		return 0, d.fail("unterminated number")
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		d.pos = i
		return 0, d.fail("invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			d.pos = i
			return 0, d.fail("invalid number: no digits after '.'")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			d.pos = i
			return 0, d.fail("invalid number: no digits in exponent")
		}
	}
	d.pos = i
	return d.add(node{kind: kNumber, a: int32(start), b: int32(i)}), nil
}

func (d *doc) array() (int32, error) {
	d.depth++
	if d.depth > MaxDepth {
		return 0, d.fail(fmt.Sprintf("nesting deeper than %d", MaxDepth))
	}
	d.pos++ // '['
	base := len(d.stackK)
	var poison uint8
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == ']' {
		d.pos++
	} else {
		for {
			d.skipSpace()
			v, err := d.value(false)
			if err != nil {
				return 0, err
			}
			poison |= d.nodes[v].flags & flagPoison
			d.stackK = append(d.stackK, v)
			d.skipSpace()
			if d.pos >= len(d.src) {
				return 0, d.fail("unterminated array")
			}
			if d.src[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.src[d.pos] == ']' {
				d.pos++
				break
			}
			return 0, d.fail("expected ',' or ']' in array")
		}
	}
	first := len(d.kids)
	d.kids = append(d.kids, d.stackK[base:]...)
	n := len(d.stackK) - base
	d.stackK = d.stackK[:base]
	d.depth--
	return d.add(node{kind: kArray, a: int32(first), b: int32(n), flags: poison}), nil
}

func (d *doc) object(underSig bool) (int32, error) {
	d.depth++
	if d.depth > MaxDepth {
		return 0, d.fail(fmt.Sprintf("nesting deeper than %d", MaxDepth))
	}
	start := d.pos
	d.pos++ // '{'
	base := len(d.stackM)
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == '}' {
		d.pos++
	} else {
		for seq := int32(0); ; seq++ {
			d.skipSpace()
			if d.pos >= len(d.src) || d.src[d.pos] != '"' {
				return 0, d.fail("expected a string key in object")
			}
			key, err := d.str()
			if err != nil {
				return 0, err
			}
			d.skipSpace()
			if d.pos >= len(d.src) || d.src[d.pos] != ':' {
				return 0, d.fail("expected ':' after object key")
			}
			d.pos++
			d.skipSpace()
			key.flags |= keyFlags(d.bytesOf(key))
			// The reviver sees the key before the value: nothing directly under "sig" or a
			// reserved key is revived (a reserved key's value is then dropped).
			v, err := d.value(key.flags&(flagSig|flagReserved) != 0)
			if err != nil {
				return 0, err
			}
			d.stackM = append(d.stackM, member{key: key, val: v, seq: seq, pfx: keyPrefix(d.bytesOf(key))})
			d.skipSpace()
			if d.pos >= len(d.src) {
				return 0, d.fail("unterminated object")
			}
			if d.src[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.src[d.pos] == '}' {
				d.pos++
				break
			}
			return 0, d.fail("expected ',' or '}' in object")
		}
	}
	ms := d.stackM[base:]
	ms = d.sortDedup(ms)
	// Poison of every surviving member counts, reserved keys included: the reviver visits
	// their values (and may throw) before deleting them.
	var poison, seen uint8
	first := len(d.members)
	for _, m := range ms {
		poison |= d.nodes[m.val].flags & flagPoison
		seen |= m.key.flags
		if m.key.flags&flagReserved == 0 {
			d.members = append(d.members, m)
		}
	}
	d.stackM = d.stackM[:base]
	d.depth--
	idx := d.add(node{kind: kObject, a: int32(first), b: int32(len(d.members) - first), flags: poison})
	if !underSig && seen&flagDataType != 0 {
		d.revive(idx, start)
	}
	return idx, nil
}

func keyFlags(k []byte) uint8 {
	switch string(k) {
	case "__proto__", "constructor", "prototype":
		return flagReserved
	case "sig":
		return flagSig
	case "dataType":
		return flagDataType
	}
	return 0
}

// sortDedup sorts members by key in UTF-16 order and keeps the last of equal keys.
func (d *doc) sortDedup(ms []member) []member {
	if len(ms) < 2 {
		return ms
	}
	if len(ms) <= 12 {
		for i := 1; i < len(ms); i++ {
			for j := i; j > 0 && d.cmpMember(ms[j-1], ms[j]) > 0; j-- {
				ms[j-1], ms[j] = ms[j], ms[j-1]
			}
		}
	} else {
		slices.SortFunc(ms, d.cmpMember)
	}
	out := ms[:1]
	for _, m := range ms[1:] {
		last := &out[len(out)-1]
		if last.pfx == m.pfx && string(d.bytesOf(last.key)) == string(d.bytesOf(m.key)) {
			*last = m // sorted by (key, seq): the later duplicate wins
			continue
		}
		out = append(out, m)
	}
	return out
}

func keyPrefix(k []byte) uint64 {
	if len(k) >= 8 {
		return binary.BigEndian.Uint64(k)
	}
	var p uint64
	for i, c := range k {
		p |= uint64(c) << (56 - 8*i)
	}
	return p
}

func (d *doc) cmpMember(x, y member) int {
	if x.pfx != y.pfx {
		// The first differing byte decides, unless both are non-ASCII (compareUTF16 then
		// orders by code unit, not by byte). A zero from padding sorts a key before its
		// extensions, as it should.
		shift := 56 - bits.LeadingZeros64(x.pfx^y.pfx)&^7
		if byte(x.pfx>>shift) < 0x80 || byte(y.pfx>>shift) < 0x80 {
			if x.pfx < y.pfx {
				return -1
			}
			return 1
		}
	}
	if c := compareUTF16(d.bytesOf(x.key), d.bytesOf(y.key)); c != 0 {
		return c
	}
	return int(x.seq) - int(y.seq)
}

// bytesOf returns the decoded content of a string node (WTF-8).
func (d *doc) bytesOf(n node) []byte {
	if n.flags&flagScratch != 0 {
		return d.scratch[n.a:n.b]
	}
	return d.src[n.a:n.b]
}

// member returns the value node of key k in object node o, or -1.
func (d *doc) member(o node, k string) int32 {
	for _, m := range d.members[o.a : o.a+o.b] {
		if string(d.bytesOf(m.key)) == k {
			return m.val
		}
	}
	return -1
}

// revive applies the Shardus reviver to the object node idx, which has a dataType member.
func (d *doc) revive(idx int32, start int) {
	o := d.nodes[idx]
	dt := d.member(o, "dataType")
	if dt < 0 || d.nodes[dt].kind != kString {
		return
	}
	v := d.member(o, "value")
	switch string(d.bytesOf(d.nodes[dt])) {
	case "bb", "u8ab":
		if v < 0 || d.nodes[v].kind != kString {
			return
		}
		var fl uint8
		if string(d.bytesOf(d.nodes[dt])) == "u8ab" {
			fl = flagU8
		}
		a := len(d.scratch)
		d.scratch = nodeBase64Decode(d.scratch, d.bytesOf(d.nodes[v]))
		d.nodes[idx] = node{kind: kBytes, a: int32(a), b: int32(len(d.scratch)), flags: fl | o.flags&flagPoison}
	case "bi":
		var s []byte
		switch {
		case v < 0:
			s = []byte("undefined")
		case d.nodes[v].kind == kString:
			s = d.bytesOf(d.nodes[v])
		default:
			s = d.jsString(nil, v)
		}
		a := len(d.scratch)
		var ok bool
		d.scratch, ok = appendBigIntHex(d.scratch, s)
		if !ok || o.flags&flagPoison != 0 {
			d.scratch = d.scratch[:a]
			d.nodes[idx] = node{kind: kBadBig, a: int32(start), flags: flagPoison}
			return
		}
		d.nodes[idx] = node{kind: kBigInt, a: int32(a), b: int32(len(d.scratch))}
	}
}

// jsString appends JavaScript's String(value) of node i (as WTF-8).
func (d *doc) jsString(dst []byte, i int32) []byte {
	n := d.nodes[i]
	switch n.kind {
	case kNull:
		return append(dst, "null"...)
	case kTrue:
		return append(dst, "true"...)
	case kFalse:
		return append(dst, "false"...)
	case kNumber:
		return appendJSNumber(dst, d.float(n))
	case kString:
		return append(dst, d.bytesOf(n)...)
	case kArray:
		for j, k := range d.kids[n.a : n.a+n.b] {
			if j > 0 {
				dst = append(dst, ',')
			}
			if d.nodes[k].kind != kNull {
				dst = d.jsString(dst, k)
			}
		}
		return dst
	case kBigInt:
		var z big.Int
		z.SetString(string(d.scratch[n.a:n.b]), 16)
		return z.Append(dst, 10)
	case kBytes:
		if n.flags&flagU8 != 0 {
			for j, c := range d.scratch[n.a:n.b] {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendUint(dst, uint64(c))
			}
			return dst
		}
		return appendUTF8Replacing(dst, d.scratch[n.a:n.b])
	default: // kObject, kBadBig
		return append(dst, "[object Object]"...)
	}
}

// float returns the value of a number node.
func (d *doc) float(n node) float64 {
	return parseJSONFloat(d.src[n.a:n.b])
}

// toAny converts node i to Go values.
func (d *doc) toAny(i int32) any {
	n := d.nodes[i]
	switch n.kind {
	case kNull:
		return nil
	case kTrue:
		return true
	case kFalse:
		return false
	case kNumber:
		return d.float(n)
	case kString:
		return string(d.bytesOf(n))
	case kArray:
		out := make([]any, n.b)
		for j, k := range d.kids[n.a : n.a+n.b] {
			out[j] = d.toAny(k)
		}
		return out
	case kObject:
		out := make(map[string]any, n.b)
		for _, m := range d.members[n.a : n.a+n.b] {
			out[string(d.bytesOf(m.key))] = d.toAny(m.val)
		}
		return out
	case kBigInt:
		return BigInt{Hex: string(d.scratch[n.a:n.b])}
	case kBytes:
		return Bytes{Data: append([]byte{}, d.scratch[n.a:n.b]...), Uint8Array: n.flags&flagU8 != 0}
	}
	return nil
}
