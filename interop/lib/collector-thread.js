// A collector of lib/collector.js in a worker thread of its own, for checks that run many: each
// verifies every frame with the official library (safeJsonParse, verifyObj, sign.owner, canonical
// bytes), which would otherwise keep the check's one thread too busy to drive the servers. The
// thread keeps one subscriber key across its connections (a first one and, after its edge died,
// the one it resumes with), reports each connection's end and first frame with the time they
// happened, and at the end hands back its assertions' counts and a SHA-256 of each payload in
// arrival order, per stream, for the main thread to compare.
'use strict';

const crypto = require('crypto');
const path = require('path');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const { track, untrack } = require('./server');

const sha = (text) => crypto.createHash('sha256').update(text).digest('hex');

if (!isMainThread && workerData && workerData.collectorThread) runThread();

// ThreadCollector is the main thread's handle on one collector thread. on('closed'|'first', fn)
// receive its events; the other methods are requests answered by the thread. runCheck stops the
// thread (terminate) if the check ends before stop().
class ThreadCollector {
  constructor(name, keys) {
    this.name = name;
    this.worker = new Worker(__filename, { workerData: { collectorThread: true, name, keys } });
    this.proc = { kill: () => this.worker.terminate() };
    this.pending = new Map();
    this.listeners = { closed: [], first: [] };
    this.firstAt = new Map(); // connection index -> promise of its first frame's time
    this.nextId = 1;
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.on('message', (m) => {
      if (m.id !== undefined) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) p.reject(new Error(`${name}: ${m.error}`));
        else p.resolve(m.result);
        return;
      }
      if (m.event === 'first') this.firstFrame(m.session).resolve(m.at);
      for (const fn of this.listeners[m.event] || []) fn(m);
    });
    this.worker.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(new Error(`${name}: thread failed: ${e.stack || e}`));
      this.pending.clear();
    });
    track(this);
  }

  // firstFrame resolves the time connection #session got its first frame.
  firstFrame(session) {
    if (!this.firstAt.has(session)) {
      let resolve;
      this.firstAt.set(session, Object.assign(new Promise((r) => (resolve = r)), { resolve: (at) => resolve(at) }));
    }
    return this.firstAt.get(session);
  }

  on(event, fn) {
    this.listeners[event].push(fn);
  }

  request(op, args = {}) {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, ...args });
    });
  }

  // connect subscribes to wsBase with a signed handshake (with cursor when given); it resolves
  // {openAt} once open and throws if the server refuses. With endExpected (the server will be
  // killed), an error on the connection is not a failure: it comes in the 'closed' event's errors
  // for the caller to judge.
  connect(wsBase, label, cursor, endExpected = false) {
    return this.request('connect', { wsBase, label, cursor, endExpected });
  }

  // waitCount resolves {ok, counts, closed} once the collector has want[k] frames of every stream k
  // in want (ok), or when no frame came for stallMs while short of it.
  waitCount(want, stallMs) {
    return this.request('waitCount', { want, stallMs });
  }

  // finish closes the connection (1000) and resolves {passed, failed, failures, hashes, sessions}.
  finish() {
    return this.request('finish');
  }

  async stop() {
    if (!untrack(this)) return;
    await this.worker.terminate();
    await this.exited;
  }
}

function runThread() {
  // Verifying every frame of many collectors takes more CPU than the servers under test: the
  // collectors yield to them (on Linux the nice value is per thread, so this lowers this thread
  // only) and catch up from the servers' logs, as lagging collectors do.
  try {
    require('os').setPriority(10);
  } catch (e) {
    // not permitted here: the collectors compete at the same priority
  }
  const { Report } = require('./server');
  const { KINDS, handshake, dial, Subscriber } = require('./collector');
  const { name, keys } = workerData;
  const report = new Report(name);
  const sessions = [];
  const last = () => sessions[sessions.length - 1];
  const count = (k) => sessions.reduce((n, s) => n + s.payloads[k].length, 0);
  const counts = () => Object.fromEntries(KINDS.map((k) => [k, count(k)]));
  const lastCursors = () => Object.assign({}, ...sessions.map((s) => s.lastCursors()));

  const ops = {
    async connect({ wsBase, label, cursor, endExpected }) {
      const r = await dial(wsBase, handshake(keys, cursor ? { cursor } : {}));
      if (!r.ws) throw new Error(`(${label}) subscription refused: ${r.status !== undefined ? 'HTTP ' + r.status + ' ' + JSON.stringify(r.body) : r.error}`);
      const openAt = Date.now();
      const s = new Subscriber(r, report, `${name} (${label})`);
      s.endExpected = endExpected;
      const index = sessions.push(s) - 1;
      s.until((x) => x.total > 0, 1 << 30).then((got) => {
        if (got) parentPort.postMessage({ event: 'first', session: index, at: Date.now() });
      });
      s.until((x) => x.closed !== null, 1 << 30).then(() => {
        parentPort.postMessage({ event: 'closed', session: index, at: Date.now(), code: s.closed.code, cursor: lastCursors(), counts: counts(), errors: s.errors });
      });
      return { openAt };
    },
    async waitCount({ want, stallMs }) {
      const enough = () => Object.keys(want).every((k) => count(k) >= want[k]);
      const total = () => KINDS.reduce((n, k) => n + count(k), 0);
      for (;;) {
        const before = total();
        const moved = await last().until(() => enough() || total() > before, stallMs);
        if (enough()) return { ok: true, counts: counts() };
        if (!moved) return { ok: false, counts: counts(), closed: last().closed };
      }
    },
    async finish() {
      if (sessions.length > 0) await last().close();
      const hashes = Object.fromEntries(KINDS.map((k) => [k, [].concat(...sessions.map((s) => s.payloads[k].map(sha)))]));
      const summary = sessions.map((s) => ({
        label: s.label,
        counts: s.counts(),
        firstCursors: Object.fromEntries(KINDS.map((k) => [k, s.cursors[k].slice(0, 5)])),
        lastCursors: s.lastCursors(),
      }));
      const cursors = [].concat(...sessions.map((s) => [].concat(...KINDS.map((k) => s.cursors[k]))));
      report.check(new Set(cursors).size === cursors.length, `${name}: a cursor repeats across its frames`);
      return { passed: report.passed, failed: report.failed, failures: report.failures, hashes, sessions: summary };
    },
  };

  parentPort.on('message', async (m) => {
    try {
      parentPort.postMessage({ id: m.id, result: await ops[m.op](m) });
    } catch (e) {
      parentPort.postMessage({ id: m.id, error: e && e.message ? e.message : String(e) });
    }
  });
}

module.exports = { ThreadCollector, sha };
