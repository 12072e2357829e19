#!/usr/bin/env node
// Oracle for protocol/testdata/ed25519_edges.json: Ed25519 edge cases (small-order and
// non-canonical public keys, small-order and non-canonical R, S >= L, mixed-order keys and R,
// points off the curve), each as a signed object with the official library's verdict on it:
// verifyObj of @shardeum-foundation/lib-crypto-utils, which opens sign.sig with sodium-native's
// crypto_sign_open. The Go tests check our verdict on each case against that one; the interop
// check (crypto.check.js) asks the official library again and compares it with our binary's.
// Deterministic (a fixed seed), so regenerating gives the same file:
//   node interop/ed25519-edges.js > protocol/testdata/ed25519_edges.json
// Points are built with libsodium's own group operations (crypto_scalarmult_ed25519_base_noclamp,
// crypto_core_ed25519_add); only the scalar arithmetic mod L is done here, with BigInt.
'use strict';

const crypto = require('crypto');
const sodium = require('sodium-native');
const { libCrypto, Utils } = require('./lib/official');

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function mulberry32(seed) {
  return function () {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}
const rnd = mulberry32(8032);
function randomBytes(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE(rnd(), i);
  return b;
}

const toBig = (b) => BigInt('0x' + (Buffer.from(b).reverse().toString('hex') || '0'));
function toLE(x, n = 32) {
  const b = Buffer.from(x.toString(16).padStart(n * 2, '0'), 'hex');
  return b.reverse();
}
const randomScalar = () => toBig(randomBytes(64)) % L;

function base(s) {
  const q = Buffer.alloc(32);
  sodium.crypto_scalarmult_ed25519_base_noclamp(q, toLE(s));
  return q;
}
function add(p, q) {
  const r = Buffer.alloc(32);
  sodium.crypto_core_ed25519_add(r, p, q);
  return r;
}
function challenge(R, A, msg) {
  return toBig(crypto.createHash('sha512').update(Buffer.concat([R, A, msg])).digest()) % L;
}
const sig = (R, S) => Buffer.concat([R, toLE(S)]);
const hex = (b) => Buffer.from(b).toString('hex');

// Encodings (little-endian y, sign of x in the top bit).
function fieldEnc(low) {
  const b = Buffer.alloc(32, 0xff);
  b[0] = low;
  b[31] = 0x7f;
  return b;
}
const withSign = (b) => {
  const c = Buffer.from(b);
  c[31] |= 0x80;
  return c;
};
const small = (y) => {
  const b = Buffer.alloc(32);
  b[0] = y;
  return b;
};
const IDENTITY = small(1);
const ORDER8 = Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex');
const ORDER4 = small(0); // y = 0: x = ±sqrt(-1)
const ORDER2 = fieldEnc(0xec); // y = -1, x = 0
// libsodium's ge25519_has_small_order list, and each with the sign bit set.
const SMALL_ORDER = [
  ['y=0 (order 4)', small(0)],
  ['identity', IDENTITY],
  ['order 8', ORDER8],
  ['order 8, other', Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex')],
  ['y=p-1 (order 2)', ORDER2],
  ['y=p (non-canonical, order 4)', fieldEnc(0xed)],
  ['y=p+1 (non-canonical identity)', fieldEnc(0xee)],
];
function multiple(T, j) {
  let p = IDENTITY;
  for (let i = 0; i < j; i++) p = add(p, T);
  return p;
}

const cases = [];
let n = 0;
// push signs the object {"case": name, "n": i} with (pub, R, S) computed by make(msg), where msg
// is the hash verifyObj recomputes, and records the official verdict on it.
function push(name, make) {
  const obj = { case: name, n: n++ };
  const h = libCrypto.hashObj(obj);
  const msg = Buffer.from(h, 'hex');
  const { pub, signature } = make(msg);
  const line = Utils.safeStringify({ ...obj, sign: { owner: hex(pub), sig: hex(signature) + h } });
  // verifyObj returns false (the reference's "Invalid signature") rather than throwing on each
  // case: the signatures are well-formed, only their verdict is at stake.
  const valid = libCrypto.verifyObj(Utils.safeJsonParse(line));
  let detached;
  try {
    detached = sodium.crypto_sign_verify_detached(signature, msg, pub);
  } catch (e) {
    detached = false;
  }
  if (detached !== valid) throw new Error(`${name}: verifyObj says ${valid}, crypto_sign_verify_detached ${detached}`);
  cases.push({ name, publicKey: hex(pub), message: h, signature: hex(signature), signed: line, valid });
}

// A key pair and an honest signature; sign returns S for nonce r.
function honest(msg) {
  const a = randomScalar();
  const A = base(a);
  const r = randomScalar();
  const R = base(r);
  return { a, A, r, R, S: (r + challenge(R, A, msg) * a) % L };
}

// Untouched signatures: the control group.
for (let i = 0; i < 3; i++) {
  push('valid', (msg) => {
    const { A, R, S } = honest(msg);
    return { pub: A, signature: sig(R, S) };
  });
}

// Small-order public keys: R = rB and S = r with k ≡ 0 mod 8, so S·B - k·A = R and a verifier
// without libsodium's small-order check accepts.
for (const [label, enc] of SMALL_ORDER) {
  for (const A of [enc, withSign(enc)]) {
    push(`small-order key: ${label}${A[31] & 0x80 ? ', sign bit set' : ''}`, (msg) => {
      for (;;) {
        const r = randomScalar();
        const R = base(r);
        if (challenge(R, A, msg) % 8n === 0n) return { pub: A, signature: sig(R, r) };
      }
    });
  }
}

// Non-canonical public keys: y = p + d (d = 2..18, both signs). Those that decode are points of
// large order whose discrete logarithm nobody knows, so the signature is an honest one of
// another key; libsodium refuses the encoding before it looks.
for (let d = 2; d <= 18; d++) {
  for (const sign of [false, true]) {
    const enc = fieldEnc(0xed + d);
    const A = sign ? withSign(enc) : enc;
    push(`non-canonical key: y=p+${d}${sign ? ', sign bit set' : ''}`, (msg) => {
      const { R, S } = honest(msg);
      return { pub: A, signature: sig(R, S) };
    });
  }
}

// Keys and R that are not points at all.
push('key not on the curve', (msg) => {
  const { R, S } = honest(msg);
  return { pub: small(2), signature: sig(R, S) };
});
push('R not on the curve', (msg) => {
  const { A, S } = honest(msg);
  return { pub: A, signature: sig(small(2), S) };
});

// Small-order R: r = 0 (R the identity), S = k·a, so S·B - k·A is the identity; and R = T with a
// mixed-order key A = aB + T' chosen so that the equation holds.
push('small-order R: identity', (msg) => {
  const a = randomScalar();
  const A = base(a);
  return { pub: A, signature: sig(IDENTITY, (challenge(IDENTITY, A, msg) * a) % L) };
});
for (const [label, enc] of SMALL_ORDER) {
  push(`small-order R: ${label}, honest S`, (msg) => {
    const { A, S } = honest(msg);
    return { pub: A, signature: sig(enc, S) };
  });
}

// Non-canonical R: encodings of the identity other than 01 00…00 (S·B - k·A is the identity,
// whose encoding differs), and y = p + d for the R of an honest signature's residue.
for (const [label, R] of [['identity as y=p+1', fieldEnc(0xee)], ['identity with the sign bit', withSign(IDENTITY)]]) {
  push(`non-canonical R: ${label}`, (msg) => {
    const a = randomScalar();
    const A = base(a);
    return { pub: A, signature: sig(R, (challenge(R, A, msg) * a) % L) };
  });
}
for (let d = 2; d <= 18; d += 4) {
  push(`non-canonical R: y=p+${d}`, (msg) => {
    const { A, S } = honest(msg);
    return { pub: A, signature: sig(fieldEnc(0xed + d), S) };
  });
}
push('R with its sign bit flipped', (msg) => {
  const { A, R, S } = honest(msg);
  const bad = Buffer.from(R);
  bad[31] ^= 0x80;
  return { pub: A, signature: sig(bad, S) };
});

// S >= L: the honest S plus L (the same residue), plus 2L, S = L, and the top bits set.
for (const [label, f] of [
  ['S+L', (S) => toLE(S + L)],
  ['S+2L', (S) => toLE(S + 2n * L)],
  ['S=L', () => toLE(L)],
  ['S with the top three bits set', (S) => {
    const b = toLE(S);
    b[31] |= 0xe0;
    return b;
  }],
]) {
  push(`S >= L: ${label}`, (msg) => {
    const { A, R, S } = honest(msg);
    return { pub: A, signature: Buffer.concat([R, f(S)]) };
  });
}

// Mixed-order keys A = aB + T: S·B - k·A = R - k·T, so an honest signature verifies (without the
// cofactor, as libsodium and crypto/ed25519 verify) exactly when k·T is the identity.
for (const [label, T, ord] of [['order 8', ORDER8, 8n], ['order 4', ORDER4, 4n], ['order 2', ORDER2, 2n]]) {
  for (const want of [true, false]) {
    push(`mixed-order key (${label}), k·T ${want ? '=' : '!='} 0`, (msg) => {
      const a = randomScalar();
      const A = add(base(a), T);
      for (;;) {
        const r = randomScalar();
        const R = base(r);
        const k = challenge(R, A, msg);
        if ((k % ord === 0n) === want) return { pub: A, signature: sig(R, (r + k * a) % L) };
      }
    });
  }
}
// Mixed-order R as well: R = rB + j·T with j ≡ -k (mod 8) makes the equation hold; any other j
// does not.
for (const want of [true, false]) {
  push(`mixed-order key and R (order 8), ${want ? 'balanced' : 'unbalanced'}`, (msg) => {
    const a = randomScalar();
    const A = add(base(a), ORDER8);
    for (;;) {
      const r = randomScalar();
      const j = Number(randomScalar() % 7n) + 1;
      const R = add(base(r), multiple(ORDER8, j));
      const k = challenge(R, A, msg);
      if (((BigInt(j) + k) % 8n === 0n) === want) return { pub: A, signature: sig(R, (r + k * a) % L) };
    }
  });
}
push('mixed-order R (order 8), prime-order key', (msg) => {
  const a = randomScalar();
  const A = base(a);
  const r = randomScalar();
  const R = add(base(r), ORDER8);
  return { pub: A, signature: sig(R, (r + challenge(R, A, msg) * a) % L) };
});

process.stdout.write(JSON.stringify(cases, null, 1) + '\n');
