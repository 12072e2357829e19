package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func unhexT(t *testing.T, what, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("%s is not hex: %v", what, err)
	}
	return b
}

// testdata/rfc8032.json holds the test vectors of RFC 8032 §7.1 (TEST 1, 2, 3, 1024 and
// SHA(abc)): seed, public key, message and signature. Signing is deterministic, so a key pair
// parsed from the seed must produce exactly the listed signature, and verification must accept
// it and nothing near it.
func TestRFC8032Vectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/rfc8032.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct{ Name, Seed, PublicKey, Message, Signature string }
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 5 {
		t.Fatalf("%d RFC 8032 vectors, want 5", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			seed := unhexT(t, "seed", c.Seed)
			msg := unhexT(t, "message", c.Message)
			want := unhexT(t, "signature", c.Signature)
			sec := ed25519.NewKeyFromSeed(seed)
			kp, err := ParseKeyPair(c.PublicKey, hex.EncodeToString(sec))
			if err != nil {
				t.Fatalf("the seed's key pair does not parse with the listed public key: %v", err)
			}
			if got := kp.Sign(msg); !bytes.Equal(got, want) {
				t.Fatalf("signature of the %d-byte message\n got %x\nwant %x", len(msg), got, want)
			}
			if !sodiumVerify(kp.Public, msg, want) {
				t.Fatal("the RFC's signature does not verify")
			}
			other := append(bytes.Clone(msg), 0)
			if sodiumVerify(kp.Public, other, want) {
				t.Fatal("the signature verifies for the message with a byte appended")
			}
			for bit := 0; bit < 512; bit++ {
				bad := bytes.Clone(want)
				bad[bit/8] ^= 1 << (bit % 8)
				if sodiumVerify(kp.Public, msg, bad) {
					t.Fatalf("the signature with bit %d flipped verifies", bit)
				}
			}
		})
	}
}

// testdata/ed25519_edges.json holds Ed25519 edge cases with the official library's verdict on
// each (interop/ed25519-edges.js wrote it; interop/crypto.check.js asks the library again): the
// key, the signed hash, the signature, the signed object that carries them, and whether
// lib-crypto-utils verifyObj (libsodium's crypto_sign_open) accepts it. verifyObj returns false
// on every rejected case, never throws, so VerifyJSON must report a signature mismatch.
func TestEd25519EdgeCasesMatchLibsodium(t *testing.T) {
	raw, err := os.ReadFile("testdata/ed25519_edges.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, PublicKey, Message, Signature, Signed string
		Valid                                       bool
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	hk := vectorHashKey(t, loadVectors(t))
	kinds := map[string]int{}
	valid, stdlibDiffers := 0, 0
	for _, c := range cases {
		pub := unhexT(t, c.Name+": public key", c.PublicKey)
		msg := unhexT(t, c.Name+": message", c.Message)
		sig := unhexT(t, c.Name+": signature", c.Signature)
		if got := sodiumVerify(pub, msg, sig); got != c.Valid {
			t.Errorf("%s: sodiumVerify says %v, libsodium %v (key %s, sig %s)", c.Name, got, c.Valid, c.PublicKey, c.Signature)
		}
		err := VerifyJSON(hk, []byte(c.Signed))
		switch {
		case c.Valid && err != nil:
			t.Errorf("%s: VerifyJSON: %v; the official library accepts %s", c.Name, err, c.Signed)
		case !c.Valid && !errors.Is(err, ErrSignatureMismatch):
			t.Errorf("%s: VerifyJSON = %v, want a signature mismatch; the official library rejects %s", c.Name, err, c.Signed)
		}
		if c.Valid {
			valid++
		}
		if ed25519.Verify(pub, msg, sig) != c.Valid {
			stdlibDiffers++
		}
		kinds[strings.SplitN(c.Name, ":", 2)[0]]++
	}
	// The file must cover every kind of case, both verdicts, and cases that only libsodium's own
	// checks decide (crypto/ed25519 alone accepts a small-order key or R).
	for _, k := range []string{"valid", "small-order key", "non-canonical key", "small-order R", "non-canonical R",
		"S >= L", "mixed-order key (order 8), k·T = 0", "mixed-order key and R (order 8), balanced"} {
		if kinds[k] == 0 {
			t.Errorf("no %q case in testdata/ed25519_edges.json", k)
		}
	}
	if valid < 5 || valid == len(cases) || stdlibDiffers == 0 {
		t.Fatalf("%d cases, %d valid, %d where crypto/ed25519 alone differs: the file does not cover both verdicts and the pre-checks",
			len(cases), valid, stdlibDiffers)
	}
}
