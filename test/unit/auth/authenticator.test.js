// The Authenticator over a stand-in directory: what each kind of bind costs in hashes and time,
// what it counts against the lockout, and which account's success clears which failures.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import pino from 'pino';
import { Authenticator } from '../../../dist/auth/authenticator.js';
import { HashGate } from '../../../dist/auth/hash-gate.js';
import { CredentialCache } from '../../../dist/auth/credential-cache.js';
import { MemoryCounters, Throttle } from '../../../dist/auth/throttle.js';
import { makePassword } from '../../../dist/django/hashers/index.js';

const md5 = (pw) => `md5$seasalt$${createHash('md5').update('seasalt' + pw).digest('hex')}`;
const settings = (over = {}) => ({ enabled: true, userFailures: 5, userWindowSeconds: 300, addressFailures: 30, addressWindowSeconds: 300, lockoutSeconds: 30, maxLockoutSeconds: 3600, trustedAddresses: [], ...over });

let slowHash; // the site's common hash, which the dummy imitates
let serviceHash;
before(async () => {
  slowHash = await makePassword('alice-pw', { iterations: 60000 });
  serviceHash = await makePassword('apache-secret', { iterations: 1000 });
});

/** An Authenticator over users given as [id, username, hash, active]. */
function authenticator(rows, { caseInsensitive = false, gate = new HashGate(2, 64), cacheSeconds = 60, throttle = {} } = {}) {
  const users = rows.map(([id, username, password, isActive = true]) => ({ id, username, password, isActive }));
  const directory = {
    async loginUser(name) {
      if (!caseInsensitive) return users.find((u) => u.username === name);
      const exact = users.find((u) => u.username === name);
      const twins = users.filter((u) => u.username.toLowerCase() === name.toLowerCase());
      return exact ?? (twins.length === 1 ? twins[0] : undefined);
    },
  };
  const auth = new Authenticator(directory, gate, new CredentialCache(cacheSeconds * 1000, 100), new Throttle(settings(throttle), new MemoryCounters()), pino({ level: 'silent' }), caseInsensitive);
  auth.sampleHash = slowHash;
  return auth;
}
const attempt = (name, password, address = '192.0.2.1') => ({ name, password, address });
/** From a connection exempt from address counting (a trusted address, or bound as a service account). */
const exempt = (name, password) => ({ name, password, address: undefined });
const hashes = (auth) => auth.gate.depth.computed;

describe('shared checks', () => {
  test('identical binds at once share one check whether the name is an active user, an inactive one or made up', async () => {
    const auth = authenticator([[1, 'alice', slowHash], [2, 'dave', slowHash, false]]);
    const cost = {};
    for (const name of ['alice', 'dave', 'ghost']) {
      const before = hashes(auth);
      const results = await Promise.all(Array.from({ length: 4 }, () => auth.user(attempt(name, 'wrong'))));
      assert.equal(new Set(results.map((r) => r.outcome)).size, 1);
      cost[name] = hashes(auth) - before;
    }
    assert.deepEqual(cost, { alice: 1, dave: 1, ghost: 1 });
  });

  test('identical binds count once against the lockout; an Apache pool binding at once is not locked out', async () => {
    const auth = authenticator([[1, 'alice', slowHash]], { cacheSeconds: 60 });
    const pool = await Promise.all(Array.from({ length: 12 }, () => auth.service(attempt('cn=apache', 'apache-secret'), serviceHash)));
    assert.deepEqual(new Set(pool.map((r) => r.outcome)), new Set(['success']));
    const users = await Promise.all(Array.from({ length: 12 }, () => auth.user(attempt('alice', 'alice-pw'))));
    assert.deepEqual(new Set(users.map((r) => r.outcome)), new Set(['success']));
  });
});

