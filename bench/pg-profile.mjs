// Where the time of an LDAP operation goes on PostgreSQL: the bridge's CPU, the round trips to
// the database, and PostgreSQL's own time per statement, split into planning and execution.
//
//   node bench/pg-profile.mjs [--seconds=4] [--conns=8] [--root=/path/to/other/checkout]
//
// A private PostgreSQL cluster (test/helpers/pg-cluster.js: its own port and directory, run as
// the postgres OS user) with pg_stat_statements preloaded and track_planning on, holding a copy
// of the benchmark's 1,000-user database (pg_dump of dlb_bench_1k, built as `npm run bench`
// builds it). For each configuration (db.preparedStatements true and false) a bridge with its
// defaults (log.level info, one process) serves the Apache mix, then binds, searches and
// compares alone, each for --seconds at --conns connections, and for each run the script reads:
// transactions, the bridge's CPU and the PostgreSQL backends' CPU (/proc/<pid>/stat), the
// statements' calls, plan and execution time (pg_stat_statements), and a CPU profile of the
// bridge (node --cpu-prof) for the Apache mix. --root runs another checkout's compiled bridge
// (its dist/) for a before/after comparison. Prints markdown.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT, PG, postgresDatabase } from './lib/datasets.mjs';
import { startBridge, cpuSecondsOf } from './lib/servers.mjs';
import { summarizeProfile } from './lib/profile.mjs';
import * as D from './lib/data.mjs';
import { createCluster, pgClusterAvailable } from '../test/helpers/pg-cluster.js';

const argv = process.argv.slice(2);
const opt = (name, dflt) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const SECONDS = Number(opt('seconds', 4));
const CONNS = Number(opt('conns', 8));
const BRIDGE_ROOT = opt('root', ROOT);
const log = (m) => process.stderr.write(`${m}\n`);
const MIXES = ['apache', 'bind', 'search', 'compare'];

const avail = pgClusterAvailable();
if (!avail.ok) {
  log(`pg-profile: a private PostgreSQL cluster is needed: ${avail.reason}`);
  process.exit(2);
}

const { makePassword } = await import(join(ROOT, 'dist/django/hashers/index.js'));
const hash = await makePassword(D.USER_PW, { iterations: D.PBKDF2_ITERATIONS, salt: D.SHARED_SALT });
const svcHash = await makePassword(D.SVC_PW, { iterations: D.PBKDF2_ITERATIONS });
const source = await postgresDatabase('dlb_bench_1k', 1000, hash, { log });

