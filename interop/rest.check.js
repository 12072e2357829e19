#!/usr/bin/env node
// Interop check of the REST query API (rest-api.md §3-§4) against the official libraries: a real
// `distributor start` over the repo's testdata/archiver-db, requests signed with the official
// signObj under the collector key (a listed subscriber), POSTed as JSON to every data route.
//
//   node interop/rest.check.js   (DISTRIBUTOR_BIN=path uses a built binary; INTEROP_KEEP=1 keeps
//                                 the temporary directory)
//
// Every signed reply must pass verifyObj after safeJsonParse, be signed by the distributor key and
// be byte-identical to the official safeStringify of its parse (unsigned replies too). The data is
// checked for consistency across routes: a row found by id equals the row listed, txIdList keeps
// its order, page 2 of a cycle range equals the same rows by offset, tallies add up to counts and
// to /totalData, which agrees with /metrics. Forged requests get the reference's signed error
// replies. Prints "interop rest: N passed, M failed".
'use strict';

const { Utils, DIST, COLLECTOR, STRANGER, signed, canonical, libCrypto } = require('./lib/official');
const { runCheck } = require('./lib/server');

async function rest(ctx) {
  const { report } = ctx;
  const server = await ctx.startServer();
  const check = (ok, what) => report.check(ok, what);

  // post signs params (plus sender) with keys, lets tamper change the signed object, and POSTs it
  // as a collector does (JSON.stringify of the signed object, application/json).
  async function post(route, params, { keys = COLLECTOR, sender = keys.publicKey, tamper } = {}) {
    const obj = signed({ ...params, sender }, keys);
    if (tamper) tamper(obj);
    const res = await fetch(server.base + route, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(obj),
      signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    return { label: `POST ${route} ${JSON.stringify(params)}`, status: res.status, type: res.headers.get('content-type'), text };
  }

  // json checks a JSON reply: HTTP 200, application/json, canonical bytes. Returns the parse.
  function json(r) {
    check(r.status === 200, `${r.label}: HTTP ${r.status} ${r.text.slice(0, 300)}, want 200`);
    check(/^application\/json/.test(r.type || ''), `${r.label}: content-type ${r.type}, want application/json`);
    let parsed;
    try {
      parsed = Utils.safeJsonParse(r.text);
    } catch (e) {
      check(false, `${r.label}: reply is not JSON (${e.message}): ${r.text.slice(0, 300)}`);
      return undefined;
    }
    check(r.text === canonical(parsed), () => `${r.label}: reply is not byte-identical to safeStringify of its parse\n  got  ${r.text.slice(0, 300)}\n  want ${canonical(parsed).slice(0, 300)}`);
    return parsed;
  }

  // signedReply checks a signed reply (verifyObj, distributor key); ok=false for error replies.
  function signedReply(r, { ok = true } = {}) {
    const p = json(r);
    if (p === undefined) return {};
    let valid = false;
    try {
      valid = libCrypto.verifyObj(p);
    } catch (e) {
      valid = false;
    }
    check(valid, `${r.label}: verifyObj rejects the reply: ${r.text.slice(0, 300)}`);
    check(p.sign && p.sign.owner === DIST.publicKey, `${r.label}: sign.owner is not the distributor key`);
    if (ok) check(p.success !== false && p.error === undefined, `${r.label}: error reply ${JSON.stringify(p.error)}`);
    return p;
  }

  // errorReply: the reference's signed application error {error, success:false, sign}, HTTP 200.
  function errorReply(r, message) {
    const p = signedReply(r, { ok: false });
    check(p.error === message && p.success === false, `${r.label}: got ${r.text.slice(0, 300)}, want error ${JSON.stringify(message)}`);
    check(Object.keys(p).sort().join() === 'error,sign,success', `${r.label}: error reply keys ${Object.keys(p)}, want error, sign, success`);
    return p;
  }

  // unsignedError: the reference's unsigned "not specified" replies, byte for byte.
  function unsignedError(r, message) {
    json(r);
    const want = canonical({ error: message, success: false });
    check(r.text === want, `${r.label}: got ${r.text.slice(0, 300)}, want ${want}`);
  }

  const same = (a, b) => canonical(a) === canonical(b);
  const isList = (v, n) => Array.isArray(v) && (n === undefined || v.length === n);
  const ascending = (rows, f) => rows.every((x, i) => i === 0 || f(rows[i - 1]) <= f(x));

  // /cycleinfo
  const newest = signedReply(await post('/cycleinfo', { count: 5 })).cycleInfo;
  check(isList(newest, 5), `/cycleinfo count 5: cycleInfo ${canonical(newest).slice(0, 200)}, want 5 records`);
  const top = newest && newest[0] && newest[0].counter;
  check(typeof top === 'number' && newest.every((c, i) => c.counter === top - i), `/cycleinfo count 5: counters ${newest && newest.map((c) => c.counter)}, want newest first, consecutive`);
  const range = signedReply(await post('/cycleinfo', { start: 10, end: 14 })).cycleInfo;
  check(isList(range, 5) && range.every((c, i) => c.counter === 10 + i), `/cycleinfo start 10 end 14: counters ${range && range.map((c) => c.counter)}, want 10..14`);
  const one = signedReply(await post('/cycleinfo', { start: top })).cycleInfo;
  check(isList(one, 1) && same(one[0], newest[0]), `/cycleinfo start ${top} (no end): want the one newest record`);
  errorReply(await post('/cycleinfo', { count: 101 }), 'Max count is 100.');
  errorReply(await post('/cycleinfo', { start: 5, end: 2 }), 'Invalid start and end counters');
  unsignedError(await post('/cycleinfo', {}), 'not specified which cycle to show');
  const cycles = top + 1; // counters 0..top

  // /receipt and /originalTx
  const rowRoutes = [
    { route: '/receipt', key: 'receipts', id: 'receiptId', tally: 'receipts', what: 'receipts' },
    { route: '/originalTx', key: 'originalTxs', id: 'txId', tally: 'originalTxsData', what: 'original transactions' },
  ];
  const totals = {};
  for (const rr of rowRoutes) {
    const R = rr.route;
    const rows = signedReply(await post(R, { count: 3 }))[rr.key];
    check(isList(rows, 3), `${R} count 3: ${rr.key} ${canonical(rows).slice(0, 200)}, want 3 rows`);
    if (!isList(rows, 3)) continue;
    check(rows.every((x, i) => i === 0 || rows[i - 1].cycle > x.cycle || (rows[i - 1].cycle === x.cycle && rows[i - 1].timestamp >= x.timestamp)), `${R} count 3: not newest first`);
    const byId = signedReply(await post(R, { txId: rows[1][rr.id] }))[rr.key];
    check(isList(byId, 1) && same(byId[0], rows[1]), `${R} txId: want exactly the row listed by count`);
    const missing = 'f'.repeat(64);
    const list = signedReply(await post(R, { txIdList: JSON.stringify([rows[2][rr.id], missing, rows[0][rr.id]]) }))[rr.key];
    check(isList(list, 2) && same(list[0], rows[2]) && same(list[1], rows[0]), `${R} txIdList: want the two known rows in list order, the unknown id skipped`);
    const first = signedReply(await post(R, { start: 0, end: 9 }))[rr.key];
    check(isList(first, 10) && ascending(first, (x) => x.cycle), `${R} start 0 end 9: want 10 rows in cycle order`);
    const offset = signedReply(await post(R, { start: 100, end: 199 }))[rr.key];
    const page2 = signedReply(await post(R, { startCycle: 0, endCycle: cycles - 1, page: 2 }))[rr.key];
    check(isList(offset, 100) && isList(page2) && same(offset, page2), `${R}: page 2 of cycles 0..${cycles - 1} must be rows 100..199 by offset (${page2 && page2.length} rows)`);
    const inCycles = signedReply(await post(R, { startCycle: 5, endCycle: 7 }))[rr.key];
    check(isList(inCycles) && inCycles.length > 0 && inCycles.every((x) => x.cycle >= 5 && x.cycle <= 7), `${R} startCycle 5 endCycle 7: rows outside cycles 5..7`);
    const tally = signedReply(await post(R, { startCycle: 5, endCycle: 7, type: 'tally' }))[rr.key];
    const sum = isList(tally) ? tally.reduce((s, t) => s + t[rr.tally], 0) : NaN;
    check(isList(tally) && tally.every((t, i) => Object.keys(t).sort().join() === ['cycle', rr.tally].sort().join() && t.cycle === 5 + i), `${R} tally: ${canonical(tally)}, want [{cycle, ${rr.tally}}] for cycles 5, 6, 7`);
    const count = signedReply(await post(R, { startCycle: 5, endCycle: 7, type: 'count' }))[rr.key];
    check(count === sum && count === inCycles.length, `${R} type count over cycles 5..7: ${count}; tally sum ${sum}; rows ${inCycles && inCycles.length}`);
    // startCycle 0 still applies the range (readme-compat 9.4: the reference's originalTx counted the whole table).
    const tally0 = signedReply(await post(R, { startCycle: 0, endCycle: 2, type: 'tally' }))[rr.key];
    const count0 = signedReply(await post(R, { startCycle: 0, endCycle: 2, type: 'count' }))[rr.key];
    check(isList(tally0) && count0 === tally0.reduce((s, t) => s + t[rr.tally], 0), `${R} type count over cycles 0..2: ${count0}, want the tally's sum ${canonical(tally0)}`);
    totals[rr.key] = signedReply(await post(R, { startCycle: 0, endCycle: cycles - 1, type: 'count' }))[rr.key];
    const none = signedReply(await post(R, {}));
    check(isList(none[rr.key], 0), `${R} with no selector: want a signed empty ${rr.key} list`);
    errorReply(await post(R, { count: -1 }), 'Invalid count');
    errorReply(await post(R, { count: 101 }), 'Max count is 100');
    errorReply(await post(R, { txId: 'abc' }), 'Invalid txId abc');
    errorReply(await post(R, { start: 0, end: 101 }), `Exceed maximum limit of 100 ${rr.what}`);
    errorReply(await post(R, { startCycle: 0, endCycle: 101 }), 'Exceed maximum limit of 100 cycles');
  }

  // /account and /transaction (count answers signed rows: our documented fix of the empty body)
  const tableRoutes = [
    { route: '/account', key: 'accounts', total: 'totalAccounts', id: 'accountId', idParam: 'accountId', none: 'not specified which account to show' },
    { route: '/transaction', key: 'transactions', total: 'totalTransactions', id: 'txId', idParam: 'txId', none: 'not specified which account to show' },
  ];
  for (const tr of tableRoutes) {
    const R = tr.route;
    const rows = signedReply(await post(R, { count: 5 }))[tr.key];
    check(isList(rows, 5), `${R} count 5: ${tr.key} ${canonical(rows).slice(0, 200)}, want 5 rows`);
    const first = signedReply(await post(R, { start: 0, end: 4 }))[tr.key];
    check(isList(first, 5) && ascending(first, (x) => x.cycleNumber), `${R} start 0 end 4: want 5 rows in cycle order`);
    const counted = signedReply(await post(R, { startCycle: 0, endCycle: 10 }));
    check(Object.keys(counted).sort().join() === `sign,${tr.total}` && typeof counted[tr.total] === 'number', `${R} startCycle 0 endCycle 10: want {${tr.total}} only, got keys ${Object.keys(counted)}`);
    const paged = signedReply(await post(R, { startCycle: 0, endCycle: 10, page: 1 }));
    check(paged[tr.total] === counted[tr.total] && isList(paged[tr.key], Math.min(counted[tr.total], 1000)), `${R} startCycle 0 endCycle 10 page 1: want ${tr.total} ${counted[tr.total]} rows with the same total`);
    check(isList(paged[tr.key]) && paged[tr.key].every((x) => x.cycleNumber >= 0 && x.cycleNumber <= 10), `${R} page 1: rows outside cycles 0..10`);
    if (isList(rows) && rows.length > 0) {
      const byId = signedReply(await post(R, { [tr.idParam]: rows[0][tr.id] }))[tr.key];
      check(isList(byId, 1) && same(byId[0], rows[0]), `${R} ${tr.idParam}: want exactly the row listed by count`);
    }
    const all = signedReply(await post(R, { startCycle: 0, endCycle: cycles - 1 }));
    totals[tr.key] = all[tr.total];
    errorReply(await post(R, { count: 1001 }), 'Max count is 1000');
    unsignedError(await post(R, {}), tr.none);
  }
  // /transaction by appReceiptId (our documented fix: WHERE appReceiptId = ?)
  const txs = signedReply(await post('/transaction', { start: 0, end: 20 })).transactions || [];
  const withApp = txs.find((t) => typeof t.appReceiptId === 'string' && t.appReceiptId !== '');
  if (check(withApp !== undefined, '/transaction: no row with an appReceiptId among the first 21 to look up')) {
    const byApp = signedReply(await post('/transaction', { appReceiptId: withApp.appReceiptId })).transactions;
    check(isList(byApp, 1) && byApp[0].appReceiptId === withApp.appReceiptId, `/transaction appReceiptId: want the row with that appReceiptId, got ${canonical(byApp).slice(0, 200)}`);
  }

  // /totalData agrees with the ranges above and with /metrics.
  const total = signedReply(await post('/totalData', {}));
  check(total.totalCycles === cycles, `/totalData totalCycles ${total.totalCycles}, want ${cycles}`);
  check(total.totalReceipts === totals.receipts, `/totalData totalReceipts ${total.totalReceipts}, want ${totals.receipts} (count over every cycle)`);
  check(total.totalOriginalTxs === totals.originalTxs, `/totalData totalOriginalTxs ${total.totalOriginalTxs}, want ${totals.originalTxs}`);
  check(total.totalAccounts === totals.accounts, `/totalData totalAccounts ${total.totalAccounts}, want ${totals.accounts}`);
  check(total.totalTransactions === totals.transactions, `/totalData totalTransactions ${total.totalTransactions}, want ${totals.transactions}`);
  check(Number.isInteger(total.pid) && total.pid > 0, `/totalData pid ${total.pid}`);

  // Forged and malformed requests: the reference's signed error replies.
  errorReply(await post('/cycleinfo', { count: 1 }, { tamper: (o) => (o.count = 2) }), 'Invalid signature');
  errorReply(await post('/receipt', { count: 1 }, { tamper: (o) => (o.extra = 'added after signing') }), 'Invalid signature');
  errorReply(await post('/totalData', {}, { tamper: (o) => (o.sign.sig = (o.sign.sig[5] === '0' ? o.sign.sig.slice(0, 5) + '1' : o.sign.sig.slice(0, 5) + '0') + o.sign.sig.slice(6)) }), 'Invalid signature');
  errorReply(await post('/cycleinfo', { count: 1 }, { keys: STRANGER }), 'Data request sender is not a subscriber');
  errorReply(await post('/cycleinfo', { count: 1 }, { keys: STRANGER, sender: COLLECTOR.publicKey }), 'Data sender publicKey and sign owner key does not match');
  errorReply(await post('/cycleinfo', { count: '5' }), 'Invalid request data count must be, number');
  errorReply(await post('/receipt', { count: 1 }, { tamper: (o) => delete o.sign }), 'Invalid request data sign is required');

  // GET routes.
  const cfgRes = await fetch(server.base + '/config');
  const cfgText = await cfgRes.text();
  const cfg = json({ label: 'GET /config', status: cfgRes.status, type: cfgRes.headers.get('content-type'), text: cfgText });
  const c = (cfg && cfg.config) || {};
  check(c.DISTRIBUTOR_PUBLIC_KEY === DIST.publicKey && c.DISTRIBUTOR_PORT === server.port && c.DISTRIBUTOR_IP === '127.0.0.1' && c.limitToSubscribersOnly === true, `GET /config: ${cfgText}`);
  check(!cfgText.includes(DIST.secretKey) && !/SECRET|HASH_KEY/.test(cfgText), `GET /config leaks a secret: ${cfgText}`);
  const mRes = await fetch(server.base + '/metrics');
  const mText = await mRes.text();
  const m = json({ label: 'GET /metrics', status: mRes.status, type: mRes.headers.get('content-type'), text: mText }) || {};
  for (const [k, want] of [['cycle', total.totalCycles], ['receipt', total.totalReceipts], ['originalTx', total.totalOriginalTxs]]) {
    check(m[k] && m[k].count === want && Number.isFinite(m[k].lastUpdationTimestamp), `GET /metrics ${k}: ${canonical(m[k])}, want count ${want} (no data-log lines were read)`);
  }
  const alive = await fetch(server.base + '/is-alive');
  check(alive.status === 200 && (await alive.text()) === 'OK', `GET /is-alive: HTTP ${alive.status}`);
  const getData = await fetch(server.base + '/receipt');
  await getData.text();
  check(getData.status === 404, `GET /receipt: HTTP ${getData.status}, want 404 (data routes are POST only)`);
}

runCheck('rest', rest);
