// Issue #14, "Hardening, round two": each attack a network attacker found against the default
// configuration, replayed against a real bridge over SQLite demo data, and what it gets now.
// Counts are read from what an operator sees (/metrics, the bind log); timing is compared as
// medians over interleaved repetitions, with generous margins.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import argon2 from 'argon2';
import { Redis } from 'ioredis';
import { need } from '../helpers/require.js';
import { client } from '../helpers/bridge.js';
import { recordSecrets } from '../helpers/secrets.js';
import { startCluster } from '../helpers/cluster.js';
import { demoDatabase, startDemoBridge, userDn, password, DEMO_SERVICE, rawConnect, bindRequest, resultCodes } from '../helpers/demo-bridge.js';
import { makePassword } from '../../dist/django/hashers/index.js';

/** Sends every bind at once, each on its own already-open connection; resolves with the codes in order. */
async function simultaneous(port, binds) {
  const sockets = await Promise.all(binds.map(() => rawConnect(port)));
  binds.forEach(([dn, pw], i) => sockets[i].write(bindRequest(1, dn, pw)));
  const codes = await Promise.all(sockets.map((s) => s.waitResults(1, 60_000)));
  sockets.forEach((s) => s.end());
  return codes.map((c) => c[0]);
}

/** One bind on a fresh connection: its result code. */
const code = async (port, dn, pw) => (await simultaneous(port, [[dn, pw]]))[0];

/** A metric's value from a /metrics text (0 when absent). */
const metricIn = (text, series) => Number(text.split('\n').find((l) => l.startsWith(series + ' '))?.split(' ').pop() ?? 0);
const metrics = async (url) => (await fetch(`${url}/metrics`)).text();
const outcomes = async (url) => {
  const text = await metrics(url);
  const n = (o) => metricIn(text, `django_ldap_bridge_binds_total{outcome="${o}"}`);
  return { success: n('success'), wrong: n('wrong-password'), locked: n('locked-out'), busy: n('busy'), unknown: n('unknown-user'), dropped: n('dropped'), hashes: metricIn(text, 'django_ldap_bridge_password_hashes_total') };
};

const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

/** A port free right now, for a listener that must be named in proxyProtocol. */
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** A PROXY protocol v1 header: the bridge takes the connection as coming from `ip`. */
const proxied = (ip) => Buffer.from(`PROXY TCP4 ${ip} 127.0.0.1 40000 389\r\n`);

async function exchangeAs(port, ip, dn, pw) {
  const s = await rawConnect(port);
  s.write(Buffer.concat([proxied(ip), bindRequest(1, dn, pw)]));
  const codes = await s.waitResults(1, 30_000);
  s.end();
  return codes[0];
}

/** Adds a user to a demo database (for case twins and users on other hashers). */
function addUser(dbPath, username, hash, { active = true } = {}) {
  const rw = new Database(dbPath);
  try {
    rw.prepare('INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (?, NULL, 0, ?, ?, ?, ?, 0, ?, ?)').run(hash, username, username, '', '', active ? 1 : 0, '2024-01-01 00:00:00');
  } finally {
    rw.close();
  }
}

const redis = await new Promise((resolve) => {
  const r = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  r.on('error', () => {});
  r.connect().then(() => resolve(r), () => resolve(undefined));
});
after(() => redis?.disconnect());

let db;
before(async () => {
  db = await demoDatabase(2000);
});

