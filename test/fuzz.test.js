// Protocol fuzzing: random and mutated BER LDAP messages against an in-process bridge over a
// SQLite database made by real Django. The generator is deterministic: the seed is printed,
// DLB_FUZZ_SEED=<seed> replays a run, DLB_FUZZ_CASE=<index> replays one case, DLB_FUZZ_CASES
// changes how many cases run (default 3000). See test/helpers/ber-fuzz.js for what is checked.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { need, hasCommand } from './helpers/require.js';
import { djangoAvailable, makeDjangoDatabase } from './helpers/django.js';
import { startTestBridge, ldapsearch, client, BASE, SERVICE_DN, SERVICE_PW } from './helpers/bridge.js';
import {
  defaultVocab, encode, F, formatProblems, fuzzCase, message, parseResponses, probe, runCase, runFuzz, searchOp, seedFromEnv, whoami, isNotice, tlv, lengthOctets,
} from './helpers/ber-fuzz.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const SEED = seedFromEnv();
const CASES = Number(process.env.DLB_FUZZ_CASES ?? 3000);
const ONLY_CASE = process.env.DLB_FUZZ_CASE !== undefined && process.env.DLB_FUZZ_CASE !== '' ? Number(process.env.DLB_FUZZ_CASE) : undefined;
const TIMEOUT_MS = Number(process.env.DLB_FUZZ_TIMEOUT_MS ?? 2000);
console.log(`# fuzz seed ${SEED} (replay: DLB_FUZZ_SEED=${SEED} node --test test/fuzz.test.js)`);

const tools = hasCommand('ldapsearch', ['-VV']);
const toolsSkip = need('OpenLDAP clients (ldap-utils)', tools, 'ldapsearch not on PATH');
const django = djangoAvailable();
const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', django.ok, django.reason);

// Problems found by the process-level listeners: an exception that escaped the server.
const escaped = [];
const onUncaught = (e) => escaped.push(`uncaughtException: ${e?.stack ?? e}`);
const onRejection = (e) => escaped.push(`unhandledRejection: ${e?.stack ?? e}`);

const heap = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external + m.arrayBuffers };
};
const MB = 1024 * 1024;

/** The server's error-level log lines (pino level 50+): exceptions caught by the server. */
function errorLines(logs) {
  return logs.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).filter((l) => l && l.level >= 50);
}

function sendRaw({ host, port }, bytes, { waitMs = 3000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, host, () => s.write(bytes));
    const chunks = [];
    const t0 = Date.now();
    const timer = setTimeout(() => { s.destroy(); resolve({ closed: false, data: Buffer.concat(chunks), ms: Date.now() - t0 }); }, waitMs);
    s.on('data', (d) => chunks.push(d));
    s.on('close', () => { clearTimeout(timer); resolve({ closed: true, data: Buffer.concat(chunks), ms: Date.now() - t0 }); });
    s.on('error', () => {});
  });
}

