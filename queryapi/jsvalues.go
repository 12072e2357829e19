package queryapi

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shardeum/distributor/protocol"
)

// JavaScript semantics the reference's handlers rely on, over protocol.Parse values.

// num returns the body field as a number when it is one (validation already rejected other types).
func num(body map[string]any, key string) (float64, bool) {
	f, ok := body[key].(float64)
	return f, ok
}

func str(body map[string]any, key string) string {
	s, _ := body[key].(string)
	return s
}

// utf16Len is a JS string's length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 && r <= utf8.MaxRune {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// jsString is String(v), as a template literal prints an element.
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	case float64:
		b, err := protocol.Marshal(x)
		if err != nil {
			return "NaN"
		}
		return string(b)
	case protocol.BigInt:
		return bigDecimal(x.Hex)
	case protocol.Bytes:
		if x.Uint8Array {
			parts := make([]string, len(x.Data))
			for i, c := range x.Data {
				parts[i] = strconv.Itoa(int(c))
			}
			return strings.Join(parts, ",")
		}
		return strings.ToValidUTF8(string(x.Data), "\uFFFD")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if e != nil {
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	default:
		return "[object Object]"
	}
}

func bigDecimal(hex string) string {
	n, ok := new(big.Int).SetString(hex, 16)
	if !ok {
		return "0"
	}
	return n.String()
}

// asInt64 reports whether f is an integer SQLite would take as a LIMIT/OFFSET (the reference splices
// the JS number's decimal text into the SQL; anything but an integer literal fails there).
func asInt64(f float64) (int64, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) >= 1e21 {
		return 0, false
	}
	if f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}
