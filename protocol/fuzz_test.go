package protocol

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzCanonicalize: Canonicalize never panics, agrees with Marshal(Parse), produces valid JSON,
// and its output is a fixed point, except for the one non-idempotence inherited from the
// reference (a Buffer-shaped object directly under "sig", see doc.go), whose second form is.
func FuzzCanonicalize(f *testing.F) {
	v := loadVectors(f)
	for _, c := range v.Canonical {
		f.Add([]byte(c.Input))
	}
	for _, c := range v.Sign {
		f.Add([]byte(c.Input))
	}
	for _, c := range v.Verify {
		f.Add([]byte(c.Signed))
	}
	for _, s := range awkwardInputs {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Canonicalize(data)
		if err != nil {
			if _, perr := Parse(data); perr == nil {
				// Only stringify-time failures (BigInt in Buffer data) may differ from Parse.
				if _, merr := Marshal(mustParse(t, data)); merr == nil {
					t.Fatalf("Canonicalize failed (%v) but Parse+Marshal succeeded", err)
				}
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not valid JSON: %q", out)
		}
		parsed := mustParse(t, data)
		viaAny, err := Marshal(parsed)
		if err != nil {
			t.Fatalf("Marshal(Parse) failed: %v", err)
		}
		if !bytes.Equal(viaAny, out) {
			t.Fatalf("Marshal(Parse) differs from Canonicalize\n%q\n%q", viaAny, out)
		}
		out2, err := Canonicalize(out)
		if err != nil {
			t.Fatalf("canonical output does not parse: %v\n%q", err, out)
		}
		if bytes.Equal(out2, out) {
			return
		}
		if !hasSigBuffer(parsed) {
			t.Fatalf("not a fixed point\n in: %q\nout: %q\nout2: %q", data, out, out2)
		}
		out3, err := Canonicalize(out2)
		if err != nil || !bytes.Equal(out3, out2) {
			t.Fatalf("second canonical form is not a fixed point\n%q\n%q", out2, out3)
		}
	})
}

func mustParse(t *testing.T, data []byte) any {
	t.Helper()
	v, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse failed where Canonicalize succeeded: %v", err)
	}
	return v
}

// hasSigBuffer reports whether a Buffer-shaped object sits directly under a "sig" key.
func hasSigBuffer(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if hasSigBuffer(e) {
				return true
			}
		}
	case map[string]any:
		if s, ok := x["sig"].(map[string]any); ok && len(s) == 2 && s["type"] == "Buffer" {
			switch s["data"].(type) {
			case string, []any, Bytes:
				return true
			}
		}
		for _, e := range x {
			if hasSigBuffer(e) {
				return true
			}
		}
	}
	return false
}
