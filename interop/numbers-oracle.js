#!/usr/bin/env node
// Writes protocol/testdata/node_numbers.json: IEEE-754 bit patterns (hex) with String(x) as Node
// prints them, for the Go port of Number::toString. Deterministic (seeded xorshift).
// Regenerate with:  node interop/numbers-oracle.js > protocol/testdata/node_numbers.json
'use strict';
let s = 0x9e3779b97f4a7c15n;
const mask = (1n << 64n) - 1n;
function next() {
  s ^= (s << 13n) & mask;
  s ^= s >> 7n;
  s ^= (s << 17n) & mask;
  return s;
}
const dv = new DataView(new ArrayBuffer(8));
const out = [];
function add(bits) {
  dv.setBigUint64(0, bits);
  const x = dv.getFloat64(0);
  if (!Number.isFinite(x)) return;
  out.push([bits.toString(16).padStart(16, '0'), String(x)]);
}
const specials = [0, -0, 1, -1, 0.1, 0.2, 0.3, 1e21, 1e-7, 1e-6, 1e20, 123e-20, 5e-324, 2.2250738585072014e-308,
  1.7976931348623157e308, 9007199254740992, 9007199254740993, 12345678901234567890, 0.000001, 0.0000012345,
  999999999999999900000, 1.5, 100, 1e100, 1.2e-5, 123456.789, 2 ** 53 - 1, 2 ** 64, 4.35, 0.1 + 0.2];
for (const x of specials) {
  dv.setFloat64(0, x);
  add(dv.getBigUint64(0));
}
for (let i = 0; i < 3000; i++) add(next());
// Values near the notation thresholds and small integers with fractions.
for (let i = 0; i < 1000; i++) {
  const r = Number(next() % 1000000n) / 1000;
  const e = Number(next() % 50n) - 25;
  const x = r * Math.pow(10, e);
  dv.setFloat64(0, x);
  add(dv.getBigUint64(0));
}
process.stdout.write(JSON.stringify(out) + '\n');
