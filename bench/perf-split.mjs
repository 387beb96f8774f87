#!/usr/bin/env node
// Where a transaction's CPU goes, the bridge next to the Node.js floor (bench/node-floor.mjs)
// (and slapd's CPU per transaction in the same rounds, for scale):
// both take the same Apache mix from the same generator while Linux `perf` samples every thread
// of the server (software clock, call stacks, `--perf-basic-prof` for JavaScript frames), and
// each sample is put in one category by its stack. Printed as microseconds of CPU per
// transaction, so the two columns subtract: what the bridge spends that any one-process Node.js
// server spends too (sockets, event loop), and what is its own (SQLite, logging, its code).
// node --cpu-prof sees only the main thread's JavaScript; perf also sees the kernel, libuv,
// better-sqlite3, V8's compiler and garbage collector threads.
//
//   node bench/perf-split.mjs [config JSON merged over the defaults] [conns, default 8] [rounds, default 2]
//   Needs `perf` (Debian: linux-perf) and the bench's cached 1,000-user SQLite database.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startBridge, startSlapd, waitForPort } from './lib/servers.mjs';
import { runLoad, warmCredentials, parseMix } from './ldap-load.mjs';
import { BENCH_DIR, sqliteDatabase, writeLdif } from './lib/datasets.mjs';
import * as D from './lib/data.mjs';

const args = process.argv.slice(2);
const json = args.find((a) => a.startsWith('{')) ?? '{}';
const [conns = '8', rounds = '2'] = args.filter((a) => !a.startsWith('{'));
const HZ = 999;
const SECONDS = 6;
const work = mkdtempSync('/tmp/dlb-perf-split-');
chmodSync(work, 0o755); // slapd runs as openldap and must reach its directory

