// Hardening: brute-force lockout (in memory and shared through Redis), the hashing budget,
// the revocation-aware credential cache, equal timing for unknown users, and the limits that
// cut oversized, slow, idle and flooding clients. All against a real bridge over SQLite.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { need } from '../helpers/require.js';
import { client } from '../helpers/bridge.js';
import { DEMO_USERS, demoDatabase, startDemoBridge, userDn, password, DEMO_SERVICE, rawConnect, bindRequest, searchRequest, resultCodes, ber } from '../helpers/demo-bridge.js';
import { makePassword } from '../../dist/django/hashers/index.js';

const code = async (url, dn, pw) => {
  const c = client(url);
  try {
    await c.bind(dn, pw);
    return 0;
  } catch (e) {
    return e.code;
  } finally {
    c.raw.destroy();
  }
};

const redis = await new Promise((resolve) => {
  const r = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  r.on('error', () => {});
  r.connect().then(() => resolve(r), () => resolve(undefined));
});
const redisSkip = need('Redis on 127.0.0.1:6379', !!redis, 'no answer');
after(() => redis?.disconnect());

let db;
before(async () => {
  db = await demoDatabase(2000);
});

/** The bridge's count of binds refused as locked out, from its metrics. */
async function lockedOutCount(metricsUrl) {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('django_ldap_bridge_binds_total{outcome="locked-out"} '));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('brute-force protection', () => {
  test('a user name is locked out after repeated failures; others are not slowed; the lock expires', async () => {
    const b = await startDemoBridge(db.url, { security: { bruteForce: { userFailures: 3, lockoutSeconds: 1, addressFailures: 1000 } } });
    try {
      for (let i = 0; i < 3; i++) assert.equal(await code(b.url, userDn('alice'), 'wrong'), 49);
      assert.equal(await code(b.url, userDn('alice'), password('alice')), 49, 'locked out: even the right password is refused');
      assert.ok(b.logs.some((l) => l.includes('locked out') && l.includes('"outcome":"locked-out"')), 'a distinct log line');
      const c = client(b.url);
      const err = await c.bind(userDn('alice'), password('alice')).catch((e) => e);
      c.raw.destroy();
      assert.equal(err.code, 49);
      assert.ok(!/lock/i.test(err.lde_message ?? err.message ?? ''), 'no hint in the diagnostic message');
      assert.equal(await code(b.url, userDn('bob'), password('bob')), 0, 'other users bind normally');
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(await code(b.url, userDn('alice'), password('alice')), 0, 'the lock expires');
    } finally {
      await b.close();
    }
  });

  test("an address spraying one password over many names is locked out for that password, even where it is right; other passwords from it still bind; connections that bound as a service account are not counted", async () => {
    const b = await startDemoBridge(db.url, { metrics: { listen: '127.0.0.1:0' }, security: { bruteForce: { addressFailures: 4, userFailures: 100, lockoutSeconds: 30 } } });
    try {
      // The sprayer guesses bob's password for four other names, then for bob.
      for (let i = 0; i < 4; i++) assert.equal(await code(b.url, userDn(`spray${i}`), password('bob')), 49);
      const lockedBefore = await lockedOutCount(b.bridge.metricsUrl);
      assert.equal(await code(b.url, userDn('bob'), password('bob')), 49, 'the sprayed password is refused from the spraying address, even for its owner');
      assert.equal(await lockedOutCount(b.bridge.metricsUrl), lockedBefore + 1, 'refused as locked-out, not checked');
      assert.equal(await code(b.url, userDn('carol'), password('carol')), 0, "another user's own password from the same address binds");
      // Apache binds as its service account first; its users' binds are counted per user only.
      const c = client(b.url);
      try {
        await c.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
        await c.bind(userDn('bob'), password('bob'));
      } finally {
        c.raw.destroy();
      }
    } finally {
      await b.close();
    }
  });


  test('a relaying host (a mail server binding each user) with 31 wrong passwords for 31 users, under the default limits: its other users still bind, and so does each of the 31 with the right password', async () => {
    const b = await startDemoBridge(db.url);
    try {
      const names = DEMO_USERS.map((u) => u.username).filter((u) => u !== 'alice' && u !== 'bob');
      while (names.length < 31) names.push(`typo-user-${names.length}`);
      for (const [i, n] of names.entries()) assert.equal(await code(b.url, userDn(n), `mistyped-${i}`), 49, n);
      assert.equal(await code(b.url, userDn('alice'), password('alice')), 0, 'alice binds through the relay');
      assert.equal(await code(b.url, userDn('bob'), password('bob')), 0, 'bob binds through the relay');
      assert.equal(await code(b.url, userDn(names[0]), password(names[0])), 0, 'a user who mistyped binds with the right password');
    } finally {
      await b.close();
    }
  });

  test('trusted addresses (the Apache hosts) are counted per user only', async () => {
    const b = await startDemoBridge(db.url, { security: { bruteForce: { addressFailures: 2, userFailures: 100, lockoutSeconds: 30, trustedAddresses: ['127.0.0.1'] } } });
    try {
      for (let i = 0; i < 4; i++) assert.equal(await code(b.url, userDn(`spray${i}`), 'x'), 49);
      assert.equal(await code(b.url, userDn('bob'), password('bob')), 0, 'the trusted address is not locked out');
    } finally {
      await b.close();
    }
  });

  test('with Redis, two bridges enforce one lockout; without Redis they carry on locally', { skip: redisSkip }, async () => {
    for (const k of await redis.keys('django-ldap-bridge:bf:*')) await redis.del(k);
    const settings = { security: { redis: 'redis://127.0.0.1:6379', bruteForce: { userFailures: 3, lockoutSeconds: 30, addressFailures: 1000 } } };
    const a = await startDemoBridge(db.url, settings);
    const b = await startDemoBridge(db.url, settings);
    const down = await startDemoBridge(db.url, { security: { redis: 'redis://127.0.0.1:1', bruteForce: { userFailures: 2, lockoutSeconds: 30 } } });
    try {
      assert.equal(await code(a.url, userDn('carol'), 'w1'), 49);
      assert.equal(await code(b.url, userDn('carol'), 'w2'), 49);
      assert.equal(await code(a.url, userDn('carol'), 'w3'), 49);
      assert.equal(await code(b.url, userDn('carol'), password('carol')), 49, 'the lockout made on A holds on B');
      assert.equal(await code(b.url, userDn('bob'), password('bob')), 0);
      // Redis unreachable: binds still work, failures are still counted (locally), and it is logged.
      assert.equal(await code(down.url, userDn('bob'), password('bob')), 0);
      assert.equal(await code(down.url, userDn('dave'), 'x'), 49);
      assert.equal(await code(down.url, userDn('dave'), 'x'), 49);
      assert.ok(down.logs.some((l) => l.includes('redis unavailable')), 'the fallback is logged');
    } finally {
      await Promise.all([a.close(), b.close(), down.close()]);
      for (const k of await redis.keys('django-ldap-bridge:bf:*')) await redis.del(k);
    }
  });
});

