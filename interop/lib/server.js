// A real distributor for the interop checks: builds the Go binary (or takes $DISTRIBUTOR_BIN),
// writes a distributor-config.json into a temporary directory, starts `distributor start` on a
// free 127.0.0.1 port, waits for GET /is-alive, and stops it again, always: runCheck stops every
// server it started when the check ends, fails, times out or is interrupted, waits for the
// parent to exit, and checks that the child processes it had spawned are gone too.
'use strict';

const { spawn, spawnSync, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { repo, HASH_KEY, DIST, COLLECTOR } = require('./official');

// Report counts passed and failed assertions; failures keep their text (the first 30 are printed).
class Report {
  constructor(name) {
    this.name = name;
    this.passed = 0;
    this.failed = 0;
    this.failures = [];
  }
  check(ok, what) {
    if (ok) {
      this.passed++;
      return true;
    }
    this.failed++;
    // what may be a function (built only on failure), or null for a failure already described.
    if (what != null && this.failures.length < 30) this.failures.push(typeof what === 'function' ? what() : what);
    return false;
  }
  print() {
    for (const f of this.failures) console.error('FAIL ' + f);
    console.log(`interop ${this.name}: ${this.passed} passed, ${this.failed} failed`);
  }
}

function goBinary(work) {
  if (process.env.DISTRIBUTOR_BIN) return path.resolve(process.env.DISTRIBUTOR_BIN);
  const bin = path.join(work, 'distributor');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: repo, stdio: 'inherit' });
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A clean environment: only the config file and flags configure the binary.
function cleanEnv(work) {
  return { PATH: process.env.PATH, HOME: process.env.HOME || work };
}

