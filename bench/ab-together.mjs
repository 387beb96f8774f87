#!/usr/bin/env node
// A/B of builds or settings measured at the same time: both bridges take the same load
// concurrently (one generator, the mix split evenly), so whatever else the machine does in a
// round slows both alike, and their CPU per transaction compares closely where alternating
// rounds (bench/ab-config.mjs) differ by ±10% on a shared VM.
//
//   node bench/ab-together.mjs '<json A>' '<json B>' [mix, default apache:8 (per bridge)] [rounds, default 5]
//   JSON as in bench/ab-config.mjs ("root": another checkout's build; other keys merged over the
//   defaults config on the cached 1,000-user SQLite database).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startBridge } from './lib/servers.mjs';
import { runLoad, warmCredentials, parseMix } from './ldap-load.mjs';
import { BENCH_DIR, sqliteDatabase } from './lib/datasets.mjs';
import * as D from './lib/data.mjs';
const args = process.argv.slice(2);
const jsons = args.filter((a) => a.startsWith('{'));
const [mix = 'apache:8', rounds = '5'] = args.filter((a) => !a.startsWith('{'));
const work = mkdtempSync('/tmp/dlb-ab-together-');
const { makePassword } = await import(new URL('../dist/django/hashers/index.js', import.meta.url).href);
const hash = await makePassword(D.USER_PW, { iterations: D.PBKDF2_ITERATIONS });
const svcHash = await makePassword(D.SVC_PW, { iterations: D.PBKDF2_ITERATIONS });
mkdirSync(join(BENCH_DIR, '.cache'), { recursive: true });
const db = `sqlite://${sqliteDatabase(join(BENCH_DIR, '.cache', 'bench-1k.sqlite3'), 1000, hash).path}`;
const bridges = [];
for (const [k, json] of jsons.entries()) {
  const { root, env, ...over } = JSON.parse(json);
  bridges.push(await startBridge({ baseDn: D.BASE, serviceAccounts: [{ dn: D.SVC_DN, password: svcHash }], ...over, database: db }, { dir: work, name: `bridge-${k}`, env, ...(root ? { root } : {}) }));
}
const res = bridges.map(() => []);
let hot = 100;
for (let r = 0; r < Number(rounds); r++) {
  const hotLists = bridges.map(() => Array.from({ length: 16 }, () => 1 + (hot++ % 1000)));
  for (const [k, b] of bridges.entries()) await warmCredentials(b.url, hotLists[k], 2);
  const outs = await Promise.all(bridges.map((b, k) => runLoad({ url: b.url, mix: parseMix(mix), duration: 4, warmup: 1, hotList: hotLists[k], serverPids: [b.pid], seed: r + 1 })));
  outs.forEach((out, k) => {
    const tx = out.streams.reduce((n, st) => n + st.tx, 0);
    const failures = out.streams.reduce((n, st) => n + st.failures, 0);
    res[k].push({ tps: tx / out.duration, us: (out.serverCores * out.duration * 1e6) / tx, failures });
  });
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
for (const [k, b] of bridges.entries()) {
  const ratios = res[k].map((x, i) => x.us / res[0][i].us);
  console.log(`${String.fromCharCode(65 + k)} ${jsons[k]}: ${res[k].map((x) => `${Math.round(x.tps)} tx/s ${x.us.toFixed(0)} µs`).join(', ')}${res[k].some((x) => x.failures) ? ' FAILURES' : ''}`);
  if (k > 0) console.log(`  CPU per transaction / A's in the same round: ${ratios.map((x) => x.toFixed(3)).join(', ')} (median ${med(ratios).toFixed(3)})`);
  await b.stop();
}
