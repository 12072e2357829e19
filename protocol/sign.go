package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
)

// ErrSignatureMismatch means a well-formed signature does not verify: verifyObj would return
// false (the reference answers "Invalid signature"). Every other Verify error corresponds to
// verifyObj throwing ("Error validating request data").
var ErrSignatureMismatch = errors.New("signature does not match the object")

// Signer signs objects and frames with one key pair under one hash key.
type Signer struct {
	HashKey HashKey
	Keys    KeyPair
	// Cache, if not nil, remembers signatures: processes that sign the same frames with the same
	// key (a distributor's children, all reading one data log) then sign each frame once between
	// them. Ed25519 is deterministic, so a remembered signature is exactly the one signing
	// would produce.
	Cache SigCache
}

// SigCache remembers Ed25519 signatures by public key and signed hash.
type SigCache interface {
	// Load fills sig with the signature of h by pub, if remembered.
	Load(pub, h *[32]byte, sig *[64]byte) bool
	// Store remembers sig as the signature of h by pub.
	Store(pub, h *[32]byte, sig *[64]byte)
}

func (s Signer) check() error {
	if len(s.Keys.Secret) != ed25519.PrivateKeySize {
		return errors.New("protocol: signer has no secret key")
	}
	return nil
}

// appendSignMember appends `"sign":{"owner":…,"sig":…}` for the hash h.
func (s Signer) appendSignMember(dst []byte, h [32]byte) []byte {
	var sig [64]byte
	if s.Cache == nil {
		s.Keys.signInto(&sig, h[:])
	} else if pub := (*[32]byte)(s.Keys.Secret[32:]); !s.Cache.Load(pub, &h, &sig) {
		s.Keys.signInto(&sig, h[:])
		s.Cache.Store(pub, &h, &sig)
	}
	dst = append(dst, `"sign":{"owner":"`...)
	if s.Keys.PublicHex != "" {
		dst = append(dst, s.Keys.PublicHex...)
	} else {
		dst = hex.AppendEncode(dst, s.Keys.Secret[32:])
	}
	dst = append(dst, `","sig":"`...)
	dst = hex.AppendEncode(dst, sig[:])
	dst = hex.AppendEncode(dst, h[:])
	return append(dst, `"}`...)
}

// SignObject returns the canonical bytes of obj with a "sign" member: the object (any existing
// top-level "sign" dropped) is hashed in canonical form and signed, as lib-crypto-utils signObj
// does after the reference's stringify/parse round trip.
func (s Signer) SignObject(obj map[string]any) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	e := encoder{skipSign: true, signing: true}
	if err := e.value(obj, false, true); err != nil {
		return nil, err
	}
	if e.nonFixed {
		return s.SignJSON(e.buf)
	}
	return s.finish(&e), nil
}

// finish returns e's root with its "sign" member, or as it stands when the reference's output
// has none (see encoder.bareRoot).
func (s Signer) finish(e *encoder) []byte {
	if e.bareRoot {
		return e.buf
	}
	h := s.HashKey.Sum(e.buf)
	var tmp [400]byte
	sign := s.appendSignMember(tmp[:0], h)
	return e.insertSign(make([]byte, 0, len(e.buf)+len(sign)+1), sign)
}

// SignJSON parses data (which must be a JSON object) and signs it like SignObject.
func (s Signer) SignJSON(data []byte) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	for pass := 0; ; pass++ {
		e, err := canonicalRoot(data, true)
		if err != nil {
			return nil, err
		}
		if e.nonFixed && pass == 0 {
			data = e.buf // sign the fixed point, so that verifyObj agrees
			continue
		}
		return s.finish(e), nil
	}
}

// canonicalRoot parses data, which must be an object, and writes it canonically without its
// "sign" member, recording where "sign" belongs.
func canonicalRoot(data []byte, signing bool) (*encoder, error) {
	d := getDoc()
	defer putDoc(d)
	root, err := d.parse(data)
	if err != nil {
		return nil, err
	}
	n := d.nodes[root]
	e := &encoder{skipSign: true, signing: signing}
	if n.kind == kBytes && signing {
		// A bb or u8ab object, which safeJsonParse revives as a Buffer or Uint8Array.
		e.bytes(d.scratch[n.a:n.b], n.flags&flagU8 != 0)
		e.bareRoot = true
		return e, nil
	}
	if n.kind != kObject {
		return nil, errors.New("protocol: a signed value must be a JSON object")
	}
	if err := e.object(d, d.members[n.a:n.a+n.b], false, true); err != nil {
		return nil, err
	}
	return e, nil
}

// Verify checks obj's "sign" as lib-crypto-utils verifyObj does. nil means valid; an error
// wrapping ErrSignatureMismatch means verifyObj returns false; any other error means it throws.
func Verify(k HashKey, obj map[string]any) error {
	sign, ok := obj["sign"].(map[string]any)
	if !ok || !Truthy(sign["owner"]) || !Truthy(sign["sig"]) {
		return errors.New("protocol: object must contain a sign field with owner and sig")
	}
	owner, ok := sign["owner"].(string)
	if !ok {
		return errors.New("protocol: sign.owner must be a public key as a hex string")
	}
	sig, ok := sign["sig"].(string)
	if !ok {
		return errors.New("protocol: sign.sig must be a hex string")
	}
	e := encoder{skipSign: true}
	if err := e.value(obj, false, true); err != nil {
		return err
	}
	return verifySig(k.Sum(e.buf), sig, owner)
}