const cluster = await createCluster({ start: false });
appendFileSync(join(cluster.dataDir, 'postgresql.conf'), "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track_planning = on\npg_stat_statements.max = 1000\n");
await cluster.start();
const work = mkdtempSync('/tmp/dlb-pgprofile-');
try {
  await cluster.createDatabase('dlb_bench_1k');
  const dump = execFileSync('pg_dump', ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '--no-owner', '--no-comments', 'dlb_bench_1k'], { maxBuffer: 1 << 30 });
  const load = spawnSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(cluster.port), '-U', 'postgres', 'dlb_bench_1k'], { input: dump, stdio: ['pipe', 'ignore', 'pipe'] });
  if (load.status !== 0) throw new Error(`loading the copy failed: ${load.stderr}`);
  await cluster.query('dlb_bench_1k', 'CREATE EXTENSION pg_stat_statements');
  await cluster.query('dlb_bench_1k', 'VACUUM ANALYZE');
  log(`source ${source.url}; private PostgreSQL ${cluster.version} on port ${cluster.port} with pg_stat_statements`);

  const admin = await cluster.connect('dlb_bench_1k');
  const backendPids = async () => (await admin.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'django-ldap-bridge'")).rows.map((r) => r.pid);
  const cpuOf = (pids) => pids.reduce((a, p) => a + cpuSecondsOf(p), 0);

  const results = [];
  for (const prepared of [true, false]) {
    const name = `bridge-prepared-${prepared}`;
    const b = await startBridge(
      { database: cluster.url('dlb_bench_1k'), baseDn: D.BASE, serviceAccounts: [{ dn: D.SVC_DN, password: svcHash }], ...(prepared ? {} : { db: { preparedStatements: false } }) },
      { dir: work, name, root: BRIDGE_ROOT, cpuProfDir: join(work, 'prof') },
    );
    try {
      // First every mix for 2 s: the pool's connections open, the statements are prepared, V8
      // compiles the hot paths (a mix measured first, cold, costs up to twice its CPU).
      for (const mix of MIXES) execFileSync(process.execPath, [join(ROOT, 'bench/ldap-load.mjs'), '--url', b.url, '--mix', `${mix}:${CONNS}`, '--duration', '2', '--warmup', '0', ...(mix === 'apache' ? ['--warm'] : []), '--json'], { encoding: 'utf8' });
      for (const mix of MIXES) {
        const pids = await backendPids();
        await admin.query('SELECT pg_stat_statements_reset()');
        const pg0 = cpuOf(pids);
        const br0 = cpuSecondsOf(b.pid);
        const out = JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bench/ldap-load.mjs'), '--url', b.url, '--mix', `${mix}:${CONNS}`, '--duration', String(SECONDS), '--warmup', '0', '--json'], { encoding: 'utf8' }));
        const pgCpu = cpuOf(pids) - pg0;
        const brCpu = cpuSecondsOf(b.pid) - br0;
        const st = out.streams[0];
        const stmts = (await admin.query("SELECT query, calls, total_plan_time, total_exec_time, plans FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'dlb_bench_1k') AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_stat_activity%' ORDER BY calls DESC")).rows;
        const calls = stmts.reduce((a, s) => a + Number(s.calls), 0);
        const plans = stmts.reduce((a, s) => a + Number(s.plans), 0);
        const planMs = stmts.reduce((a, s) => a + s.total_plan_time, 0);
        const execMs = stmts.reduce((a, s) => a + s.total_exec_time, 0);
        const r = {
          prepared,
          mix,
          tps: st.tps,
          failures: st.failures,
          tx: st.tx,
          bridgeUsPerTx: (brCpu * 1e6) / st.tx,
          pgUsPerTx: (pgCpu * 1e6) / st.tx,
          queriesPerTx: calls / st.tx,
          plansPerTx: plans / st.tx,
          planUsPerTx: (planMs * 1000) / st.tx,
          execUsPerTx: (execMs * 1000) / st.tx,
          load: loadavg()[0],
          top: stmts.slice(0, 3).map((s) => ({ query: s.query.slice(0, 140), callsPerTx: Number(s.calls) / st.tx, planUs: s.plans > 0 ? (s.total_plan_time * 1000) / Number(s.plans) : 0, execUs: (s.total_exec_time * 1000) / Number(s.calls) })),
        };
        results.push(r);
        log(`prepared=${prepared} ${mix}:${CONNS}: ${r.tps.toFixed(0)} tx/s, bridge ${r.bridgeUsPerTx.toFixed(0)} µs/tx, postgres ${r.pgUsPerTx.toFixed(0)} µs/tx, ${r.queriesPerTx.toFixed(2)} queries/tx (${r.plansPerTx.toFixed(2)} planned), plan ${r.planUsPerTx.toFixed(0)} µs + exec ${r.execUsPerTx.toFixed(0)} µs per tx, load ${r.load.toFixed(2)}`);
      }
    } finally {
      await b.stop();
    }
    const prof = readdirSync(join(work, 'prof')).find((f) => f.startsWith(name));
    if (prof) results.push({ prepared, profile: summarizeProfile(join(work, 'prof', prof), { top: 12 }) });
  }
  await admin.end();

  const L = [];
  L.push(`PostgreSQL profile: private PostgreSQL ${cluster.version} (pg_stat_statements, track_planning), the 1,000-user benchmark database, a bridge with its defaults (one process, log.level info) from ${BRIDGE_ROOT === ROOT ? 'this checkout' : BRIDGE_ROOT}, ${CONNS} connections, ${SECONDS} s per row. Load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end.`);
  L.push('');
  L.push('| db.preparedStatements | mix | tx/s | bridge CPU µs/tx | PostgreSQL CPU µs/tx | statements/tx | planned/tx | plan µs/tx | execute µs/tx | failures |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results.filter((x) => x.mix)) L.push(`| ${r.prepared} | ${r.mix} | ${r.tps.toFixed(0)} | ${r.bridgeUsPerTx.toFixed(0)} | ${r.pgUsPerTx.toFixed(0)} | ${r.queriesPerTx.toFixed(2)} | ${r.plansPerTx.toFixed(2)} | ${r.planUsPerTx.toFixed(0)} | ${r.execUsPerTx.toFixed(0)} | ${r.failures} |`);
  L.push('');
  for (const r of results.filter((x) => x.mix === 'apache')) {
    L.push(`Statements of the Apache mix (db.preparedStatements ${r.prepared}):`);
    L.push('');
    for (const s of r.top) L.push(`- ${s.callsPerTx.toFixed(2)}/tx, plan ${s.planUs.toFixed(0)} µs per planning, execute ${s.execUs.toFixed(0)} µs: \`${s.query.replace(/\s+/g, ' ')}…\``);
    L.push('');
  }
  for (const r of results.filter((x) => x.profile)) {
    const p = r.profile;
    L.push(`Bridge CPU profile (db.preparedStatements ${r.prepared}, every mix above; busy ${(p.busyMs / 1000).toFixed(1)} s), self time by part: ${p.groups.slice(0, 6).map((x) => `${x.group} ${x.pct.toFixed(0)}%`).join(', ')}; by file: ${p.files.slice(0, 6).map((x) => `${x.file} ${x.pct.toFixed(0)}%`).join(', ')}`);
    L.push('');
  }
  process.stdout.write(L.join('\n') + '\n');
} finally {
  await cluster.destroy();
}
