// The official Shardeum libraries, set up exactly as the reference relayer-distributor and the
// collectors use them (@shardeum-foundation/lib-crypto-utils 4.3.2, initialised with the network's
// hash key, with @shardeum-foundation/lib-types 1.4.2 safeStringify as its stringifier), and the
// shared test vectors' keys. Every interop check takes its crypto and canonical JSON from here, so
// that nothing the Go side is checked against is written by us.
'use strict';

const fs = require('fs');
const path = require('path');
const libCrypto = require('@shardeum-foundation/lib-crypto-utils');
const { Utils } = require('@shardeum-foundation/lib-types');

const repo = path.resolve(__dirname, '..', '..');
const vectors = JSON.parse(fs.readFileSync(path.join(repo, 'protocol', 'testdata', 'vectors.json'), 'utf8'));
const HASH_KEY = vectors.hashKey;
const DIST = vectors.keys.distributor;
const COLLECTOR = vectors.keys.collector;
const STRANGER = vectors.keys.stranger;

libCrypto.init(HASH_KEY);
libCrypto.setCustomStringifier(Utils.safeStringify, 'shardus_safeStringify');

// signed returns a signed deep copy of obj, as a collector's signObj produces it.
function signed(obj, keys) {
  const copy = Utils.safeJsonParse(Utils.safeStringify(obj));
  libCrypto.signObj(copy, keys.secretKey, keys.publicKey);
  return copy;
}

// verifyText parses text with safeJsonParse and runs verifyObj on it; false (not a throw) on
// anything the library rejects.
function verifyText(text) {
  try {
    return libCrypto.verifyObj(Utils.safeJsonParse(text));
  } catch (e) {
    return false;
  }
}

// canonical is what the reference puts on the wire for a parsed value.
function canonical(value) {
  return Utils.safeStringify(value);
}

module.exports = { libCrypto, Utils, repo, vectors, HASH_KEY, DIST, COLLECTOR, STRANGER, signed, verifyText, canonical };
