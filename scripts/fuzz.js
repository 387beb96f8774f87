#!/usr/bin/env node
// A long protocol-fuzzing run against an in-process bridge over a fresh demo SQLite database
// (built without Python by createDemoDatabase). Same generator and checks as test/e2e/fuzz.test.js.
//
//   node scripts/fuzz.js                      100000 cases
//   node scripts/fuzz.js --seconds 60         as many cases as fit in 60 s
//   node scripts/fuzz.js --seed 1234 --case 817   replay one case, printing its bytes
//   options: --cases N, --seconds N, --seed S (or DLB_FUZZ_SEED), --first N, --concurrency N,
//            --timeout-ms N (no-progress limit per connection, default 2000)
//
// Exits 1 when anything went wrong, printing each problem with the line that replays it.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'demo.js'))) {
  process.stderr.write('fuzz: dist/ is missing; build first (npx tsc -p tsconfig.json)\n');
  process.exit(2);
}
const { createDemoDatabase, DEMO_USERS } = await import('../dist/demo.js');
const { loadConfig } = await import('../dist/config/load.js');
const { startBridge } = await import('../dist/bridge.js');
const { createLogger } = await import('../dist/log.js');
const { makePassword } = await import('../dist/django/hashers/index.js');
const fz = await import('../test/helpers/ber-fuzz.js');

function parseArgs(argv) {
  const o = { cases: undefined, seconds: undefined, seed: undefined, first: 0, concurrency: 16, timeoutMs: 2000, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined || !/^(0x[0-9a-f]+|\d+(\.\d+)?)$/i.test(v)) throw new Error(`${a} needs a number`);
      return Number(v);
    };
    if (a === '--cases') o.cases = val();
    else if (a === '--seconds') o.seconds = val();
    else if (a === '--seed') o.seed = val() >>> 0;
    else if (a === '--first') o.first = val();
    else if (a === '--concurrency') o.concurrency = Math.max(1, val());
    else if (a === '--timeout-ms') o.timeoutMs = val();
    else if (a === '--case') o.only = val();
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node scripts/fuzz.js [--cases N | --seconds N] [--seed S] [--first N] [--concurrency N] [--timeout-ms N] [--case I]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`fuzz: ${e.message}\n`);
  process.exit(2);
}
const seed = opts.seed ?? fz.seedFromEnv();
const count = opts.only !== undefined ? 1 : opts.cases ?? (opts.seconds !== undefined ? Number.MAX_SAFE_INTEGER : 100_000);
const first = opts.only ?? opts.first;
const deadline = opts.seconds !== undefined ? Date.now() + opts.seconds * 1000 : undefined;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const MB = 1024 * 1024;
const memory = () => {
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external + m.arrayBuffers };
};
const fmt = (n) => `${(n / MB).toFixed(1)} MB`;

const escaped = [];
process.on('uncaughtException', (e) => escaped.push(`uncaughtException: ${e?.stack ?? e}`));
process.on('unhandledRejection', (e) => escaped.push(`unhandledRejection: ${e?.stack ?? e}`));

// ---------------------------------------------------------------- the bridge under test
const dir = mkdtempSync(join(tmpdir(), 'dlb-fuzz-'));
const cleanup = () => rmSync(dir, { recursive: true, force: true });
process.on('exit', cleanup);
const dbPath = join(dir, 'db.sqlite3');
await createDemoDatabase(dbPath);
const SERVICE_DN = 'cn=apache,ou=services,dc=example,dc=com';
const SERVICE_PW = 'fuzz-Service-pw!';
const configFile = join(dir, 'bridge.json');
writeFileSync(
  configFile,
  JSON.stringify({
    database: `sqlite://${dbPath}`,
    baseDn: 'dc=example,dc=com',
    listen: ['ldap://127.0.0.1:0'],
    serviceAccounts: [{ dn: SERVICE_DN, password: await makePassword(SERVICE_PW, { iterations: 1000 }) }],
    log: { level: 'info', format: 'json' },
    // Failed binds are counted but never lock the fuzzer's address out.
    security: { bruteForce: { userFailures: 1e6, addressFailures: 1e6 } },
  }),
);
const config = loadConfig({ flags: { config: configFile }, env: {}, cwd: dir });
// Only error-level lines are kept (a long run logs millions of lines).
const errorLines = [];
let logLines = 0;
const sink = new Writable({
  write(chunk, _enc, cb) {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      logLines++;
      if (/"level":(5\d|6\d)/.test(line) && errorLines.length < 100) errorLines.push(line);
    }
    cb();
  },
});
const bridge = await startBridge(config, createLogger({ level: 'info', format: 'json' }, sink));
const url = new URL(bridge.urls[0]);
const addr = { host: url.hostname, port: Number(url.port) };
const vocab = fz.defaultVocab({
  base: 'dc=example,dc=com',
  users: DEMO_USERS.map((u) => u.username),
  groups: ['secret-agents', 'committers'],
  serviceDn: SERVICE_DN,
  servicePw: SERVICE_PW,
  userPasswords: Object.fromEntries(DEMO_USERS.filter((u) => u.active).map((u) => [u.username, u.password])),
  // The demo's hashes cost Django's real 260000 PBKDF2 iterations: few wrong-password binds.
  hashedBindRate: 0.05,
});

process.stdout.write(`fuzz: seed ${seed} (replay: node scripts/fuzz.js --seed ${seed}${opts.first ? ` --first ${opts.first}` : ''}), bridge ${bridge.urls[0]}, ` +
  `${opts.only !== undefined ? `case ${opts.only}` : opts.seconds !== undefined ? `${opts.seconds} s` : `${count} cases`}, ${opts.concurrency} connections at a time\n`);