describe('1. the service account cannot be locked out by strangers', () => {
  test("a stranger's 50 wrong binds on the service DN from Apache's own address: Apache's credential still binds, on its open connection and on new ones; the stranger stays refused", async () => {
    const b = await startDemoBridge(db.url, { metrics: { listen: '127.0.0.1:0' } });
    const apache = client(b.url);
    try {
      await apache.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
      const stranger = [];
      for (let i = 0; i < 50; i++) stranger.push(await code(b.port, DEMO_SERVICE.dn, `guess-${i}`));
      assert.deepEqual(new Set(stranger), new Set([49]));
      const seen = await outcomes(b.bridge.metricsUrl);
      assert.ok(seen.wrong <= 5, `at most 5 of the stranger's guesses were checked: ${seen.wrong}`);
      assert.ok(seen.locked >= 45, `the rest were refused as locked out: ${seen.locked}`);

      await apache.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password); // its already-open connection
      assert.equal(await code(b.port, DEMO_SERVICE.dn, DEMO_SERVICE.password), 0, 'a new Apache connection binds too');
      for (let i = 0; i < 5; i++) assert.equal(await code(b.port, DEMO_SERVICE.dn, DEMO_SERVICE.password), 0);

      assert.equal(await code(b.port, DEMO_SERVICE.dn, 'guess-50'), 49, 'the stranger is still refused');
      const after = await outcomes(b.bridge.metricsUrl);
      assert.equal(after.wrong, seen.wrong, 'without a hash being spent on the guess');
      assert.equal(after.locked, seen.locked + 1);
    } finally {
      apache.raw.destroy();
      await b.close();
    }
  });

  test("the lock is per (service account, address): a stranger elsewhere does not lock out Apache's first bind, and gets no shortcut from Apache's remembered credential", async () => {
    const port = await freePort();
    const url = `ldap://127.0.0.1:${port}`;
    // No credential cache: Apache's bind has to be checked, not remembered.
    const cold = await startDemoBridge(db.url, { listen: [url], proxyProtocol: [url], security: { credentialCacheSeconds: 0 } });
    try {
      for (let i = 0; i < 20; i++) assert.equal(await exchangeAs(port, '203.0.113.66', DEMO_SERVICE.dn, `guess-${i}`), 49);
      assert.equal(await exchangeAs(port, '203.0.113.66', DEMO_SERVICE.dn, DEMO_SERVICE.password), 49, "the stranger's address is locked out for the account");
      assert.equal(await exchangeAs(port, '198.51.100.20', DEMO_SERVICE.dn, DEMO_SERVICE.password), 0, "Apache's address is not");
    } finally {
      await cold.close();
    }
    // With the cache, Apache's credential is remembered with the address that proved it: from a
    // locked address elsewhere even the right password is refused, so the lock still caps guessing.
    const warm = await startDemoBridge(db.url, { listen: [url], proxyProtocol: [url] });
    try {
      assert.equal(await exchangeAs(port, '198.51.100.20', DEMO_SERVICE.dn, DEMO_SERVICE.password), 0);
      for (let i = 0; i < 20; i++) assert.equal(await exchangeAs(port, '203.0.113.66', DEMO_SERVICE.dn, `guess-${i}`), 49);
      assert.equal(await exchangeAs(port, '203.0.113.66', DEMO_SERVICE.dn, DEMO_SERVICE.password), 49);
      assert.equal(await exchangeAs(port, '198.51.100.20', DEMO_SERVICE.dn, DEMO_SERVICE.password), 0);
    } finally {
      await warm.close();
    }
  });

  test('a trusted address (security.bruteForce.trustedAddresses) is never locked out of a service account', async () => {
    const b = await startDemoBridge(db.url, { security: { credentialCacheSeconds: 0, bruteForce: { trustedAddresses: ['127.0.0.1'] } } });
    try {
      for (let i = 0; i < 20; i++) assert.equal(await code(b.port, DEMO_SERVICE.dn, `guess-${i}`), 49);
      assert.equal(await code(b.port, DEMO_SERVICE.dn, DEMO_SERVICE.password), 0);
    } finally {
      await b.close();
    }
  });
});

