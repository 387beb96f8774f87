// Issue #13 §1: one-time codes at bind, from django-otp's TOTP devices, on a database made by
// real Django with django-otp installed (devices made by django-otp's own TOTPDevice model, and
// its verify_token asked where the bridge should agree with it). Two bridges share a real Redis,
// so a code spent on one is refused by the other. The OpenLDAP tools bind with -w 'secret123456'.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, djangoShell, djangoVerifyToken, makeDjangoDatabase, makeTotpDevice, mysqlAvailable, postgresAvailable, PYTHON } from '../helpers/django.js';
import { startTestBridge, ldapTool, ldapsearch, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { bindCode, djangoPasswords, ldappasswd } from '../helpers/writes.js';
import { apacheAvailable, startApache } from '../helpers/apache.js';
import { BIN } from '../helpers/serve.js';
import { demoDatabase } from '../helpers/demo-bridge.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { totpCode } from '../../dist/auth/otp.js';

const REDIS_URL = 'redis://127.0.0.1:6379/12';
const redis = await new Promise((resolve) => {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  r.connect().then(() => resolve(r), () => resolve(undefined));
});
after(() => redis?.disconnect());

const dn = (u) => `uid=${u},ou=users,${BASE}`;
const nowS = () => Date.now() / 1000;
/** The code a device shows `steps` steps from now. */
const code = (d, steps = 0) => totpCode(d, nowS() + steps * d.step);
const ITERATIONS = 3000;
const otpProbe = spawnSync(PYTHON, ['-c', 'import django_otp.plugins.otp_totp'], { stdio: 'ignore' });

/** Waits until `fn` is true, or fails after `ms`. */
async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const engines = [
  ['sqlite', () => need('Django (python3-django)', djangoAvailable().ok, djangoAvailable().reason)],
  ['postgres', async () => need('Django with psycopg2', djangoAvailable({ engine: 'postgres' }).ok, djangoAvailable({ engine: 'postgres' }).reason) || need('PostgreSQL', (await postgresAvailable()).ok, (await postgresAvailable()).reason)],
  ['mysql', async () => need('MySQL/MariaDB on 127.0.0.1:3306 (root, no password)', (await mysqlAvailable()).ok, (await mysqlAvailable()).reason) || need('Django for MySQL (python3-mysqldb)', djangoAvailable({ engine: 'mysql' }).ok, djangoAvailable({ engine: 'mysql' }).reason)],
];

for (const [engine, available] of engines) {
  describe(`one-time codes from django-otp on ${engine}`, async () => {
    const skip =
      (await available()) ||
      need('django-otp (python3-django-otp)', otpProbe.status === 0, `${PYTHON} cannot import django_otp`) ||
      need('Redis on 127.0.0.1:6379', !!redis, 'no answer') ||
      need('ldapwhoami (ldap-utils)', hasCommand('ldapwhoami', ['-VV']), 'not on PATH');
    let db;
    let a; // require: confirmed-device, no password+code cache, Redis; writes.upgradeHashes
    let b; // the same, sharing a's Redis, with a 5 s password+code cache
    let g; // require: group:committers
    const users = {};
    const dev = {};

    before(async () => {
      if (skip) return;
      // Brute-force counters of an earlier run (the same user ids) would lock these users out.
      await redis.flushdb();
      db = await makeDjangoDatabase({ engine, otp: true });
      for (const u of db.expected.users) users[u.username] = u;
      dev.alice = await makeTotpDevice(db.env, { username: 'alice' });
      dev.frank = await makeTotpDevice(db.env, { username: 'frank', digits: 8 });
      dev.root = await makeTotpDevice(db.env, { username: 'root' });
      dev.staffer = await makeTotpDevice(db.env, { username: 'staffer' });
      dev.carol = await makeTotpDevice(db.env, { username: 'carol', confirmed: false });
      const common = {
        security: { redis: REDIS_URL, bruteForce: { userFailures: 5, lockoutSeconds: 300, addressFailures: 1000 } },
      };
      a = await startTestBridge({ url: db.url, config: { ...common, mfa: { require: 'confirmed-device', credentialCacheSeconds: 0 }, ...(engine === 'sqlite' ? { writes: { upgradeHashes: true, iterations: ITERATIONS } } : {}) } });
      b = await startTestBridge({ url: db.url, config: { ...common, mfa: { require: 'confirmed-device', credentialCacheSeconds: 5 } } });
      g = await startTestBridge({ url: db.url, config: { mfa: { require: 'group:committers' } } });
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await g?.close();
      await db?.drop();
    });

    test('password followed by the right code binds (ldapwhoami -w, ldapsearch -w); the password alone or a wrong code does not', { skip }, async () => {
      const pw = users.alice.password;
      const who = await ldapTool('ldapwhoami', ['-x', '-H', a.url, '-D', dn('alice'), '-w', pw + code(dev.alice)]);
      assert.equal(who.code, 0, who.stderr);
      assert.equal(who.stdout.trim(), `dn:${dn('alice')}`);
      assert.equal(await bindCode(a.url, dn('alice'), pw), 49, 'the password alone');
      const wrong = String((Number(code(dev.alice, 1)) + 1) % 1e6).padStart(6, '0');
      assert.equal(await bindCode(a.url, dn('alice'), pw + wrong), 49, 'a wrong code');
      assert.equal(await bindCode(a.url, dn('alice'), users.alice.wrongPassword + code(dev.alice, 1)), 49, 'the right code with a wrong password');
      const s = await ldapTool('ldapsearch', ['-x', '-LLL', '-H', b.url, '-D', dn('alice'), '-w', pw + code(dev.alice, 1), '-b', dn('alice'), '-s', 'base', 'uid']);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, /^uid: alice$/m);
      const lines = a.logs.join('');
      assert.match(lines, /"outcome":"wrong-code"/);
    });

    test('a code is used once: refused again on the same bridge and on another sharing Redis', { skip }, async () => {
      const pw = users.root.password;
      const now = pw + code(dev.root);
      assert.equal(await bindCode(a.url, dn('root'), now), 0);
      assert.equal(await bindCode(a.url, dn('root'), now), 49, 'again on the same bridge');
      assert.equal(await bindCode(b.url, dn('root'), now), 49, 'on the other bridge (Redis)');
      // The next step is within tolerance 1 and above the spent one.
      const next = pw + code(dev.root, 1);
      assert.equal(await bindCode(b.url, dn('root'), next), 0);
      assert.equal(await bindCode(a.url, dn('root'), next), 49, 'spent on b, refused on a');
    });

    test('b accepts the same password+code again from the same address for mfa.credentialCacheSeconds, then wants a new code', { skip }, async () => {
      const cred = users.frank.password + code(dev.frank, 1); // 8 digits
      assert.equal(await bindCode(b.url, dn('frank'), cred), 0);
      assert.equal(await bindCode(b.url, dn('frank'), cred), 0, 'cached: Apache re-sends it on every request');
      assert.equal(await bindCode(a.url, dn('frank'), cred), 49, 'not at another bridge');
      await until(async () => (await bindCode(b.url, dn('frank'), cred)) === 49, 20_000, 'the cached password+code to expire');
    });

    test('an 8-digit device; the verdicts agree with django-otp verify_token, and a step Django accepted (last_t) is refused', { skip }, async () => {
      // Django accepts a code and stores last_t, as a login through django-otp would.
      const c = code(dev.staffer);
      assert.equal(await djangoVerifyToken(db.env, dev.staffer.id, c), true);
      assert.equal(await bindCode(a.url, dn('staffer'), users.staffer.password + c), 49, 'at or below last_t');
      // django-otp may have moved the device's drift (OTP_TOTP_SYNC, when the step turned just
      // before it checked): the next code is the device's as stored now.
      const drift = Number(await djangoShell(db.env, `from django_otp.plugins.otp_totp.models import TOTPDevice\nprint(TOTPDevice.objects.get(id=${dev.staffer.id}).drift)`));
      const next = code({ ...dev.staffer, drift }, 1);
      assert.equal(await bindCode(a.url, dn('staffer'), users.staffer.password + next), 0);
      // Read-only: the bridge did not store last_t, so Django would still take that step once.
      assert.equal(await djangoVerifyToken(db.env, dev.staffer.id, next), true);
      // Last: a failure starts django-otp's own throttling (OTP_TOTP_THROTTLE_FACTOR), which
      // would refuse any token for a while after it.
      assert.equal(await djangoVerifyToken(db.env, dev.staffer.id, c), false, 'django-otp refuses the step the bridge refused');
      const frank8 = code(dev.frank, -1);
      assert.equal(frank8.length, 8);
      assert.equal(await bindCode(a.url, dn('frank'), users.frank.password + frank8.slice(2)), 49, 'six of eight digits');
    });

    test('an unconfirmed device asks nothing under confirmed-device; service accounts never give a code', { skip }, async () => {
      assert.equal(await bindCode(a.url, dn('carol'), users.carol.password), 0);
      assert.equal(await bindCode(a.url, dn('carol'), users.carol.password + code(dev.carol)), 49);
      assert.equal(await bindCode(a.url, dn('bob'), users.bob.password), 0, 'no device at all');
      const r = await ldapsearch(a.url, { bindDn: SERVICE_DN, password: SERVICE_PW, base: dn('alice'), scope: 'base', attrs: ['uid'] });
      assert.equal(r.code, 0, r.stderr);
    });

    test('group:committers: a member with no confirmed device cannot bind (the log says why); a non-member gives no code', { skip }, async () => {
      assert.equal(await bindCode(g.url, dn('carol'), users.carol.password), 49);
      assert.equal(await bindCode(g.url, dn('carol'), users.carol.password + code(dev.carol)), 49, 'an unconfirmed device does not count');
      assert.match(g.logs.join(''), /"outcome":"no-device"/);
      assert.match(g.logs.join(''), /no confirmed TOTP device/);
      assert.equal(await bindCode(g.url, dn('alice'), users.alice.password), 0, 'alice is no committer');
      // A rule naming a group or permission that does not exist is said at start.
      const none = await startTestBridge({ url: db.url, config: { mfa: { require: 'permission:svn.no_such_perm' } } });
      await none.close();
      assert.match(none.logs.join(''), /mfa.require names a permission that does not exist/);
    });

    test('wrong codes count towards the lockout; then even the right password and code are refused', { skip }, async () => {
      // staffer's right password with five wrong codes (userFailures: 5).
      for (let i = 0; i < 5; i++) assert.equal(await bindCode(a.url, dn('staffer'), users.staffer.password + '000000'.slice(0, 5) + String(i)), 49);
      assert.equal(await bindCode(a.url, dn('staffer'), users.staffer.password + code(dev.staffer, 1)), 49);
      assert.match(a.logs.join(''), /"outcome":"locked-out"/);
    });

    // The write tests run on SQLite only: the write role's setup on PostgreSQL is
    // test/e2e/writes.test.js's, and MySQL refuses writes; what they show about the code is the same.
    if (engine === 'sqlite') test('writes.upgradeHashes gets the password without its code: Django accepts the password alone', { skip }, async () => {
      const before = await djangoPasswords(db.env, 'alice', [users.alice.password]);
      await until(async () => (await djangoPasswords(db.env, 'alice', [users.alice.password])).iterations === ITERATIONS, 20_000, 'the upgraded hash');
      const after = await djangoPasswords(db.env, 'alice', [users.alice.password]);
      assert.deepEqual(after.check, [true], `was ${before.iterations} iterations`);
    });

    if (engine === 'sqlite') test('ldappasswd: the old password is given with a code; the password+code the connection bound with passes again from the cache', { skip }, async () => {
      const pm = await startTestBridge({ url: db.url, config: { mfa: { require: 'confirmed-device', credentialCacheSeconds: 60 }, writes: { passwordModify: true, iterations: ITERATIONS } } });
      try {
        dev.md5 = await makeTotpDevice(db.env, { username: 'u_md5' });
        const old = users.u_md5.password;
        const fresh = 'New-md5-Passw0rd!';
        const alone = await ldappasswd(pm.url, { bindDn: dn('u_md5'), bindPassword: old, oldPassword: old, newPassword: fresh });
        assert.equal(alone.rc, 49, 'the password alone does not even bind');
        const cred = old + code(dev.md5);
        const r = await ldappasswd(pm.url, { bindDn: dn('u_md5'), bindPassword: cred, oldPassword: cred, newPassword: fresh });
        assert.equal(r.rc, 0, r.text);
        const dj = await djangoPasswords(db.env, 'u_md5', [fresh, old]);
        assert.deepEqual(dj.check, [true, false], 'Django takes the new password (without any code) and not the old one');
        assert.equal(await bindCode(pm.url, dn('u_md5'), fresh + code(dev.md5, 1)), 0, 'the new password with a new code binds');
      } finally {
        await pm.close();
      }
    });

    test('test-bind takes the password followed by the code (and does not spend it); doctor counts users with a confirmed device', { skip }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dlb-mfa-cli-'));
      const file = join(dir, 'bridge.json');
      writeFileSync(file, JSON.stringify({ database: db.url, baseDn: BASE, log: { level: 'warn' }, mfa: { require: 'confirmed-device' }, security: { redis: REDIS_URL } }));
      const cli = (args, input = '') => spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
      // A user whose steps no other test spent: u_pbkdf2_sha1, with a device made now.
      dev.sha1 = await makeTotpDevice(db.env, { username: 'u_pbkdf2_sha1' });
      const u = users.u_pbkdf2_sha1;
      const cred = u.password + code(dev.sha1);
      const right = cli(['test-bind', '--config', file, '--json', 'u_pbkdf2_sha1'], `${cred}\n`);
      assert.equal(right.status, 0, right.stderr);
      assert.deepEqual([JSON.parse(right.stdout).code, JSON.parse(right.stdout).outcome], ['right', 'success']);
      const alone = cli(['test-bind', '--config', file, '--json', 'u_pbkdf2_sha1'], `${u.password}\n`);
      assert.equal(alone.status, 1);
      assert.equal(JSON.parse(alone.stdout).outcome, 'wrong-password');
      const text = cli(['test-bind', '--config', file, 'u_pbkdf2_sha1'], `${u.password}000000\n`);
      assert.equal(text.status, 1);
      assert.match(text.stdout, /one-time code is wrong/);
      assert.equal(JSON.parse(cli(['test-bind', '--config', file, '--json', 'bob'], `${users.bob.password}\n`).stdout).code, 'not required');
      // The code test-bind checked is still good on a running bridge.
      assert.equal(await bindCode(a.url, dn('u_pbkdf2_sha1'), cred), 0);
      const doc = cli(['doctor', '--config', file, '--json']);
      // What Django counts: alice, frank, root, staffer, u_pbkdf2_sha1 (and u_md5 on SQLite); carol's is unconfirmed.
      const expected = Number(await djangoShell(db.env, 'from django_otp.plugins.otp_totp.models import TOTPDevice\nprint(TOTPDevice.objects.filter(confirmed=True).values("user").distinct().count())'));
      assert.ok(expected >= 5);
      assert.equal(JSON.parse(doc.stdout).counts.usersWithConfirmedTotp, expected, doc.stderr);
      assert.match(cli(['doctor', '--config', file]).stdout, new RegExp(`users with a confirmed TOTP device {2}${expected} \\(mfa.require: confirmed-device\\)`));
    });

    test('no log line holds a password or a code', { skip }, async () => {
      const all = [...a.logs, ...b.logs, ...g.logs].join('');
      for (const u of ['alice', 'root', 'frank', 'staffer']) assert.equal(all.includes(users[u].password), false);
      // and Django's devices are unchanged by the bridge but for what verify_token wrote itself
      const rows = JSON.parse(await djangoShell(db.env, 'import json\nfrom django_otp.plugins.otp_totp.models import TOTPDevice\nprint(json.dumps({d.user.username: d.last_t for d in TOTPDevice.objects.all()}))'));
      assert.equal(rows.alice, -1);
      assert.equal(rows.root, -1);
    });
  });
}