if (opts.only !== undefined) {
  const c = fz.fuzzCase(seed, opts.only, vocab);
  process.stdout.write(`case ${opts.only}: ${c.label}\nbytes (${c.stream.length}): ${c.stream.toString('hex')}\n`);
}

// ---------------------------------------------------------------- the run
// Warm up first so the memory baseline includes caches, JIT code and pools.
if (opts.only === undefined) await fz.runFuzz({ ...addr, seed: (seed ^ 0x5a5a5a5a) >>> 0, count: 300, vocab, concurrency: opts.concurrency, timeoutMs: opts.timeoutMs });
const before = memory();
const started = Date.now();
const total = { ran: 0, outcomes: {}, problems: [] };
let lastReport = Date.now();
const BATCH = 1000;
for (let i = first; i < first + count; i += BATCH) {
  if (deadline !== undefined && Date.now() >= deadline) break;
  const r = await fz.runFuzz({ ...addr, seed, first: i, count: Math.min(BATCH, first + count - i), vocab, concurrency: opts.concurrency, timeoutMs: opts.timeoutMs, deadline });
  total.ran += r.ran;
  for (const [k, v] of Object.entries(r.outcomes)) total.outcomes[k] = (total.outcomes[k] ?? 0) + v;
  total.problems.push(...r.problems);
  const sick = await fz.probe({ ...addr, timeoutMs: opts.timeoutMs });
  if (sick) total.problems.push({ kind: 'unhealthy', detail: `a fresh connection's WhoAmI after case ${i + r.ran - 1}: ${sick}`, index: i, label: '-', replay: '-', hex: '-' });
  if (total.problems.length >= 50 || escaped.length) break;
  if (Date.now() - lastReport > 10_000) {
    lastReport = Date.now();
    const m = process.memoryUsage();
    const s = (Date.now() - started) / 1000;
    process.stdout.write(`  ${total.ran} cases, ${(total.ran / s).toFixed(0)}/s, ${total.problems.length} problem(s), heap ${fmt(m.heapUsed)}, rss ${fmt(m.rss)}; ${JSON.stringify(total.outcomes)}\n`);
  }
}
const seconds = (Date.now() - started) / 1000;

// ---------------------------------------------------------------- after the run
// The server still serves a normal client: bind as the service account and find alice.
const health = await (async () => {
  const stream = Buffer.concat([
    fz.encode(fz.message(1, fz.bindSimple(SERVICE_DN, SERVICE_PW))),
    fz.encode(fz.message(2, fz.searchOp({ base: 'ou=users,dc=example,dc=com', filter: fz.F.eq('uid', 'alice'), attrs: ['uid'] }))),
  ]);
  const net = await import('node:net');
  return new Promise((res) => {
    const s = net.connect(addr.port, addr.host, () => s.write(stream));
    const chunks = [];
    const t = setTimeout(() => { s.destroy(); res('no answer within 5 s'); }, 5000);
    s.on('data', (d) => {
      chunks.push(d);
      const { messages } = fz.parseResponses(Buffer.concat(chunks));
      const done = messages.find((m) => m.tag === 0x65);
      if (done) {
        clearTimeout(t);
        s.destroy();
        const bound = messages.find((m) => m.tag === 0x61);
        const entries = messages.filter((m) => m.tag === 0x64).length;
        res(bound?.code === 0 && done.code === 0 && entries === 1 ? undefined : `bind ${bound?.code}, search ${done.code}, ${entries} entries`);
      }
    });
    s.on('error', (e) => res(e.message));
  });
})();
if (health) total.problems.push({ kind: 'unhealthy', detail: `after the run, bind + search failed: ${health}`, index: -1, label: '-', replay: '-', hex: '-' });

// Let sockets the server closed be collected before measuring.
await new Promise((r) => setTimeout(r, 500));
const after = memory();
await bridge.close();

const growth = { heapUsed: after.heapUsed - before.heapUsed, rss: after.rss - before.rss, external: after.external - before.external };
process.stdout.write(`fuzz: ${total.ran} cases in ${seconds.toFixed(1)} s (${(total.ran / seconds).toFixed(0)}/s), ${logLines} log lines; outcomes ${JSON.stringify(total.outcomes)}\n`);
process.stdout.write(`memory growth after GC: heapUsed ${fmt(growth.heapUsed)}, external ${fmt(growth.external)}, rss ${fmt(growth.rss)}\n`);
let failed = false;
if (escaped.length) {
  failed = true;
  process.stdout.write(`\nEXCEPTIONS ESCAPED THE SERVER:\n${escaped.slice(0, 5).join('\n')}\n`);
}
if (total.problems.length) {
  failed = true;
  const kinds = {};
  for (const p of total.problems) kinds[p.kind] = (kinds[p.kind] ?? 0) + 1;
  process.stdout.write(`\n${total.problems.length} PROBLEM(S) ${JSON.stringify(kinds)}:\n${fz.formatProblems(total.problems, 30)}\n`);
}
if (errorLines.length) {
  failed = true;
  process.stdout.write(`\n${errorLines.length} ERROR-LEVEL LOG LINE(S), e.g.:\n${errorLines.slice(0, 5).map((l) => l.slice(0, 800)).join('\n')}\n`);
}
if (growth.heapUsed > 128 * MB || growth.rss > 512 * MB) {
  failed = true;
  process.stdout.write(`\nMEMORY GREW: heapUsed ${fmt(growth.heapUsed)}, rss ${fmt(growth.rss)}\n`);
}
process.stdout.write(failed ? `\nfuzz: FAILED (seed ${seed})\n` : 'fuzz: ok\n');
process.exit(failed ? 1 : 0);
