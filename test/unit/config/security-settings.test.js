// Settings of the security section that shape the hashing budget and the shared counters:
// security.hashQueueReserved (the places of the hash queue made-up names cannot take, issue #14
// item 7) and security.redisTimeoutSeconds (a loaded host reads Redis replies late, issue #10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../dist/config/load.js';

const env = { DATABASE_URL: 'sqlite:///srv/mysite/db.sqlite3', DJANGO_LDAP_BASE_DN: 'dc=example,dc=com' };

function load(yaml) {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-hqr-'));
  try {
    const file = join(dir, 'bridge.yaml');
    writeFileSync(file, yaml);
    return loadConfig({ env, flags: { config: file } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the reserved places default to half the queue, and follow a changed queue', () => {
  assert.equal(loadConfig({ env, flags: {} }).security.hashQueueReserved, 128);
  assert.equal(load('security:\n  hashQueue: 11\n').security.hashQueueReserved, 5);
  assert.equal(load('security:\n  hashQueueReserved: null\n').security.hashQueueReserved, 128);
});

test('a set value is kept, 0 included (made-up names may then fill the whole queue)', () => {
  assert.equal(load('security:\n  hashQueue: 10\n  hashQueueReserved: 9\n').security.hashQueueReserved, 9);
  assert.equal(load('security:\n  hashQueueReserved: 0\n').security.hashQueueReserved, 0);
});

test('more reserved places than the queue holds is an error naming both settings', () => {
  assert.throws(() => load('security:\n  hashQueue: 4\n  hashQueueReserved: 5\n'), (e) => {
    assert.match(e.message, /security\.hashQueueReserved.*must not exceed security\.hashQueue \(4\)/);
    return true;
  });
  assert.throws(() => load('security:\n  hashQueueReserved: -1\n'), /security\.hashQueueReserved/);
});

test('security.redisTimeoutSeconds: 1 s unless set, and a positive number', () => {
  assert.equal(loadConfig({ env, flags: {} }).security.redisTimeoutSeconds, 1);
  assert.equal(load('security:\n  redisTimeoutSeconds: 0.5\n').security.redisTimeoutSeconds, 0.5);
  assert.throws(() => load('security:\n  redisTimeoutSeconds: 0\n'), /security\.redisTimeoutSeconds/);
});
