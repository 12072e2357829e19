package protocol

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
)

// testdata/node_canonical.json holds awkward inputs with what the official Node libraries make of
// them (interop/oracle.js wrote it): the canonical string, or the error safeJsonParse or
// safeStringify threw.
func TestNodeOracle(t *testing.T) {
	raw, err := os.ReadFile("testdata/node_canonical.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, Text, Base64, Canonical, Error string
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 50 {
		t.Fatalf("only %d oracle cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			in := []byte(c.Text)
			if c.Base64 != "" {
				in, err = base64.StdEncoding.DecodeString(c.Base64)
				if err != nil {
					t.Fatal(err)
				}
			}
			got, err := Canonicalize(in)
			if c.Error != "" {
				if err == nil {
					t.Fatalf("input %q: got %s, Node throws %s", in, got, c.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("input %q: %v; Node gives %s", in, err, c.Canonical)
			}
			if string(got) != c.Canonical {
				t.Fatalf("input %q\n got %s\nwant %s", in, got, c.Canonical)
			}
			v, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			m, err := Marshal(v)
			if err != nil || string(m) != c.Canonical {
				t.Fatalf("Marshal(Parse) = %s, %v; want %s", m, err, c.Canonical)
			}
		})
	}
}