describe('password checks', () => {
  test('the hashing budget answers busy (51) rather than letting binds queue without end', async () => {
    const slow = await demoDatabase(400000);
    const b = await startDemoBridge(slow.url, { security: { hashConcurrency: 1, hashQueue: 1, credentialCacheSeconds: 0 } });
    try {
      const codes = await Promise.all(Array.from({ length: 8 }, () => code(b.url, userDn('alice'), password('alice'))));
      assert.ok(codes.every((c) => c === 0 || c === 51), `only success or busy: ${codes}`);
      assert.ok(codes.includes(51), `some binds were turned away: ${codes}`);
      assert.ok(codes.includes(0), `some binds succeeded: ${codes}`);
    } finally {
      await b.close();
    }
  });

  test('the credential cache skips the hash, and a password change or deactivation counts at once', async () => {
    const own = await demoDatabase(2000);
    const b = await startDemoBridge(own.url, { security: { credentialCacheSeconds: 300 } });
    const rw = new Database(own.path);
    try {
      assert.equal(await code(b.url, userDn('bob'), password('bob')), 0);
      assert.equal(await code(b.url, userDn('bob'), password('bob')), 0);
      const binds = b.logs.filter((l) => l.includes('"op":"bind"') && l.includes('uid=bob'));
      assert.equal(JSON.parse(binds.at(-1)).cached, true, 'the second bind came from the cache');
      rw.prepare('UPDATE auth_user SET password = ? WHERE username = ?').run(await makePassword('new-bob', { iterations: 2000 }), 'bob');
      assert.equal(await code(b.url, userDn('bob'), password('bob')), 49, 'the old password stops working at once');
      assert.equal(await code(b.url, userDn('bob'), 'new-bob'), 0);
      assert.equal(await code(b.url, userDn('bob'), 'new-bob'), 0);
      rw.prepare('UPDATE auth_user SET is_active = 0 WHERE username = ?').run('bob');
      assert.equal(await code(b.url, userDn('bob'), 'new-bob'), 49, 'deactivation counts at once, cache or not');
      assert.ok(!b.logs.join('').includes('new-bob'));
    } finally {
      rw.close();
      await b.close();
    }
  });

  test('an unknown user costs as much time as a wrong password for a real one', async () => {
    const slow = await demoDatabase(100000);
    const b = await startDemoBridge(slow.url, { security: { bruteForce: { enabled: false } } });
    const c = client(b.url);
    try {
      const known = [];
      const unknown = [];
      const time = async (dn) => {
        const t = process.hrtime.bigint();
        await c.bind(dn, 'not-the-password').catch(() => {});
        return Number(process.hrtime.bigint() - t) / 1e6;
      };
      for (let i = 0; i < 3; i++) await time(userDn('alice')); // warm up
      // Pairs measured back to back, the order alternating, compared pair by pair: a loaded
      // machine slows both halves of a pair alike, where medians of the two whole series drift
      // apart with the load (0.73 was seen with a load average of 12).
      const ratios = [];
      for (let i = 0; i < 31; i++) {
        const ghost = userDn(`ghost${i}`);
        let k;
        let u;
        if (i % 2) {
          k = await time(userDn('alice'));
          u = await time(ghost);
        } else {
          u = await time(ghost);
          k = await time(userDn('alice'));
        }
        known.push(k);
        unknown.push(u);
        ratios.push(u / k);
      }
      const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
      const ratio = median(ratios);
      console.log(`# bind timing: known-user median ${median(known).toFixed(1)} ms, unknown-user median ${median(unknown).toFixed(1)} ms, median pair ratio ${ratio.toFixed(2)}`);
      assert.ok(ratio > 0.75 && ratio < 1.33, `unknown/known median pair ratio ${ratio.toFixed(2)}`);
    } finally {
      c.raw.destroy();
      await b.close();
    }
  });
});

