package protocol

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
)

// testdata/node_numbers.json: bit patterns with String(x) from Node (interop/numbers-oracle.js).
func TestJSNumberMatchesNode(t *testing.T) {
	raw, err := os.ReadFile("testdata/node_numbers.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][2]string
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 3000 {
		t.Fatalf("only %d number cases", len(cases))
	}
	for _, c := range cases {
		bits, err := strconv.ParseUint(c[0], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		f := math.Float64frombits(bits)
		if got := string(appendJSNumber(nil, f)); got != c[1] {
			t.Errorf("String(%v) [%s] = %s, Node prints %s", f, c[0], got, c[1])
		}
		// Through a JSON literal too: the printed form parses back to the same canonical form.
		lit := strconv.FormatFloat(f, 'g', -1, 64)
		if got := string(appendNumberLiteral(nil, []byte(lit))); got != c[1] {
			t.Errorf("literal %s canonicalises to %s, want %s", lit, got, c[1])
		}
	}
}

func TestJSNumberSpecials(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{math.Copysign(0, -1), "0"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{1e21, "1e+21"},
		{-1e-7, "-1e-7"},
		{1.5e300, "1.5e+300"},
	} {
		if got := string(appendJSNumber(nil, c.f)); got != c.want {
			t.Errorf("%v: got %s want %s", c.f, got, c.want)
		}
	}
	// Marshal prints non-finite numbers as null, like JSON.stringify.
	out, err := Marshal([]any{math.NaN(), math.Inf(1), math.Copysign(0, -1), int64(1) << 60, uint8(7)})
	if err != nil || string(out) != "[null,null,0,1152921504606847000,7]" {
		t.Fatalf("Marshal = %s, %v", out, err)
	}
}

func TestNumberLiterals(t *testing.T) {
	for in, want := range map[string]string{
		"-0": "0", "0": "0", "-0.0": "0", "1.50": "1.5", "1E+2": "100", "1e400": "null", "-1e400": "null",
		"1e-400": "0", "123456789012345": "123456789012345", "1234567890123456789": "1234567890123456800",
		"12345678901234567890": "12345678901234567000", "0.1e1": "1", "100e-2": "1", "-5": "-5",
	} {
		if got := string(appendNumberLiteral(nil, []byte(in))); got != want {
			t.Errorf("%s: got %s want %s", in, got, want)
		}
	}
}

func TestStringToNumber(t *testing.T) {
	nan := math.NaN()
	for in, want := range map[string]float64{
		"": 0, "  ": 0, "12": 12, " 12 ": 12, "\u00a0 5\ufeff": 5, "0x10": 16, "0X1f": 31, "0b11": 3,
		"0o17": 15, "-0x10": nan, "1_000": nan, ".5": 0.5, "5.": 5, "+3": 3, "1e": nan, "1e3": 1000,
		"Infinity": math.Inf(1), "-Infinity": math.Inf(-1), "infinity": nan, "abc": nan, ".": nan,
		"0x": nan, "1.2.3": nan,
	} {
		got := stringToNumber([]byte(in))
		if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("ToNumber(%q) = %v, want %v", in, got, want)
		}
	}
	for f, want := range map[float64]byte{300: 44, -1: 255, 1.9: 1, -1.9: 255, 1e300: 0, nan: 0, 256: 0, 255.99: 255} {
		if got := toUint8(f); got != want {
			t.Errorf("ToUint8(%v) = %d, want %d", f, got, want)
		}
	}
}
