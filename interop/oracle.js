#!/usr/bin/env node
// Oracle for protocol/testdata/node_canonical.json: reads a JSON array of test inputs on stdin
// ({"name", "text"} or {"name", "base64"} for inputs that are not valid UTF-8) and prints each with
// what the official libraries make of it: safeStringify(safeJsonParse(text)), or the error thrown.
// Regenerate with:  node interop/oracle.js < protocol/testdata/node_canonical_inputs.json > protocol/testdata/node_canonical.json
'use strict';
const { Utils } = require('@shardeum-foundation/lib-types');

let raw = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => (raw += c));
process.stdin.on('end', () => {
  const cases = JSON.parse(raw);
  const out = cases.map((c) => {
    const text = c.base64 !== undefined ? Buffer.from(c.base64, 'base64').toString('utf8') : c.text;
    const r = { ...c };
    try {
      r.canonical = Utils.safeStringify(Utils.safeJsonParse(text));
    } catch (e) {
      r.error = e.constructor.name + ': ' + e.message;
    }
    return r;
  });
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
});
