package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
	gf "filippo.io/edwards25519/field"
)

// The fast Ed25519 paths must agree with crypto/ed25519 exactly: same signature bytes, same
// verdict on every input, including the adversarial ones.

var p25519 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

func leBytes(x *big.Int) []byte {
	b := x.FillBytes(make([]byte, 32))
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

func testRand(t testing.TB) *rand.Rand {
	seed := uint64(rand.Uint32())
	t.Logf("random seed %d", seed)
	return rand.New(rand.NewPCG(seed, 1))
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestInvertMatchesFermat(t *testing.T) {
	r := testRand(t)
	var cases []*big.Int
	for _, v := range []int64{0, 1, 2, 3, 19, 121666, 1 << 62} {
		cases = append(cases, big.NewInt(v))
	}
	for _, v := range []int64{1, 2, 19, 20} {
		cases = append(cases, new(big.Int).Sub(p25519, big.NewInt(v)))
	}
	for i := 0; i < 20000; i++ {
		x := new(big.Int).SetBytes(randBytes(r, 32))
		x.Rsh(x, uint(i%256)) // short and long values
		cases = append(cases, x.Mod(x, p25519))
	}
	for _, x := range cases {
		var z, want, got, gotVar gf.Element
		z.SetBytes(leBytes(x))
		want.Invert(&z)
		invert(&got, &z)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("1/%v: got %x, want %x", x, got.Bytes(), want.Bytes())
		}
		invertVartime(&gotVar, &z)
		if !bytes.Equal(gotVar.Bytes(), want.Bytes()) {
			t.Fatalf("1/%v in variable time: got %x, want %x", x, gotVar.Bytes(), want.Bytes())
		}
	}
}

func TestCurveConstant(t *testing.T) {
	// d = -121665/121666 mod p, from RFC 8032 §5.1.
	d, _ := new(big.Int).SetString("37095705934669439343138083508754565189542113879843219016388785533085940283555", 10)
	want := leBytes(new(big.Int).Mod(new(big.Int).Lsh(d, 1), p25519))
	if got := d2.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("2d = %x, want %x", got, want)
	}
}

func TestScalarBaseMultMatchesStdlib(t *testing.T) {
	r := testRand(t)
	l := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 252), mustBig("27742317777372353535851937790883648493"))
	var scalars [][]byte
	for _, v := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(8), big.NewInt(9),
		new(big.Int).Sub(l, big.NewInt(1)), new(big.Int).Rsh(l, 1)} {
		scalars = append(scalars, leBytes(v))
	}
	eights := make([]byte, 32) // every digit 8 before the carry pass
	for i := range eights {
		eights[i] = 0x88
	}
	eights[31] = 0x08
	scalars = append(scalars, eights)
	for i := 0; i < 300; i++ {
		scalars = append(scalars, randBytes(r, 64))
	}
	for _, b := range scalars {
		var s edwards25519.Scalar
		if len(b) == 64 {
			s.SetUniformBytes(b)
		} else if _, err := s.SetCanonicalBytes(b); err != nil {
			t.Fatal(err)
		}
		want := new(edwards25519.Point).ScalarBaseMult(&s).Bytes()
		got := make([]byte, 32)
		scalarBaseMult(got, s.Bytes())
		if !bytes.Equal(got, want) {
			t.Fatalf("%x·B = %x, want %x", s.Bytes(), got, want)
		}
	}
}

func mustBig(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return v
}

func TestSignMatchesStdlib(t *testing.T) {
	r := testRand(t)
	for i := 0; i < 200; i++ {
		kp := seedKeyPair(t, randBytes(r, 32))
		for _, n := range []int{0, 1, 31, 32, 33, 63, 64, 65, 100, 1000} {
			msg := randBytes(r, n)
			want := ed25519.Sign(kp.Secret, msg)
			if got := kp.Sign(msg); !bytes.Equal(got, want) {
				t.Fatalf("key %x, %d-byte message: signature %x, want %x", kp.Secret[:32], n, got, want)
			}
		}
	}
}