/** Categories, first match wins; `stack` is leaf first. */
const CATEGORIES = [
  ['garbage collection', (s) => s.some((f) => /Heap::|Scavenge|MarkCompact|Sweeper|ConcurrentMarking|GCTracer/.test(f))],
  ['V8 compiling (JIT threads)', (s) => s.some((f) => /v8::internal::compiler::|v8::internal::maglev::|OptimizingCompileDispatcher/.test(f))],
  ['SQLite statements and their rows (better-sqlite3)', (s) => s.some((f) => /^(sqlite3|Statement::JS|Database::JS)/.test(f))],
  ['logging (pino, sonic-boom)', (s) => s.some((f) => /node_modules\/(pino|sonic-boom)\//.test(f))],
  ['socket writes (syscall and its JS)', (s) => s.some((f) => /do_writev|tcp_sendmsg|uv__write|uv_try_write|LibuvStreamWrap::Do(Try)?Write|JS:\S* (writevGeneric|writeGeneric) /.test(f))],
  ['socket reads (syscall)', (s) => s.slice(0, 14).some((f) => /ksys_read|tcp_recvmsg|uv__read$|__libc_read/.test(f))],
  ['event loop wait (epoll)', (s) => s.slice(0, 14).some((f) => /epoll_wait|ep_poll|do_epoll/.test(f))],
  ['promise and async machinery', (s) => /Promise|Microtask|AsyncFunction|Generator/.test(s[0])],
  ['the server\'s own JavaScript (and V8 work it calls)', (s) => firstJs(s)?.includes('/dist/') || firstJs(s)?.includes('/bench/')],
  ['Node.js core JavaScript (streams, buffers, timers)', (s) => firstJs(s)?.startsWith('JS:') && / node:/.test(firstJs(s))],
  ['other (kernel, libuv, native)', () => true],
];
const firstJs = (s) => s.find((f) => f.startsWith('JS:'));

function stacks(data) {
  const out = [];
  let cur = [];
  const text = execFileSync('perf', ['script', '-i', data, '-F', 'ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) {
      if (cur.length) out.push(cur);
      cur = [];
      continue;
    }
    const sp = t.indexOf(' ');
    cur.push(sp < 0 ? '?' : t.slice(sp + 1));
  }
  if (cur.length) out.push(cur);
  return out;
}

const { makePassword } = await import(new URL('../dist/django/hashers/index.js', import.meta.url).href);
const hash = await makePassword(D.USER_PW, { iterations: D.PBKDF2_ITERATIONS });
const svcHash = await makePassword(D.SVC_PW, { iterations: D.PBKDF2_ITERATIONS });
const db = `sqlite://${sqliteDatabase(join(BENCH_DIR, '.cache', 'bench-1k.sqlite3'), 1000, hash).path}`;
const { root, env, ...over } = JSON.parse(json);
const bridge = await startBridge({ baseDn: D.BASE, serviceAccounts: [{ dn: D.SVC_DN, password: svcHash }], ...over, database: db }, { dir: work, env: { NODE_OPTIONS: '--perf-basic-prof', ...env }, ...(root ? { root } : {}) });
const floorPort = await freePort();
const floorChild = spawn(process.execPath, ['--perf-basic-prof', join(BENCH_DIR, 'node-floor.mjs'), String(floorPort)], { stdio: 'ignore' });
await waitForPort(floorPort, 10000);
const ldif = join(work, 'data.ldif');
await writeLdif(ldif, 1000);
const slapd = await startSlapd(join(work, 'slapd'), ldif);
// slapd takes the same load in the same rounds, for its CPU per transaction only (not sampled).
const slapdRuns = [];
const servers = [
  { name: 'Node.js floor', url: `ldap://127.0.0.1:${floorPort}`, pid: floorChild.pid },
  { name: `bridge ${json}`, url: bridge.url, pid: bridge.pid },
];
const totals = servers.map(() => ({ tx: 0, samples: new Map(), all: 0, cpuUs: 0 }));
let hot = 100;
try {
  for (let r = 0; r < Number(rounds); r++) {
    {
      const hotList = Array.from({ length: 16 }, () => 1 + (hot++ % 1000));
      await warmCredentials(slapd.url, hotList, 2);
      const out = await runLoad({ url: slapd.url, mix: parseMix(`apache:${conns}`), duration: SECONDS, warmup: 1, hotList, serverPids: [slapd.pid] });
      const tx = out.streams.reduce((n, st) => n + st.tx, 0);
      slapdRuns.push({ tps: tx / out.duration, us: (out.serverCores * out.duration * 1e6) / tx });
    }
    for (const [k, s] of servers.entries()) {
      const hotList = Array.from({ length: 16 }, () => 1 + (hot++ % 1000));
      await warmCredentials(s.url, hotList, 2);
      const data = join(work, `perf-${k}-${r}.data`);
      // perf samples the middle of the load: it starts after the load's warm-up second and
      // stops a second before the load does; transactions are counted over the same span.
      const load = runLoad({ url: s.url, mix: parseMix(`apache:${conns}`), duration: SECONDS + 2, warmup: 1, hotList, serverPids: [s.pid] });
      await new Promise((res) => setTimeout(res, 1500));
      const perf = spawn('perf', ['record', '-F', String(HZ), '-g', '-p', String(s.pid), '-o', data, '--', 'sleep', String(SECONDS)], { stdio: 'ignore' });
      const perfDone = new Promise((res) => perf.on('exit', res));
      const out = await load;
      await perfDone;
      const tx = (out.streams.reduce((n, st) => n + st.tx, 0) / out.duration) * SECONDS;
      const t = totals[k];
      t.tx += tx;
      t.cpuUs += out.serverCores * SECONDS * 1e6;
      for (const st of stacks(data)) {
        const [name] = CATEGORIES.find(([, test]) => test(st));
        t.samples.set(name, (t.samples.get(name) ?? 0) + 1);
        t.all++;
      }
      rmSync(data, { force: true });
    }
  }
} finally {
  await bridge.stop();
  await slapd.stop();
  floorChild.kill();
}
const us = (t, n) => (n / HZ) * 1e6 / t.tx;
console.log(`Apache mix, ${conns} connections, ${rounds} round(s) of ${SECONDS} s sampled at ${HZ} Hz per server; µs of CPU per transaction`);
console.log(`| category | ${servers.map((s) => s.name).join(' | ')} | difference |`);
console.log(`|---|${servers.map(() => '---:').join('|')}|---:|`);
for (const [name] of CATEGORIES) {
  const v = totals.map((t) => us(t, t.samples.get(name) ?? 0));
  console.log(`| ${name} | ${v.map((x) => x.toFixed(1)).join(' | ')} | ${(v[1] - v[0]).toFixed(1)} |`);
}
const all = totals.map((t) => us(t, t.all));
console.log(`| **all sampled** | ${all.map((x) => `**${x.toFixed(1)}**`).join(' | ')} | **${(all[1] - all[0]).toFixed(1)}** |`);
console.log(`| (CPU from /proc, for comparison) | ${totals.map((t) => (t.cpuUs / t.tx).toFixed(1)).join(' | ')} | |`);
console.log(`| transactions/s | ${totals.map((t) => Math.round(t.tx / (SECONDS * Number(rounds)))).join(' | ')} | |`);
console.log(`slapd (loglevel 0, its default threads), same rounds: ${slapdRuns.map((x) => `${Math.round(x.tps)} tx/s at ${x.us.toFixed(1)} µs/tx`).join(', ')}`);
