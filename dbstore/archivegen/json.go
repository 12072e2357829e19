package archivegen

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
)

// Cell values: obj (keys printed sorted), []any, string, int64, int, bool, nil, bi, bb, u8.
type obj map[string]any

type bi string // BigInt hex, lower case, no leading zeros
type bb []byte // Buffer
type u8 []byte // Uint8Array

// canon prints v as safeStringify does: sorted keys, no spaces, bb/u8ab value first.
func canon(v any) string {
	var b strings.Builder
	write(&b, v)
	return b.String()
}

func write(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case string:
		b.WriteString(strconv.Quote(x)) // generated strings are printable ASCII: same as JSON.stringify
	case bi:
		b.WriteString(`{"dataType":"bi","value":"` + string(x) + `"}`)
	case bb:
		b.WriteString(`{"value":"` + base64.StdEncoding.EncodeToString(x) + `","dataType":"bb"}`)
	case u8:
		b.WriteString(`{"value":"` + base64.StdEncoding.EncodeToString(x) + `","dataType":"u8ab"}`)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			write(b, e)
		}
		b.WriteByte(']')
	case obj:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // ASCII keys: byte order is UTF-16 order
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			write(b, x[k])
		}
		b.WriteByte('}')
	default:
		panic("archivegen: unsupported cell value")
	}
}
