// What a PostgreSQL lookup costs the client and the server, pooled against pipelined: the
// measurement behind the bridge's shared pipelined connection (src/db/postgres.ts).
//
//   node bench/pg-pipeline.mjs [--conc=8] [--think=40] [--seconds=3] [--rounds=3]
//
// `conc` loops at once each look up users by name one after another on the bench's 1,000-user
// PostgreSQL database (built as `npm run bench` builds it), the statement the bridge sends for a
// bind, through: pg's pool (10 connections) with pg's Query; the pool with the bridge's
// LeanQuery (what the bridge did before); one pg Client in pipeline mode with LeanQuery (what it
// does now). After each lookup a loop spends `think` µs of CPU, standing for the rest of an LDAP
// operation, so the lookups do not arrive back to back. Per lookup: the client's CPU (this
// process) and PostgreSQL's (/proc of every postgres process), alternating rounds.
import pg from 'pg';
import { PG, postgresDatabase } from './lib/datasets.mjs';
import { postgresCpuSeconds } from './lib/servers.mjs';
import * as D from './lib/data.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const CONC = opt('conc', 8);
const THINK_MS = opt('think', 40) / 1000;
const SECONDS = opt('seconds', 3);
const ROUNDS = opt('rounds', 3);

const { LeanQuery } = await import(new URL('../dist/db/postgres-lean-query.js', import.meta.url).href);
const { makePassword } = await import(new URL('../dist/django/hashers/index.js', import.meta.url).href);
const hash = await makePassword(D.USER_PW, { iterations: D.PBKDF2_ITERATIONS });
const db = await postgresDatabase('dlb_bench_1k', 1000, hash, { log: console.error });
const SQL = 'SELECT id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined FROM auth_user WHERE username = $1 ORDER BY id LIMIT 5';
const conn = { host: PG.host, port: PG.port, user: PG.user, database: new URL(db.url).pathname.slice(1) };

const lean = (client, u) => new Promise((resolve, reject) => client.query(new LeanQuery('dlb_p1', SQL, [u], pg.types, (e, rows) => (e ? reject(e) : resolve(rows)))));
const pool = new pg.Pool({ ...conn, max: 10 });
const leanPool = new pg.Pool({ ...conn, max: 10 });
const pipe = new pg.Client({ ...conn, pipeline: true });
await pipe.connect();
const ways = {
  "pool of 10, pg's Query": async (u) => (await pool.query({ name: 'dlb_p1', text: SQL, values: [u] })).rows,
  'pool of 10, LeanQuery (the bridge before)': async (u) => {
    const c = await leanPool.connect();
    try {
      return await lean(c, u);
    } finally {
      c.release();
    }
  },
  'one pipelined connection, LeanQuery (the bridge now)': (u) => lean(pipe, u),
};

async function run(lookup, seconds) {
  const stop = performance.now() + seconds * 1000;
  let n = 0;
  const c0 = process.cpuUsage();
  const p0 = postgresCpuSeconds();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async (_, k) => {
      for (let i = k; performance.now() < stop; i += CONC) {
        const rows = await lookup(D.username(1 + (i % 1000)));
        if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`);
        n++;
        const until = performance.now() + THINK_MS;
        while (performance.now() < until);
        await new Promise((r) => setImmediate(r));
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { perSecond: n / s, clientUs: (c.user + c.system) / n - THINK_MS * 1000, pgUs: ((postgresCpuSeconds() - p0) * 1e6) / n };
}

const out = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
for (const f of Object.values(ways)) await run(f, 0.5);
for (let r = 0; r < ROUNDS; r++) for (const [k, f] of Object.entries(ways)) out[k].push(await run(f, SECONDS));
console.log(`${CONC} loops, ${THINK_MS * 1000} µs of CPU between lookups, ${ROUNDS} rounds of ${SECONDS} s\n`);
console.log('| lookups through | lookups/s | client µs per lookup (think time taken off) | PostgreSQL µs per lookup |');
console.log('|---|---|---|---|');
const list = (rs, f) => rs.map(f).join(' / ');
for (const [k, rs] of Object.entries(out)) console.log(`| ${k} | ${list(rs, (x) => Math.round(x.perSecond).toLocaleString('en-US'))} | ${list(rs, (x) => x.clientUs.toFixed(1))} | ${list(rs, (x) => x.pgUs.toFixed(1))} |`);
await pool.end();
await leanPool.end();
await pipe.end();
