#!/usr/bin/env node
// Interop check of the scale-out on Redis Streams (issue 17) against the official libraries: a
// real redis-server, two `distributor ingress` on one data-log directory (one active, one standing
// by, lease TTL 1 s), and two edges (`distributor start` with FIREHOSE_SOURCE=redis).
//
//   node interop/scaleout.check.js   (DISTRIBUTOR_BIN=path uses a built binary; INTEROP_KEEP=1
//                                     keeps the temporary directory and the processes' logs)
//
// Ten collectors, each with its own key and built like firehose.check.js's (signed handshake,
// safeJsonParse and verifyObj on every frame, sign.owner the distributor's key), each in a worker
// thread of its own, subscribe: five to each edge. `distributor replay` writes 12,000 receipts
// and 1,200 cycles, rotating every 1,000 entries and wrapping after 10 files: the first 100 and 10
// at once (every collector gets them, so it has a cursor of each stream), then two replays the
// rest, at 2,000 receipts/s and 200 cycles/s. When the active ingress has published half of the receipts (or the writing ends,
// should it lag that far behind), edge 2 and that ingress are killed with SIGKILL. Edge 2's
// collectors see their connection end and resume on edge 1 with their last cursors in a new
// signed handshake; the standby ingress takes the lease and goes on publishing.
//
// Every collector must get every receipt and every cycle written, in order, each exactly once
// (its frames' payloads, across both of its connections, equal the generated lines), and no
// originalTx. Both killed servers' child processes must be gone, and the others must stop cleanly
// on SIGTERM at the end. The takeover (SIGKILL to the standby's lease) and the resumes (SIGKILL
// to the collector's connection closing, its new connection open and its first frame) are
// printed. Prints "interop scaleout: N passed, M failed"; exits 1 on any failure.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { Utils, libCrypto, canonical } = require('./lib/official');
const { runCheck, replay, cleanEnv, track, untrack } = require('./lib/server');
const { RedisServer } = require('./lib/redis');
const { ThreadCollector, sha } = require('./lib/collector-thread');

const LAYOUT = ['--max-entries', '1000', '--max-files', '10'];
// A first few entries of each stream, written at once, give every collector a cursor of each
// stream before anything is killed; the writers then write the rest at their rates.
const WARMUP = [
  { stream: 'receipt', n: 100, seed: 30, clock: '2026-02-28T00:00:00Z' },
  { stream: 'cycle', n: 10, seed: 33, clock: '2026-02-28T06:00:00Z' },
];
const WRITERS = [
  { stream: 'receipt', n: 11900, rate: 2000, seed: 31, clock: '2026-03-01T00:00:00Z' },
  { stream: 'cycle', n: 1190, rate: 200, seed: 32, clock: '2026-03-01T06:00:00Z' },
];
const COLLECTORS_PER_EDGE = 5;
const LEASE_TTL = '1s';
const KILL_AT_RECEIPTS = 6000; // receipts ingress A has published when it and edge 2 die (at most)
// The collectors verify every frame with the official library, which takes longer than the
// writing on a busy machine (they catch up from the stream): a collector fails when it gets no
// frame for STALL_MS while short of the total (the check's own time limit bounds the rest).
const STALL_MS = 10000;
// Edge 2's collectors see their connection end once they have verified what it had delivered.
const RESUME_MS = 30000;
// Some 30 s on 2 idle cores; the limit leaves room for a machine shared with other work.
const TIMEOUT_MS = 150000;

function generatorArgs(w) {
  return ['--generate', String(w.n), '--streams', w.stream, '--seed', String(w.seed), '--clock', w.clock];
}

// expectedLines generates a writer's entries again (fixed seed and fake clock: the same lines)
// into a scratch directory, as canonical payloads in order.
function expectedLines(ctx, w) {
  const dir = path.join(ctx.work, `expected-${w.stream}-${w.seed}`);
  replay(ctx.bin, ctx.work, [...generatorArgs(w), '--dir', dir, '--max-entries', '1000000']);
  const lines = fs.readFileSync(path.join(dir, `${w.stream}-log1.txt`), 'utf8').split('\n');
  const out = lines.filter((l) => l !== '' && !l.startsWith('End:')).map((l) => canonical(Utils.safeJsonParse(l)));
  if (out.length !== w.n) throw new Error(`replay generated ${out.length} ${w.stream} lines, want ${w.n}`);
  return out;
}

