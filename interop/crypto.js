#!/usr/bin/env node
// Interop check of our canonical JSON and signatures against the official Shardeum libraries
// (@shardeum-foundation/lib-crypto-utils 4.3.2 with @shardeum-foundation/lib-types 1.4.2 as the
// stringifier, exactly as the reference relayer-distributor uses them).
//
//   node interop/crypto.js   (builds the Go binary; DISTRIBUTOR_BIN=path uses a built one;
//                             INTEROP_COUNT=n generates n objects instead of 400)
//
// 1. Go signs, Node checks: a few hundred deterministic, deliberately awkward JSON texts (unicode
//    and lone surrogates, \u escapes, JS number edge cases, bi/bb/u8ab values, Buffer-shaped
//    objects, reserved keys, values under "sig", duplicate keys, odd whitespace) are piped to
//    `distributor sign`. Every output line must equal, byte for byte, what the reference sends
//    (safeStringify of the signed stringify/parse copy, signature included: Ed25519 is
//    deterministic) and must pass verifyObj.
// 2. Node signs, Go checks: the same objects signed with signObj under the collector key are piped
//    to `distributor verify`, which must answer "ok" for each; tampered copies must be "invalid".
// 3. Ed25519 edge cases (protocol/testdata/ed25519_edges.json): `distributor verify` must give
//    the official library's verdict on each.
// Prints "interop crypto: N passed, M failed" and exits 1 on any failure.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { goBinary: buildBinary } = require('./lib/server');
// The official libraries, initialised with the hash key and the safeStringify stringifier.
const { libCrypto, Utils, repo, vectors, HASH_KEY, DIST, COLLECTOR, STRANGER } = require('./lib/official');

let passed = 0;
let failed = 0;
const failures = [];
function check(ok, what) {
  if (ok) {
    passed++;
    return;
  }
  failed++;
  if (failures.length < 20) failures.push(what);
}

// ---------------------------------------------------------------------------------------------
// The Go binary.

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'interop-crypto-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
const goBinary = () => buildBinary(work);

