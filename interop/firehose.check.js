#!/usr/bin/env node
// Interop check of the firehose (firehose.md §3, resume of §5) against the official libraries:
// a real `distributor start` on a free port, a collector that signs its handshake with the
// official signObj and subscribes over the `ws` client, and data-log lines appended by
// `distributor replay` (rotating every 50 entries, wrapping after 10 files).
//
//   node interop/firehose.check.js   (DISTRIBUTOR_BIN=path uses a built binary; INTEROP_KEEP=1
//                                     keeps the temporary directory)
//
// Every frame must pass verifyObj after safeJsonParse, be signed by the distributor key, carry
// exactly one of cycle/receipt/originalTx plus its "cursor", and be byte-identical to the
// official safeStringify of its parse. Per stream, the payloads must be exactly the lines
// appended while subscribed, in order (each compared with safeStringify(safeJsonParse(line))).
// Forged handshakes are refused with HTTP 401. A collector that disconnects and comes back with
// the last cursors in its signed handshake gets exactly what was appended meanwhile (normally
// read from disk by a new child, across a wrap-around of the file numbers), then the live lines: no gap, no
// duplicate. So does one that comes back while its old connection is still open (the old one is
// replaced with close 1000, the new one resumes from the child's ring).
// Prints "interop firehose: N passed, M failed"; exits 1 on any failure.
'use strict';

const fs = require('fs');
const path = require('path');
const { Utils, COLLECTOR, STRANGER, canonical } = require('./lib/official');
const { runCheck, replay } = require('./lib/server');
const { KINDS, handshake, dial, Subscriber } = require('./lib/collector');

const LAYOUT = ['--max-entries', '50', '--max-files', '10'];
const FRAME_WAIT_MS = 15000;

// A batch of generated entries: reproducible (fixed seed and fake clock), so the check knows
// each stream's lines in order by generating the same batch into a scratch directory.
function batch(name, n, seed, clock) {
  return { name, args: ['--generate', String(n), '--streams', 'receipt,cycle,originalTx', '--seed', String(seed), '--clock', clock], n };
}

function expectedLines(ctx, b) {
  const dir = path.join(ctx.work, 'expected-' + b.name);
  replay(ctx.bin, ctx.work, [...b.args, '--dir', dir, '--max-entries', '1000000']);
  const out = {};
  for (const k of KINDS) {
    const lines = fs.readFileSync(path.join(dir, `${k}-log1.txt`), 'utf8').split('\n');
    out[k] = lines.filter((l) => l !== '' && !l.startsWith('End:')).map((l) => canonical(Utils.safeJsonParse(l)));
    if (out[k].length !== b.n) throw new Error(`replay generated ${out[k].length} ${k} lines for batch ${b.name}, want ${b.n}`);
  }
  return out;
}

function append(ctx, server, b) {
  replay(ctx.bin, ctx.work, [...b.args, '--dir', server.dataLogDir, ...LAYOUT]);
}

// sameSequence checks got (canonical payloads, in arrival order) against want, line by line;
// the first few mismatches are described, with where the frame's line really is in want.
function sameSequence(report, label, got, want) {
  let ok = report.check(got.length === want.length, `${label}: ${got.length} frames, want ${want.length}`);
  const index = new Map(want.map((w, i) => [w, i]));
  let described = 0;
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    if (report.check(got[i] === want[i], described < 5 ? () => describe(label, i, got, want, index) : null)) continue;
    ok = false;
    described++;
  }
  return ok;
}

function describe(label, i, got, want, index) {
  if (i >= got.length) return `${label}: frame #${i} missing (line #${i} of ${want.length} never arrived)`;
  const j = index.get(got[i]);
  return `${label}: frame #${i} is ` + (j === undefined ? `not a line of this batch: ${got[i].slice(0, 200)}` : `line #${j}, want line #${i}`);
}

async function refused(report, server, label, data) {
  const r = await dial(server.ws, data);
  if (r.ws) {
    r.ws.terminate();
    report.check(false, `forged handshake (${label}) was accepted; want HTTP 401`);
    return;
  }
  report.check(r.status === 401, `forged handshake (${label}): got ${r.status !== undefined ? 'HTTP ' + r.status + ' ' + JSON.stringify(r.body) : r.error}, want HTTP 401`);
}