func seedKeyPair(t testing.TB, seed []byte) KeyPair {
	sec := ed25519.NewKeyFromSeed(seed)
	kp, err := ParseKeyPair(hex.EncodeToString(sec[32:]), hex.EncodeToString(sec))
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// A KeyPair assembled by hand, or whose secret was replaced after parsing, still signs with
// the secret it holds, as ed25519.Sign would.
func TestSignWithoutOrWithStaleExpansion(t *testing.T) {
	a, b := seedKeyPair(t, bytes.Repeat([]byte{1}, 32)), seedKeyPair(t, bytes.Repeat([]byte{2}, 32))
	msg := []byte("frame hash")
	bare := KeyPair{Public: b.Public, Secret: b.Secret}
	if got, want := bare.Sign(msg), ed25519.Sign(b.Secret, msg); !bytes.Equal(got, want) {
		t.Fatalf("hand-made key pair: %x, want %x", got, want)
	}
	stale := a
	stale.Secret = b.Secret
	if got, want := stale.Sign(msg), ed25519.Sign(b.Secret, msg); !bytes.Equal(got, want) {
		t.Fatalf("replaced secret: %x, want %x", got, want)
	}
	// crypto/ed25519 hashes the secret key's second half as A, whatever it is.
	odd := KeyPair{Secret: append(append(ed25519.PrivateKey{}, a.Secret[:32]...), b.Secret[32:]...)}
	if got, want := odd.Sign(msg), ed25519.Sign(odd.Secret, msg); !bytes.Equal(got, want) {
		t.Fatalf("mismatched halves: %x, want %x", got, want)
	}
}

// verifyAll checks verifyEd25519 against ed25519.Verify three times: the first sighting of
// the key (no table), the second (table built) and the third (table reused).
func verifyAll(t *testing.T, what string, pub, msg, sig []byte) bool {
	t.Helper()
	want := ed25519.Verify(ed25519.PublicKey(pub), msg, sig)
	for pass := 0; pass < 3; pass++ {
		if got := verifyEd25519(pub, msg, sig); got != want {
			t.Fatalf("%s, pass %d: pub %x msg %x sig %x: got %v, want %v", what, pass, pub, msg, sig, got, want)
		}
	}
	return want
}

func TestVerifyMatchesStdlib(t *testing.T) {
	r := testRand(t)
	order8, err := new(edwards25519.Point).SetBytes(smallOrder[2][:]) // a point of order 8
	if err != nil {
		t.Fatal(err)
	}
	valid, tableUsed := 0, 0
	for i := 0; i < 40; i++ {
		kp := seedKeyPair(t, randBytes(r, 32))
		msg := randBytes(r, 32)
		sig := ed25519.Sign(kp.Secret, msg)
		if verifyAll(t, "valid", kp.Public, msg, sig) {
			valid++
		}
		if verifyKeys.table(kp.Public) != nil {
			tableUsed++
		}
		verifyAll(t, "other message", kp.Public, randBytes(r, 32), sig)
		for j := 0; j < 8; j++ { // one flipped bit anywhere in the signature
			bad := bytes.Clone(sig)
			bad[r.IntN(64)] ^= 1 << r.IntN(8)
			verifyAll(t, "flipped bit", kp.Public, msg, bad)
		}
		// S + L: the same residue, not canonical; S with the top bits set.
		s := new(big.Int).SetBytes(reverse(sig[32:]))
		l := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 252), mustBig("27742317777372353535851937790883648493"))
		bad := append(bytes.Clone(sig[:32]), leBytes(s.Add(s, l))...)
		verifyAll(t, "S+L", kp.Public, msg, bad)
		bad = bytes.Clone(sig)
		bad[63] |= 0xe0
		verifyAll(t, "S high bits", kp.Public, msg, bad)
		// R replaced by small-order points and by a non-canonical y.
		for _, so := range smallOrder {
			bad = append(so[:], sig[32:]...)
			verifyAll(t, "small-order R", kp.Public, msg, bad)
		}
		bad = bytes.Clone(sig)
		bad[0], bad[31] = 0xee, bad[31]|0x7f
		for k := 1; k < 31; k++ {
			bad[k] = 0xff
		}
		verifyAll(t, "non-canonical R", kp.Public, msg, bad)
		verifyAll(t, "random sig", kp.Public, msg, randBytes(r, 64))
	}
	if valid != 40 || tableUsed != 40 {
		t.Fatalf("%d valid signatures and %d keys with tables, want 40 and 40", valid, tableUsed)
	}

	// Keys with a small-order component: cofactorless verification accepts exactly when
	// k·T = 0 (one time in eight here), and both implementations must agree on which.
	torsionValid := 0
	for i := 0; i < 80; i++ {
		var a, nonce edwards25519.Scalar
		a.SetUniformBytes(randBytes(r, 64))
		nonce.SetUniformBytes(randBytes(r, 64))
		pubPt := new(edwards25519.Point).ScalarBaseMult(&a)
		pubPt.Add(pubPt, order8)
		pub := pubPt.Bytes()
		msg := randBytes(r, 32)
		R := new(edwards25519.Point).ScalarBaseMult(&nonce)
		if i%2 == 1 {
			R.Add(R, order8) // a mixed-order R as well
		}
		h := sha512.Sum512(append(append(R.Bytes(), pub...), msg...))
		var k, s edwards25519.Scalar
		k.SetUniformBytes(h[:])
		s.MultiplyAdd(&k, &a, &nonce)
		sig := append(R.Bytes(), s.Bytes()...)
		if verifyAll(t, "torsion key", pub, msg, sig) {
			torsionValid++
		}
	}
	if torsionValid == 0 || torsionValid == 80 {
		t.Fatalf("%d of 80 torsion signatures verified; the cases do not cover both verdicts", torsionValid)
	}

	// Keys that are not points, or not canonical.
	msg := randBytes(r, 32)
	sig := randBytes(r, 64)
	for i := 0; i < 200; i++ {
		pub := randBytes(r, 32) // about half are not on the curve
		verifyAll(t, "random key", pub, msg, sig)
	}
	for _, so := range smallOrder {
		verifyAll(t, "small-order key", so[:], msg, sig)
	}
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

