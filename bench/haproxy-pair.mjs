// Scale-out through HAProxy: throughput of one bridge vs two behind a real HAProxy (TCP mode,
// send-proxy-v2, the configuration of docs/operations.md "Two bridges behind HAProxy", the one
// test/e2e/haproxy.test.js runs), the same checked load (ldap-load.mjs) in both runs.
//
//   node bench/haproxy-pair.mjs [--duration=5] [--mix=search:8:4]
//
// On a shared machine the figure depends on what else runs: it prints the load average with it.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, ROOT, sqliteDatabase } from './lib/datasets.mjs';
import { freePort, waitForPort } from './lib/servers.mjs';
import { runLoad } from './ldap-load.mjs';
import * as D from './lib/data.mjs';

const opt = (n, d) => process.argv.find((a) => a.startsWith(`--${n}=`))?.split('=')[1] ?? d;
const duration = Number(opt('duration', 5));
const mix = opt('mix', 'search:8:4');
const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
const cfgText = doc.split('## Two bridges behind HAProxy')[1].match(/```haproxy\n([\s\S]*?)```/)[1];

const dir = mkdtempSync(join(tmpdir(), 'dlb-bench-ha-'));
const { makePassword } = await import(join(ROOT, 'dist/django/hashers/index.js'));
const hash = await makePassword(D.USER_PW, { iterations: D.PBKDF2_ITERATIONS, salt: D.SHARED_SALT });
const svcHash = await makePassword(D.SVC_PW, { iterations: D.PBKDF2_ITERATIONS });
const cache = join(BENCH_DIR, '.cache');
mkdirSync(cache, { recursive: true });
const db = sqliteDatabase(join(cache, 'bench-1k.sqlite3'), 1000, hash);

const children = [];
async function start(cmd, args, port, name) {
  const out = openSync(join(dir, `${name}.log`), 'w');
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', out, out] });
  children.push(child);
  const exited = new Promise((r) => child.on('close', r));
  await waitForPort(port, 60_000, exited);
  return child;
}
async function bridge(name) {
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ database: `sqlite://${db.path}`, baseDn: D.BASE, serviceAccounts: [{ dn: D.SVC_DN, password: svcHash }], listen: [url], proxyProtocol: [url], log: { level: 'warn', format: 'json' } }));
  await start(process.execPath, [join(ROOT, 'bin/django-ldap-bridge.js'), 'serve', '--config', file], port, name);
  return port;
}
async function haproxy(name, ports) {
  const front = await freePort();
  let text = cfgText.replace('127.0.0.1:389', `127.0.0.1:${front}`).replace('10.0.0.11:3389', `127.0.0.1:${ports[0]}`);
  // One bridge: the second server line goes.
  text = ports[1] ? text.replace('10.0.0.12:3389', `127.0.0.1:${ports[1]}`) : text.replace(/^\s*server bridge2 .*\n/m, '');
  writeFileSync(join(dir, `${name}.cfg`), text);
  await start('haproxy', ['-f', join(dir, `${name}.cfg`), '-db'], front, name);
  return `ldap://127.0.0.1:${front}`;
}

try {
  const a = await bridge('bridge1');
  const b = await bridge('bridge2');
  const results = {};
  for (const [label, ports] of [['one bridge', [a]], ['two bridges', [a, b]]]) {
    const url = await haproxy(`haproxy-${ports.length}`, ports);
    const r = await runLoad({ url, mix, duration, warmup: 1 });
    const s = r.streams[0];
    results[label] = s.tps;
    console.log(`${label} through HAProxy: ${s.tps.toFixed(0)} tx/s (${mix}, p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, failures ${s.failures}) load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  }
  console.log(`two vs one: x${(results['two bridges'] / results['one bridge']).toFixed(2)} (shared machine: see the load average)`);
} finally {
  for (const c of children) c.kill('SIGTERM');
}
