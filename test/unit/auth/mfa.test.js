// One-time codes at bind (mfa.*): splitting password and code, the verdict over a user's
// devices, spent steps, and the Authenticator's rules (both checked, failures counted, the
// password without its code handed on, the password+code cache keyed on the client address).
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Authenticator } from '../../../dist/auth/authenticator.js';
import { HashGate } from '../../../dist/auth/hash-gate.js';
import { CredentialCache } from '../../../dist/auth/credential-cache.js';
import { MemoryCounters, Throttle } from '../../../dist/auth/throttle.js';
import { Mfa, MemorySpentSteps, checkCode, deviceTag, splitCredential } from '../../../dist/auth/mfa.js';
import { totpCode } from '../../../dist/auth/otp.js';
import { makePassword } from '../../../dist/django/hashers/index.js';

const device = (over = {}) => ({ id: 1, key: randomBytes(20).toString('hex'), step: 30, t0: 0, digits: 6, tolerance: 1, drift: 0, confirmed: true, lastT: -1, ...over });
const now = () => Date.now() / 1000;

describe('splitting a password and its code', () => {
  test('without a separator the last digits characters are the code', () => {
    assert.deepEqual(splitCredential('secret123456', 6, null), { password: 'secret', code: '123456' });
    assert.deepEqual(splitCredential('secret12345678', 8, null), { password: 'secret', code: '12345678' });
    assert.deepEqual(splitCredential('123456', 6, null), { password: '', code: '123456' });
    // Characters, not UTF-16 units: a password ending in an astral character splits where typed.
    assert.deepEqual(splitCredential('pä😀123456', 6, null), { password: 'pä😀', code: '123456' });
  });
  test('with a separator the last occurrence splits; without one in it the code is empty', () => {
    assert.deepEqual(splitCredential('a,b,c,123456', 6, ','), { password: 'a,b,c', code: '123456' });
    assert.deepEqual(splitCredential('secret123456', 6, ','), { password: 'secret123456', code: '' });
    assert.deepEqual(splitCredential('pw::123456', 6, '::'), { password: 'pw', code: '123456' });
  });
});

describe('the verdict over a user\'s devices', () => {
  test('the right code of any device matches; a spent step or one at last_t does not', () => {
    const d6 = device({ id: 1 });
    const d8 = device({ id: 2, digits: 8 });
    const t = now();
    const v6 = checkCode(`pw${totpCode(d6, t)}`, [d6, d8], null, t, new Map());
    assert.equal(v6.match?.deviceId, 1);
    assert.equal(v6.split.password, 'pw');
    const v8 = checkCode(`pw${totpCode(d8, t)}`, [d6, d8], null, t, new Map());
    assert.equal(v8.match?.deviceId, 2);
    assert.equal(v8.split.password, 'pw');
    const step = v6.match.t;
    assert.equal(checkCode(`pw${totpCode(d6, t)}`, [d6], null, t, new Map([[deviceTag(d6), step]])).match, undefined, 'spent');
    assert.equal(checkCode(`pw${totpCode(d6, t)}`, [{ ...d6, lastT: step }], null, t, new Map()).match, undefined, 'at last_t');
    assert.ok(checkCode(`pw${totpCode(d6, t)}`, [d6], null, t, new Map([[deviceTag(d6), step - 1]])).match, 'a spent earlier step does not matter');
  });
  test('a wrong code gives the first device\'s split, so the password checked is the same length either way', () => {
    const d = device();
    const v = checkCode('pw000000', [d, device({ id: 2, digits: 8 })], null, now(), new Map());
    if (v.match) return; // one in a million: 000000 is the code now
    assert.deepEqual(v.split, { password: 'pw', code: '000000' });
  });
  test('with a separator', () => {
    const d = device();
    const t = now();
    assert.ok(checkCode(`pw|${totpCode(d, t)}`, [d], '|', t, new Map()).match);
    assert.equal(checkCode(`pw${totpCode(d, t)}`, [d], '|', t, new Map()).match, undefined);
  });
  test('a device tag depends on the id and the secret', () => {
    const d = device();
    assert.notEqual(deviceTag(d), deviceTag({ ...d, id: 2 }));
    assert.notEqual(deviceTag(d), deviceTag({ ...d, key: randomBytes(20).toString('hex') }));
    assert.equal(deviceTag(d), deviceTag({ ...d, key: d.key.toUpperCase() }));
  });
});