describe('4. parallel guesses cannot outrun the lockout', () => {
  const attack = (n, right) => Array.from({ length: n }, (_, i) => [userDn('alice'), i === right ? password('alice') : `guess-${i}`]);

  test('100 simultaneous binds for one user, the right password at #80: refused, and at most 5 hashed', async () => {
    const slow = await demoDatabase(20000);
    const b = await startDemoBridge(slow.url, { metrics: { listen: '127.0.0.1:0' } });
    try {
      const codes = await simultaneous(b.port, attack(100, 79));
      assert.equal(codes[79], 49, 'the right password, sent among the guesses, does not get in');
      assert.deepEqual(new Set(codes), new Set([49]));
      const seen = await outcomes(b.bridge.metricsUrl);
      assert.ok(seen.wrong + seen.success <= 5, `checked: ${seen.wrong} wrong, ${seen.success} right`);
      assert.ok(seen.hashes <= 5, `hashes computed: ${seen.hashes}`);
      assert.equal(seen.locked, 100 - seen.wrong - seen.success);
    } finally {
      await b.close();
    }
  });

  test('with Redis, two bridges splitting 60 simultaneous guesses hash at most 5 between them', { skip: need('Redis on 127.0.0.1:6379', !!redis, 'no answer') }, async () => {
    const slow = await demoDatabase(20000);
    const clean = async () => {
      for (const k of await redis.keys('django-ldap-bridge:bf:*')) await redis.del(k);
    };
    await clean();
    const settings = { metrics: { listen: '127.0.0.1:0' }, security: { redis: 'redis://127.0.0.1:6379' } };
    const [a, c] = await Promise.all([startDemoBridge(slow.url, settings), startDemoBridge(slow.url, settings)]);
    try {
      const binds = attack(60, 45);
      const [first, second] = await Promise.all([simultaneous(a.port, binds.slice(0, 30)), simultaneous(c.port, binds.slice(30))]);
      assert.equal(second[15], 49, 'the right password does not get in');
      const [x, y] = await Promise.all([outcomes(a.bridge.metricsUrl), outcomes(c.bridge.metricsUrl)]);
      assert.ok(x.wrong + y.wrong + x.success + y.success <= 5, `checked: ${x.wrong} + ${y.wrong} wrong, ${x.success} + ${y.success} right`);
      assert.ok(x.hashes + y.hashes <= 5, `hashes computed: ${x.hashes} + ${y.hashes}`);
      assert.equal(x.locked + y.locked + x.wrong + y.wrong, 60);
      assert.deepEqual(new Set([...first, ...second]), new Set([49]));
    } finally {
      await Promise.all([a.close(), c.close()]);
      await clean();
    }
  });

  test('with two cluster workers (counters held by the primary), 60 simultaneous guesses hash at most 5', async () => {
    const slow = await demoDatabase(20000);
    const cluster = await startCluster(slow.url, 2);
    const { start } = cluster;
    let exitCode;
    try {
      const port = Number(new URL(start.listen[0]).port);
      const codes = await simultaneous(port, attack(60, 40));
      assert.equal(codes[40], 49, 'the right password does not get in');
      const seen = await outcomes(start.metrics);
      assert.ok(seen.wrong + seen.success <= 5, `checked across both workers: ${seen.wrong} wrong, ${seen.success} right`);
      assert.equal(seen.locked + seen.wrong + seen.success, 60);
    } finally {
      exitCode = await cluster.stop();
    }
    assert.equal(exitCode, 0);
  });
});

describe('5. identical simultaneous binds cost the same whether the user exists or not', () => {
  test('4 identical wrong binds at once: one hash for an active user, an inactive one and an unknown name alike', async () => {
    // A million iterations (Django's default cost): each check takes a few hundred ms, so the
    // four binds, read in the same few milliseconds, all find the first one still running even on
    // a loaded CI host (at 100,000 iterations, ~30 ms, a fourth bind read late once started a
    // second check).
    const slow = await demoDatabase(1000000);
    const b = await startDemoBridge(slow.url, { metrics: { listen: '127.0.0.1:0' } });
    try {
      const hashesFor = async (dn, pw) => {
        const before = (await outcomes(b.bridge.metricsUrl)).hashes;
        const codes = await simultaneous(b.port, Array.from({ length: 4 }, () => [dn, pw]));
        assert.deepEqual(codes, [49, 49, 49, 49]);
        return (await outcomes(b.bridge.metricsUrl)).hashes - before;
      };
      const active = await hashesFor(userDn('alice'), 'not-alices-password');
      const inactive = await hashesFor(userDn('dave'), 'not-daves-password');
      const unknown = await hashesFor(userDn('nobody-here'), 'not-anyones-password');
      assert.deepEqual({ active, inactive, unknown }, { active: 1, inactive: 1, unknown: 1 });
    } finally {
      await b.close();
    }
  });
});

