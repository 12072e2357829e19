package protocol

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

func testSigner(t testing.TB, who string) Signer {
	t.Helper()
	v := loadVectors(t)
	kp, err := ParseKeyPair(v.Keys[who].PublicKey, v.Keys[who].SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return Signer{HashKey: vectorHashKey(t, v), Keys: kp}
}

// sigOf returns sign.sig of a signed canonical object.
func sigOf(t *testing.T, signed []byte) (owner, sig string) {
	t.Helper()
	v, err := Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	s := v.(map[string]any)["sign"].(map[string]any)
	return s["owner"].(string), s["sig"].(string)
}

func resign(t *testing.T, signed []byte, owner, sig string) []byte {
	t.Helper()
	v, err := Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	m["sign"] = map[string]any{"owner": owner, "sig": sig}
	out, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNodeHexDecodeIsLenient(t *testing.T) {
	for in, want := range map[string]string{
		"abcd": "abcd", "ABCD": "abcd", "abc": "ab", "abzzcd": "ab", "a": "", "": "", "zz": "",
		"ab cd": "ab", "\u0141b": "ab", // U+0141 truncates to 'A'
		"ab\U0001F600": "ab",
	} {
		if got := hex.EncodeToString(nodeHexDecode(in)); got != want {
			t.Errorf("nodeHexDecode(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestVerifyLenientHexAndLengths(t *testing.T) {
	s := testSigner(t, "collector")
	signed, err := s.SignJSON([]byte(`{"count":10,"sender":"` + s.Keys.PublicHex + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	owner, sig := sigOf(t, signed)
	for name, c := range map[string]struct {
		owner, sig string
		want       string // "ok", "mismatch" or "error"
	}{
		"as signed":              {owner, sig, "ok"},
		"upper-case hex":         {strings.ToUpper(owner), strings.ToUpper(sig), "ok"},
		"trailing garbage sig":   {owner, sig + "zz-not-hex", "ok"},
		"odd trailing nibble":    {owner, sig + "f", "ok"},
		"trailing garbage owner": {owner + "xyz", sig, "ok"},
		"extra sig byte":         {owner, sig + "00", "error"},
		"sig too short":          {owner, sig[:126], "error"},
		"sig 64 bytes only":      {owner, sig[:128], "error"},
		"sig truncated by junk":  {owner, sig[:100] + "zz" + sig[102:], "error"},
		"owner 31 bytes":         {owner[:62], sig, "error"},
		"empty owner":            {"", sig, "error"},
		"empty sig":              {owner, "", "error"},
		"flipped signature bit":  {owner, flipHex(sig, 5), "mismatch"},
		"flipped hash bit":       {owner, flipHex(sig, 150), "mismatch"},
		"other owner":            {testSigner(t, "stranger").Keys.PublicHex, sig, "mismatch"},
	} {
		t.Run(name, func(t *testing.T) {
			err := VerifyJSON(s.HashKey, resign(t, signed, c.owner, c.sig))
			switch {
			case c.want == "ok" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case c.want == "mismatch" && !errors.Is(err, ErrSignatureMismatch):
				t.Fatalf("want ErrSignatureMismatch, got %v", err)
			case c.want == "error" && (err == nil || errors.Is(err, ErrSignatureMismatch)):
				t.Fatalf("want a thrown error, got %v", err)
			}
		})
	}
}

func flipHex(s string, i int) string {
	b := []byte(s)
	if b[i] == '0' {
		b[i] = '1'
	} else {
		b[i] = '0'
	}
	return string(b)
}

func TestVerifyRejectsSmallOrderAndNonCanonicalKeys(t *testing.T) {
	s := testSigner(t, "collector")
	h := s.HashKey.Sum([]byte(`{}`))
	for i, bl := range smallOrder {
		sm := make([]byte, 96)
		copy(sm[64:], h[:])
		if err := verifySig(h, hex.EncodeToString(sm), hex.EncodeToString(bl[:])); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("small-order key %d: %v", i, err)
		}
	}
	if isCanonicalPoint(smallOrder[5][:]) || !isCanonicalPoint(smallOrder[4][:]) || !isCanonicalPoint(s.Keys.Public) {
		t.Fatal("isCanonicalPoint wrong at the field boundary")
	}
}

// The small-order table must hold points P with [8]P = identity; check with plain big-integer
// Edwards arithmetic so a typo in the constants cannot pass unnoticed.
func TestSmallOrderTableIsSmallOrder(t *testing.T) {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	d := new(big.Int).Mod(new(big.Int).Mul(big.NewInt(-121665), new(big.Int).ModInverse(big.NewInt(121666), p)), p)
	for i, enc := range smallOrder {
		b := enc
		sign := b[31] >> 7
		b[31] &= 0x7f
		le := make([]byte, 32)
		for j := range le {
			le[j] = b[31-j]
		}
		y := new(big.Int).Mod(new(big.Int).SetBytes(le), p)
		y2 := new(big.Int).Mul(y, y)
		num := new(big.Int).Sub(y2, big.NewInt(1))
		den := new(big.Int).Add(new(big.Int).Mul(d, y2), big.NewInt(1))
		x2 := new(big.Int).Mod(new(big.Int).Mul(num, new(big.Int).ModInverse(den, p)), p)
		x := new(big.Int).ModSqrt(x2, p)
		if x == nil {
			t.Fatalf("entry %d is not on the curve", i)
		}
		if x.Bit(0) != uint(sign) {
			x.Sub(p, x).Mod(x, p)
		}
		px, py := x, y
		for k := 0; k < 3; k++ { // double three times
			xy := new(big.Int).Mul(px, py)
			dxy := new(big.Int).Mul(d, new(big.Int).Mul(xy, xy))
			nx := new(big.Int).Mul(big.NewInt(2), xy)
			nx.Mul(nx, new(big.Int).ModInverse(new(big.Int).Add(big.NewInt(1), dxy), p)).Mod(nx, p)
			ny := new(big.Int).Add(new(big.Int).Mul(py, py), new(big.Int).Mul(px, px))
			ny.Mul(ny, new(big.Int).ModInverse(new(big.Int).Sub(big.NewInt(1), dxy).Mod(new(big.Int).Sub(big.NewInt(1), dxy), p), p)).Mod(ny, p)
			px, py = nx, ny
		}
		if px.Sign() != 0 || py.Cmp(big.NewInt(1)) != 0 {
			t.Errorf("entry %d: [8]P = (%v, %v), not the identity", i, px, py)
		}
	}
}

func TestSignObjectPlacesSignInKeyOrder(t *testing.T) {
	s := testSigner(t, "distributor")
	for _, obj := range []map[string]any{
		{},
		{"a": 1.0},
		{"z": 1.0},
		{"a": 1.0, "signature": "x", "sig": "y", "é": true, "~": nil},
		{"sign": map[string]any{"owner": "old", "sig": "old"}, "b": []any{}},
	} {
		out, err := s.SignObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		canon, err := Canonicalize(out)
		if err != nil || !bytes.Equal(canon, out) {
			t.Fatalf("signed output is not canonical:\n%s\n%s", out, canon)
		}
		if err := VerifyJSON(s.HashKey, out); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		again, err := s.SignJSON(out) // re-signing replaces the old sign
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("re-signing changed the output:\n%s\n%s (%v)", out, again, err)
		}
	}
}

func TestSignSignsTheFixedPoint(t *testing.T) {
	// A Buffer-shaped object under "sig" prints as bb, which is not revived again under "sig":
	// the signed bytes must be what verifyObj will recompute.
	s := testSigner(t, "distributor")
	in := []byte(`{"x":{"sig":{"type":"Buffer","data":[1,2,3]}}}`)
	out, err := s.SignJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"sig":{"dataType":"bb","value":"AQID"}`)) {
		t.Fatalf("unexpected form: %s", out)
	}
	if err := VerifyJSON(s.HashKey, out); err != nil {
		t.Fatal(err)
	}
	frame, err := s.Frame(KindReceipt, in, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyJSON(s.HashKey, frame); err != nil {
		t.Fatalf("%s: %v", frame, err)
	}
	obj, _ := Parse(in)
	out2, err := s.SignObject(obj.(map[string]any))
	if err != nil || !bytes.Equal(out2, out) {
		t.Fatalf("SignObject %s (%v), SignJSON %s", out2, err, out)
	}
}

func TestSignRejects(t *testing.T) {
	s := testSigner(t, "distributor")
	for _, in := range []string{`[]`, `5`, `"s"`, `null`, `{`, `{"a":{"dataType":"bi","value":"x"}}`} {
		if out, err := s.SignJSON([]byte(in)); err == nil {
			t.Errorf("SignJSON(%s) = %s, want error", in, out)
		}
	}
	if _, err := (Signer{}).SignJSON([]byte(`{}`)); err == nil {
		t.Error("a signer without keys signed")
	}
	if _, err := (Signer{}).Frame(KindCycle, []byte(`{}`), ""); err == nil {
		t.Error("a signer without keys made a frame")
	}
}

func TestKeyParsing(t *testing.T) {
	v := loadVectors(t)
	d, c := v.Keys["distributor"], v.Keys["collector"]
	if _, err := ParseKeyPair(d.PublicKey, c.SecretKey); err == nil {
		t.Error("mismatched key pair accepted")
	}
	bad := c.SecretKey[:64] + d.PublicKey // seed of one, public half of another
	if _, err := ParseKeyPair(d.PublicKey, bad); err == nil {
		t.Error("secret whose halves disagree accepted")
	}
	for _, pk := range []string{"", "zz", d.PublicKey[:62]} {
		if _, err := ParseKeyPair(pk, d.SecretKey); err == nil {
			t.Errorf("public key %q accepted", pk)
		}
	}
	if _, err := ParseKeyPair(d.PublicKey, d.SecretKey[:126]); err == nil {
		t.Error("short secret accepted")
	}
	kp, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseKeyPair(kp.PublicHex, kp.SecretHex())
	if err != nil || again.PublicHex != kp.PublicHex {
		t.Fatalf("generated pair does not parse: %v", err)
	}
	for _, k := range []string{"", "00", strings.Repeat("zz", 32), v.HashKey + "00"} {
		if _, err := ParseHashKey(k); err == nil {
			t.Errorf("hash key %q accepted", k)
		}
	}
	hk, err := ParseHashKey(v.HashKey)
	if err != nil || hk.String() != v.HashKey {
		t.Fatalf("hash key round trip: %v", err)
	}
}

func TestFrame(t *testing.T) {
	s := testSigner(t, "distributor")
	line := []byte(` {"b":1,"a":{"dataType":"bi","value":"00FF"},"writtenAt":1700000000123456} `)
	f, err := s.Frame(KindReceipt, line, `receipt-log3.txt:"12"`)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cursor":"receipt-log3.txt:\"12\"","receipt":{"a":{"dataType":"bi","value":"ff"},"b":1,"writtenAt":1700000000123456},"sign":{"owner":"` + s.Keys.PublicHex + `","sig":"`
	if !strings.HasPrefix(string(f), want) {
		t.Fatalf("frame %s", f)
	}
	if err := VerifyJSON(s.HashKey, f); err != nil {
		t.Fatal(err)
	}
	// Tampering with the cursor breaks the signature: the cursor is signed.
	tampered := bytes.Replace(f, []byte(`\"12\"`), []byte(`\"13\"`), 1)
	if err := VerifyJSON(s.HashKey, tampered); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("tampered cursor: %v", err)
	}
	for _, k := range []Kind{KindCycle, KindOriginalTx, "account", "a", "zzz", "signal"} {
		f, err := s.Frame(k, []byte(`[1,{"x":"\u2028"}]`), "c")
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if c, err := Canonicalize(f); err != nil || !bytes.Equal(c, f) {
			t.Fatalf("%s frame not canonical: %s", k, f)
		}
		if err := VerifyJSON(s.HashKey, f); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	for _, k := range []Kind{"", "sign", "cursor"} {
		if _, err := s.Frame(k, []byte(`1`), ""); err == nil {
			t.Errorf("kind %q accepted", k)
		}
	}
	if _, err := s.Frame(KindCycle, []byte(`{"a":`), ""); err == nil {
		t.Error("truncated line accepted")
	}
	// AppendFrame appends.
	buf := []byte("prefix")
	buf, err = s.AppendFrame(buf, KindCycle, []byte(`{}`), "")
	if err != nil || !bytes.HasPrefix(buf, []byte(`prefix{"cycle":{},"sign":`)) {
		t.Fatalf("AppendFrame: %s %v", buf, err)
	}
}

// Frames are kept in rings by the thousand: one must not carry much spare capacity.
func TestFrameCapacityFitsItsLength(t *testing.T) {
	s := testSigner(t, "distributor")
	lines := map[string]string{"whitespace": "{ \"a\" :\n" + strings.Repeat(" ", 4000) + "1 }"}
	for n := 100; n <= 3000; n += 100 { // append's growth steps would leave up to 40 % spare
		lines[fmt.Sprintf("receipt of %d", n)] = `{"cycle":7,"receiptId":"` + strings.Repeat("a", n) + `"}`
	}
	for name, line := range lines {
		b, err := s.Frame(KindReceipt, []byte(line), "receipt-0000000000000001-0000000000000002")
		if err != nil {
			t.Fatal(err)
		}
		if spare := cap(b) - len(b); spare > len(b)/8 {
			t.Errorf("%s: frame of %d bytes has %d bytes of spare capacity", name, len(b), spare)
		}
	}
	// A line that cannot be signed gives no frame at all (the child skips it), not an empty one.
	if b, err := s.Frame(KindReceipt, []byte(`{"cycle":`), ""); err == nil || b != nil {
		t.Errorf("Frame of a truncated line = %q, %v; want nil and an error", b, err)
	}
}

// A root that the reference's stringify/parse copy revives as a Buffer or Uint8Array: signObj
// signs it and hangs "sign" on it, and safeStringify prints the bytes alone. The expected lines
// are what lib-crypto-utils signObj and lib-types safeStringify produced (interop/crypto.js
// checks more of them against the library itself).
func TestSignBytesRootAsTheReference(t *testing.T) {
	s := testSigner(t, "distributor")
	for _, c := range []struct{ in, want string }{
		{`{"data":[1,2,3],"type":"Buffer"}`, `{"value":"AQID","dataType":"bb"}`},
		{` { "type" : "Buffer" , "data" : [ ] } `, `{"value":"","dataType":"bb"}`},
		{`{"type":"Buffer","data":[300,-1,"7",null,true,1.5," 12 ","0x10",[],[5]]}`, `{"value":"LP8HAAEBDBAABQ==","dataType":"bb"}`},
		{`{"type":"Buffer","data":"h\u00e9llo"}`, `{"value":"aMOpbGxv","dataType":"bb"}`},
		{`{"type":"Buffer","data":{"dataType":"u8ab","value":"AQID"}}`, `{"value":"AQID","dataType":"bb"}`},
		{`{"__proto__":1,"type":"Buffer","data":[9]}`, `{"value":"CQ==","dataType":"bb"}`},
		{`{"value":"AQI","dataType":"bb","extra":1}`, `{"value":"AQI=","dataType":"bb"}`},
		{`{"dataType":"u8ab","value":"////"}`, `{"value":"////","dataType":"u8ab"}`},
	} {
		got, err := s.SignJSON([]byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("SignJSON(%s) = %s, %v; the reference sends %s", c.in, got, err, c.want)
		}
	}
	got, err := s.SignObject(map[string]any{"type": "Buffer", "data": []any{1.0, 2.0, 3.0}})
	if err != nil || string(got) != `{"value":"AQID","dataType":"bb"}` {
		t.Errorf("SignObject of a Buffer-shaped map = %s, %v", got, err)
	}
	// With a "sign" member as well, the reference signs a plain object whose signature covers
	// the old "sign" and so never verifies; we refuse it rather than send either form.
	for _, in := range []string{`{"type":"Buffer","data":[1],"sign":{"owner":"x","sig":"y"}}`} {
		if got, err := s.SignJSON([]byte(in)); err == nil {
			t.Errorf("SignJSON(%s) = %s, want an error", in, got)
		}
	}
	if got, err := s.SignObject(map[string]any{"type": "Buffer", "data": "x", "sign": 1.0}); err == nil {
		t.Errorf("SignObject of a Buffer-shaped map with a sign = %s, want an error", got)
	}
	// A BigInt root is no object: signObj throws.
	if got, err := s.SignJSON([]byte(`{"dataType":"bi","value":"ff"}`)); err == nil {
		t.Errorf("SignJSON of a BigInt root = %s, want an error", got)
	}
}