describe('lockout', () => {
  test('50 different guesses at once: at most 5 hashed, and the right one among them is refused', async () => {
    const auth = authenticator([[1, 'alice', slowHash]]);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => auth.user(attempt('alice', i === 30 ? 'alice-pw' : `guess-${i}`))));
    assert.equal(results[30].outcome, 'locked-out');
    assert.ok(hashes(auth) <= 5, `hashed: ${hashes(auth)}`);
    assert.equal(results.filter((r) => r.outcome === 'wrong-password').length, 5);
  });

  test('case-insensitive names: the owner of "Alice" does not clear the failures of "alice"', async () => {
    const auth = authenticator([[1, 'alice', await makePassword('alice-pw', { iterations: 1000 })], [2, 'Alice', await makePassword('Alice-pw', { iterations: 1000 })]], { caseInsensitive: true });
    auth.sampleHash = serviceHash;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) await auth.user(attempt('alice', `guess-${round}-${i}`));
      assert.equal((await auth.user(attempt('Alice', 'Alice-pw'))).outcome, 'success');
    }
    assert.equal((await auth.user(attempt('alice', 'alice-pw'))).outcome, 'locked-out');
    assert.equal((await auth.user(attempt('ALICE', 'x'))).outcome, 'unknown-user', 'an ambiguous name is nobody, counted by its own name');
  });

  test("a service account: a stranger's guesses lock it for the stranger's address only; a pinned credential and an exempt connection always pass", async () => {
    const auth = authenticator([], { cacheSeconds: 60 });
    const svc = (pw, address) => auth.service(address ? attempt('cn=apache', pw, address) : exempt('cn=apache', pw), serviceHash);
    assert.equal((await svc('apache-secret', '192.0.2.80')).outcome, 'success', 'Apache binds first: pinned');
    for (let i = 0; i < 20; i++) await svc(`guess-${i}`, '192.0.2.80');
    assert.equal((await svc('guess-x', '192.0.2.80')).outcome, 'locked-out');
    const pinned = await svc('apache-secret', '192.0.2.80');
    assert.deepEqual({ ...pinned }, { outcome: 'success', cached: true });
    assert.equal((await svc('apache-secret', undefined)).outcome, 'success');
    for (let i = 0; i < 20; i++) await svc(`guess-${i}`, '192.0.2.66');
    assert.equal((await svc('apache-secret', '192.0.2.66')).outcome, 'locked-out', 'from an address that never proved it the lock still applies: no guessing against the pin');
    const before = hashes(auth);
    assert.deepEqual({ ...(await svc('apache-secret', '192.0.2.81')) }, { outcome: 'success', cached: true }, 'an address that is not locked gets the pin without a hash');
    assert.equal(hashes(auth), before);

    const cold = authenticator([], { cacheSeconds: 0 });
    const coldSvc = (pw, address) => cold.service(address ? attempt('cn=apache', pw, address) : exempt('cn=apache', pw), serviceHash);
    for (let i = 0; i < 20; i++) await coldSvc(`guess-${i}`, '192.0.2.66');
    assert.equal((await coldSvc('apache-secret', '192.0.2.66')).outcome, 'locked-out', 'no cache: the right password from the locked address is refused');
    assert.equal((await coldSvc('apache-secret', '192.0.2.80')).outcome, 'success', 'from another address it is not');
    for (let i = 0; i < 20; i++) assert.equal((await coldSvc(`guess-${i}`, undefined)).outcome, 'wrong-password', 'an exempt connection is never locked');
    assert.equal((await coldSvc('apache-secret', undefined)).outcome, 'success');
  });
});