describe('limits', () => {
  let b;
  before(async () => {
    b = await startDemoBridge(db.url, {
      anonymous: { search: true },
      limits: { maxMessageBytes: 4096, maxConnectionsPerAddress: 50, messageTimeoutSeconds: 1, idleTimeoutSeconds: 2, maxRequestedAttributes: 5, filterMaxDepth: 8, maxOutstandingPerConnection: 4, anonymousSearchEntries: 2 },
    });
  });
  after(() => b?.close());

  test('a message larger than the limit is refused from its header, before it is buffered', async () => {
    const s = await rawConnect(b.port);
    // Header announcing 1 MiB, then only a few bytes: the server must not wait for the rest.
    s.write(Buffer.from([0x30, 0x83, 0x10, 0x00, 0x00, 0x02, 0x01, 0x01]));
    assert.equal(await s.waitClosed(1500), true);
    assert.deepEqual(resultCodes(s.data()), [2], 'a Notice of Disconnection with protocolError');
  });

  test('a message that never completes is cut (slow loris), and so is an idle connection', async () => {
    const s = await rawConnect(b.port);
    s.write(bindRequest(1, userDn('alice'), 'x').subarray(0, 10));
    const t = Date.now();
    assert.equal(await s.waitClosed(3000), true);
    assert.ok(Date.now() - t < 2500);
    const idle = await rawConnect(b.port);
    assert.equal(await idle.waitClosed(4000), true, 'idle connection closed');
  });

  test('too many connections from one address are refused', async () => {
    const small = await startDemoBridge(db.url, { limits: { maxConnectionsPerAddress: 3 } });
    try {
      const open = await Promise.all([1, 2, 3].map(() => rawConnect(small.port)));
      const extra = await rawConnect(small.port);
      assert.equal(await extra.waitClosed(1500), true, 'the fourth connection is closed');
      assert.deepEqual(resultCodes(extra.data()), [51]);
      assert.equal(open.some((s) => s.closed), false);
      open.forEach((s) => s.end());
    } finally {
      await small.close();
    }
  });

  test('deep filters, long attribute lists, floods and anonymous result counts are bounded', async () => {
    // A filter nested deeper than filterMaxDepth: protocolError and disconnect.
    let f = ber.tlv(0x87, Buffer.from('cn'));
    for (let i = 0; i < 20; i++) f = ber.tlv(0xa2, f);
    const deep = await rawConnect(b.port);
    deep.write(searchRequest(1, `ou=users,dc=example,dc=com`, { filter: f }));
    assert.equal(await deep.waitClosed(1500), true);
    assert.ok(resultCodes(deep.data()).includes(2));
    // Too many requested attributes: adminLimitExceeded (11).
    const wide = await rawConnect(b.port);
    wide.write(searchRequest(1, 'ou=users,dc=example,dc=com', { attrs: ['a', 'b', 'c', 'd', 'e', 'f'] }));
    assert.deepEqual(await wide.waitResults(1), [11]);
    wide.end();
    // A pipelined flood: past maxOutstandingPerConnection the extra requests get busy (51).
    const flood = await rawConnect(b.port);
    flood.write(Buffer.concat(Array.from({ length: 30 }, (_, i) => searchRequest(i + 1, 'ou=users,dc=example,dc=com'))));
    const codes = await flood.waitResults(30);
    assert.equal(codes.length, 30, 'every request got an answer');
    assert.ok(codes.includes(51) && codes.includes(4), `busy for the excess, sizeLimitExceeded (anonymous cap of 2) for the rest: ${codes}`);
    flood.end();
  });
});