describe('6. users on cheaper hashers fail as slowly as unknown names', () => {
  let b;
  const users = {};
  before(async () => {
    // The demo users (PBKDF2, 100,000 iterations) are the site's common hash, which the dummy imitates.
    const site = await demoDatabase(100000);
    const salted = (algo, salt, pw) => `${algo}$${salt}$${createHash(algo).update(salt + pw).digest('hex')}`;
    const small = await argon2.hash('argon-password', { type: argon2.argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1 });
    Object.assign(users, {
      mona: ['mona-password', salted('md5', 'seasalt', 'mona-password')],
      sasha: ['sasha-password', salted('sha1', 'seasalt', 'sasha-password')],
      petra: ['petra-password', await makePassword('petra-password', { iterations: 1000 })],
      // The argon2 package writes its parameters as m,p,t; Django (argon2-cffi) as m,t,p.
      arno: ['argon-password', `argon2${small.replace('m=1024,p=1,t=1', 'm=1024,t=1,p=1')}`],
    });
    recordSecrets(Object.values(users).flat());
    for (const [name, [, hash]] of Object.entries(users)) addUser(site.path, name, hash);
    b = await startDemoBridge(site.url, { security: { credentialCacheSeconds: 0, bruteForce: { enabled: false } } });
  });
  after(() => b?.close());

  test('a wrong password for a user on salted MD5, SHA1, PBKDF2 at 1,000 iterations or a small argon2 costs at least 0.7 x an unknown name', async () => {
    const c = client(b.url);
    try {
      const time = async (dn, pw) => {
        const t = process.hrtime.bigint();
        const ok = await c.bind(dn, pw).then(() => true, () => false);
        return [Number(process.hrtime.bigint() - t) / 1e6, ok];
      };
      for (let i = 0; i < 3; i++) await time(userDn(`warm-up-${i}`), 'x');
      const unknown = [];
      const failed = Object.fromEntries(Object.keys(users).map((u) => [u, []]));
      const succeeded = Object.fromEntries(Object.keys(users).map((u) => [u, []]));
      for (let i = 0; i < 13; i++) {
        for (const n of [0, 1]) unknown.push((await time(userDn(`ghost-${i}-${n}`), 'not-the-password'))[0]);
        for (const [name, [pw]] of Object.entries(users)) {
          const [ms, ok] = await time(userDn(name), 'not-the-password');
          assert.equal(ok, false);
          failed[name].push(ms);
          const [okMs, right] = await time(userDn(name), pw);
          assert.equal(right, true, `${name} binds with the right password`);
          succeeded[name].push(okMs);
        }
      }
      const u = median(unknown);
      const report = Object.entries(failed).map(([name, xs]) => `${name} ${median(xs).toFixed(1)} ms (right password ${median(succeeded[name]).toFixed(1)} ms)`);
      console.log(`# failed bind medians: unknown name ${u.toFixed(1)} ms; ${report.join(', ')}`);
      for (const [name, xs] of Object.entries(failed)) {
        // 0.7, not 1: the padding target is the dummy hash's own duration, while an unknown
        // name's bind also waits for the event loop and the queue, which a loaded 2-core machine
        // stretches (0.76 was seen at load average 10). Unpadded, these users answer in a few
        // per cent of the unknown time (their right-password binds, asserted below, show it).
        assert.ok(median(xs) >= 0.7 * u, `${name}: failed-bind median ${median(xs).toFixed(1)} ms vs unknown ${u.toFixed(1)} ms`);
        // What the padding hides: the real check for this user is far cheaper than the dummy.
        assert.ok(median(succeeded[name]) < 0.5 * u, `${name}: a successful bind (no padding) takes ${median(succeeded[name]).toFixed(1)} ms`);
      }
    } finally {
      c.raw.destroy();
    }
  });
});