describe('timing', () => {
  test('a failure cheaper than the dummy is answered no sooner than the typical dummy takes; a success at once', async () => {
    const auth = authenticator([[1, 'mona', md5('mona-pw')]], { throttle: { enabled: false } });
    const unknown = [];
    const failed = [];
    for (let i = 0; i < 7; i++) {
      let t = performance.now();
      assert.equal((await auth.user(attempt(`ghost-${i}`, 'x'))).outcome, 'unknown-user');
      unknown.push(performance.now() - t);
      const typical = auth.dummyCostMs;
      t = performance.now();
      assert.equal((await auth.user(attempt('mona', `wrong-${i}`))).outcome, 'wrong-password');
      failed.push(performance.now() - t);
      assert.ok(failed[i] >= typical, `a failed MD5 check answered after ${failed[i].toFixed(1)} ms; a dummy typically takes ${typical.toFixed(1)} ms`);
    }
    const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
    assert.ok(median(failed) >= 0.8 * median(unknown), `medians: failed MD5 ${median(failed).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`);
    const t = performance.now();
    assert.equal((await auth.user(attempt('mona', 'mona-pw'))).outcome, 'success');
    assert.ok(performance.now() - t < auth.dummyCostMs, 'a success is not padded');
  });

  test('a failure of the same cost as the dummy is not padded; the first cheap failure before any dummy measures one', async () => {
    const auth = authenticator([[1, 'alice', slowHash], [2, 'mona', md5('mona-pw')]], { throttle: { enabled: false } });
    await auth.user(attempt('alice', 'wrong'));
    assert.equal(auth.dummyCostMs, 0, 'the common hash is its own dummy: nothing measured, nothing padded');
    const before = hashes(auth);
    await auth.user(attempt('mona', 'wrong'));
    assert.ok(auth.dummyCostMs > 0, 'measured');
    assert.equal(hashes(auth) - before, 1, 'one pass through the budget, the MD5 and the dummy together');
  });

  test('a new sample hash is measured again', async () => {
    const auth = authenticator([], { throttle: { enabled: false } });
    await auth.user(attempt('ghost', 'x'));
    assert.ok(auth.dummyCostMs > 0);
    auth.sampleHash = serviceHash;
    assert.equal(auth.dummyCostMs, 0);
  });
});

describe('the hashing budget', () => {
  test('busy looks the same for any name, and counts against the sender', async () => {
    const gate = new HashGate(1, 0);
    const auth = authenticator([[1, 'alice', slowHash]], { gate, throttle: { addressFailures: 3 } });
    const holder = auth.user(exempt('alice', 'holds-the-slot'));
    const [known, unknown] = await Promise.all([auth.user(attempt('alice', 'x')), auth.user(attempt('ghost', 'x'))]);
    assert.deepEqual(known, unknown);
    assert.deepEqual(known, { outcome: 'busy' });
    await holder;
    await auth.user(attempt('ghost2', 'x'));
    // Counted per (address, password): the sprayed password is refused from that address,
    // whatever the name; another password from it (alice's own) is not.
    assert.equal((await auth.user(attempt('ghost3', 'x'))).outcome, 'locked-out', 'two busy answers and a failure lock the address for that password');
    assert.equal((await auth.user(attempt('alice', 'alice-pw'))).outcome, 'success', "alice's own password from the same address still binds");
  });

  test('existing names keep places in the queue that made-up names cannot take', async () => {
    const gate = new HashGate(1, 4);
    const auth = authenticator([[1, 'alice', slowHash], [2, 'bob', slowHash]], { gate, throttle: { enabled: false } });
    const spray = Array.from({ length: 8 }, (_, i) => auth.user(attempt(`ghost-${i}`, 'x')));
    const real = [auth.user(attempt('alice', 'alice-pw')), auth.user(attempt('bob', 'alice-pw'))];
    const sprayed = await Promise.all(spray);
    assert.ok(sprayed.filter((r) => r.outcome === 'busy').length >= 5, 'made-up names got 1 running + 2 waiting');
    assert.deepEqual((await Promise.all(real)).map((r) => r.outcome), ['success', 'success']);
  });
});

