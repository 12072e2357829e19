package protocol

import "encoding/base64"

// unbase64 maps a byte to its 6-bit value in either base64 alphabet (standard or URL-safe), or 255.
var unbase64 = func() (t [256]byte) {
	for i := range t {
		t[i] = 255
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['-'] = 62
	t['_'] = 63
	return
}()

// nodeBase64Decode appends Buffer.from(s, 'base64') for the JS string s (given as WTF-8).
// Node's decoder works on UTF-16 code units truncated to their low byte, skips every unit that is
// not in either alphabet, stops at the first '=', and turns a final group of 2 or 3 characters
// into 1 or 2 bytes (a lone final character gives nothing).
func nodeBase64Decode(dst, s []byte) []byte {
	var acc uint32
	n := 0
	unit := func(u byte) bool {
		if u == '=' {
			return false
		}
		v := unbase64[u]
		if v == 255 {
			return true
		}
		acc = acc<<6 | uint32(v)
		n++
		if n == 4 {
			dst = append(dst, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if !unit(c) {
				break
			}
			i++
			continue
		}
		r, k, _ := decodeWTF8(s[i:])
		i += k
		if r >= 0x10000 {
			r -= 0x10000
			if !unit(byte(0xD800 + r>>10)) {
				break
			}
			if !unit(byte(0xDC00 + r&0x3FF)) {
				break
			}
			continue
		}
		if !unit(byte(r)) {
			break
		}
	}
	switch n {
	case 2:
		dst = append(dst, byte(acc>>4))
	case 3:
		dst = append(dst, byte(acc>>10), byte(acc>>2))
	}
	return dst
}

func appendBase64(dst, b []byte) []byte { return base64.StdEncoding.AppendEncode(dst, b) }