// Concurrent verifications and signatures share the key cache and the basepoint tables.
func TestEd25519Concurrent(t *testing.T) {
	kps := []KeyPair{seedKeyPair(t, bytes.Repeat([]byte{3}, 32)), seedKeyPair(t, bytes.Repeat([]byte{4}, 32))}
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 30; i++ {
				kp := kps[(g+i)%2]
				msg := []byte{byte(g), byte(i)}
				sig := kp.Sign(msg)
				if !verifyEd25519(kp.Public, msg, sig) || verifyEd25519(kp.Public, msg[:1], sig) {
					done <- fmt.Errorf("goroutine %d, message %d: wrong verdict", g, i)
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// signedRadix's digits must add up to the scalar, within their range, for every window the
// combs may use, including the largest reduced scalars.
func TestSignedRadix(t *testing.T) {
	r := testRand(t)
	l := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 252), mustBig("27742317777372353535851937790883648493"))
	vals := []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Sub(l, big.NewInt(1)),
		new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 253), big.NewInt(1))}
	for i := 0; i < 500; i++ {
		vals = append(vals, new(big.Int).Mod(new(big.Int).SetBytes(randBytes(r, 40)), l))
	}
	for w := uint(4); w <= 8; w++ {
		for _, v := range vals {
			d := signedRadix(leBytes(v), w)
			sum := new(big.Int)
			for i := radixDigits(w) - 1; i >= 0; i-- {
				if d[i] < -(1<<(w-1)) || int(d[i]) >= 1<<(w-1) {
					t.Fatalf("w=%d, %v: digit %d is %d", w, v, i, d[i])
				}
				sum.Lsh(sum, w).Add(sum, big.NewInt(int64(d[i])))
			}
			if sum.Cmp(v) != 0 {
				t.Fatalf("w=%d: digits of %v add up to %v", w, v, sum)
			}
		}
	}
}