describe('protocol fuzzing (SQLite, real Django)', { skip: djangoSkip || toolsSkip }, () => {
  let db;
  let br;
  let addr;
  let vocab;
  before(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onRejection);
    db = await makeDjangoDatabase({ engine: 'sqlite' });
    // Brute-force counting stays on (random names go through it) but never locks the fuzzer's
    // address out: binds must keep reaching the password check.
    br = await startTestBridge({ url: db.url, config: { security: { bruteForce: { userFailures: 1e6, addressFailures: 1e6 } } } });
    const u = new URL(br.url);
    addr = { host: u.hostname, port: Number(u.port) };
    vocab = defaultVocab({
      base: BASE,
      users: db.expected.users.filter((u) => !/pbkdf2_default/.test(u.username)).map((u) => u.username),
      groups: db.expected.groups.map((g) => g.name),
      serviceDn: SERVICE_DN,
      servicePw: SERVICE_PW,
    });
  });
  after(async () => {
    await br?.close();
    await db?.drop();
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onRejection);
  });

  test(`${ONLY_CASE !== undefined ? `case ${ONLY_CASE}` : `${CASES} cases`}: no crash, no hang, every bad message refused, memory bounded`, { timeout: 120_000 }, async () => {
    // Warm up (first connections, statement cache, JIT) before the memory baseline.
    await runFuzz({ ...addr, seed: SEED ^ 0x5a5a5a5a, count: 200, vocab, concurrency: 8, timeoutMs: TIMEOUT_MS });
    const before = heap();
    const t0 = Date.now();
    const all = { ran: 0, outcomes: {}, problems: [] };
    const batch = 500;
    const first = ONLY_CASE ?? 0;
    const count = ONLY_CASE !== undefined ? 1 : CASES;
    if (ONLY_CASE !== undefined) console.log(`# case ${ONLY_CASE}: ${fuzzCase(SEED, ONLY_CASE, vocab).label}\n#   ${fuzzCase(SEED, ONLY_CASE, vocab).stream.toString('hex').slice(0, 4000)}`);
    for (let i = first; i < first + count; i += batch) {
      const r = await runFuzz({ ...addr, seed: SEED, first: i, count: Math.min(batch, first + count - i), vocab, concurrency: 8, timeoutMs: TIMEOUT_MS });
      all.ran += r.ran;
      for (const [k, v] of Object.entries(r.outcomes)) all.outcomes[k] = (all.outcomes[k] ?? 0) + v;
      all.problems.push(...r.problems);
      // The server still answers a fresh connection at once.
      const sick = await probe({ ...addr, timeoutMs: TIMEOUT_MS });
      if (sick) all.problems.push({ kind: 'unhealthy', detail: `after case ${i + batch - 1}: ${sick}`, index: i, label: '-', replay: '-', hex: '-' });
    }
    const ms = Date.now() - t0;
    const afterRun = heap();
    console.log(`# fuzz: ${all.ran} cases in ${ms} ms; outcomes ${JSON.stringify(all.outcomes)}; heapUsed ${((afterRun.heapUsed - before.heapUsed) / MB).toFixed(1)} MB, rss ${((afterRun.rss - before.rss) / MB).toFixed(1)} MB`);

    const errors = errorLines(br.logs);
    const messages = [];
    if (escaped.length) messages.push(`exceptions escaped the server:\n${escaped.slice(0, 5).join('\n')}`);
    if (all.problems.length) {
      const kinds = {};
      for (const p of all.problems) kinds[p.kind] = (kinds[p.kind] ?? 0) + 1;
      messages.push(`${all.problems.length} problem(s) ${JSON.stringify(kinds)} with seed ${SEED}:\n${formatProblems(all.problems)}`);
    }
    if (errors.length) messages.push(`${errors.length} error-level log line(s), e.g.:\n${errors.slice(0, 3).map((e) => JSON.stringify(e).slice(0, 600)).join('\n')}`);
    assert.equal(messages.length, 0, messages.join('\n\n'));
    assert.ok(all.ran === count, `ran ${all.ran} of ${count} cases`);
    // Generous: the server keeps no per-case state, so growth beyond this is a leak.
    assert.ok(afterRun.heapUsed - before.heapUsed < 64 * MB, `heapUsed grew by ${((afterRun.heapUsed - before.heapUsed) / MB).toFixed(1)} MB`);
    assert.ok(afterRun.rss - before.rss < 256 * MB, `rss grew by ${((afterRun.rss - before.rss) / MB).toFixed(1)} MB`);
  });

  test('after the fuzz run the server is healthy: ldapsearch and an ldapjs bind work', async () => {
    const r = await ldapsearch(br.url, { base: `ou=users,${BASE}`, filter: '(uid=alice)', attrs: ['uid'] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.entries.map((e) => e.attrs.uid[0]), ['alice']);
    const c = client(br.url);
    try {
      await c.bind(SERVICE_DN, SERVICE_PW);
      const s = await c.search(`ou=groups,${BASE}`, { scope: 'one', filter: '(cn=secret-agents)', attributes: ['cn'] });
      assert.equal(s.entries.length, 1);
    } finally {
      await c.close();
    }
  });
});
