#!/usr/bin/env node
// A/B of two (or more) configurations of this build side by side: the same ldap-load mix against each, in
// alternating rounds, on the bench's cached 1,000-user databases. Prints each round's
// transactions/s and the server's CPU per transaction (all its threads), which compares two
// settings fairly even on a shared, loaded machine where absolute figures do not.
//
//   node bench/ab-config.mjs '<json A>' '<json B>' ['<json C>' ...] [mix, default apache:8] [rounds, default 3]
//   Each JSON is merged over the defaults config (database, baseDn, one service account, as
//   the bench's `defaults` section); "database": "pg" or "mysql" selects the 1,000-user
//   PostgreSQL or MySQL/MariaDB bench database, "env" adds environment variables, "root" runs another checkout's build (one with dist/). Example, logging at its default against off:
//   node bench/ab-config.mjs '{}' '{"log":{"level":"silent"}}' apache:64
import { mkdirSync, mkdtempSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { startBridge, postgresCpuSeconds } from './lib/servers.mjs';
import { runLoad, warmCredentials, parseMix } from './ldap-load.mjs';
import { BENCH_DIR, sqliteDatabase, postgresDatabase, mysqlDatabase } from './lib/datasets.mjs';
import * as D from './lib/data.mjs';
const args = process.argv.slice(2);
const jsons = args.filter((a) => a.startsWith('{'));
const [mix = 'apache:8', rounds = '3'] = args.filter((a) => !a.startsWith('{'));
const names = jsons.map((_, k) => String.fromCharCode(65 + k));
const work = mkdtempSync('/tmp/dlb-ab-config-');
const { makePassword } = await import(new URL('../dist/django/hashers/index.js', import.meta.url).href);
const hash = await makePassword(D.USER_PW, { iterations: D.PBKDF2_ITERATIONS });
const svcHash = await makePassword(D.SVC_PW, { iterations: D.PBKDF2_ITERATIONS });
mkdirSync(join(BENCH_DIR, '.cache'), { recursive: true });
const databases = {
  sqlite: async () => `sqlite://${sqliteDatabase(join(BENCH_DIR, '.cache', 'bench-1k.sqlite3'), 1000, hash).path}`,
  pg: async () => (await postgresDatabase('dlb_bench_1k', 1000, hash, { log: console.error })).url,
  mysql: async () => (await mysqlDatabase('dlb_bench_my1k', 1000, hash, { log: console.error })).url,
};
const bridges = {};
let hot = 100;
for (const [k, json] of jsons.entries()) {
  const name = names[k];
  const { env, root, ...over } = JSON.parse(json);
  const database = await databases[over.database ?? 'sqlite']();
  const cfg = { baseDn: D.BASE, serviceAccounts: [{ dn: D.SVC_DN, password: svcHash }], ...over, database };
  const procs = over.workers === 0 ? availableParallelism() : (over.workers ?? 1);
  bridges[name] = await startBridge(cfg, { dir: work, name: `bridge-${name}`, env, ...(root ? { root } : {}), cpuProfDir: process.env.PROF ? join(work, 'prof') : undefined });
  bridges[name].procs = procs;
}
const res = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < Number(rounds); r++) {
  // Alternating order: each configuration runs first, last and in between in turn.
  for (const name of names.map((_, k) => names[(k + r) % names.length])) {
    const br = bridges[name];
    // Users of their own for every run, warmed just before it: no cached credential expires
    // in the middle of a run (the default cache keeps one 60 s).
    const hotList = Array.from({ length: 16 }, () => 1 + (hot++ % 1000));
    // With workers, each has its own cache: warm through enough connections that every worker
    // sees every user (as the bench's defaults section does).
    for (let i = 0; i < (br.procs > 1 ? br.procs * 3 : 1); i++) await warmCredentials(br.url, hotList, 2 * br.procs);
    const pg0 = postgresCpuSeconds();
    const out = await runLoad({ url: br.url, mix: parseMix(mix), duration: 4, warmup: 1, hotList, serverPids: [br.pid] });
    const tx = out.streams.reduce((n, st) => n + st.tx, 0);
    const failures = out.streams.reduce((n, st) => n + st.failures, 0);
    const pgUs = ((postgresCpuSeconds() - pg0) * 1e6) / tx;
    res[name].push(`${Math.round(tx / out.duration)} tx/s, ${((out.serverCores * out.duration * 1e6) / tx).toFixed(0)} µs CPU/tx, ${failures} failures${pgUs > 1 ? `; PostgreSQL ${pgUs.toFixed(0)} µs/tx (all its processes, warm-up included)` : ''}`);
  }
}
for (const name of names) { console.log(name, jsons[names.indexOf(name)], '\n ', res[name].join('\n  ')); await bridges[name].stop(); }
console.log('work directory (configs, logs):', work);
