// Protocol fuzzing: random and mutated BER LDAP messages against an in-process bridge over a
// SQLite database made by real Django. The generator is deterministic: the seed is printed,
// DLB_FUZZ_SEED=<seed> replays a run, DLB_FUZZ_CASE=<index> replays one case, DLB_FUZZ_CASES
// changes how many cases run (default 3000). See test/helpers/ber-fuzz.js for what is checked.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, makeDjangoDatabase } from '../helpers/django.js';
import { startTestBridge, ldapsearch, client, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import {
  bindSimple, compareOp, defaultVocab, encode, F, formatProblems, fuzzCase, isNotice, message, parseResponses, probe, runFuzz, searchOp, seedFromEnv, whoami,
} from '../helpers/ber-fuzz.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const SEED = seedFromEnv();
const CASES = Number(process.env.DLB_FUZZ_CASES ?? 3000);
const ONLY_CASE = process.env.DLB_FUZZ_CASE !== undefined && process.env.DLB_FUZZ_CASE !== '' ? Number(process.env.DLB_FUZZ_CASE) : undefined;
const TIMEOUT_MS = Number(process.env.DLB_FUZZ_TIMEOUT_MS ?? 2000);
console.log(`# fuzz seed ${SEED} (replay: DLB_FUZZ_SEED=${SEED} node --test test/e2e/fuzz.test.js)`);

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

function sendRaw({ host, port }, bytes, { waitMs = 3000, until } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, host, () => s.write(bytes));
    const chunks = [];
    const t0 = Date.now();
    const finish = (closed) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ closed, data: Buffer.concat(chunks), ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    s.on('data', (d) => {
      chunks.push(d);
      if (until && until(parseResponses(Buffer.concat(chunks)).messages)) finish(false);
    });
    s.on('close', () => finish(true));
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
    // address out: binds must keep reaching the password check. Searches are logged at debug,
    // and the backpressure test counts their lines.
    br = await startTestBridge({ url: db.url, config: { security: { bruteForce: { userFailures: 1e6, addressFailures: 1e6 } }, log: { level: 'debug', format: 'json' } } });
    const u = new URL(br.url);
    addr = { host: u.hostname, port: Number(u.port) };
    vocab = defaultVocab({
      base: BASE,
      users: db.expected.users.filter((u) => !/pbkdf2_default/.test(u.username)).map((u) => u.username),
      groups: db.expected.groups.map((g) => g.name),
      serviceDn: SERVICE_DN,
      servicePw: SERVICE_PW,
      userPasswords: Object.fromEntries(db.expected.users.filter((u) => ['alice', 'bob', 'carol'].includes(u.username)).map((u) => [u.username, u.password])),
    });
  });
  after(async () => {
    await br?.close();
    await db?.drop();
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onRejection);
  });

  test(`${ONLY_CASE !== undefined ? `case ${ONLY_CASE}` : `${CASES} cases`}: no crash, no hang, every bad message refused, memory bounded`, { timeout: Math.max(120_000, CASES * 30) }, async () => {
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

  // ---------------------------------------------------------------- what the fuzzer found
  // Each of these reproduces one problem exactly; they fail until it is fixed (see the report).

  /** Binds as the service account, sends `op` as message 2, returns the parsed replies, the
   * time taken and the longest event-loop stall meanwhile (client and server share this loop). */
  async function exchange(op, { timeoutMs = 60_000, messageId = 2 } = {}) {
    const stream = Buffer.concat([encode(message(1, bindSimple(SERVICE_DN, SERVICE_PW))), encode(message(messageId, op))]);
    const t0 = Date.now();
    // 50 ms after the request, another client asks WhoAmI: how long it waits (from when it was
    // due, however late this process's own timer fires) is how long the server was unavailable.
    const other = new Promise((resolve) => {
      const due = t0 + 50;
      setTimeout(async () => {
        await sendRaw(addr, encode(message(7, whoami())), { waitMs: timeoutMs, until: (msgs) => msgs.some((m) => m.id === 7) });
        resolve(Date.now() - due);
      }, 50);
    });
    const r = await sendRaw(addr, stream, { waitMs: timeoutMs, until: (msgs) => msgs.some((m) => m.id === messageId && m.tag !== 0x64) });
    const ms = Date.now() - t0;
    const stallMs = await other;
    const { messages } = parseResponses(r.data);
    return { messages, reply: messages.find((m) => m.id === messageId && m.tag !== 0x64), ms, stallMs, closed: r.closed };
  }

  test('a filter of 1000 equality assertions under OR or AND is answered, not "internal error" (SQLite expression depth)', async () => {
    for (const [label, filter] of [
      ['or', F.or(Array.from({ length: 1000 }, (_, i) => F.eq('uid', `user${i}`)).concat([F.eq('uid', 'alice')]))],
      ['and', F.and(Array.from({ length: 1000 }, () => F.present('uid')).concat([F.eq('uid', 'alice')]))],
      ['groups', F.or(Array.from({ length: 1000 }, (_, i) => F.eq('cn', `group${i}`)).concat([F.eq('cn', 'secret-agents')]))],
    ]) {
      const { reply, messages } = await exchange(searchOp({ base: BASE, filter, attrs: ['1.1'] }));
      assert.equal(reply?.code, 0, `${label}: ${JSON.stringify(reply)}`);
      assert.equal(messages.filter((m) => m.tag === 0x64).length, 1, label);
    }
  });

  test('a DN with thousands of AVAs in one RDN does not stall the server (bind, search, compare)', async () => {
    // 20000 distinct attribute types joined by '+': ~120 KiB, well under the message limit.
    const dn = Array.from({ length: 20000 }, (_, i) => `a${i.toString(36)}=`).join('+') + `,${BASE}`;
    for (const [label, op] of [
      ['search base', searchOp({ base: dn, attrs: ['1.1'] })],
      ['bind name', bindSimple(dn, 'x')],
      ['compare value', compareOp(`cn=secret-agents,ou=groups,${BASE}`, 'member', dn)],
    ]) {
      const { reply, ms, stallMs } = await exchange(op);
      assert.ok(reply, `${label}: no reply`);
      assert.ok(stallMs < 1000 && ms < 2000, `${label}: answered after ${ms} ms; another client's WhoAmI waited ${stallMs} ms`);
    }
  });

  test('a 200000-digit integer assertion does not stall the server (it is normalised once, in linear time)', async () => {
    const huge = '9'.repeat(200000);
    for (const [label, filter] of [['not eq', F.not(F.eq('djangoId', huge))], ['ge', F.ge('djangoId', huge)], ['ext integerMatch', F.ext({ rule: 'integerMatch', attr: 'djangoId', value: huge })]]) {
      const { reply, ms, stallMs } = await exchange(searchOp({ base: BASE, filter, attrs: ['1.1'] }));
      assert.equal(reply?.code, 0, label);
      assert.ok(ms < 1000 && stallMs < 1000, `${label}: answered after ${ms} ms; another client's WhoAmI waited ${stallMs} ms`);
    }
  });

  test('a request with messageID 0 is refused (RFC 4511 §4.1.1.1: 0 is reserved for unsolicited notifications)', async () => {
    const r = await sendRaw(addr, encode(message(0, whoami())), { waitMs: 2000 });
    const { messages } = parseResponses(r.data);
    assert.ok(!messages.some((m) => m.id === 0 && !isNotice(m)), `answered with messageID 0 (indistinguishable from an unsolicited notification): ${JSON.stringify(messages)}`);
    assert.ok(r.closed && messages.some(isNotice), 'Notice of Disconnection and close');
  });

  test('a client that pipelines searches and never reads cannot make the server buffer without bound', { timeout: 60_000 }, async () => {
    const q = encode(message(2, searchOp({ base: BASE, attrs: ['*', '+'] })));
    // How big one answer is (read normally).
    const one = await sendRaw(addr, Buffer.concat([encode(message(1, bindSimple(SERVICE_DN, SERVICE_PW))), q]), { until: (msgs) => msgs.some((m) => m.tag === 0x65) });
    const answerBytes = one.data.length;
    const N = Math.ceil((48 * MB) / answerBytes); // three times the bound below
    const searches = () => br.logs.filter((l) => l.includes('"op":"search"')).length;
    const before = heap();
    const sock = net.connect(addr.port, addr.host);
    await new Promise((res) => sock.once('connect', res));
    sock.pause(); // never read: the answers pile up on the server's side
    sock.write(encode(message(1, bindSimple(SERVICE_DN, SERVICE_PW))));
    // In waves below the per-connection limit on outstanding operations (64), each answered
    // (into the server's buffers) before the next is sent, so none is refused as busy.
    const external = () => { const m = process.memoryUsage(); return m.external + m.arrayBuffers; };
    const base0 = external();
    let sent = 0;
    for (; sent < N; ) {
      const n = Math.min(50, N - sent);
      sent += n;
      const target = searches() + n;
      sock.write(Buffer.concat(Array(n).fill(q)));
      let waited = 0;
      while (waited < 2000 && searches() < target) {
        await new Promise((res) => setTimeout(res, 20));
        waited += 20;
      }
      if (searches() < target) break; // the server stopped reading: backpressure
      if (external() - base0 > 64 * MB) break; // enough to show it (and spare the machine)
    }
    await new Promise((res) => setTimeout(res, 200));
    const grown = heap().external - before.external;
    sock.destroy();
    assert.ok(grown < 16 * MB, `the server holds ${(grown / MB).toFixed(0)} MB of unread answers for one connection that sent ${((sent * q.length) / 1024).toFixed(0)} KiB (${sent} searches whose answers are ${(answerBytes / 1024).toFixed(0)} KiB each on the wire)`);
  });
});