async function subscribe(report, server, label, hs) {
  const r = await dial(server.ws, hs);
  if (!r.ws) throw new Error(`${label}: subscription refused: ${r.status !== undefined ? 'HTTP ' + r.status + ' ' + JSON.stringify(r.body) : r.error}\n${server.logTail()}`);
  report.check(true, `${label}: subscribed`);
  server.noteChildren();
  return new Subscriber(r, report, label);
}

async function firehose(ctx) {
  const { report } = ctx;
  const b0 = batch('before', 20, 10, '2026-01-01T00:00:00Z');
  const b1 = batch('live', 300, 11, '2026-01-01T01:00:00Z');
  const b2 = batch('missed', 300, 12, '2026-01-01T02:00:00Z');
  const b3 = batch('after-resume', 100, 13, '2026-01-01T03:00:00Z');
  const b4 = batch('before-replace', 100, 14, '2026-01-01T04:00:00Z');
  const b5 = batch('after-replace', 50, 15, '2026-01-01T05:00:00Z');
  const want = {};
  for (const b of [b1, b2, b3, b4, b5]) want[b.name] = expectedLines(ctx, b);

  const server = await ctx.startServer();
  append(ctx, server, b0); // on disk before anyone subscribes: a new subscriber starts live, after it

  // Forged or stale handshakes: HTTP 401, and the server carries on.
  const good = handshake(COLLECTOR);
  await refused(report, server, 'signed by a stranger who is not a subscriber', handshake(STRANGER));
  await refused(report, server, "stranger's signature, collector as sender", handshake(STRANGER, { sender: COLLECTOR.publicKey }));
  const tampered = Utils.safeJsonParse(canonical(good));
  tampered.collectorInfo.timestamp += 1;
  await refused(report, server, 'timestamp changed after signing', tampered);
  const flipped = Utils.safeJsonParse(canonical(good));
  flipped.sign.sig = (flipped.sign.sig[0] === '0' ? '1' : '0') + flipped.sign.sig.slice(1);
  await refused(report, server, 'signature bit flipped', flipped);
  await refused(report, server, 'timestamp 60 s old', handshake(COLLECTOR, { timestamp: Date.now() - 60000 }));
  await refused(report, server, 'subscriptionType ACCOUNTS for a FIREHOSE subscriber', handshake(COLLECTOR, { subscriptionType: 'ACCOUNTS' }));
  const unsigned = Utils.safeJsonParse(canonical(good));
  delete unsigned.sign;
  await refused(report, server, 'no sign', unsigned);
  await refused(report, server, 'no data parameter', undefined);
  await refused(report, server, 'data that is not JSON', 'not json');

  // Session 1: live frames.
  const s1 = await subscribe(report, server, 'session 1', handshake(COLLECTOR));
  append(ctx, server, b1);
  const all1 = await s1.until((s) => KINDS.every((k) => s.payloads[k].length >= b1.n), FRAME_WAIT_MS);
  report.check(all1, () => `session 1: got ${JSON.stringify(s1.counts())} frames within ${FRAME_WAIT_MS} ms, want ${b1.n} per stream`);
  const closed1 = await s1.close();
  report.check(closed1 && closed1.code === 1000, `session 1: close code ${closed1 && closed1.code}, want 1000 echoed`);
  for (const k of KINDS) sameSequence(report, `session 1 ${k}`, s1.payloads[k], want[b1.name][k]);
  const cursor = s1.lastCursors();
  report.check(KINDS.every((k) => cursor[k]), `session 1: no cursor for some stream: ${JSON.stringify(cursor)}`);

  // Appended while disconnected (across rotations and a wrap-around of the file numbers).
  append(ctx, server, b2);

  // Session 2: resume from the cursors (a new child reads them from disk), then live.
  const s2 = await subscribe(report, server, 'session 2 (resumed)', handshake(COLLECTOR, { cursor }));
  const caught = await s2.until((s) => KINDS.every((k) => s.payloads[k].length >= b2.n), FRAME_WAIT_MS);
  report.check(caught, () => `session 2: got ${JSON.stringify(s2.counts())} frames within ${FRAME_WAIT_MS} ms, want the ${b2.n} per stream appended while disconnected`);
  append(ctx, server, b3);
  const total = b2.n + b3.n;
  const all2 = await s2.until((s) => KINDS.every((k) => s.payloads[k].length >= total), FRAME_WAIT_MS);
  report.check(all2, () => `session 2: got ${JSON.stringify(s2.counts())} frames within ${FRAME_WAIT_MS} ms, want ${total} per stream`);
  const cursor2 = s2.lastCursors();

  // Session 3: the collector comes back while session 2 is still open (its process restarted, say),
  // with session 2's last cursors from before b4: the server replaces session 2 (close 1000) and the
  // new connection, served by the same child, gets b4 from the start, then b5 live.
  append(ctx, server, b4);
  const s3 = await subscribe(report, server, 'session 3 (resumed, replacing session 2)', handshake(COLLECTOR, { cursor: cursor2 }));
  const replaced = await s2.until((s) => s.closed !== null, FRAME_WAIT_MS);
  report.check(replaced && s2.closed.code === 1000, () => `session 2: replaced by session 3 with close ${JSON.stringify(s2.closed)}, want code 1000`);
  const caught3 = await s3.until((s) => KINDS.every((k) => s.payloads[k].length >= b4.n), FRAME_WAIT_MS);
  report.check(caught3, () => `session 3: got ${JSON.stringify(s3.counts())} frames within ${FRAME_WAIT_MS} ms, want the ${b4.n} per stream after session 2's cursors`);
  append(ctx, server, b5);
  const total3 = b4.n + b5.n;
  const all3 = await s3.until((s) => KINDS.every((k) => s.payloads[k].length >= total3), FRAME_WAIT_MS);
  report.check(all3, () => `session 3: got ${JSON.stringify(s3.counts())} frames within ${FRAME_WAIT_MS} ms, want ${total3} per stream`);
  const closed3 = await s3.close();
  report.check(closed3 && closed3.code === 1000, `session 3: close code ${closed3 && closed3.code}, want 1000 echoed`);

  for (const k of KINDS) {
    // Session 2: b2 then b3, then (until replaced) a prefix of b4.
    const s2own = s2.payloads[k].slice(0, total);
    const ok = sameSequence(report, `session 2 ${k}`, s2own, want[b2.name][k].concat(want[b3.name][k]));
    if (!ok) report.check(false, `session 2 ${k}: resumed from cursor ${cursor[k]} (session 1's last); cursors of its first frames: ${s2.cursors[k].slice(0, 12).join(' ')}`);
    const tail = s2.payloads[k].slice(total);
    report.check(tail.every((p, i) => p === want[b4.name][k][i]), `session 2 ${k}: after b3, before being replaced, it got frames that are not b4 in order`);
    const ok3 = sameSequence(report, `session 3 ${k}`, s3.payloads[k], want[b4.name][k].concat(want[b5.name][k]));
    if (!ok3) report.check(false, `session 3 ${k}: resumed from cursor ${cursor2[k]} (session 2's last before b4); cursors of its first frames: ${s3.cursors[k].slice(0, 12).join(' ')}`);
    // No frame twice: session 1's, session 2's own and session 3's frames are all distinct lines.
    const delivered = s1.payloads[k].concat(s2own, s3.payloads[k]);
    report.check(new Set(delivered).size === delivered.length, `${k}: a line was delivered twice across sessions 1, 2 and 3`);
    const cursors = s1.cursors[k].concat(s2.cursors[k].slice(0, total), s3.cursors[k]);
    report.check(new Set(cursors).size === cursors.length, `${k}: a cursor repeats across frames`);
  }

  // The server is still healthy after all of it.
  const alive = await fetch(server.base + '/is-alive').then((r) => r.status, (e) => e.message);
  report.check(alive === 200, `GET /is-alive after the checks: ${alive}`);
}

runCheck('firehose', firehose);