// run executes the binary in an empty directory (no config file) with a clean environment, so
// only the flags given here configure it.
function run(bin, args, lines) {
  const r = spawnSync(bin, args, {
    cwd: work,
    input: lines.map((l) => l + '\n').join(''),
    env: { PATH: process.env.PATH, HOME: process.env.HOME || work },
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  const out = r.stdout.split('\n');
  if (out[out.length - 1] === '') out.pop();
  return { status: r.status, lines: out, stderr: r.stderr };
}

// ---------------------------------------------------------------------------------------------
// Deterministic generator of awkward JSON texts.

function mulberry32(seed) {
  return function () {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(0x5eed1234);
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rnd() < p;

// Values are built as: primitives, arrays, {obj: [[key, value], ...]} (pairs, so that duplicate
// and reserved keys survive until the text is written) and {raw: 'literal'} number literals.
const KEYS = ['a', 'b', 'z', 'A', 'Z', '0', '10', '2', '', 'é', 'ü1', '日本', '😀', '\uffff', '\ue000', '\ud800',
  '\udc00x', 'sig', 'sign1', 'signature', 'dataType', 'value', 'type', 'data', 'owner', 'cycle', 'receipt',
  '__proto__', 'constructor', 'prototype', '~', 'k w', 'k"q', 'back\\slash', 'nl\n', '\u2028'];
const STR_PIECES = ['a', 'Z', '0', 'hello', ' ', 'é', 'ü', '日本', '😀', '\u2028', '\u2029', '<>&', '"', '\\', '\n',
  '\t', '\r', '\b', '\f', '\u0000', '\u001f', '\u007f', '\u0080', '\ud800', '\udfff', '\ud83d', '\ude00', '\ufeff',
  '\uffff', 'sig', 'dataType', '__proto__', '/', '\u00a0', 'Ł'];
const NUMBERS = [0, -0, 1, -1, 0.1, 0.2, 0.30000000000000004, 1e21, 1e-7, 1e-6, 0.000001, 5e-324, -5e-324,
  1.7976931348623157e308, 2.2250738585072014e-308, 9007199254740992, 9007199254740993, 12345678901234567890, 123e-20,
  1e20, 999999999999999900000, 1.5, -2.5e-8, 42, 1700000000123, 1700000000123456, 4.35, 1234567.125];
const NUMBER_LITERALS = ['1.50', '1E+2', '-0.0', '-0', '1e400', '-1e400', '1e-400', '0.1e1', '100e-2',
  '12345678901234567890', '1.0000000000000001', '0.30000000000000004', '5e-324', '2e-324', '123456789012345678901234567890'];

function randomDouble() {
  const dv = new DataView(new ArrayBuffer(8));
  for (;;) {
    dv.setUint32(0, int(2 ** 32));
    dv.setUint32(4, int(2 ** 32));
    const x = dv.getFloat64(0);
    if (Number.isFinite(x)) return x;
  }
}

function randomString() {
  let s = '';
  const n = int(5);
  for (let i = 0; i < n; i++) s += pick(STR_PIECES);
  return s;
}

function randomBytes(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}

function hexValue() {
  const forms = [
    () => randomBytes(1 + int(20)).toString('hex'),
    () => '00' + randomBytes(1 + int(8)).toString('hex').toUpperCase(),
    () => randomBytes(2).toString('hex') + ' ',
    () => 'DEADbeef',
    () => '0',
    () => '000',
  ];
  return pick(forms)();
}

function base64Value() {
  const b = randomBytes(int(40));
  const std = b.toString('base64');
  const forms = [
    () => std,
    () => std.replace(/=+$/, ''),
    () => b.toString('base64url'),
    () => std.replace(/(.{3})/g, '$1 '),
    () => std.slice(0, 4) + '\n' + std.slice(4),
    () => std + '!!garbage',
    () => std.slice(0, 6) + '=' + std.slice(6),
    () => 'Ł' + std,
    () => std + '😀AQID',
    () => '',
    () => 'A',
  ];
  return pick(forms)();
}

function special() {
  switch (int(7)) {
    case 0:
      return { obj: [['dataType', 'bi'], ['value', hexValue()]] };
    case 1:
      return { obj: shuffle([['dataType', 'bb'], ['value', base64Value()]]) };
    case 2:
      return { obj: shuffle([['dataType', 'u8ab'], ['value', base64Value()]]) };
    case 3: {
      const data = [];
      const n = int(8);
      for (let i = 0; i < n; i++) data.push(chance(0.8) ? int(256) : pick([300, -1, '7', null, true, 1.5, ' 12 ', '0x10', []]));
      return { obj: shuffle([['type', 'Buffer'], ['data', data]]) };
    }
    case 4:
      return { obj: shuffle([['type', 'Buffer'], ['data', randomString()]]) };
    case 5:
      return { obj: shuffle([['dataType', pick(['other', '', 'BB', 0])], ['value', 'AQID']]) };
    default:
      return { obj: [['dataType', 'bb'], ['value', 5]] };
  }
}

function shuffle(a) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function randomValue(depth) {
  const r = int(depth > 3 ? 6 : 10);
  switch (r) {
    case 0:
      return null;
    case 1:
      return chance(0.5);
    case 2:
      return chance(0.5) ? pick(NUMBERS) : randomDouble();
    case 3:
      return { raw: pick(NUMBER_LITERALS) };
    case 4:
    case 5:
      return randomString();
    case 6:
      return special();
    case 7: {
      const a = [];
      const n = int(4);
      for (let i = 0; i < n; i++) a.push(randomValue(depth + 1));
      return a;
    }
    default:
      return randomObject(depth + 1);
  }
}

function randomObject(depth) {
  const pairs = [];
  const n = depth === 0 ? 2 + int(6) : int(6);
  for (let i = 0; i < n; i++) {
    const k = pick(KEYS);
    if (chance(0.15)) pairs.push([k, randomValue(depth + 1)]); // a duplicate that must lose
    pairs.push([k, k === 'sig' && chance(0.5) ? special() : randomValue(depth + 1)]);
  }
  return { obj: pairs };
}

// writeText writes a value as JSON text on one line, with random escapes and white space.
function ws() {
  return chance(0.2) ? pick([' ', '  ', '\t', ' \t ']) : '';
}
function writeString(s) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const hex = (u) => {
      const h = u.toString(16).padStart(4, '0');
      return '\\u' + (chance(0.5) ? h : h.toUpperCase());
    };
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) out += { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }[c] && chance(0.7) ? { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }[c] : hex(c);
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += chance(0.7) ? s[i] + s[i + 1] : hex(c) + hex(s.charCodeAt(i + 1));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += hex(c); // lone surrogate: must be escaped to survive UTF-8
    else if (c === 0x2f && chance(0.3)) out += '\\/';
    else out += chance(0.1) ? hex(c) : s[i];
  }
  return out + '"';
}
function writeText(v) {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return writeString(v);
  if (Array.isArray(v)) return '[' + ws() + v.map((e) => writeText(e)).join(ws() + ',' + ws()) + ws() + ']';
  if (v.raw !== undefined) return v.raw;
  return '{' + ws() + v.obj.map(([k, e]) => writeString(k) + ws() + ':' + ws() + writeText(e)).join(ws() + ',' + ws()) + ws() + '}';
}

// signable: the reference can sign the text: it parses to an object (not an array or a BigInt)
// that safeStringify accepts. That includes objects the reference revives as a Buffer or a
// Uint8Array (Buffer-shaped, bb, u8ab): signObj signs those, and safeStringify then prints the
// bytes without the "sign" it added.
function signable(text) {
  try {
    const parsed = Utils.safeJsonParse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return false;
    Utils.safeStringify(Utils.safeJsonParse(Utils.safeStringify(parsed)));
    return true;
  } catch (e) {
    return false; // e.g. a Buffer whose data array holds a BigInt: the reference cannot sign it either
  }
}

// bytesRoot: the reference's stringify/parse copy of the text is a Buffer or Uint8Array.
function bytesRoot(text) {
  return Utils.safeJsonParse(Utils.safeStringify(Utils.safeJsonParse(text))) instanceof Uint8Array;
}

// Roots the reference revives as a Buffer or Uint8Array.
const BYTES_ROOTS = [
  '{"data":[1,2,3],"type":"Buffer"}',
  '{"type":"Buffer","data":[1,2,3]}',
  ' { "type" : "Buffer" , "data" : [ ] } ',
  '{"type":"Buffer","data":[300,-1,"7",null,true,1.5," 12 ","0x10",[],[5]]}',
  '{"type":"Buffer","data":"h\u00e9llo \ud83d\ude00 \ud800"}',
  '{"type":"Buffer","data":{"dataType":"bb","value":"AQID"}}',
  '{"type":"Buffer","data":{"dataType":"u8ab","value":"AQID"}}',
  '{"type":"Buffer","data":[1],"type":"Buffer"}',
  '{"__proto__":1,"type":"Buffer","data":[9]}',
  '{"dataType":"bb","value":"AQID"}',
  '{"value":"AQI","dataType":"bb","extra":1}',
  '{"dataType":"u8ab","value":"////"}',
];

function generate(n) {
  const texts = [];
  // The shared vectors' inputs first.
  for (const c of vectors.canonical) if (signable(c.input)) texts.push(c.input);
  for (const c of vectors.sign) texts.push(c.input);
  texts.push(...BYTES_ROOTS);
  let id = 0;
  while (texts.length < n) {
    const root = randomObject(0);
    root.obj.push(['id', id++]);
    const text = ws() + writeText(root) + ws();
    if (signable(text)) texts.push(text);
  }
  return texts;
}

// What the reference sends when it signs an object: a stringify/parse copy, signed, stringified.
function referenceSign(text, keys) {
  const copy = Utils.safeJsonParse(Utils.safeStringify(Utils.safeJsonParse(text)));
  libCrypto.signObj(copy, keys.secretKey, keys.publicKey);
  return Utils.safeStringify(copy);
}

function verifyWithNode(line) {
  try {
    return libCrypto.verifyObj(Utils.safeJsonParse(line));
  } catch (e) {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

function main() {
  const bin = goBinary();
  const texts = generate(Number(process.env.INTEROP_COUNT) || 400);
  const keyFlags = ['--hash-key', HASH_KEY];

  // 1. Go signs, Node checks.
  const signed = run(bin, ['sign', ...keyFlags, '--public-key', DIST.publicKey, '--secret-key', DIST.secretKey], texts);
  check(signed.status === 0, `distributor sign exited ${signed.status}: ${signed.stderr.trim()}`);
  check(signed.lines.length === texts.length, `distributor sign wrote ${signed.lines.length} lines for ${texts.length}`);
  texts.forEach((text, i) => {
    const got = signed.lines[i];
    const want = referenceSign(text, DIST);
    check(got === want, `sign #${i}\n  input ${JSON.stringify(text)}\n  go    ${JSON.stringify(got)}\n  node  ${JSON.stringify(want)}`);
    // A revived Buffer or Uint8Array loses its "sign" in the reference's output too.
    check(got !== undefined && verifyWithNode(got) === verifyWithNode(want), `verifyObj's verdict on Go's signature #${i} differs: ${got}`);
  });
  for (const text of BYTES_ROOTS) {
    const want = referenceSign(text, DIST);
    check(bytesRoot(text), `${text} is not revived as bytes; fix the check`);
    check(!want.includes('"sign"') && !verifyWithNode(want), `the reference signs the bytes root ${text} into ${want}; fix the check`);
  }

  // 2. Node signs, Go checks (what carries a signature: not the bytes roots).
  const nodeSigned = texts.filter((t) => !bytesRoot(t)).map((t) => referenceSign(t, COLLECTOR));
  nodeSigned.forEach((l, i) => check(verifyWithNode(l), `Node cannot verify its own signature #${i}`));
  const reference = vectors.verify.filter((c) => c.valid).map((c) => c.signed.replace(/\n/g, ' '));
  // Node decodes hex leniently: upper case, trailing garbage and an odd trailing digit still verify.
  const lenient = nodeSigned.slice(0, 24).map((l, i) => {
    const obj = Utils.safeJsonParse(l);
    const variants = [
      (o) => (o.sign.sig = o.sign.sig.toUpperCase()),
      (o) => (o.sign.owner = o.sign.owner.toUpperCase()),
      (o) => (o.sign.sig += 'zz not hex'),
      (o) => (o.sign.sig += 'f'),
      (o) => (o.sign.owner += 'xyz'),
      (o) => (o.sign.sig += '\u0141'),
    ];
    variants[i % variants.length](obj);
    return Utils.safeStringify(obj);
  });
  lenient.forEach((l, i) => check(verifyWithNode(l), `lenient variant #${i} fails verifyObj; fix the check`));
  const good = nodeSigned.concat(reference, lenient);
  const verified = run(bin, ['verify', ...keyFlags], good);
  check(verified.status === 0, `distributor verify exited ${verified.status} on valid input`);
  check(verified.lines.length === good.length, `distributor verify wrote ${verified.lines.length} lines for ${good.length}`);
  good.forEach((l, i) => check(verified.lines[i] === 'ok', `verify #${i}: ${verified.lines[i]}\n  line ${l}`));

  // Tampered copies must all be invalid.
  const tampered = [];
  nodeSigned.slice(0, 60).forEach((l, i) => {
    const obj = Utils.safeJsonParse(l);
    switch (i % 6) {
      case 0:
        obj.id = obj.id + 1; // a changed field
        break;
      case 1:
        obj.extra = 1; // an added field
        break;
      case 2: {
        const s = obj.sign.sig;
        obj.sign.sig = s.slice(0, 10) + (s[10] === '0' ? '1' : '0') + s.slice(11); // a flipped signature bit
        break;
      }
      case 3: {
        const s = obj.sign.sig;
        obj.sign.sig = s.slice(0, 150) + (s[150] === '0' ? '1' : '0') + s.slice(151); // a flipped hash bit
        break;
      }
      case 4:
        obj.sign.owner = STRANGER.publicKey; // someone else's key
        break;
      default:
        obj.sign.sig = obj.sign.sig.slice(0, 100); // truncated
    }
    tampered.push(Utils.safeStringify(obj));
  });
  vectors.verify.filter((c) => !c.valid).forEach((c) => tampered.push(c.signed.replace(/\n/g, ' ')));
  tampered.push('{"no":"sign"}', 'not json', '{"a":1,"sign":{"owner":"","sig":""}}');
  tampered.forEach((l, i) => check(!verifyWithNode(l), `tampered #${i} passes verifyObj; fix the check`));
  const rejected = run(bin, ['verify', ...keyFlags], tampered);
  check(rejected.status === 1, `distributor verify exited ${rejected.status} on tampered input, want 1`);
  check(rejected.lines.length === tampered.length, `distributor verify wrote ${rejected.lines.length} lines for ${tampered.length}`);
  tampered.forEach((l, i) => check((rejected.lines[i] || '').startsWith('invalid: '), `tampered #${i} got ${rejected.lines[i]}\n  line ${l}`));

  // 3. Ed25519 edge cases (protocol/testdata/ed25519_edges.json, from ed25519-edges.js): the
  // official library must still give the recorded verdict, and `distributor verify` the same.
  const edges = JSON.parse(fs.readFileSync(path.join(repo, 'protocol', 'testdata', 'ed25519_edges.json'), 'utf8'));
  check(edges.length >= 50, `only ${edges.length} Ed25519 edge cases`);
  edges.forEach((c) => check(verifyWithNode(c.signed) === c.valid, `edge case ${c.name}: verifyObj says ${!c.valid}, the file ${c.valid}`));
  const edgeRun = run(bin, ['verify', ...keyFlags], edges.map((c) => c.signed));
  check(edgeRun.status === 1, `distributor verify exited ${edgeRun.status} on the edge cases, want 1 (some are invalid)`);
  check(edgeRun.lines.length === edges.length, `distributor verify wrote ${edgeRun.lines.length} lines for ${edges.length} edge cases`);
  edges.forEach((c, i) => {
    const got = edgeRun.lines[i] || '';
    check(c.valid ? got === 'ok' : got.startsWith('invalid: '), `edge case ${c.name}: distributor verify says ${got}, verifyObj ${c.valid}\n  line ${c.signed}`);
  });

  for (const f of failures) console.error('FAIL ' + f);
  console.log(`interop crypto: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main();