test('spent steps: a step is taken once, and nothing at or below it after', async () => {
  const s = new MemorySpentSteps();
  assert.equal(await s.claim('a', 10, 60), true);
  assert.equal(await s.claim('a', 10, 60), false);
  assert.equal(await s.claim('a', 9, 60), false);
  assert.equal(await s.claim('b', 10, 60), true);
  assert.equal(await s.claim('a', 11, 60), true);
  assert.deepEqual([...(await s.last(['a', 'b', 'c']))], [['a', 11], ['b', 10]]);
});

describe('the Authenticator with one-time codes', () => {
  let hash;
  before(async () => {
    hash = await makePassword('alice-pw', { iterations: 2000 });
  });
  const settings = { enabled: true, userFailures: 3, userWindowSeconds: 300, addressFailures: 100, addressWindowSeconds: 300, lockoutSeconds: 60, maxLockoutSeconds: 3600, trustedAddresses: [] };

  /** Users: alice (a device), bob (none); `require` as mfa.require. */
  function setup({ require = { kind: 'confirmed-device' }, cacheSeconds = 0, groupMembers = [] } = {}) {
    const dev = device({ id: 7 });
    const users = [{ id: 1, username: 'alice', password: hash, isActive: true }, { id: 2, username: 'bob', password: hash, isActive: true }];
    const store = {
      hasGroups: true,
      async totpDevicesOfUser(id) {
        return id === 1 ? [dev, device({ id: 8, confirmed: false })] : [];
      },
      async groupMembership(_g, username) {
        return { group: true, member: groupMembers.includes(username) };
      },
    };
    const directory = { store, async loginUser(name) { return users.find((u) => u.username === name); } };
    const log = pino({ level: 'silent' });
    const mfa = new Mfa({ require, separator: null, credentialCacheSeconds: cacheSeconds }, directory, new MemorySpentSteps(), 100, log);
    const auth = new Authenticator(directory, new HashGate(2, 64), new CredentialCache(60_000, 100), new Throttle(settings, new MemoryCounters()), log, false, mfa);
    auth.sampleHash = hash;
    return { auth, dev };
  }
  const at = (password, origin = '192.0.2.1') => ({ name: 'alice', password, address: origin, origin });

  test('password and code both right binds, once; the password without the code is handed on', async () => {
    const { auth, dev } = setup();
    const code = totpCode(dev, now());
    const r = await auth.user(at(`alice-pw${code}`));
    assert.equal(r.outcome, 'success');
    assert.equal(r.password, 'alice-pw');
    assert.equal((await auth.user(at(`alice-pw${code}`))).outcome, 'wrong-code', 'the same step again');
    assert.equal((await auth.user(at('alice-pw'))).outcome, 'wrong-password', 'the password alone: its last six characters taken as the code');
  });

  test('a wrong code, a wrong password and both wrong each cost one hash of the stored password', async () => {
    const cost = {};
    for (const [what, cred] of [['wrong code', () => 'alice-pw000001'], ['wrong password', (dev) => `alice-px${totpCode(dev, now())}`], ['both', () => 'alice-px000001'], ['no code at all', () => 'alice-pw']]) {
      const { auth, dev } = setup(); // each afresh: three failures lock alice out
      assert.notEqual((await auth.user(at(cred(dev)))).outcome, 'success');
      cost[what] = auth.gate.depth.computed;
    }
    assert.deepEqual(cost, { 'wrong code': 1, 'wrong password': 1, both: 1, 'no code at all': 1 });
  });

  test('a wrong code counts towards the lockout like a wrong password', async () => {
    const { auth, dev } = setup();
    for (let i = 0; i < 3; i++) assert.equal((await auth.user(at('alice-pw000000'))).outcome === 'success', false);
    assert.equal((await auth.user(at(`alice-pw${totpCode(dev, now() + 30)}`))).outcome, 'locked-out');
  });

  test('a user without a device binds with the password alone under confirmed-device, and cannot bind under a group rule', async () => {
    assert.equal((await setup().auth.user({ name: 'bob', password: 'alice-pw', address: '192.0.2.1' })).outcome, 'success');
    const { auth } = setup({ require: { kind: 'group', name: 'mfa' }, groupMembers: ['alice', 'bob'] });
    assert.equal((await auth.user({ name: 'bob', password: 'alice-pw', address: '192.0.2.1' })).outcome, 'wrong-password');
    assert.equal((await auth.user({ name: 'bob', password: 'alice-pw123456', address: '192.0.2.1' })).outcome, 'no-device');
  });

  test('group rule: a non-member gives no code', async () => {
    const { auth } = setup({ require: { kind: 'group', name: 'mfa' }, groupMembers: [] });
    assert.equal((await auth.user(at('alice-pw'))).outcome, 'success');
  });

  test('the password+code cache answers only the address that sent it, and only for its time', async () => {
    const { auth, dev } = setup({ cacheSeconds: 60 });
    const cred = `alice-pw${totpCode(dev, now())}`;
    assert.equal((await auth.user(at(cred, '192.0.2.1'))).outcome, 'success');
    const again = await auth.user(at(cred, '192.0.2.1'));
    assert.equal(again.outcome, 'success');
    assert.equal(again.cached, true);
    assert.equal((await auth.user(at(cred, '192.0.2.99'))).outcome, 'wrong-code', 'from elsewhere the step is spent');
    // Identical binds arriving together (a page's parallel requests through Apache) share one check.
    const cred2 = `alice-pw${totpCode(dev, now() + 30)}`;
    const burst = await Promise.all(Array.from({ length: 5 }, () => auth.user(at(cred2, '192.0.2.5'))));
    assert.deepEqual(burst.map((r) => r.outcome), Array(5).fill('success'));
  });
});

