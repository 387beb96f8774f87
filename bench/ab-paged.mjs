#!/usr/bin/env node
// A/B of two builds of the bridge on the paged export: `ldapsearch -E pr=1000/noprompt` of every
// user (all attributes, or those given) on the bench's 1,000,000-user PostgreSQL database
// (dlb_bench_1m, made by `npm run bench -- --only=scale`), alternating rounds of a fixed length,
// one worker each. Prints entries/s, the bridge's CPU µs per entry and bytes per entry: CPU per
// entry compares two builds fairly even on a shared, loaded machine.
//
//   node bench/ab-paged.mjs <root A> <root B> [rounds, default 2] [seconds, default 15] [attrs, comma list]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startBridge, cpuSecondsOf } from './lib/servers.mjs';
import { pgUrl } from './lib/datasets.mjs';
import * as D from './lib/data.mjs';
const [a, b, rounds = '2', secs = '15', attrs = ''] = process.argv.slice(2);
const work = mkdtempSync('/tmp/dlb-ab-paged-');
const { makePassword } = await import(new URL('../dist/django/hashers/index.js', import.meta.url).href);
const svcHash = await makePassword(D.SVC_PW, { iterations: D.PBKDF2_ITERATIONS });
const pw = join(work, 'pw'); writeFileSync(pw, D.SVC_PW);
const cfg = { database: pgUrl('dlb_bench_1m'), baseDn: D.BASE, serviceAccounts: [{ dn: D.SVC_DN, password: svcHash }], workers: 1, log: { level: 'warn', format: 'json' }, limits: { maxSearchEntries: 2000000 }, security: { credentialCacheSeconds: 600 } };
const bridges = {};
for (const [n, root] of [['A', a], ['B', b]]) bridges[n] = await startBridge(cfg, { dir: work, name: `b-${n}`, root });
function count(url) {
  return new Promise((resolve) => {
    const args = ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', url, '-D', D.SVC_DN, '-y', pw, '-b', D.USERS_BASE, '-s', 'sub', '-E', 'pr=1000/noprompt', '(objectClass=*)', ...(attrs ? attrs.split(',') : [])];
    const c = spawn('ldapsearch', args, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LDAPCONF: '/dev/null', LDAPRC: '/dev/null' } });
    let n = 0, bytes = 0;
    c.stdout.on('data', (d) => { bytes += d.length; const s = d.toString('latin1'); let i = s.indexOf('dn: '); while (i !== -1) { n++; i = s.indexOf('\ndn: ', i + 1); } });
    setTimeout(() => c.kill('SIGTERM'), Number(secs) * 1000);
    c.on('close', () => resolve({ n, bytes }));
  });
}
const out = { A: [], B: [] };
for (let r = 0; r < Number(rounds); r++) for (const n of r % 2 ? ['B', 'A'] : ['A', 'B']) {
  const cpu0 = cpuSecondsOf(bridges[n].pid);
  const { n: e, bytes } = await count(bridges[n].url);
  const cpu = cpuSecondsOf(bridges[n].pid) - cpu0;
  out[n].push(`${Math.round(e / Number(secs))}/s ${(cpu * 1e6 / e).toFixed(1)}us/entry ${(bytes / e).toFixed(0)}B`);
}
console.log(JSON.stringify(out));
for (const n of ['A', 'B']) await bridges[n].stop();
