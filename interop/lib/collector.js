// A firehose collector built on the official libraries and the `ws` client that Shardeum's
// relayer-collector uses: it signs its handshake with signObj, opens the WebSocket with the
// handshake in `?data=`, and checks every frame it receives the way a collector relies on it.
'use strict';

const WebSocket = require('ws');
const { Utils, libCrypto, DIST, signed, canonical } = require('./official');

const KINDS = ['cycle', 'receipt', 'originalTx'];

// handshake is the signed subscription object of firehose.md §3, plus an optional top-level
// resume cursor (CONTRACTS.md), signed with it.
function handshake(keys, { sender = keys.publicKey, timestamp = Date.now(), subscriptionType = 'FIREHOSE', cursor } = {}) {
  const obj = { collectorInfo: { subscriptionType, timestamp }, sender };
  if (cursor) obj.cursor = cursor;
  return signed(obj, keys);
}

// dial opens ws://.../?data=<handshake> (no query when data is undefined; a string is sent as is).
// It resolves {ws, early, hold} once open (pass it to Subscriber), {status, headers, body} when the
// server answers the upgrade with anything but 101, or {error}.
function dial(wsBase, data) {
  const text = typeof data === 'string' ? data : canonical(data);
  const url = data === undefined ? `${wsBase}/` : `${wsBase}/?data=${encodeURIComponent(text)}`;
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { handshakeTimeout: 10000 });
    // Frames can arrive in the same read as the 101 and are emitted before a promise continuation
    // runs: hold them from the start until a Subscriber takes over.
    const early = [];
    const hold = (data, isBinary) => early.push([data, isBinary]);
    ws.on('message', hold);
    ws.once('open', () => resolve({ ws, early, hold }));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      const done = () => {
        resolve({ status: res.statusCode, headers: res.headers, body });
        req.destroy();
      };
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    ws.on('error', (error) => resolve({ error }));
  });
}

// Subscriber collects the frames of one open connection (dial's result), per stream, checking
// each as it arrives, starting with those that arrived before it was made.
class Subscriber {
  constructor({ ws, early, hold }, report, label) {
    this.ws = ws;
    this.report = report;
    this.label = label;
    this.payloads = { cycle: [], receipt: [], originalTx: [] }; // canonical payload text, in order
    this.cursors = { cycle: [], receipt: [], originalTx: [] };
    this.total = 0;
    this.closed = null;
    this.waiters = [];
    ws.off('message', hold);
    for (const [data, isBinary] of early) this.onFrame(data, isBinary);
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    // endExpected is set by a check that is about to kill the server: the error (a reset, say) that
    // ends the connection is then recorded in errors instead of failing.
    this.endExpected = false;
    this.errors = [];
    ws.on('error', (e) => {
      if (this.endExpected) this.errors.push(e.message);
      else report.check(false, `${label}: WebSocket error ${e.message}`);
    });
  }

  onFrame(data, isBinary) {
    const r = this.report;
    const n = this.total++;
    const text = data.toString('utf8');
    const what = () => `${this.label} frame #${n}: ${text.length > 300 ? text.slice(0, 300) + '…' : text}`;
    r.check(!isBinary, () => `${what()}: sent as a binary frame, want text`);
    let parsed;
    try {
      parsed = Utils.safeJsonParse(text);
    } catch (e) {
      r.check(false, () => `${what()}: safeJsonParse: ${e.message}`);
      return this.wake();
    }
    let valid = false;
    try {
      valid = libCrypto.verifyObj(parsed);
    } catch (e) {
      valid = false;
    }
    r.check(valid, () => `${what()}: verifyObj rejects it`);
    r.check(parsed.sign && parsed.sign.owner === DIST.publicKey, () => `${what()}: sign.owner is not the distributor key ${DIST.publicKey}`);
    r.check(text === canonical(parsed), () => `${what()}: not byte-identical to safeStringify of its parse:\n  want ${canonical(parsed)}`);
    const kinds = KINDS.filter((k) => Object.prototype.hasOwnProperty.call(parsed, k));
    r.check(kinds.length === 1, () => `${what()}: has ${kinds.length} of cycle/receipt/originalTx, want exactly 1`);
    const extra = Object.keys(parsed).filter((k) => !KINDS.includes(k) && k !== 'cursor' && k !== 'sign');
    r.check(extra.length === 0, () => `${what()}: unexpected top-level keys ${extra.join(',')}`);
    r.check(typeof parsed.cursor === 'string' && parsed.cursor !== '', () => `${what()}: no "cursor" string to resume from`);
    if (kinds.length === 1) {
      this.payloads[kinds[0]].push(canonical(parsed[kinds[0]]));
      this.cursors[kinds[0]].push(parsed.cursor);
    }
    this.wake();
  }

  counts() {
    return Object.fromEntries(KINDS.map((k) => [k, this.payloads[k].length]));
  }

  lastCursors() {
    const out = {};
    for (const k of KINDS) if (this.cursors[k].length > 0) out[k] = this.cursors[k][this.cursors[k].length - 1];
    return out;
  }

  wake() {
    this.waiters = this.waiters.filter((w) => !w.test());
  }

  // until resolves true once pred(this) holds, false if the connection closes or ms pass first.
  until(pred, ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(false);
      }, ms);
      const w = {
        test: () => {
          if (pred(this)) {
            clearTimeout(timer);
            resolve(true);
            return true;
          }
          if (this.closed) {
            clearTimeout(timer);
            resolve(false);
            return true;
          }
          return false;
        },
      };
      if (!w.test()) this.waiters.push(w);
    });
  }

  // close closes with 1000 and waits for the server's close (terminating after 5 s).
  async close() {
    if (this.closed) return this.closed;
    this.ws.close(1000, 'interop done');
    const ok = await this.until(() => false, 5000);
    if (!this.closed) {
      this.report.check(ok, `${this.label}: the server did not complete the close handshake within 5 s`);
      this.ws.terminate();
      await this.until(() => false, 2000);
    }
    return this.closed;
  }
}

module.exports = { KINDS, handshake, dial, Subscriber };
