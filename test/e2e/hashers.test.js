// Django password hashers: every vector of test/fixtures/django-hashers.json must give exactly its
// `valid` answer; makePassword output must round-trip here and (when available) in real Django.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

import { verifyPassword, identifyHasher, makePassword, hashCost, dummyVerify } from '../../dist/django/hashers/index.js';
import { need } from '../helpers/require.js';

const here = dirname(fileURLToPath(import.meta.url));
const vectors = JSON.parse(readFileSync(join(here, '..', 'fixtures', 'django-hashers.json'), 'utf8'));

test('fixture has the documented 208 vectors', () => {
  assert.equal(vectors.length, 208);
});

// The slow vectors (PBKDF2 >= 500k, bcrypt 12, argon2 100 MiB, scrypt 2**14) run concurrently.
test('Django hash vectors', { concurrency: true }, async (t) => {
  await Promise.all(
    vectors.map((v) =>
      t.test(`${v.id}: ${v.note ?? ''}`.slice(0, 120), async () => {
        const r = await verifyPassword(v.password, v.encoded);
        assert.equal(r.ok, v.valid, `${v.id} ok`);
        if (v.valid) {
          assert.equal(identifyHasher(v.encoded), v.hasher);
          assert.equal(r.hasher, v.hasher);
          assert.equal(r.problem, undefined);
        }
        if (v.unusable) {
          assert.equal(r.hasher, 'unusable');
          assert.equal(r.problem, 'unusable');
        }
        if (v.hasher === 'unknown') {
          assert.equal(identifyHasher(v.encoded), 'unknown');
          assert.equal(r.problem, 'unknown-hasher');
        }
        if (v.malformed) assert.ok(r.problem === 'malformed' || r.problem === 'unknown-hasher', `${v.id} problem`);
        if (!v.valid && !v.malformed && !v.unusable) assert.equal(r.problem, undefined, 'a wrong password is no problem');
      }),
    ),
  );
});

test('verifyPassword never throws or rejects', async () => {
  const odd = [undefined, null, 42, {}, '$', '$$$', 'argon2', 'argon2$', 'bcrypt$', 'scrypt$$$$$', 'crypt$', 'x'.repeat(10000)];
  for (const encoded of odd) {
    for (const password of ['pw', '', '\uD800', '\0', undefined]) {
      const r = await verifyPassword(password, encoded);
      assert.equal(r.ok, false);
      assert.ok(r.problem !== undefined);
    }
  }
  // A lone surrogate cannot be UTF-8 encoded: Django raises, so it is a failed check.
  const good = vectors.find((v) => v.id === 's-pbkdf2_sha256-24');
  const r = await verifyPassword(good.password + '\uD800', good.encoded);
  assert.deepEqual(r, { ok: false, hasher: 'pbkdf2_sha256', problem: 'malformed' });
});

