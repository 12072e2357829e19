package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// HashKey is the 32-byte key of the network's keyed BLAKE2b-256 (DISTRIBUTOR_HASH_KEY).
type HashKey [32]byte

// ParseHashKey parses the hash key from 64 hex characters.
func ParseHashKey(hexStr string) (HashKey, error) {
	var k HashKey
	b, err := hex.DecodeString(hexStr)
	if err != nil {
		return k, fmt.Errorf("protocol: hash key is not hex: %v", err)
	}
	if len(b) != len(k) {
		return k, fmt.Errorf("protocol: hash key must be 32 bytes (64 hex characters), got %d bytes", len(b))
	}
	copy(k[:], b)
	return k, nil
}

// String returns the key in hex.
func (k HashKey) String() string { return hex.EncodeToString(k[:]) }

type keyedHash struct {
	key HashKey
	h   hash.Hash
	sum [32]byte // Sum's output buffer: a local would escape through the interface call
}

var hashPool sync.Pool

// Sum returns the keyed BLAKE2b-256 of canonical (libsodium crypto_generichash with the key).
func (k HashKey) Sum(canonical []byte) [32]byte {
	kh, _ := hashPool.Get().(*keyedHash)
	if kh == nil || kh.key != k {
		h, err := blake2b.New256(k[:])
		if err != nil {
			panic(err) // impossible: the key is 32 bytes
		}
		kh = &keyedHash{key: k, h: h}
	} else {
		kh.h.Reset()
	}
	kh.h.Write(canonical)
	kh.h.Sum(kh.sum[:0])
	out := kh.sum
	hashPool.Put(kh)
	return out
}

// KeyPair is an Ed25519 key pair. Secret has libsodium's 64-byte layout (seed ‖ public), which
// is also Go's ed25519.PrivateKey.
type KeyPair struct {
	Public    ed25519.PublicKey
	Secret    ed25519.PrivateKey
	PublicHex string
}

// ParseKeyPair parses hex keys (public 32 bytes, secret 64 bytes) and checks that they belong
// together.
func ParseKeyPair(publicHex, secretHex string) (KeyPair, error) {
	pub, err := hex.DecodeString(publicHex)
	if err != nil {
		return KeyPair{}, fmt.Errorf("protocol: public key is not hex: %v", err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return KeyPair{}, fmt.Errorf("protocol: public key must be 32 bytes (64 hex characters), got %d bytes", len(pub))
	}
	sec, err := hex.DecodeString(secretHex)
	if err != nil {
		return KeyPair{}, fmt.Errorf("protocol: secret key is not hex: %v", err)
	}
	if len(sec) != ed25519.PrivateKeySize {
		return KeyPair{}, fmt.Errorf("protocol: secret key must be 64 bytes (128 hex characters, seed then public key), got %d bytes", len(sec))
	}
	derived := ed25519.NewKeyFromSeed(sec[:32])
	if !bytes.Equal(derived[32:], sec[32:]) {
		return KeyPair{}, fmt.Errorf("protocol: secret key's second half is not the public key of its seed")
	}
	if !bytes.Equal(sec[32:], pub) {
		return KeyPair{}, fmt.Errorf("protocol: secret key does not belong to public key %s", publicHex)
	}
	return KeyPair{Public: pub, Secret: sec, PublicHex: hex.EncodeToString(pub)}, nil
}

// GenerateKeyPair returns a new random key pair.
func GenerateKeyPair() (KeyPair, error) {
	pub, sec, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("protocol: generating key pair: %w", err)
	}
	return KeyPair{Public: pub, Secret: sec, PublicHex: hex.EncodeToString(pub)}, nil
}

// Sign returns the Ed25519 signature of message (ed25519.Sign, which hashes the secret key's
// second half as the public key, as libsodium's crypto_sign does).
func (kp KeyPair) Sign(message []byte) []byte {
	var sig [64]byte
	kp.signInto(&sig, message)
	return sig[:]
}

func (kp KeyPair) signInto(sig *[64]byte, message []byte) {
	if len(kp.Secret) != ed25519.PrivateKeySize {
		panic("protocol: sign with a key pair that has no 64-byte secret key")
	}
	copy(sig[:], ed25519.Sign(kp.Secret, message))
}

// SecretHex returns the secret key in hex (libsodium layout).
func (kp KeyPair) SecretHex() string { return hex.EncodeToString(kp.Secret) }

// nodeHexDecode is Buffer.from(s, 'hex') for the JS string s given as WTF-8: code units are
// truncated to their low byte, decoding stops at the first pair that is not two hex digits, and
// an odd trailing digit is dropped.
func nodeHexDecode(s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return hexPairs(s)
	}
	units := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			units = append(units, c)
			i++
			continue
		}
		r, n, _ := decodeWTF8(s[i:])
		i += n
		if r >= 0x10000 {
			r -= 0x10000
			units = append(units, byte(0xD800+r>>10), byte(0xDC00+r&0x3FF))
			continue
		}
		units = append(units, byte(r))
	}
	return hexPairs(units)
}

// hexPairs decodes pairs of hex digits up to the first pair that is not one.
func hexPairs[S ~string | ~[]byte](units S) []byte {
	out := make([]byte, 0, len(units)/2)
	for i := 0; i+1 < len(units); i += 2 {
		a, b := unhex(units[i]), unhex(units[i+1])
		if a < 0 || b < 0 {
			break
		}
		out = append(out, byte(a<<4|b))
	}
	return out
}
