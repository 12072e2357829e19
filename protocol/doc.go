// Package protocol is the wire format shared by every part of the distributor: the Shardus
// canonical JSON (safeJsonParse followed by safeStringify, byte for byte as the Node libraries
// produce it), keyed BLAKE2b-256 hashing, libsodium-style attached Ed25519 signatures, signed
// firehose frames, request authentication (validateRequestData of the reference relayer) and the
// WebSocket handshake and close codes. It depends on nothing else in this module.
//
// Canonical JSON. Parse mirrors JSON.parse with the Shardus reviver: keys __proto__, constructor
// and prototype are dropped at any depth, the last of duplicate keys wins, and (except for the
// value stored directly under a key named "sig", or under a reserved key, since the reviver looks
// at the key first) {"dataType":"bi"} objects become BigInt,
// {"dataType":"bb"} become Bytes and {"dataType":"u8ab"} become Bytes{Uint8Array: true}, using
// Node's lenient base64 decoder (either alphabet; other characters skipped; '=' ends the data;
// UTF-16 code units truncated to their low byte, as Node's C++ decoder does). A "bi" value that BigInt("0x"+value) would reject makes the whole
// parse fail, but only if that object survives duplicate-key resolution, exactly as in JS. Marshal
// mirrors safeStringify: keys sorted by UTF-16 code units, JavaScript string escaping (lone
// surrogates, carried inside Go strings as WTF-8, come back as \udxxx), numbers printed by the
// ECMAScript Number::toString algorithm, bb/u8ab printed value first, and objects shaped exactly
// like {"type":"Buffer","data":[...]} printed as bb. Invalid UTF-8 in input becomes U+FFFD, as
// Node's UTF-8 decoder does. Nesting deeper than MaxDepth is an error (Node throws RangeError a
// little beyond 2000 levels).
//
// One known non-idempotence is inherited from the reference: a Buffer-shaped object directly under
// a "sig" key prints as {"value":…,"dataType":"bb"}, which is not revived when parsed again under
// "sig", so a second canonicalisation sorts it. Signing (Frame, SignObject, SignJSON) therefore
// always signs the fixed point, so every signature we produce verifies with verifyObj. A root the
// reference's copy revives as a Buffer or Uint8Array (Buffer-shaped, bb or u8ab) comes out as the
// reference sends it: safeStringify prints a Buffer by its bytes alone, so the "sign" signObj
// hangs on it is lost, and we write the canonical bytes value without computing one.
//
// Signatures. The hash is BLAKE2b-256 keyed with the network hash key over the canonical bytes of
// the object without its top-level "sign"; sign.sig is hex(Ed25519 signature ‖ hash) and
// sign.owner the public key hex. Verify follows lib-crypto-utils verifyObj: Node's lenient hex
// decoding of owner and sig, a thrown error (not a false verdict) for a sig that is not 96 bytes
// or a key that is not 32 bytes, and libsodium's crypto_sign_open checks (canonical S, no
// small-order R or key, canonical key encoding) before the opened message is compared with the
// recomputed hash. ErrSignatureMismatch distinguishes a false verdict from a malformed signature.
// Signing and verification are crypto/ed25519's; libsodium's extra refusals run before it.
//
// Authentication. Auth.Validate is validateRequestData with the reference error texts and order,
// with two deliberate fixes of reference bugs (rest-api.md §3 and §9): a subscription is expired
// when expirationTimestamp != 0 && expirationTimestamp < now (the reference has the comparison
// inverted), and the collectorInfo timestamp must be within 30 s of now in either direction. A
// timestamp of 0 no longer bypasses that check: it would make a handshake replayable forever, and
// collectors always send Date.now().
package protocol
