#!/usr/bin/env node
// A/B of two builds of the bridge side by side: the same ldap-load mix against each, in
// alternating rounds, one worker each, on the bench's cached 1,000-user SQLite database. Prints
// each round's transactions/s and the server's CPU (cores busy): CPU per transaction compares
// two builds fairly even on a shared, loaded machine, where absolute figures do not.
//
//   node bench/ab-ops.mjs <root A> <root B> [mix, default bind:8] [rounds, default 3]
//   (a root is a checkout with dist/ built, e.g. a `git worktree add` of an older commit;
//    run `npm run bench -- --only=ldap` once first so that bench/.cache/bench-1k.sqlite3 exists)
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startBridge, cpuSecondsOf } from './lib/servers.mjs';
import { runLoad, warmCredentials } from './ldap-load.mjs';
import * as D from './lib/data.mjs';
const [a, b, mix = 'bind:8', rounds = '3'] = process.argv.slice(2);
const work = mkdtempSync('/tmp/dlb-ab-ops-');
const { makePassword } = await import(new URL('../dist/django/hashers/index.js', import.meta.url).href);
const svcHash = await makePassword(D.SVC_PW, { iterations: D.PBKDF2_ITERATIONS });
const db = `sqlite://${new URL('./.cache/bench-1k.sqlite3', import.meta.url).pathname}`;
const cfg = { database: db, baseDn: D.BASE, serviceAccounts: [{ dn: D.SVC_DN, password: svcHash }], workers: 1, log: { level: 'warn', format: 'json' }, limits: { maxConnections: 20000, maxConnectionsPerAddress: 20000 }, security: { credentialCacheSeconds: 600 } };
const hot = Array.from({ length: 16 }, (_, k) => k + 1);
const bridges = {};
for (const [name, root] of [['A', a], ['B', b]]) {
  bridges[name] = await startBridge(cfg, { dir: work, name: `bridge-${name}`, root, cpuProfDir: process.env.PROF ? join(work, 'prof') : undefined });
  await warmCredentials(bridges[name].url, hot, 2);
}
const res = { A: [], B: [] };
for (let r = 0; r < Number(rounds); r++) {
  for (const name of r % 2 ? ['B', 'A'] : ['A', 'B']) {
    const br = bridges[name];
    const out = await runLoad({ url: br.url, mix: (await import('./ldap-load.mjs')).parseMix(mix), duration: 4, warmup: 1, serverPids: [br.pid] });
    const tx = out.streams.reduce((n, st) => n + st.tx, 0);
    const failures = out.streams.reduce((n, st) => n + st.failures, 0);
    res[name].push(`${Math.round(tx / out.duration)} tx/s, ${((out.serverCores * out.duration * 1e6) / tx).toFixed(0)} µs CPU/tx, ${failures} failures`);
  }
}
for (const name of ['A', 'B']) { console.log(name, res[name].join('\n  ')); await bridges[name].stop(); }
console.log('work directory (configs, logs):', work);