test('mfa.require on a database without django-otp\'s table: the bridge does not start, and says which setting', async () => {
  const demo = await demoDatabase();
  await assert.rejects(startTestBridge({ url: demo.url, config: { mfa: { require: 'confirmed-device' } } }), /mfa\.devicesTable: table "otp_totp_totpdevice" not found/);
  const b = await startTestBridge({ url: demo.url, config: { mfa: { require: 'off' } } });
  await b.close();
});

/** A Location protected by the bridge as docs/apache.md configures it (valid-user). */
const apacheBlock = (bridgeUrl) => `
<Location /mfa>
  AuthType Basic
  AuthName "mfa"
  AuthBasicProvider ldap
  AuthLDAPURL "${bridgeUrl.replace(/\/$/, '')}/ou=users,${BASE}?uid?one"
  AuthLDAPBindDN "${SERVICE_DN}"
  AuthLDAPBindPassword "\${DLB_BIND_PASSWORD}"
  Require valid-user
</Location>
`;

describe('Apache Basic auth with one-time codes (docs/apache.md): what a user gets', async () => {
  const skip =
    need('Django (python3-django)', djangoAvailable().ok, djangoAvailable().reason) ||
    need('django-otp (python3-django-otp)', otpProbe.status === 0, `${PYTHON} cannot import django_otp`) ||
    need('Apache 2.4 with mod_authnz_ldap', apacheAvailable().ok, apacheAvailable().reason);
  let db;
  let cached; // mfa.credentialCacheSeconds: 5
  let fresh; // mfa.credentialCacheSeconds: 0
  const users = {};
  const dev = {};
  before(async () => {
    if (skip) return;
    db = await makeDjangoDatabase({ otp: true });
    for (const u of db.expected.users) users[u.username] = u;
    dev.alice = await makeTotpDevice(db.env, { username: 'alice' });
    dev.root = await makeTotpDevice(db.env, { username: 'root' });
    cached = await startTestBridge({ url: db.url, config: { mfa: { require: 'confirmed-device', credentialCacheSeconds: 5 } } });
    fresh = await startTestBridge({ url: db.url, config: { mfa: { require: 'confirmed-device', credentialCacheSeconds: 0 } } });
  });
  after(async () => {
    await cached?.close();
    await fresh?.close();
    await db?.drop();
  });

  test('Apache caches off: the same password+code passes for mfa.credentialCacheSeconds, a page\'s parallel requests too; then 401 until a new code', { skip }, async () => {
    const ap = await startApache({ name: 'mfa-nocache', body: apacheBlock(cached.url), env: { DLB_BIND_PASSWORD: SERVICE_PW }, cache: 'off', htdocs: { 'mfa/ok.txt': 'ok\n' } });
    try {
      const get = (password) => ap.get('/mfa/ok.txt', { user: 'alice', password }).then((r) => r.status);
      const pw = users.alice.password;
      assert.equal(await get(pw), 401, 'the password alone');
      const cred = pw + code(dev.alice);
      const t0 = Date.now();
      assert.equal(await get(cred), 200);
      const burst = await Promise.all(Array.from({ length: 8 }, () => get(cred)));
      assert.deepEqual(burst, Array(8).fill(200), 'parallel requests with the same credential');
      await until(async () => (await get(cred)) === 401, 30_000, 'the password+code to stop working');
      assert.ok(Date.now() - t0 >= 4900, `it worked for ${Date.now() - t0} ms, at least mfa.credentialCacheSeconds`);
      assert.equal(await get(pw + code(dev.alice, 1)), 200, 'a new code');
    } finally {
      await ap.stop();
    }
  });

  test('Apache caches on (LDAPCacheTTL 5), the bridge caching nothing: Apache lets the password+code in until its own entry expires; the bridge refuses the re-bind', { skip }, async () => {
    const ap = await startApache({ name: 'mfa-cache', body: apacheBlock(fresh.url), env: { DLB_BIND_PASSWORD: SERVICE_PW }, cache: { ttl: 5 }, htdocs: { 'mfa/ok.txt': 'ok\n' } });
    try {
      const get = (password) => ap.get('/mfa/ok.txt', { user: 'root', password }).then((r) => r.status);
      const cred = users.root.password + code(dev.root);
      assert.equal(await get(cred), 200);
      assert.equal(await bindCode(fresh.url, dn('root'), cred), 49, 'the bridge itself takes the code once');
      assert.equal(await get(cred), 200, "from Apache's cache (LDAPCacheTTL)");
      await until(async () => (await get(cred)) === 401, 30_000, "Apache's cached login to expire");
      assert.match(fresh.logs.join(''), /"outcome":"wrong-code"/);
      assert.equal(await get(users.root.password + code(dev.root, 1)), 200, 'a new code');
    } finally {
      await ap.stop();
    }
  });
});