describe('checks whose clients are gone', () => {
  /** Holds the gate's one hashing slot until released, so that checks queue behind it. */
  function holdSlot(gate) {
    let release;
    const held = gate.run(() => new Promise((r) => (release = r)));
    return { done: () => (release(), held) };
  }
  /** Waits (bounded) until `n` checks wait in the gate. */
  async function queued(gate, n) {
    for (const end = Date.now() + 10_000; gate.depth.waiting < n; ) {
      assert.ok(Date.now() < end, `${n} checks should queue; ${gate.depth.waiting} did`);
      await new Promise((r) => setImmediate(r));
    }
  }
  const from = (signal, name, password, address = '192.0.2.7') => ({ name, password, address, gone: signal });

  test('a connection that hangs up with binds queued: they are dropped unhashed, a real user behind them is hashed next, and the dropped guesses stay counted', async () => {
    const gate = new HashGate(1, 64);
    const auth = authenticator([[1, 'alice', slowHash], [2, 'bob', slowHash]], { gate });
    const slot = holdSlot(gate);
    const sprayer = new AbortController();
    const spray = [
      ...Array.from({ length: 5 }, (_, i) => auth.user(from(sprayer.signal, 'alice', `guess-${i}`))),
      ...Array.from({ length: 3 }, (_, i) => auth.user(from(sprayer.signal, `ghost-${i}`, 'Summer2024!'))),
      auth.nobody(from(sprayer.signal, 'cn=nobody,dc=example,dc=com', 'x')),
      auth.service(from(sprayer.signal, 'cn=apache', 'guess'), serviceHash),
    ];
    await queued(gate, spray.length);
    const bob = auth.user(from(new AbortController().signal, 'bob', 'alice-pw', '198.51.100.2'));
    await queued(gate, spray.length + 1);
    sprayer.abort();
    assert.deepEqual(gate.depth, { running: 1, waiting: 1, computed: 1, dropped: spray.length }, 'they left the queue at the hang-up');
    await slot.done();
    assert.deepEqual((await Promise.all(spray)).map((r) => r.outcome), Array(spray.length).fill('dropped'));
    assert.equal((await bob).outcome, 'success');
    assert.deepEqual(gate.depth, { running: 0, waiting: 0, computed: 2, dropped: spray.length }, 'only the held slot and bob were hashed');

    // Each dropped guess was counted before it queued, and hanging up gave none back: alice's
    // 5 failures are used up, so even her right password is refused now.
    assert.equal((await auth.user(attempt('alice', 'alice-pw', '203.0.113.9'))).outcome, 'locked-out');
    assert.equal((await auth.service(attempt('cn=apache', 'apache-secret', '192.0.2.7'), serviceHash)).outcome, 'success', 'one dropped service guess is one failure, not a lock');
  });

  test('a bind arriving on a connection already gone takes its count and no hash', async () => {
    const auth = authenticator([[1, 'alice', slowHash]]);
    const gone = AbortSignal.abort();
    for (let i = 0; i < 5; i++) assert.equal((await auth.user(from(gone, 'alice', `guess-${i}`))).outcome, 'dropped');
    assert.equal((await auth.user(from(gone, 'alice', 'guess-5'))).outcome, 'locked-out');
    assert.deepEqual(auth.gate.depth, { running: 0, waiting: 0, computed: 0, dropped: 5 });
  });

  test('a shared check is dropped only when every client waiting on it is gone', async () => {
    const gate = new HashGate(1, 64);
    const auth = authenticator([[1, 'alice', slowHash]], { gate });
    const ask = (signal) => auth.user(from(signal, 'alice', 'wrong'));

    // One of two identical binds hangs up: the other still gets its answer, from one hash.
    let slot = holdSlot(gate);
    const [a, b] = [new AbortController(), new AbortController()];
    const both = [ask(a.signal), ask(b.signal)];
    await queued(gate, 1);
    a.abort();
    await slot.done();
    assert.deepEqual((await Promise.all(both)).map((r) => r.outcome), ['wrong-password', 'wrong-password']);
    assert.deepEqual(gate.depth, { running: 0, waiting: 0, computed: 2, dropped: 0 });

    // Both hang up: nothing is hashed.
    slot = holdSlot(gate);
    const [c, d] = [new AbortController(), new AbortController()];
    const gone = [ask(c.signal), ask(d.signal)];
    await queued(gate, 1);
    c.abort();
    assert.equal(gate.depth.waiting, 1, 'still wanted by the other client');
    d.abort();
    assert.equal(gate.depth.waiting, 0);
    await slot.done();
    assert.deepEqual((await Promise.all(gone)).map((r) => r.outcome), ['dropped', 'dropped']);
    assert.deepEqual(gate.depth, { running: 0, waiting: 0, computed: 3, dropped: 1 });

    // A client that cannot hang up (no signal: a command) keeps the check wanted.
    slot = holdSlot(gate);
    const e = new AbortController();
    const kept = [ask(e.signal), auth.user(attempt('alice', 'wrong'))];
    await queued(gate, 1);
    e.abort();
    await slot.done();
    assert.deepEqual((await Promise.all(kept)).map((r) => r.outcome), ['wrong-password', 'wrong-password']);
    assert.deepEqual(gate.depth, { running: 0, waiting: 0, computed: 5, dropped: 1 });
  });
});
