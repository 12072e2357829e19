package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestDeepNesting(t *testing.T) {
	for _, open := range []string{"[", `{"a":`} {
		closeWith := "]"
		if open != "[" {
			closeWith = "}"
		}
		ok := strings.Repeat(open, MaxDepth) + "1" + strings.Repeat(closeWith, MaxDepth)
		if _, err := Canonicalize([]byte(ok)); err != nil {
			t.Fatalf("depth %d rejected: %v", MaxDepth, err)
		}
		if _, err := Parse([]byte(ok)); err != nil {
			t.Fatalf("Parse depth %d: %v", MaxDepth, err)
		}
		for _, depth := range []int{MaxDepth + 1, 1_000_000} {
			deep := strings.Repeat(open, depth) + "1" + strings.Repeat(closeWith, depth)
			var se *SyntaxError
			if _, err := Canonicalize([]byte(deep)); !errors.As(err, &se) || !strings.Contains(se.Msg, "nesting") {
				t.Fatalf("depth %d: %v", depth, err)
			}
		}
	}
	// A cycle in Go values is refused, not a stack overflow.
	m := map[string]any{}
	m["self"] = m
	if _, err := Marshal(m); err == nil {
		t.Fatal("cyclic map marshalled")
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, in := range []string{
		``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `'x'`, `"abc`, `"\x"`, `"\u12"`, `"\u12g4"`,
		"\"a\x01b\"", "\"tab\there\"", `01`, `-`, `1.`, `.5`, `1e`, `+1`, `NaN`, `Infinity`, `tru`, `nul`,
		`[1 2]`, `{"a":1 "b":2}`, `1 2`, "\ufeff{}", `{"a":1}x`, `[`,
	} {
		if out, err := Canonicalize([]byte(in)); err == nil {
			t.Errorf("%q accepted as %s", in, out)
		}
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
}

func TestLoneSurrogates(t *testing.T) {
	v, err := Parse([]byte(`{"s":"a\ud800b\udc00c\ud83d\ude00","\udfff":1}`))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	// WTF-8 inside the Go string.
	if s := m["s"].(string); s != "a\xed\xa0\x80b\xed\xb0\x80c\U0001F600" {
		t.Fatalf("got %q", s)
	}
	out, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"s":"a\ud800b\udc00c😀","\udfff":1}`; string(out) != want {
		t.Fatalf("got %s want %s", out, want)
	}
	// WTF-8 surrogate halves written separately in a Go string join into one character.
	out, _ = Marshal("\xed\xa0\xbd\xed\xb8\x80")
	if string(out) != `"😀"` {
		t.Fatalf("joined pair: %s", out)
	}
	// Invalid UTF-8 from Go becomes U+FFFD, like Node's decoder.
	out, _ = Marshal("a\xffb\xe2\x82")
	if string(out) != "\"a\uFFFDb\uFFFD\"" {
		t.Fatalf("invalid UTF-8: %q", out)
	}
}

func TestUTF16KeyOrder(t *testing.T) {
	keys := []string{"\U0001F600", "\uffff", "\ue000", "\xed\xa0\x80", "\xed\xa0\xbdx", "z", "A", "", "é"}
	m := map[string]any{}
	for i, k := range keys {
		m[k] = float64(i)
	}
	out, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// JS: ["", "A", "z", "é", "\ud800", "\ud83dx", "😀", "\ue000", "\uffff"]
	want := `{"":7,"A":6,"z":5,"é":8,"\ud800":3,"\ud83dx":4,"😀":0,"` + "\ue000" + `":2,"` + "\uffff" + `":1}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

func TestMarshalGoValues(t *testing.T) {
	out, err := Marshal(map[string]any{
		"i": 42, "u": uint64(7), "f32": float32(0.5), "s": []string{"a", "<&>"}, "ms": map[string]string{"k": "v"},
		"bytes": []byte{1, 2, 3}, "u8": Bytes{Data: []byte{1}, Uint8Array: true}, "big": BigInt{Hex: "00AB"},
		"pbig": &BigInt{Hex: "0"}, "raw": RawJSON(`{"b":1,"a":{"dataType":"bi","value":"0F"}}`),
		"rows": []map[string]any{{"x": nil}}, "buf": map[string]any{"type": "Buffer", "data": []any{1.0, "2", nil}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"big":{"dataType":"bi","value":"ab"},"buf":{"value":"AQIA","dataType":"bb"},"bytes":{"value":"AQID","dataType":"bb"},` +
		`"f32":0.5,"i":42,"ms":{"k":"v"},"pbig":{"dataType":"bi","value":"0"},"raw":{"a":{"dataType":"bi","value":"f"},"b":1},` +
		`"rows":[{"x":null}],"s":["a","<&>"],"u":7,"u8":{"value":"AQ==","dataType":"u8ab"}}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	for _, bad := range []any{struct{}{}, BigInt{Hex: "xyz"}, map[string]any{"c": make(chan int)},
		map[string]any{"type": "Buffer", "data": []any{BigInt{Hex: "1"}}}, RawJSON(`{`)} {
		if out, err := Marshal(bad); err == nil {
			t.Errorf("Marshal(%#v) = %s", bad, out)
		}
	}
	// AppendMarshal appends and leaves dst alone on error.
	dst := []byte("x")
	dst, err = AppendMarshal(dst, []any{true, false, nil})
	if err != nil || string(dst) != "x[true,false,null]" {
		t.Fatalf("%s %v", dst, err)
	}
}

func TestParseValues(t *testing.T) {
	v, err := Parse([]byte(`{"n":1.5,"s":"x","b":true,"z":null,"a":[1],"bi":{"dataType":"bi","value":"0A"},` +
		`"bb":{"dataType":"bb","value":"AQID"},"u8":{"dataType":"u8ab","value":"AQ"}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if m["n"] != 1.5 || m["s"] != "x" || m["b"] != true || m["z"] != nil || m["a"].([]any)[0] != 1.0 ||
		m["bi"] != (BigInt{Hex: "a"}) || !bytes.Equal(m["bb"].(Bytes).Data, []byte{1, 2, 3}) || m["bb"].(Bytes).Uint8Array ||
		!m["u8"].(Bytes).Uint8Array || !bytes.Equal(m["u8"].(Bytes).Data, []byte{1}) {
		t.Fatalf("%#v", m)
	}
}

func TestNodeBase64Decode(t *testing.T) {
	// Cases checked against Node 20's Buffer.from(s, 'base64').
	for in, want := range map[string]string{
		"AQID": "010203", "AQ": "01", "AQI": "0102", "A": "", "AQ==": "01", "AQ=": "01", "A=Q": "", "AQ==AQ": "01",
		"A Q I D": "010203", "AQ\nID": "010203", "-_-_": "fbffbf", "+/+/": "fbffbf", "AQ.ID": "010203",
		"\u0141QID": "010203", "AQ\u00e9ID": "010203", "=AQID": "", "AQID=AQID": "010203", "AQIDB": "010203",
		"AQIDBA": "01020304", "ZZZ": "6596", "AQ=ID": "01", "YR": "61", "\u0100\u0141": "", "AQ I=D": "0102",
	} {
		got := nodeBase64Decode(nil, []byte(in))
		if h := bytesHex(got); h != want {
			t.Errorf("%q: got %s want %s", in, h, want)
		}
	}
}

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// cmpMember decides most comparisons on an 8-byte key prefix; it must order exactly as
// compareUTF16 (then source position) does, around the prefix boundary, NUL characters,
// non-ASCII and WTF-8 surrogates included.
func TestCmpMemberMatchesCompareUTF16(t *testing.T) {
	keys := []string{"", "a", "ab", "ab\x00", "ab\x00\x00", "abcdefg", "abcdefgh", "abcdefgh\x00",
		"abcdefghi", "abcdefgi", "sign", "sig", "signature", "\x7f", "é", "e\u0301", "\uffff",
		"\U0001F600", "\xed\xa0\x80", "\xed\xbf\xbf", "a\uffff", "a\U0001F600", "abcdefg\uffff",
		"abcdefg\U0001F600", "abcdefg\xed\xa0\x80", "\u00e9t\u00e9", "\u00e9t\u00e8"}
	d := &doc{}
	for _, k := range keys {
		d.src = append(d.src, k...)
	}
	var ms []member
	off := int32(0)
	for i, k := range keys {
		n := node{kind: kString, a: off, b: off + int32(len(k))}
		off += int32(len(k))
		ms = append(ms, member{key: n, seq: int32(i), pfx: keyPrefix(d.bytesOf(n))})
	}
	for _, x := range ms {
		for _, y := range ms {
			want := compareUTF16(d.bytesOf(x.key), d.bytesOf(y.key))
			if want == 0 {
				want = int(x.seq) - int(y.seq)
			}
			got := d.cmpMember(x, y)
			if (got < 0) != (want < 0) || (got == 0) != (want == 0) {
				t.Errorf("cmpMember(%q, %q) = %d, compareUTF16 says %d", d.bytesOf(x.key), d.bytesOf(y.key), got, want)
			}
		}
	}
}