// replay runs `distributor replay` synchronously (it writes files and exits).
function replay(bin, work, args) {
  const r = spawnSync(bin, ['replay', '--quiet', ...args], { cwd: work, env: cleanEnv(work), encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`distributor replay ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
}

// Process table (Linux /proc): pid -> {ppid, start}; empty where there is no /proc.
function processTable() {
  const table = new Map();
  let names = [];
  try {
    names = fs.readdirSync('/proc');
  } catch (e) {
    return table;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
    } catch (e) {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    table.set(Number(n), { state: f[0], ppid: Number(f[1]), start: f[19] });
  }
  return table;
}

function descendants(pid) {
  const table = processTable();
  const out = [];
  const walk = (p) => {
    for (const [c, info] of table) {
      if (info.ppid === p) {
        out.push({ pid: c, start: info.start });
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}

function stillRunning(proc) {
  try {
    const stat = fs.readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[19] === proc.start && f[0] !== 'Z';
  } catch (e) {
    return false;
  }
}

const live = new Set(); // servers not yet stopped

class Server {
  constructor(report, bin, work, opts) {
    this.report = report;
    this.bin = bin;
    this.work = work;
    this.opts = opts;
    this.seenChildren = new Map(); // pid -> process descriptor, every child seen while running
  }

  async start() {
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    this.ws = `ws://127.0.0.1:${this.port}`;
    this.dataLogDir = this.opts.dataLogDir || path.join(this.work, 'data-logs');
    fs.mkdirSync(this.dataLogDir, { recursive: true });
    this.config = {
      DISTRIBUTOR_IP: '127.0.0.1',
      DISTRIBUTOR_PORT: this.port,
      DISTRIBUTOR_HASH_KEY: HASH_KEY,
      DISTRIBUTOR_PUBLIC_KEY: DIST.publicKey,
      DISTRIBUTOR_SECRET_KEY: DIST.secretKey,
      ARCHIVER_DB_DIR: path.join(repo, 'testdata', 'archiver-db'),
      DATA_LOG_DIR: this.dataLogDir,
      FILE_STREAM_INTERVAL_MS: 100,
      VERBOSE: Boolean(process.env.INTEROP_VERBOSE),
      limitToSubscribersOnly: true,
      subscribers: [{ publicKey: COLLECTOR.publicKey, expirationTimestamp: 0, subscriptionType: 'FIREHOSE' }],
      ...(this.opts.config || {}),
    };
    this.configFile = path.join(this.work, 'distributor-config.json');
    fs.writeFileSync(this.configFile, JSON.stringify(this.config, null, 2));
    this.logFile = path.join(this.work, 'distributor.log');
    const log = fs.openSync(this.logFile, 'w');
    // opts.command runs another command than `start` (e.g. `ingress`), with opts.args after --config.
    const command = this.opts.command || 'start';
    const args = this.opts.args || (command === 'start' ? ['--grace', '3s'] : []);
    this.proc = spawn(this.bin, [command, '--config', this.configFile, ...args], {
      cwd: this.work,
      env: cleanEnv(this.work),
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => resolve({ code, signal }));
      this.proc.once('error', (e) => resolve({ code: null, signal: null, error: e })); // did not start
    });
    live.add(this);
    await this.waitAlive(20000);
    return this;
  }

  // waitAlive polls GET /is-alive (the server gives no other readiness signal to a client),
  // failing at once if the process exits.
  async waitAlive(ms) {
    const deadline = Date.now() + ms;
    let gone = null;
    this.exited.then((e) => (gone = e));
    for (;;) {
      if (gone) throw new Error(`distributor ${gone.error ? 'did not start: ' + gone.error.message : `exited (${gone.code ?? gone.signal})`} before answering /is-alive:\n${this.logTail()}`);
      try {
        const r = await fetch(this.base + '/is-alive', { signal: AbortSignal.timeout(1000) });
        if (r.status === 200) return;
      } catch (e) {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`distributor did not answer /is-alive within ${ms} ms:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // noteChildren records the distributor's current child processes, to check at stop that they
  // are gone.
  noteChildren() {
    if (!this.proc || this.proc.exitCode !== null) return [];
    const kids = descendants(this.proc.pid);
    for (const k of kids) this.seenChildren.set(k.pid, k);
    return kids;
  }

  logTail(n = 30) {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-n).map((l) => '    | ' + l).join('\n');
    } catch (e) {
      return '';
    }
  }

  // stop: SIGTERM, wait for a graceful exit (the server's grace is 3 s), SIGKILL after 8 s; then
  // every child process seen must be gone.
  async stop() {
    if (!live.has(this)) return;
    live.delete(this);
    this.noteChildren();
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 8000);
      const { code, signal } = await this.exited;
      clearTimeout(timer);
      this.report.check(code === 0, `distributor did not exit cleanly on SIGTERM: code ${code} signal ${signal}\n${this.logTail()}`);
    } else {
      await this.exited;
      this.report.check(false, `distributor exited before the check ended: code ${this.proc.exitCode} signal ${this.proc.signalCode}\n${this.logTail()}`);
    }
    await this.childrenGone();
  }

  // kill9 is a crash: SIGKILL to the distributor alone (its children must follow it by themselves),
  // then every child process seen must be gone. It resolves once the process has exited.
  async kill9() {
    if (!live.has(this)) return;
    live.delete(this);
    this.noteChildren();
    this.proc.kill('SIGKILL');
    const { signal } = await this.exited;
    this.report.check(signal === 'SIGKILL', `distributor ${this.opts.command || 'start'}: exited with ${signal} instead of SIGKILL\n${this.logTail()}`);
    await this.childrenGone();
  }

  // childrenGone waits up to 3 s for every child process seen to be gone, SIGKILLs and reports any
  // left.
  async childrenGone() {
    const deadline = Date.now() + 3000;
    let left = [...this.seenChildren.values()].filter(stillRunning);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      left = left.filter(stillRunning);
    }
    this.report.check(left.length === 0, `child processes left running after the distributor exited: ${left.map((p) => p.pid).join(', ')}`);
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch (e) {
        // gone meanwhile
      }
    }
  }
}

// Last resort on a synchronous exit path: nothing can be awaited, so SIGKILL what is still up.
process.on('exit', () => {
  for (const s of live) {
    try {
      s.proc.kill('SIGKILL');
    } catch (e) {
      // already gone
    }
  }
});

// runCheck runs body(ctx) with ctx = {report, bin, work, startServer(opts)} under a time limit,
// then stops every server, prints the report and sets the exit code. The temporary directory is
// removed unless INTEROP_KEEP is set.
function runCheck(name, body, { timeoutMs = 55000 } = {}) {
  const report = new Report(name);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `interop-${name}-`));
  let finished = false;
  const finish = async (extraFailure) => {
    if (finished) return;
    finished = true;
    if (extraFailure) report.check(false, extraFailure);
    // Last started, first stopped: a server stops before what it depends on (Redis, say).
    for (const s of [...live].reverse()) await s.stop();
    report.print();
    if (!process.env.INTEROP_KEEP) fs.rmSync(work, { recursive: true, force: true });
    else console.error(`kept ${work}`);
    process.exitCode = report.failed === 0 && report.passed > 0 ? 0 : 1;
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => finish(`interrupted by ${sig}`).then(() => process.exit(1)));
  }
  const timer = setTimeout(() => {
    finish(`check did not finish within ${timeoutMs} ms`).then(() => process.exit(1));
  }, timeoutMs);
  (async () => {
    try {
      const bin = goBinary(work);
      const servers = [];
      const ctx = {
        report,
        bin,
        work,
        async startServer(opts = {}) {
          const s = new Server(report, bin, fs.mkdtempSync(path.join(work, 'server-')), opts);
          servers.push(s);
          return s.start();
        },
      };
      await body(ctx);
      await finish();
    } catch (e) {
      await finish(`check aborted: ${e && e.stack ? e.stack : e}`);
    } finally {
      clearTimeout(timer);
    }
  })();
}

// track makes runCheck stop another process when the check ends, as it stops servers: h has
// .proc (a ChildProcess, SIGKILLed on a synchronous exit) and async .stop(), which must untrack(h).
function track(h) {
  live.add(h);
}

function untrack(h) {
  return live.delete(h);
}

module.exports = { Report, runCheck, goBinary, replay, freePort, cleanEnv, track, untrack };
