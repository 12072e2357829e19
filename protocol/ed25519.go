package protocol

import (
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/subtle"
	"hash/maphash"
	"sync/atomic"

	"filippo.io/edwards25519"
)

// Ed25519 signing and verification, byte for byte crypto/ed25519's (Ed25519 is deterministic,
// and a verdict is a function of the group element S·B - k·A), but faster where this service
// spends its time: one signature per frame, one verification per REST request. See edwards.go.

// expandedKey is a secret key with SHA-512(seed) already split into the scalar and the nonce
// prefix, as RFC 8032 §5.1.5 derives them.
type expandedKey struct {
	seed   [32]byte
	pub    [32]byte // the secret key's second half, which crypto/ed25519 hashes as A
	s      edwards25519.Scalar
	prefix [32]byte
}

func expandKey(secret ed25519.PrivateKey) *expandedKey {
	k := &expandedKey{}
	copy(k.seed[:], secret[:32])
	copy(k.pub[:], secret[32:])
	h := sha512.Sum512(k.seed[:])
	if _, err := k.s.SetBytesWithClamping(h[:32]); err != nil {
		panic(err) // impossible: h[:32] is 32 bytes
	}
	copy(k.prefix[:], h[32:])
	return k
}

// matches reports whether k was expanded from secret (a KeyPair's fields are exported and
// could have been replaced after parsing).
func (k *expandedKey) matches(secret ed25519.PrivateKey) bool {
	return len(secret) == ed25519.PrivateKeySize && string(k.seed[:]) == string(secret[:32]) &&
		string(k.pub[:]) == string(secret[32:])
}

// sign writes ed25519.Sign(secret, msg) into sig.
func (k *expandedKey) sign(sig *[64]byte, msg []byte) {
	var digest [64]byte
	sha512Of(&digest, k.prefix[:], nil, msg)
	var r edwards25519.Scalar
	if _, err := r.SetUniformBytes(digest[:]); err != nil {
		panic(err) // impossible: 64 bytes
	}
	scalarBaseMult(sig[:32], r.Bytes())
	sha512Of(&digest, sig[:32], k.pub[:], msg)
	var c, s edwards25519.Scalar
	if _, err := c.SetUniformBytes(digest[:]); err != nil {
		panic(err)
	}
	s.MultiplyAdd(&c, &k.s, &r)
	copy(sig[32:], s.Bytes())
}

// sha512Of sets digest to SHA-512(a‖b‖msg), on the stack when that is short (a signed hash).
func sha512Of(digest *[64]byte, a, b, msg []byte) {
	var buf [128]byte
	if len(a)+len(b)+len(msg) <= len(buf) {
		n := copy(buf[:], a)
		n += copy(buf[n:], b)
		n += copy(buf[n:], msg)
		*digest = sha512.Sum512(buf[:n])
		return
	}
	h := sha512.New()
	h.Write(a)
	h.Write(b)
	h.Write(msg)
	h.Sum(digest[:0])
}

// Sign returns ed25519.Sign(kp.Secret, message), computed faster when kp came from
// ParseKeyPair or GenerateKeyPair.
func (kp KeyPair) Sign(message []byte) []byte {
	var sig [64]byte
	kp.signInto(&sig, message)
	return sig[:]
}

func (kp KeyPair) signInto(sig *[64]byte, message []byte) {
	k := kp.expanded
	if k == nil || !k.matches(kp.Secret) {
		if len(kp.Secret) != ed25519.PrivateKeySize {
			panic("protocol: sign with a key pair that has no 64-byte secret key")
		}
		k = expandKey(kp.Secret)
	}
	k.sign(sig, message)
}

// verifyEd25519 is ed25519.Verify(pub, msg, sig) for a 32-byte pub and a 64-byte sig. Keys
// seen again get a precomputed table (keyCache), which makes verification about three times
// as fast.
func verifyEd25519(pub, msg, sig []byte) bool {
	t := verifyKeys.table(pub)
	if t == nil {
		return ed25519.Verify(ed25519.PublicKey(pub), msg, sig)
	}
	if sig[63]&224 != 0 { // as crypto/ed25519: S must be reduced, which this checks first
		return false
	}
	var digest [64]byte
	sha512Of(&digest, sig[:32], pub, msg)
	var c, s edwards25519.Scalar
	if _, err := c.SetUniformBytes(digest[:]); err != nil {
		return false
	}
	if _, err := s.SetCanonicalBytes(sig[32:]); err != nil {
		return false
	}
	var r [32]byte
	doubleBaseMult(r[:], s.Bytes(), t.negA, c.Bytes()) // S·B + k·(-A)
	return subtle.ConstantTimeCompare(r[:], sig[:32]) == 1
}

// keyTable holds the comb of -A for one public key A (50 KB).
type keyTable struct {
	pub  [32]byte
	negA *comb
}

// keyCache maps public keys to their tables: a small direct-mapped cache (subscribers and
// collectors use few keys). A key gets its table the second time it is seen in a row at its
// slot, so a stream of one-off keys costs what it did before (one plain verification each)
// instead of a table build each. Slots are chosen with a random seed, so no client can aim
// its keys at another's slot.
type keyCache struct {
	seed  maphash.Seed
	slots [64]atomic.Pointer[keySlot]
}

type keySlot struct {
	pub      [32]byte
	table    *keyTable // nil until the key is seen a second time
	notPoint bool      // the key does not decode: no table will ever be built
}

var verifyKeys = &keyCache{seed: maphash.MakeSeed()}

// table returns pub's table, or nil when the caller should verify without one (a key seen
// for the first time, or one that does not decode to a point).
func (c *keyCache) table(pub []byte) *keyTable {
	slot := &c.slots[maphash.Bytes(c.seed, pub)%uint64(len(c.slots))]
	s := slot.Load()
	if s == nil || string(s.pub[:]) != string(pub) {
		n := &keySlot{}
		copy(n.pub[:], pub)
		slot.Store(n)
		return nil
	}
	if s.table != nil || s.notPoint {
		return s.table
	}
	t := newKeyTable(pub)
	slot.Store(&keySlot{pub: s.pub, table: t, notPoint: t == nil})
	return t
}

func newKeyTable(pub []byte) *keyTable {
	a, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil // ed25519.Verify rejects it too, and says so itself
	}
	t := &keyTable{negA: newComb(new(edwards25519.Point).Negate(a), verifyRadix)}
	copy(t.pub[:], pub)
	return t
}