describe('7. a spray of unknown names cannot take the hashing budget from real users', () => {
  /** One flooding connection: unknown-user binds back to back until `stop.done`; counts answers. */
  async function flood(port, tag, stop, seen) {
    const s = await new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => resolve(sock));
      sock.once('error', reject);
    });
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    let waiter;
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (resultCodes(buf).length && waiter) waiter();
    });
    s.on('close', () => waiter?.());
    for (let n = 0; !stop.done && !s.destroyed; n++) {
      buf = Buffer.alloc(0);
      const answered = new Promise((r) => (waiter = r));
      s.write(bindRequest(1, userDn(`spray-${tag}-${n}`), 'Summer2024!'));
      await answered;
      const [c] = resultCodes(buf);
      if (c !== undefined) seen[c] = (seen[c] ?? 0) + 1;
    }
    s.destroy();
  }

  test('while unknown names fill their share of the queue, every real first bind (users and the service account) still succeeds', async () => {
    const slow = await demoDatabase(20000);
    // One hash at a time and ten queue places: made-up names may hold five of them. Failures are
    // not limited here (this is about the budget); the next test is about the lockout.
    const b = await startDemoBridge(slow.url, {
      metrics: { listen: '127.0.0.1:0' },
      security: { hashConcurrency: 1, hashQueue: 10, credentialCacheSeconds: 0, bruteForce: { addressFailures: 1000000, userFailures: 1000000 } },
    });
    const stop = { done: false };
    const seen = {};
    const flooders = Array.from({ length: 14 }, (_, i) => flood(b.port, i, stop, seen));
    try {
      const saturated = async () => {
        for (const end = Date.now() + 20_000; Date.now() < end; ) {
          const text = await metrics(b.bridge.metricsUrl);
          if (metricIn(text, 'django_ldap_bridge_hash_queue{state="waiting"}') >= 5 && (seen[51] ?? 0) > 0) return true;
          await new Promise((r) => setTimeout(r, 10));
        }
        return false;
      };
      const real = [];
      for (let round = 0; round < 3; round++) {
        assert.ok(await saturated(), `the spray fills the budget (busy answers so far: ${seen[51] ?? 0})`);
        real.push(...(await Promise.all([...['alice', 'bob', 'carol'].map((u) => code(b.port, userDn(u), password(u))), code(b.port, DEMO_SERVICE.dn, DEMO_SERVICE.password)])));
      }
      const busyDuring = seen[51] ?? 0;
      stop.done = true;
      await Promise.all(flooders);
      assert.deepEqual(real, Array(12).fill(0), 'every real bind got in');
      assert.ok(busyDuring > 0, 'the spray was turned away busy meanwhile');
    } finally {
      stop.done = true;
      await Promise.all(flooders);
      await b.close();
    }
  });

  test('busy answers count against the sender: an address flooding the budget with one password is locked out for it', async () => {
    const slow = await demoDatabase(100000);
    const b = await startDemoBridge(slow.url, { metrics: { listen: '127.0.0.1:0' }, security: { hashConcurrency: 1, hashQueue: 2 } });
    try {
      const codes = await simultaneous(b.port, Array.from({ length: 60 }, (_, i) => [userDn(`spray-${i}`), 'Summer2024!']));
      const busy = codes.filter((c) => c === 51).length;
      assert.ok(busy >= 20, `most of the spray was answered busy: ${codes}`);
      assert.equal(await code(b.port, userDn('spray-late'), 'Summer2024!'), 49, 'the flooding address is locked out for its password');
      const seen = await outcomes(b.bridge.metricsUrl);
      assert.equal(seen.busy, busy);
      assert.ok(seen.unknown + busy <= 30, `the 30 attempts the address had were hashed or answered busy, the rest refused: ${seen.unknown} + ${busy}`);
      assert.equal(seen.locked, 60 - seen.unknown - busy + 1);
      // Per (address, password): alice's own password from the same address still binds.
      assert.equal(await code(b.port, userDn('alice'), password('alice')), 0, 'alice binds from the flooding address');
    } finally {
      await b.close();
    }
  });
});

