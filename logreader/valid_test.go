package logreader

import (
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []string{
	`{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.5, -0, 1e5, 1E-5, -1.25e+10, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9"]} `,
	`"just a string"`, `0`, `-0.0`, `{"a":{"b":{"c":[[[]]]}}}`, "\"caf\xc3\xa9\"", "\"\xff\"",
	`{"a":1,}`, `[1,]`, `{"a"}`, `{"a":}`, `{a:1}`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`, `tru`, `nul`, `"\x"`,
	`"\u12g4"`, "\"a\tb\"", `{"a":1}}`, `[1 2]`, ``, ` `, `{"a":1} x`, `"unterminated`, `{"a":1`, `[`, `+1`, `NaN`,
	`{"dataType":"bi","value":"0x1f"}`, "{\"a\":\"\x00\"}", strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

func TestValidJSONMatchesEncodingJSON(t *testing.T) {
	for _, c := range validCases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%.60q) = %v, json.Valid = %v", c, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, c := range validCases {
		if len(c) < 1000 {
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}

func TestSpecial8Exact(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			w := []byte("aaaaaaaa")
			w[pos] = byte(c)
			var x uint64
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(w[i])
			}
			want := c < 0x20 || c == '"' || c == '\\'
			if got := special8(x); got != want {
				t.Fatalf("byte %#x at %d: special8 = %v", c, pos, got)
			}
			// Neighbours that are high bytes must not create false positives or hide one.
			for i := range w {
				if i != pos {
					w[i] = 0xff
				}
			}
			x = 0
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(w[i])
			}
			if got := special8(x); got != want {
				t.Fatalf("byte %#x at %d among 0xff: special8 = %v", c, pos, got)
			}
		}
	}
}