test('makePassword produces Django pbkdf2_sha256 values that verify', async () => {
  const passwords = ['lètmein', '', 'pa$$word', '🦄 unicorn 🌈', '  spaced  '];
  for (const pw of passwords) {
    const enc = await makePassword(pw, { iterations: 1000 });
    assert.match(enc, /^pbkdf2_sha256\$1000\$[a-zA-Z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(await verifyPassword(pw, enc), { ok: true, hasher: 'pbkdf2_sha256' });
    assert.equal((await verifyPassword(pw + 'x', enc)).ok, false);
  }
  const def = await makePassword('default cost');
  assert.match(def, /^pbkdf2_sha256\$1000000\$[a-zA-Z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
  assert.deepEqual(hashCost(def), { hasher: 'pbkdf2_sha256', iterations: 1_000_000 });
  // Same salt and count as a Django-made vector gives the identical string.
  const v = vectors.find((x) => x.id === 's-pbkdf2_sha256-24');
  const [, iter, salt] = v.encoded.split('$');
  assert.equal(await makePassword(v.password, { iterations: Number(iter), salt }), v.encoded);
  assert.notEqual(await makePassword('a', { iterations: 1 }), await makePassword('a', { iterations: 1 }));
  await assert.rejects(makePassword('a', { iterations: 0 }));
  await assert.rejects(makePassword('a', { salt: 'has$dollar' }));
});

const djangoAvailable =
  spawnSync('/usr/bin/python3', ['-c', 'import django'], { stdio: 'ignore' }).status === 0;
const skipDjango = need('Django (/usr/bin/python3 -c "import django")', djangoAvailable, 'python3 or Django not installed');

test('real Django check_password accepts makePassword output, and we accept make_password output', { skip: skipDjango }, async () => {
  const password = 'Dj4ngo lètmein 🦄 $:"\\';
  const encoded = await makePassword(password, { iterations: 1000 });
  // The password and hash go through stdin (never argv).
  const script = [
    'import sys, json',
    'from django.conf import settings',
    'settings.configure()',
    'import django',
    'django.setup()',
    'from django.contrib.auth.hashers import check_password, make_password',
    "d = json.loads(sys.stdin.buffer.read().decode('utf-8'))",
    "out = {'ok': check_password(d['password'], d['encoded']),",
    "       'wrong': check_password(d['password'] + 'x', d['encoded']),",
    "       'made': make_password(d['password'])}",
    "sys.stdout.buffer.write(json.dumps(out).encode('utf-8'))",
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script], {
    input: Buffer.from(JSON.stringify({ password, encoded }), 'utf8'),
    timeout: 30_000,
  });
  assert.equal(r.status, 0, 'python exited cleanly');
  const out = JSON.parse(r.stdout.toString('utf8'));
  assert.equal(out.ok, true);
  assert.equal(out.wrong, false);
  assert.equal((await verifyPassword(password, out.made)).ok, true);
  assert.equal((await verifyPassword(password + 'x', out.made)).ok, false);
});

test('hashCost describes the work of one check', () => {
  const pbkdf2 = vectors.find((v) => v.id === 's-pbkdf2_sha256-09');
  assert.deepEqual(hashCost(pbkdf2.encoded), { hasher: 'pbkdf2_sha256', iterations: 260000 });
  const sha1 = vectors.find((v) => v.id === 's-pbkdf2_sha1-11');
  assert.deepEqual(hashCost(sha1.encoded), { hasher: 'pbkdf2_sha1', iterations: 1200000 });
  const bc = vectors.find((v) => v.id === 's-bcrypt-13');
  assert.deepEqual(hashCost(bc.encoded), { hasher: 'bcrypt', rounds: 12 });
  const a2 = vectors.find((v) => v.id === 's-argon2-03');
  assert.deepEqual(hashCost(a2.encoded), {
    hasher: 'argon2', variety: 'argon2id', version: 19, memoryCost: 102400, timeCost: 2, parallelism: 8,
  });
  const legacy = vectors.find((v) => v.id === 's-argon2-01');
  assert.equal(hashCost(legacy.encoded).version, 0x10);
  const sc = vectors.find((v) => v.id === 's-scrypt-02');
  assert.deepEqual(hashCost(sc.encoded), { hasher: 'scrypt', workFactor: 16384, blockSize: 8, parallelism: 5 });
  assert.deepEqual(hashCost('md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3'), { hasher: 'md5' });
  for (const v of vectors.filter((x) => x.malformed || x.unusable)) {
    assert.equal(hashCost(v.encoded), undefined, v.id);
  }
});

test('dummyVerify resolves to undefined for any model hash and never throws', { concurrency: true }, async () => {
  const models = [
    's-pbkdf2_sha256-24', 's-pbkdf2_sha1-13', 's-argon2-06', 's-argon2-01', 's-bcrypt-01',
    's-bcrypt_sha256-01', 's-scrypt-04', 's-sha1-06', 's-md5-04', 's-unsalted_md5-06',
    's-unsalted_sha1-03', 's-crypt-04',
  ].map((id) => vectors.find((v) => v.id === id).encoded);
  await Promise.all(
    models.map(async (m) => {
      assert.equal(await dummyVerify('whatever', m), undefined);
      assert.equal(await dummyVerify('\0\uD800', m), undefined);
    }),
  );
  // Unparseable model: falls back to the default hasher's cost; still resolves.
  assert.equal(await dummyVerify('x', 'pbkdf2_sha256$1$a'), undefined);
  assert.equal(await dummyVerify(undefined, undefined), undefined);
});