describe('7b. binds queued by clients that hang up are not hashed', () => {
  test('21 connections queue 10 binds each and hang up: none of their waiting binds is hashed, a real first bind is hashed next, and the dropped guesses still count', async () => {
    const slow = await demoDatabase(100000);
    // One hash at a time, the rest queue: the sprayers' first binds fill the queue at once.
    const b = await startDemoBridge(slow.url, { metrics: { listen: '127.0.0.1:0' }, security: { hashConcurrency: 1, credentialCacheSeconds: 0 } });
    const gate = b.bridge.context.auth.gate;
    const until = async (what, ok) => {
      for (const end = Date.now() + 30_000; !(await ok()); await new Promise((r) => setTimeout(r, 10))) assert.ok(Date.now() < end, what);
    };
    try {
      const sprayers = await Promise.all(Array.from({ length: 21 }, () => rawConnect(b.port)));
      // Made-up names with a password each (so no per-address counter fills), and 6 guesses at bob.
      sprayers.forEach((s, i) => {
        for (let k = 0; k < (i === 20 ? 6 : 10); k++) s.write(i === 20 ? bindRequest(k + 1, userDn('bob'), `guess-${k}`) : bindRequest(k + 1, userDn(`spray-${i}-${k}`), `Summer${i}-${k}!`));
      });
      await until('every sprayer has a bind in the hash queue', () => gate.depth.waiting >= 20);
      for (const s of sprayers) s.end();
      await until('the bridge saw every sprayer hang up', async () => metricIn(await metrics(b.bridge.metricsUrl), 'django_ldap_bridge_connections') === 0);
      const hashedBefore = gate.depth.computed;

      const alice = await rawConnect(b.port);
      alice.write(bindRequest(1, userDn('alice'), password('alice')));
      assert.deepEqual(await alice.waitResults(1, 60_000), [0], 'alice binds');
      assert.equal(gate.depth.computed, hashedBefore + 1, "nothing was hashed ahead of alice's bind after the hang-up");
      alice.end();

      const sent = 20 * 10 + 6;
      let seen;
      await until('every sprayed bind has its outcome', async () => {
        seen = await outcomes(b.bridge.metricsUrl);
        return seen.unknown + seen.wrong + seen.locked + seen.dropped === sent;
      });
      const text = await metrics(b.bridge.metricsUrl);
      assert.equal(seen.hashes, hashedBefore + 1, 'no sprayed bind was hashed after the hang-up');
      assert.equal(seen.unknown + seen.wrong, hashedBefore, 'the sprayed binds answered are the ones hashed before it');
      assert.ok(seen.dropped >= sent - hashedBefore - 1, `the rest were dropped (one of bob's may be refused as locked out): ${JSON.stringify(seen)}`);
      assert.equal(metricIn(text, 'django_ldap_bridge_password_checks_dropped_total'), seen.dropped, 'one check dropped per dropped bind (no two were identical)');
      assert.ok(b.logs.some((l) => l.includes('"outcome":"dropped"') && l.includes('bind dropped unhashed')), 'each dropped bind has its audit line');

      // Dropping gives nothing back: bob's guesses, hashed or not, used up his 5 failures.
      assert.equal(await code(b.port, userDn('bob'), password('bob')), 49, "bob's right password is refused while the dropped guesses lock him");
      assert.equal(await code(b.port, userDn('carol'), password('carol')), 0);
    } finally {
      await b.close();
    }
  });
});

describe('11. with case-insensitive names, one account cannot clear another one’s failures', () => {
  test('the owner of "Alice" logging in between guesses at "alice" does not reset them: alice is locked out after 5', async () => {
    const own = await demoDatabase(2000);
    addUser(own.path, 'Alice', await makePassword('Alice-own-password', { iterations: 2000 }));
    recordSecrets(['Alice-own-password']);
    const b = await startDemoBridge(own.url, { users: { caseInsensitive: true }, metrics: { listen: '127.0.0.1:0' } });
    try {
      for (let round = 0; round < 6; round++) {
        for (let i = 0; i < 4; i++) assert.equal(await code(b.port, userDn('alice'), `guess-${round}-${i}`), 49);
        assert.equal(await code(b.port, userDn('Alice'), 'Alice-own-password'), 0, "Alice's own logins are not affected");
      }
      assert.equal(await code(b.port, userDn('alice'), password('alice')), 49, 'alice is locked out');
      const seen = await outcomes(b.bridge.metricsUrl);
      assert.ok(seen.wrong <= 5, `at most 5 of the 24 guesses were checked: ${seen.wrong}`);
    } finally {
      await b.close();
    }
  });
});
