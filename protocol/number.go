package protocol

import (
	"math"
	"math/big"
	"strconv"
	"unsafe"
)

// appendJSNumber appends String(f) as JavaScript prints a Number (ECMAScript Number::toString,
// radix 10): the shortest digits that round-trip, plain notation for 1e-6 <= |f| < 1e21 and
// exponent form ("1e+21", "1.5e-7") outside it. -0 prints "0". strconv's 'g' format differs in
// where it switches to exponent form and in how it writes the exponent, so the layout is done here
// on top of strconv's shortest digits.
func appendJSNumber(dst []byte, f float64) []byte {
	switch {
	case f == 0:
		return append(dst, '0')
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	// Integers below 2^53 print as themselves.
	if f < 1<<53 && f == math.Trunc(f) {
		return strconv.AppendUint(dst, uint64(f), 10)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // d[.ddd]e±XX
	var digits [24]byte
	k := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[k] = e[i]
			k++
		}
	}
	exp := 0
	neg := e[i+1] == '-'
	for _, c := range e[i+2:] {
		exp = exp*10 + int(c-'0')
	}
	if neg {
		exp = -exp
	}
	n := exp + 1 // the value is 0.d1d2...dk × 10^n
	ds := digits[:k]
	switch {
	case k <= n && n <= 21:
		dst = append(dst, ds...)
		for j := 0; j < n-k; j++ {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, ds[:n]...)
		dst = append(dst, '.')
		dst = append(dst, ds[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for j := 0; j < -n; j++ {
			dst = append(dst, '0')
		}
		dst = append(dst, ds...)
	default:
		dst = append(dst, ds[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, ds[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}

// appendNumberLiteral appends the canonical form of a JSON number literal. Short integer
// literals are already canonical; everything else goes through float64 as in JS.
func appendNumberLiteral(dst, lit []byte) []byte {
	if len(lit) <= 16 {
		i := 0
		if lit[0] == '-' {
			i = 1
		}
		simple := len(lit)-i <= 15
		for _, c := range lit[i:] {
			if c < '0' || c > '9' {
				simple = false
				break
			}
		}
		if simple {
			if lit[i] == '0' { // "0" or "-0" (a JSON integer cannot have other leading zeros)
				return append(dst, '0')
			}
			return append(dst, lit...)
		}
	}
	f := parseJSONFloat(lit)
	if math.IsInf(f, 0) {
		return append(dst, "null"...) // JSON.parse gives Infinity; stringify prints null
	}
	return appendJSNumber(dst, f)
}

// parseJSONFloat parses a syntactically valid JSON number literal, rounding as JS does;
// out-of-range values become ±Inf or 0 like JSON.parse.
func parseJSONFloat(lit []byte) float64 {
	f, _ := strconv.ParseFloat(unsafe.String(unsafe.SliceData(lit), len(lit)), 64)
	return f
}

func appendUint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }

// jsWhiteSpace reports whether r is StrWhiteSpaceChar (WhiteSpace or LineTerminator).
func jsWhiteSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// trimJSSpace trims JavaScript white space from both ends of a WTF-8 string.
func trimJSSpace(s []byte) []byte {
	for len(s) > 0 {
		r, n, _ := decodeWTF8(s)
		if !jsWhiteSpace(r) {
			break
		}
		s = s[n:]
	}
	return trimJSSpaceRight(s)
}

func trimJSSpaceRight(s []byte) []byte {
	for len(s) > 0 {
		j := len(s) - 1
		for j > 0 && s[j]&0xC0 == 0x80 && len(s)-j < 4 {
			j--
		}
		r, n, _ := decodeWTF8(s[j:])
		if n != len(s)-j || !jsWhiteSpace(r) {
			break
		}
		s = s[:j]
	}
	return s
}

// normaliseBigIntHex checks that "0x"+s is accepted by BigInt() and returns the lower-case hex
// without leading zeros. Leading white space would sit between "0x" and the digits, so only
// trailing white space is allowed.
func normaliseBigIntHex(s []byte) (string, bool) {
	out, ok := appendBigIntHex(nil, s)
	return string(out), ok
}

// appendBigIntHex appends the normalised hex of s (see normaliseBigIntHex) to dst.
func appendBigIntHex(dst, s []byte) ([]byte, bool) {
	t := trimJSSpaceRight(s)
	if len(t) == 0 {
		return dst, false
	}
	for _, c := range t {
		if unhex(c) < 0 {
			return dst, false
		}
	}
	i := 0
	for i < len(t)-1 && t[i] == '0' {
		i++
	}
	for _, c := range t[i:] {
		if c >= 'A' && c <= 'F' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst, true
}

// stringToNumber is JavaScript's ToNumber applied to a string (StringToNumber).
func stringToNumber(s []byte) float64 {
	t := trimJSSpace(s)
	if len(t) == 0 {
		return 0
	}
	str := string(t)
	switch str {
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if len(str) > 2 && str[0] == '0' {
		base := 0
		switch str[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			var z big.Int
			for _, c := range str[2:] {
				if c > 0x7F || unhex(byte(c)) < 0 || unhex(byte(c)) >= base {
					return math.NaN()
				}
			}
			z.SetString(str[2:], base)
			f, _ := new(big.Float).SetInt(&z).Float64()
			return f
		}
	}
	// StrDecimalLiteral: [+-] (digits [. digits?] | . digits) [(e|E) [+-] digits]
	i := 0
	if str[i] == '+' || str[i] == '-' {
		i++
	}
	intDigits := 0
	for i < len(str) && str[i] >= '0' && str[i] <= '9' {
		i++
		intDigits++
	}
	fracDigits := 0
	if i < len(str) && str[i] == '.' {
		i++
		for i < len(str) && str[i] >= '0' && str[i] <= '9' {
			i++
			fracDigits++
		}
	}
	if intDigits+fracDigits == 0 {
		return math.NaN()
	}
	if i < len(str) && (str[i] == 'e' || str[i] == 'E') {
		i++
		if i < len(str) && (str[i] == '+' || str[i] == '-') {
			i++
		}
		expDigits := 0
		for i < len(str) && str[i] >= '0' && str[i] <= '9' {
			i++
			expDigits++
		}
		if expDigits == 0 {
			return math.NaN()
		}
	}
	if i != len(str) {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(str, 64)
	return f
}

// toUint8 is JavaScript's ToUint8 (what storing a Number into a Uint8Array does).
func toUint8(f float64) byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	m := math.Mod(math.Trunc(f), 256)
	if m < 0 {
		m += 256
	}
	return byte(m)
}