describe('TLS', () => {
  let dir;
  const tlsSkip = need('openssl', (() => {
    try {
      execFileSync('openssl', ['version']);
      return true;
    } catch {
      return false;
    }
  })(), 'openssl not on PATH');
  const mkcert = (cn) => {
    const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Test CA']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${cn}`]);
    execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext.cnf`], { cwd: dir });
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
  };
  before(async () => {
    if (tlsSkip) return;
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    dir = mkdtempSync(join(tmpdir(), 'dlb-tls-'));
    mkcert('first.example');
  });

  test('StartTLS (ldapsearch -ZZ) and ldaps:// work, TLS is required for password binds when set, and SIGHUP reloads the certificate', { skip: tlsSkip }, async () => {
    const { join } = await import('node:path');
    const { ldapTool } = await import('../helpers/bridge.js');
    const tls = await import('node:tls');
    const b = await startDemoBridge(db.url, { tls: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key') }, listen: ['ldap://127.0.0.1:0', 'ldaps://127.0.0.1:0'], security: { requireTls: 'always' } });
    const env = { LDAPTLS_CACERT: join(dir, 'ca.pem'), LDAPTLS_REQCERT: 'demand' };
    const run = (args, pw) => ldapTool('env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...args], pw);
    try {
      const [plain, secure] = b.urls;
      const zz = await run(['ldapwhoami', '-x', '-ZZ', '-H', plain, '-D', userDn('alice'), '-y', '/dev/stdin'], password('alice'));
      assert.equal(zz.code, 0, zz.stderr);
      assert.equal(zz.stdout.trim(), `dn:${userDn('alice')}`);
      const ldaps = await run(['ldapwhoami', '-x', '-H', secure, '-D', userDn('alice'), '-y', '/dev/stdin'], password('alice'));
      assert.equal(ldaps.code, 0, ldaps.stderr);
      const clear = await run(['ldapwhoami', '-x', '-H', plain, '-D', userDn('alice'), '-y', '/dev/stdin'], password('alice'));
      assert.equal(clear.code, 13, 'confidentialityRequired without TLS');
      const anon = await run(['ldapsearch', '-x', '-LLL', '-H', plain, '-s', 'base', '-b', '', 'namingContexts']);
      assert.equal(anon.code, 0, 'reading the root DSE needs no TLS');

      const subject = () =>
        new Promise((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.1', port: b.bridge.addresses[1].port, ca: [execFileSync('cat', [join(dir, 'ca.pem')])], servername: 'localhost' }, () => {
            resolve(s.getPeerCertificate().subject.CN);
            s.destroy();
          });
          s.on('error', reject);
        });
      assert.equal(await subject(), 'first.example');
      mkcert('second.example');
      b.bridge.reloadTls();
      assert.equal(await subject(), 'second.example', 'new connections get the reloaded certificate');
      const again = await run(['ldapwhoami', '-x', '-ZZ', '-H', plain, '-D', userDn('bob'), '-y', '/dev/stdin'], password('bob'));
      assert.equal(again.code, 0, again.stderr);
    } finally {
      await b.close();
    }
  });

  test('StartTLS is refused when TLS is not configured, with unavailable (52)', async () => {
    const { ldapTool } = await import('../helpers/bridge.js');
    const b = await startDemoBridge(db.url);
    try {
      const r = await ldapTool('ldapwhoami', ['-x', '-ZZ', '-H', b.url]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Start TLS|unavailable|TLS/i);
    } finally {
      await b.close();
    }
  });
});
