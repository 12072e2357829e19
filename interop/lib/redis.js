// A real redis-server (Debian's package) for the interop checks: started on a free 127.0.0.1
// port in its own directory, without persistence, and stopped by runCheck when the check ends
// (it is tracked like the distributor servers).
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { freePort, track, untrack } = require('./server');

class RedisServer {
  constructor(report, dir) {
    this.report = report;
    this.dir = dir;
  }

  async start() {
    fs.mkdirSync(this.dir, { recursive: true });
    this.port = await freePort();
    this.url = `redis://127.0.0.1:${this.port}`;
    this.logFile = path.join(this.dir, 'redis.log');
    const log = fs.openSync(this.logFile, 'w');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir];
    this.proc = spawn('redis-server', args, { cwd: this.dir, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => resolve({ code, signal }));
      this.proc.once('error', (e) => resolve({ code: null, signal: null, error: e }));
    });
    track(this);
    await this.waitPong(10000);
    return this;
  }

  // waitPong sends PING until +PONG comes back (redis-server gives no other readiness signal to a
  // client), failing at once if the process exits.
  async waitPong(ms) {
    const deadline = Date.now() + ms;
    let gone = null;
    this.exited.then((e) => (gone = e));
    for (;;) {
      if (gone) throw new Error(`redis-server ${gone.error ? 'did not start: ' + gone.error.message : `exited (${gone.code ?? gone.signal})`}:\n${this.logTail()}`);
      if (await this.ping()) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING within ${ms} ms:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  ping() {
    return new Promise((resolve) => {
      const sock = net.connect(this.port, '127.0.0.1');
      let got = '';
      const done = (ok) => {
        sock.destroy();
        resolve(ok);
      };
      sock.setTimeout(1000, () => done(false));
      sock.on('error', () => done(false));
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        got += d.toString('latin1');
        if (got.includes('\r\n')) done(got.startsWith('+PONG'));
      });
    });
  }

  logTail(n = 20) {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-n).map((l) => '    | ' + l).join('\n');
    } catch (e) {
      return '';
    }
  }

  // stop: SIGTERM (redis-server exits 0 on it), SIGKILL after 5 s.
  async stop() {
    if (!untrack(this)) return;
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      await this.exited;
      this.report.check(false, `redis-server exited before the check ended: code ${this.proc.exitCode} signal ${this.proc.signalCode}\n${this.logTail()}`);
      return;
    }
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    const { code, signal } = await this.exited;
    clearTimeout(timer);
    this.report.check(code === 0, `redis-server did not exit cleanly on SIGTERM: code ${code} signal ${signal}\n${this.logTail()}`);
  }
}

module.exports = { RedisServer };
