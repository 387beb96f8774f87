// The one context builder (src/context-builder.ts): `serve` and the commands build their LDAP
// context the same way, so the dummy check for an unknown user costs the same in both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createDemoDatabase } from '../../dist/demo.js';
import { makePassword, hashCost } from '../../dist/django/hashers/index.js';
import { loadConfig } from '../../dist/config/load.js';
import { createLogger } from '../../dist/log.js';
import { startBridge } from '../../dist/bridge.js';
import { commandContext, openCheckedStore } from '../../dist/commands/common.js';
import { buildTree, siteSampleHash, StartupError } from '../../dist/context-builder.js';

/** A site whose first user (an old admin) has a cheaper hash than everyone after. */
async function siteWithAnOldAdmin() {
  const path = join(mkdtempSync(join(tmpdir(), 'dlb-builder-')), 'db.sqlite3');
  await createDemoDatabase(path, { iterations: 2000 });
  const db = new Database(path);
  try {
    const first = db.prepare('SELECT min(id) AS id FROM auth_user').get().id;
    db.prepare('UPDATE auth_user SET password = ? WHERE id = ?').run(await makePassword('old-admin-pw', { iterations: 1000 }), first);
  } finally {
    db.close();
  }
  return loadConfig({ flags: { database: `sqlite://${path}`, baseDn: 'dc=example,dc=com', listen: ['ldap://127.0.0.1:0'], logLevel: 'silent' }, env: {} });
}

test('serve and a command imitate the same stored hash: the most common hasher and cost, not the first user\'s', async () => {
  const config = await siteWithAnOldAdmin();
  const log = createLogger({ level: 'silent', format: 'json' });
  const bridge = await startBridge(config, log);
  let served;
  try {
    served = bridge.context.auth.sampleHash;
  } finally {
    await bridge.close();
  }
  const store = await openCheckedStore(config);
  let commanded;
  try {
    const ctx = await commandContext(config, store, log);
    commanded = ctx.auth.sampleHash;
    assert.equal(await siteSampleHash(store), commanded);
  } finally {
    await store.close();
  }
  assert.deepEqual(hashCost(served), hashCost(commanded));
  assert.equal(hashCost(served).iterations, 2000, 'three users at 2000 iterations outnumber the admin at 1000');
});

test('a service account whose password is no Django hash is refused before anything is opened', () => {
  const config = loadConfig({ flags: { database: 'sqlite:///nowhere/db.sqlite3', baseDn: 'dc=example,dc=com' }, env: {} });
  config.serviceAccounts.push({ dn: 'cn=apache,ou=services,dc=example,dc=com', password: 'nohash$x' });
  assert.throws(() => buildTree(config), (e) => e instanceof StartupError && /the password of cn=apache,ou=services,dc=example,dc=com is not a Django password hash/.test(e.message));
});

test('the hash queue is built with the configured reserved places', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'dlb-builder-')), 'db.sqlite3');
  await createDemoDatabase(path, { iterations: 2000 });
  const flags = { database: `sqlite://${path}`, baseDn: 'dc=example,dc=com', listen: ['ldap://127.0.0.1:0'], logLevel: 'silent' };
  const config = loadConfig({ flags, env: {} });
  config.security.hashQueue = 10;
  config.security.hashQueueReserved = 7;
  const bridge = await startBridge(config, createLogger({ level: 'silent', format: 'json' }));
  try {
    assert.deepEqual([bridge.context.auth.gate.queue, bridge.context.auth.gate.reservedQueue], [10, 7]);
  } finally {
    await bridge.close();
  }
});