// VerifyJSON parses data and verifies it like Verify.
func VerifyJSON(k HashKey, data []byte) error {
	d := getDoc()
	defer putDoc(d)
	root, err := d.parse(data)
	if err != nil {
		return err
	}
	n := d.nodes[root]
	if n.kind != kObject {
		return errors.New("protocol: object must contain a sign field with owner and sig")
	}
	sign := d.member(n, "sign")
	if sign < 0 || d.nodes[sign].kind != kObject {
		return errors.New("protocol: object must contain a sign field with owner and sig")
	}
	sn := d.nodes[sign]
	ow, sg := d.member(sn, "owner"), d.member(sn, "sig")
	if ow < 0 || sg < 0 || !d.truthy(ow) || !d.truthy(sg) {
		return errors.New("protocol: object must contain a sign field with owner and sig")
	}
	if d.nodes[ow].kind != kString {
		return errors.New("protocol: sign.owner must be a public key as a hex string")
	}
	if d.nodes[sg].kind != kString {
		return errors.New("protocol: sign.sig must be a hex string")
	}
	bp := framePool.Get().(*[]byte)
	defer putFrameBuf(bp)
	e := encoder{buf: (*bp)[:0], skipSign: true}
	err = e.object(d, d.members[n.a:n.a+n.b], false, true)
	*bp = e.buf[:0]
	if err != nil {
		return err
	}
	return verifySig(k.Sum(e.buf), string(d.bytesOf(d.nodes[sg])), string(d.bytesOf(d.nodes[ow])))
}

// verifySig is lib-crypto-utils verify(): Node hex decoding, sodium-native's length checks,
// crypto_sign_open, then a comparison of the opened message with the hash.
func verifySig(h [32]byte, sigHex, ownerHex string) error {
	sm := nodeHexDecode(sigHex)
	pk := nodeHexDecode(ownerHex)
	if len(sm) < ed25519.SignatureSize {
		return fmt.Errorf("protocol: sign.sig decodes to %d bytes, fewer than 64", len(sm))
	}
	if len(pk) != ed25519.PublicKeySize {
		return fmt.Errorf("protocol: sign.owner decodes to %d bytes, not a 32-byte public key", len(pk))
	}
	if len(sm) != ed25519.SignatureSize+len(h) {
		return fmt.Errorf("protocol: sign.sig decodes to %d bytes, not a 64-byte signature and a 32-byte hash", len(sm))
	}
	if !sodiumVerify(pk, sm[64:], sm[:64]) {
		return fmt.Errorf("protocol: %w (Ed25519 verification failed for owner %.16s…)", ErrSignatureMismatch, ownerHex)
	}
	if !bytes.Equal(sm[64:], h[:]) {
		return fmt.Errorf("protocol: %w (the signed hash is not the hash of the object)", ErrSignatureMismatch)
	}
	return nil
}

// sodiumVerify is libsodium's crypto_sign_verify_detached for a 32-byte pk and a 64-byte sig.
// Both it and crypto/ed25519 verify without the cofactor, refuse S >= L and compare the
// encoding of S·B - k·A with R byte for byte (so a non-canonical R never verifies); libsodium
// also refuses a small-order R or public key and a public key whose y is not below p, which
// crypto/ed25519 accepts. Those checks come first, so every verdict is libsodium's.
func sodiumVerify(pk, msg, sig []byte) bool {
	if hasSmallOrder(sig[:32]) || !isCanonicalPoint(pk) || hasSmallOrder(pk) {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(pk), msg, sig)
}

// smallOrder lists the encodings of points of small order, as libsodium's
// ge25519_has_small_order does (the sign bit of the last byte is ignored).
var smallOrder = [7][32]byte{
	{},
	{1},
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
		0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
		0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
	fieldBytes(0xec), // p-1
	fieldBytes(0xed), // p
	fieldBytes(0xee), // p+1
}

func fieldBytes(first byte) (b [32]byte) {
	b[0] = first
	for i := 1; i < 31; i++ {
		b[i] = 0xff
	}
	b[31] = 0x7f
	return
}

func hasSmallOrder(s []byte) bool {
	for _, bl := range smallOrder {
		if bytes.Equal(s[:31], bl[:31]) && s[31]&0x7f == bl[31] {
			return true
		}
	}
	return false
}

// isCanonicalPoint is ge25519_is_canonical: the y coordinate is below p.
func isCanonicalPoint(s []byte) bool {
	if s[31]&0x7f != 0x7f {
		return true
	}
	for i := 30; i > 0; i-- {
		if s[i] != 0xff {
			return true
		}
	}
	return s[0] < 0xed
}

// Truthy is JavaScript truthiness over Parse values (the reference's handlers test request fields
// and signature parts with it).
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	case BigInt:
		h, _ := normaliseBigIntHex([]byte(x.Hex))
		return h != "0"
	}
	return true
}

func (d *doc) truthy(i int32) bool {
	n := d.nodes[i]
	switch n.kind {
	case kNull, kFalse:
		return false
	case kNumber:
		f := d.float(n)
		return f != 0 && !math.IsNaN(f)
	case kString:
		return n.b > n.a
	case kBigInt:
		return string(d.scratch[n.a:n.b]) != "0"
	}
	return true
}