test('mfa settings resolve; a malformed mfa.require is refused naming the setting', async () => {
  const { loadConfig } = await import('../../../dist/config/load.js');
  const env = { DATABASE_URL: 'sqlite:///srv/db.sqlite3', DJANGO_LDAP_BASE_DN: 'dc=example,dc=com' };
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'dlb-mfa-cfg-'));
  const load = (mfa) => {
    const f = join(dir, `c${Math.random()}.json`);
    writeFileSync(f, JSON.stringify({ mfa }));
    return loadConfig({ env, flags: { config: f } });
  };
  const off = load({});
  assert.deepEqual(off.mfa, { require: { kind: 'off' }, separator: null, credentialCacheSeconds: 300 });
  assert.equal(off.django.totpDevices, undefined, 'no device table is read when off');
  const g = load({ require: 'group:Ops team', separator: ',', credentialCacheSeconds: 60, devicesTable: 'otp_devices' });
  assert.deepEqual(g.mfa, { require: { kind: 'group', name: 'Ops team' }, separator: ',', credentialCacheSeconds: 60 });
  assert.deepEqual(g.django.totpDevices, { table: 'otp_devices' });
  assert.deepEqual(load({ require: 'permission:ops.use_vpn' }).mfa.require, { kind: 'permission', appLabel: 'ops', codename: 'use_vpn' });
  assert.throws(() => load({ require: 'everyone' }), /mfa\.require: must be off, confirmed-device, group:<Django group name> or permission:<app_label>\.<codename> \(got "everyone"\)/);
  assert.throws(() => load({ separator: '' }), /mfa\.separator: must not be empty/);
});
