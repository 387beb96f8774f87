// The credential cache: user entries expire; a service account's credential is pinned for as long
// as its configured hash stays the same.
import { test, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CredentialCache } from '../../../dist/auth/credential-cache.js';

afterEach(() => mock.timers.reset());

test('a user entry expires; its key changes with the password and the stored hash', () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const c = new CredentialCache(1000, 10);
  const k = c.key(7, 'pw', 'pbkdf2_sha256$1$a$b');
  assert.notEqual(k, c.key(7, 'pw', 'pbkdf2_sha256$1$a$c'));
  assert.notEqual(k, c.key(7, 'pw2', 'pbkdf2_sha256$1$a$b'));
  assert.notEqual(k, c.key('?7', 'pw', 'pbkdf2_sha256$1$a$b'), 'a made-up name never shares a real account key');
  c.add(k);
  assert.equal(c.has(k), true);
  mock.timers.tick(1000);
  assert.equal(c.has(k), false);
});

test('a key depends on a secret of its own cache: the same inputs give another key elsewhere, and no hash of the inputs alone finds it', () => {
  const hash = 'pbkdf2_sha256$1000$salt$hash';
  const a = new CredentialCache(1000, 10);
  const k = a.key(7, 'pw', hash);
  assert.equal(a.key(7, 'pw', hash), k, 'stable within one cache');
  assert.notEqual(new CredentialCache(1000, 10).key(7, 'pw', hash), k, 'another process (cache) keys it differently');
  for (const input of [`7\0${hash}\0pw`, `7${hash}pw`, 'pw']) assert.notEqual(createHash('sha256').update(input).digest('base64'), k);
  assert.ok(!k.includes('pw'));
});

test('a pinned service credential does not expire, is tied to its configured hash and remembers where it was proven', () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const c = new CredentialCache(1000, 10);
  const hash = 'pbkdf2_sha256$1000$salt$hash';
  const k = c.key(0, 'apache-secret', hash);
  assert.equal(c.pinned(hash, k), undefined);
  c.pin(hash, k, '192.0.2.80');
  c.pin(hash, k, undefined);
  mock.timers.tick(3_600_000);
  assert.deepEqual([...c.pinned(hash, k)], ['192.0.2.80'], 'an exempt connection adds no address');
  c.pin(hash, k, '192.0.2.81');
  assert.deepEqual([...c.pinned(hash, k)], ['192.0.2.80', '192.0.2.81']);
  assert.equal(c.pinned(hash, c.key(0, 'guess', hash)), undefined, 'another password does not match');
  const rotated = 'pbkdf2_sha256$1000$salt$other';
  assert.equal(c.pinned(rotated, c.key(0, 'apache-secret', rotated)), undefined, 'a new configured hash must be verified again');
  for (let i = 0; i < 20; i++) c.add(c.key(i, 'pw', 'h'));
  assert.ok(c.pinned(hash, k), 'user entries do not push it out');
  c.clear();
  assert.equal(c.pinned(hash, k), undefined);
});

test('a disabled cache pins nothing', () => {
  const c = new CredentialCache(0, 10);
  const k = c.key(0, 'apache-secret', 'h');
  c.pin('h', k, '192.0.2.80');
  assert.equal(c.pinned('h', k), undefined);
});
