package protocol

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// Strings are carried as WTF-8: UTF-8 in which a lone UTF-16 surrogate (which JSON "\ud800"
// can produce and JavaScript strings can hold) is encoded as the 3-byte sequence ED A0..BF xx.
// Invalid UTF-8 in input is replaced by U+FFFD per maximal subpart, as Node's decoder does.

// str parses a JSON string at d.pos (on the opening quote) and returns its node (not added).
func (d *doc) str() (node, error) {
	d.pos++
	s := d.src
	start := d.pos
	i := start
	for i < len(s) {
		// Skip eight plain ASCII bytes at a time, then straight to the first special byte: the
		// string's end is usually in the last word, and trying words that overlap it byte by
		// byte cost more than the rest of the scan.
		for i+8 <= len(s) {
			if m := swarSpecial(binary.LittleEndian.Uint64(s[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return node{kind: kString, a: int32(start), b: int32(i)}, nil
		case c == '\\':
			return d.strSlow(start, i)
		case c < 0x20:
			d.pos = i
			return node{}, d.fail("control character in string")
		case c < 0x80:
			i++
		default:
			n, ok := utf8Seq(s[i:])
			if !ok {
				return d.strSlow(start, i)
			}
			i += n
		}
	}
	d.pos = i
	return node{}, d.fail("unterminated string")
}

// strSlow decodes a string with escapes or invalid UTF-8 into scratch; s[start:i] is clean.
func (d *doc) strSlow(start, i int) (node, error) {
	s := d.src
	a := len(d.scratch)
	out := append(d.scratch, s[start:i]...)
	for {
		if i >= len(s) {
			d.pos = i
			d.scratch = out
			return node{}, d.fail("unterminated string")
		}
		c := s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.scratch = out
			return node{kind: kString, a: int32(a), b: int32(len(out)), flags: flagScratch}, nil
		case c == '\\':
			if i+1 >= len(s) {
				d.pos = i
				d.scratch = out
				return node{}, d.fail("unterminated escape")
			}
			e := s[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				u, ok := hex4(s, i)
				if !ok {
					d.pos = i
					d.scratch = out
					return node{}, d.fail(`invalid \u escape`)
				}
				i += 4
				if u >= 0xD800 && u < 0xDC00 && i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if lo, ok := hex4(s, i+2); ok && lo >= 0xDC00 && lo < 0xE000 {
						i += 6
						out = utf8.AppendRune(out, 0x10000+(rune(u)-0xD800)<<10+(rune(lo)-0xDC00))
						continue
					}
				}
				out = appendWTF8(out, rune(u))
			default:
				d.pos = i - 1
				d.scratch = out
				return node{}, d.fail("invalid escape character")
			}
		case c < 0x20:
			d.pos = i
			d.scratch = out
			return node{}, d.fail("control character in string")
		case c < 0x80:
			out = append(out, c)
			i++
		default:
			n, ok := utf8Seq(s[i:])
			if ok {
				out = append(out, s[i:i+n]...)
			} else {
				out = append(out, "\uFFFD"...)
			}
			i += n
		}
	}
}

// swarSpecial returns a mask with the high bit set in the lowest byte of w (little-endian) that
// is '"', '\\', a control character or non-ASCII, if any, and zero if there is none. Bits above
// that byte may be set spuriously (borrows), so only the lowest one is meaningful.
func swarSpecial(w uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q := w ^ (lo * '"')
	b := w ^ (lo * '\\')
	return ((q-lo)&^q | (b-lo)&^b | (w-lo*0x20)&^w | w) & hi
}

func hex4(s []byte, i int) (uint16, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var u uint16
	for _, c := range s[i : i+4] {
		v := unhex(c)
		if v < 0 {
			return 0, false
		}
		u = u<<4 | uint16(v)
	}
	return u, true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// appendWTF8 appends r, which may be a surrogate, in WTF-8.
func appendWTF8(dst []byte, r rune) []byte {
	if r >= 0xD800 && r < 0xE000 {
		return append(dst, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(dst, r)
}

// utf8Seq returns the length of the UTF-8 sequence at the start of s (s[0] >= 0x80) and whether
// it is valid. When invalid, the length is the WHATWG "maximal subpart" to replace by one U+FFFD.
func utf8Seq(s []byte) (int, bool) {
	c := s[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1, false
	}
	for k := 1; k <= need; k++ {
		if k >= len(s) {
			return k, false
		}
		b := s[k]
		if b < lo || b > hi {
			return k, false
		}
		lo, hi = 0x80, 0xBF
	}
	return need + 1, true
}

// wtf8Surrogate reports whether s starts with a WTF-8 encoded surrogate and returns it.
func wtf8Surrogate[S ~string | ~[]byte](s S) (rune, bool) {
	if len(s) >= 3 && s[0] == 0xED && s[1] >= 0xA0 && s[1] <= 0xBF && s[2] >= 0x80 && s[2] <= 0xBF {
		return 0xD000 | rune(s[1]&0x3F)<<6 | rune(s[2]&0x3F), true
	}
	return 0, false
}

// decodeWTF8 decodes one code point (surrogates included) at the start of s. ok is false for
// invalid UTF-8, and n is then the maximal-subpart length to replace by one U+FFFD.
func decodeWTF8[S ~string | ~[]byte](s S) (r rune, n int, ok bool) {
	c := s[0]
	if c < 0x80 {
		return rune(c), 1, true
	}
	if r, ok := wtf8Surrogate(s); ok {
		return r, 3, true
	}
	switch v := any(s).(type) {
	case string:
		r, n = utf8.DecodeRuneInString(v)
	case []byte:
		r, n = utf8.DecodeRune(v)
	default:
		r, n = utf8.DecodeRuneInString(string(s))
	}
	if n > 1 {
		return r, n, true
	}
	var b [4]byte
	k := 0
	for k < 4 && k < len(s) {
		b[k] = s[k]
		k++
	}
	n, _ = utf8Seq(b[:k])
	return utf8.RuneError, n, false
}

var escapeTab = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1
	}
	t['"'] = 1
	t['\\'] = 1
	for c := 0x80; c < 0x100; c++ {
		t[c] = 2
	}
	return
}()

const hexDigits = "0123456789abcdef"

// appendQuoted appends s (WTF-8, possibly invalid) as JSON.stringify quotes a JS string.
func appendQuoted[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	i, start := 0, 0
	for i < len(s) {
		c := s[i]
		t := escapeTab[c]
		if t == 0 {
			i++
			continue
		}
		if t == 2 {
			// Non-ASCII: valid UTF-8 is copied; WTF-8 surrogates are escaped or paired.
			if r, ok := wtf8Surrogate(s[i:]); ok {
				dst = append(dst, s[start:i]...)
				if r < 0xDC00 {
					if lo, ok := wtf8Surrogate(s[i+3:]); ok && lo >= 0xDC00 {
						dst = utf8.AppendRune(dst, 0x10000+(r-0xD800)<<10+(lo-0xDC00))
						i += 6
						start = i
						continue
					}
				}
				dst = append(dst, '\\', 'u', hexDigits[r>>12], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
				i += 3
				start = i
				continue
			}
			_, n, ok := decodeWTF8(s[i:])
			if ok {
				i += n
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i += n
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// toUTF8 converts WTF-8 (or any bytes) to well-formed UTF-8 as Buffer.from(string) would:
// surrogate pairs are joined, lone surrogates and invalid bytes become U+FFFD.
func toUTF8[S ~string | ~[]byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			dst = append(dst, c)
			i++
			continue
		}
		if r, ok := wtf8Surrogate(s[i:]); ok {
			if r < 0xDC00 {
				if lo, ok := wtf8Surrogate(s[i+3:]); ok && lo >= 0xDC00 {
					dst = utf8.AppendRune(dst, 0x10000+(r-0xD800)<<10+(lo-0xDC00))
					i += 6
					continue
				}
			}
			dst = append(dst, "\uFFFD"...)
			i += 3
			continue
		}
		_, n, ok := decodeWTF8(s[i:])
		if ok {
			dst = append(dst, s[i:i+n]...)
		} else {
			dst = append(dst, "\uFFFD"...)
		}
		i += n
	}
	return dst
}

// appendUTF8Replacing appends bytes decoded as Node's Buffer.toString('utf8') does.
func appendUTF8Replacing(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		if b[i] < 0x80 {
			dst = append(dst, b[i])
			i++
			continue
		}
		n, ok := utf8Seq(b[i:])
		if ok {
			dst = append(dst, b[i:i+n]...)
		} else {
			dst = append(dst, "\uFFFD"...)
		}
		i += n
	}
	return dst
}

// unitIter yields the UTF-16 code units of a WTF-8 string.
type unitIter[S ~string | ~[]byte] struct {
	s       S
	i       int
	pending rune // low surrogate still to deliver, or -1
}

func (it *unitIter[S]) next() (rune, bool) {
	if it.pending >= 0 {
		r := it.pending
		it.pending = -1
		return r, true
	}
	if it.i >= len(it.s) {
		return 0, false
	}
	r, n, _ := decodeWTF8(it.s[it.i:])
	it.i += n
	if r >= 0x10000 {
		r -= 0x10000
		it.pending = 0xDC00 + r&0x3FF
		return 0xD800 + r>>10, true
	}
	return r, true
}

// compareUTF16 orders two WTF-8 strings as JavaScript's default sort does: by UTF-16 code units.
func compareUTF16[S ~string | ~[]byte](a, b S) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return len(a) - len(b)
	}
	if a[i] < 0x80 || b[i] < 0x80 {
		return int(a[i]) - int(b[i])
	}
	// Back up to the start of the code point containing the difference.
	for i > 0 && a[i]&0xC0 == 0x80 {
		i--
	}
	x := unitIter[S]{s: a[i:], pending: -1}
	y := unitIter[S]{s: b[i:], pending: -1}
	for {
		u, ok1 := x.next()
		v, ok2 := y.next()
		switch {
		case !ok1 && !ok2:
			return 0
		case !ok1:
			return -1
		case !ok2:
			return 1
		case u != v:
			return int(u) - int(v)
		}
	}
}