// Writer is one `distributor replay` writing at its rate into the data-log directory; runCheck
// stops it (SIGKILL) if the check ends first.
class Writer {
  constructor(report, bin, work, dir, w) {
    this.report = report;
    this.w = w;
    const args = ['replay', '--quiet', ...generatorArgs(w), '--rate', String(w.rate), ...LAYOUT, '--dir', dir];
    this.proc = spawn(bin, args, { cwd: work, env: cleanEnv(work), stdio: ['ignore', 'ignore', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    this.done = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => resolve({ code, signal }));
      this.proc.once('error', (e) => resolve({ code: null, signal: null, error: e }));
    });
    track(this);
  }

  async wait() {
    const r = await this.done;
    untrack(this);
    this.report.check(r.code === 0, `replay of ${this.w.n} ${this.w.stream} entries: ${r.error ? r.error.message : `exit ${r.code ?? r.signal}`}: ${this.stderr.trim()}`);
    return r;
  }

  async stop() {
    if (!untrack(this)) return;
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      this.report.check(false, `replay of ${this.w.stream} still running when the check ended`);
    }
    await this.done;
  }
}

// sameSequence checks a collector's payloads of one stream (as SHA-256 hashes) against the
// generated lines': one assertion, describing the first mismatch (with where that frame's line
// is in want).
function sameSequence(report, label, got, want) {
  if (got.length === want.length && got.every((g, i) => g === want[i])) return report.check(true);
  const index = new Map(want.map((w, i) => [w, i]));
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  let what;
  if (i >= got.length) what = `frames #${i}..#${want.length - 1} missing (${got.length} frames, want ${want.length})`;
  else if (i >= want.length) what = `${got.length - want.length} frames after the last line (${got.length} frames, want ${want.length})`;
  else {
    const j = index.get(got[i]);
    what = `frame #${i} is ` + (j === undefined ? 'not a generated line' : `line #${j}, want line #${i}`) + ` (${got.length} frames, want ${want.length})`;
  }
  const dup = got.length - new Set(got).size;
  return report.check(false, `${label}: ${what}; ${dup} duplicated`);
}

async function status(server) {
  const r = await fetch(server.base + '/status', { signal: AbortSignal.timeout(2000) });
  if (r.status !== 200) throw new Error(`GET ${server.base}/status: HTTP ${r.status}`);
  return r.json();
}

// waitRole polls an ingress's /status until its role is role (an ingress signals nothing else).
async function waitRole(ingress, role, ms) {
  const deadline = Date.now() + ms;
  let st;
  for (;;) {
    try {
      st = await status(ingress);
      if (st.role === role) return st;
    } catch (e) {
      st = { error: e.message };
    }
    if (Date.now() > deadline) throw new Error(`ingress on port ${ingress.port}: role ${st.role || st.error}, want ${role} within ${ms} ms\n${ingress.logTail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// waitPublished polls an ingress's /status until it has appended n entries to stream's Redis
// stream, or until ended (a promise) settles, and returns the last status seen as {role,
// published: {stream: count}} (null if none came).
async function waitPublished(ingress, stream, n, ended, ms) {
  const deadline = Date.now() + ms;
  let done = false;
  const end = ended.then(() => (done = true));
  let last = null;
  for (;;) {
    const st = await Promise.race([status(ingress), end.then(() => null)]);
    if (st) last = { role: st.role, published: Object.fromEntries(st.streams.map((x) => [x.stream, x.published])) };
    if (done || (last && last.published[stream] >= n)) return last;
    if (Date.now() > deadline) throw new Error(`ingress on port ${ingress.port}: published ${JSON.stringify(last)}, want ${n} ${stream} within ${ms} ms\n${ingress.logTail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sec = (ms) => (ms / 1000).toFixed(2) + ' s';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function scaleout(ctx) {
  const { report } = ctx;
  const want = { receipt: [], cycle: [] };
  for (const w of [...WARMUP, ...WRITERS]) want[w.stream].push(...expectedLines(ctx, w).map(sha));
  const counts = { receipt: want.receipt.length, cycle: want.cycle.length };

  const redis = await new RedisServer(report, path.join(ctx.work, 'redis')).start();
  const dataLogDir = path.join(ctx.work, 'data-logs');
  const keys = Array.from({ length: 2 * COLLECTORS_PER_EDGE }, () => libCrypto.generateKeypair());
  const config = {
    FIREHOSE_SOURCE: 'redis',
    REDIS_URL: redis.url,
    subscribers: keys.map((k) => ({ publicKey: k.publicKey, expirationTimestamp: 0, subscriptionType: 'FIREHOSE' })),
  };

  // Ingress A takes the lease on an empty Redis; B, started after, stands by.
  const ingressA = await ctx.startServer({ command: 'ingress', args: ['--lease-ttl', LEASE_TTL], dataLogDir, config });
  await waitRole(ingressA, 'active', 10000);
  const ingressB = await ctx.startServer({ command: 'ingress', args: ['--lease-ttl', LEASE_TTL], dataLogDir, config });
  await waitRole(ingressB, 'standby', 10000);
  const e1 = await ctx.startServer({ config });
  const e2 = await ctx.startServer({ config });

  const collectors = keys.map((k, i) => new ThreadCollector(`collector ${i + 1} (edge ${i < COLLECTORS_PER_EDGE ? 1 : 2})`, k));
  const onE1 = collectors.slice(0, COLLECTORS_PER_EDGE);
  const onE2 = collectors.slice(COLLECTORS_PER_EDGE);
  const connect = async (c, edge, label, cursor, endExpected) => {
    try {
      const r = await c.connect(edge.ws, label, cursor, endExpected);
      edge.noteChildren();
      return r;
    } catch (e) {
      throw new Error(`${e.message}\n${edge.logTail()}`);
    }
  };
  await Promise.all([...onE1.map((c) => connect(c, e1, 'edge 1')), ...onE2.map((c) => connect(c, e2, 'edge 2', undefined, true))]);

  // Edge 2's collectors resume on edge 1 with their last cursors as soon as their connection ends.
  let killAt = null;
  const resumes = onE2.map(
    (c) =>
      new Promise((resolve) => {
        c.on('closed', (ev) => {
          if (ev.session !== 0) return;
          if (killAt === null) {
            report.check(false, `${c.name}: its connection to edge 2 ended (${ev.code}${ev.errors.length ? ', ' + ev.errors.join('; ') : ''}) before edge 2 was killed`);
            return resolve(null);
          }
          report.check(ev.cursor.receipt && ev.cursor.cycle, () => `${c.name}: no receipt or cycle cursor to resume with: ${JSON.stringify(ev.cursor)}`);
          connect(c, e1, 'resumed on edge 1', ev.cursor).then(
            async (open) => {
              const first = await c.firstFrame(1);
              resolve({ closedMs: ev.at - killAt, openMs: open.openAt - killAt, firstFrameMs: first - killAt, cursor: ev.cursor, atClose: ev.counts });
            },
            (e) => {
              report.check(false, `${c.name}: resume on edge 1 failed: ${e.message}`);
              resolve(null);
            },
          );
        });
      }),
  );

  for (const w of WARMUP) replay(ctx.bin, ctx.work, [...generatorArgs(w), ...LAYOUT, '--dir', dataLogDir]);
  const warm = Object.fromEntries(WARMUP.map((w) => [w.stream, w.n]));
  for (const c of collectors) {
    const r = await c.waitCount(warm, 30000);
    if (!r.ok) throw new Error(`${c.name}: got ${JSON.stringify(r.counts)} of the first entries within 30 s, want ${JSON.stringify(warm)}`);
  }

  const t0 = Date.now();
  const writers = WRITERS.map((w) => new Writer(report, ctx.bin, ctx.work, dataLogDir, w));
  const written = Promise.all(writers.map((w) => w.wait())).then(() => Date.now());

  // Midway: edge 2 and the active ingress die at once when the ingress has published half of the
  // receipts, or, if it lags behind the writers on a busy machine, when the writing ends.
  const atKillA = await waitPublished(ingressA, 'receipt', KILL_AT_RECEIPTS, written, 60000);
  killAt = Date.now();
  await Promise.all([e2.kill9(), ingressA.kill9()]);

  const st = await waitRole(ingressB, 'active', 10000);
  const takeoverMs = Date.parse(st.lease.since) - killAt;
  const writtenAt = await written;

  // Each collector must reach every line written (edge 2's once they have resumed on edge 1); a
  // collector stuck for STALL_MS fails.
  const cutOff = new Promise((r) => setTimeout(r, RESUME_MS, 'timeout').unref());
  const completeAt = await Promise.all(
    collectors.map(async (c, i) => {
      if (i >= COLLECTORS_PER_EDGE) {
        const r = await Promise.race([resumes[i - COLLECTORS_PER_EDGE], cutOff]);
        if (r === 'timeout') report.check(false, `${c.name}: no frame on edge 1 within ${RESUME_MS} ms of the writers' end (its connection to edge 2 did not end, or the resume got nothing)`);
        if (!r || r === 'timeout') return null;
      }
      const r = await c.waitCount(counts, STALL_MS);
      report.check(r.ok, () => `${c.name}: stuck at ${JSON.stringify(r.counts)} frames (no frame for ${STALL_MS} ms${r.closed ? ', connection closed ' + JSON.stringify(r.closed) : ''}), want ${counts.receipt} receipts and ${counts.cycle} cycles`);
      return Date.now();
    }),
  );
  const resumed = await Promise.race([Promise.all(resumes), cutOff.then(() => null)]);

  for (const [i, c] of collectors.entries()) {
    const r = await c.finish();
    report.passed += r.passed;
    report.failed += r.failed;
    for (const f of r.failures) if (report.failures.length < 30) report.failures.push(f);
    for (const k of ['receipt', 'cycle']) {
      const ok = sameSequence(report, `${c.name} ${k}`, r.hashes[k], want[k]);
      if (!ok) report.check(false, `${c.name} ${k}: its connections: ${JSON.stringify(r.sessions)}; resumed with ${JSON.stringify(resumed && resumed[i - COLLECTORS_PER_EDGE])}`);
    }
    report.check(r.hashes.originalTx.length === 0, `${c.name}: ${r.hashes.originalTx.length} originalTx frames, none written`);
    await c.stop();
  }

  const ok = (resumed || []).filter(Boolean);
  const lastComplete = Math.max(...completeAt.filter(Boolean));
  console.log(
    `scaleout: writers done in ${sec(writtenAt - t0)}; edge 2 and ingress A killed ${sec(killAt - t0)} after the start ` +
      (atKillA ? `(ingress A: ${atKillA.role}, had published ${atKillA.published.receipt} receipts and ${atKillA.published.cycle} cycles); ` : '') +
      (takeoverMs >= 0
        ? `standby took the lease ${sec(takeoverMs)} after the kill (lease TTL ${LEASE_TTL}); `
        : `standby had taken the lease ${sec(-takeoverMs)} before the kill: ingress A was not renewing it within its TTL of ${LEASE_TTL} (starved of CPU?); `) +
      (ok.length
        ? `edge 2's collectors (${ok.map((r) => r.atClose.receipt).join('/')} receipts when cut off): connection ended ${sec(median(ok.map((r) => r.closedMs)))}, ` +
          `resumed connection open ${sec(median(ok.map((r) => r.openMs)))}, first frame ${sec(median(ok.map((r) => r.firstFrameMs)))} after the kill (medians; max ${sec(Math.max(...ok.map((r) => r.firstFrameMs)))}); `
        : 'no resume completed; ') +
      `all ${collectors.length} collectors complete ${sec(lastComplete - writtenAt)} after the writers' end`,
  );
}

runCheck('scaleout', scaleout, { timeoutMs: TIMEOUT_MS });
