// SqlStore's windowed scans (SQLite): a predicate no index narrows is read in id windows sized
// by its cost, and the pages it returns are exactly those one unbounded statement would return;
// past the page's deadline the scan stops between windows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { demoDatabase } from '../../helpers/demo-bridge.js';
import { DEFAULT_DJANGO_MAPPING } from '../../../dist/config/load.js';
import { SqliteStore } from '../../../dist/db/sqlite.js';
import { ScanTimeLimitError } from '../../../dist/directory/store.js';

const EXTRA_USERS = 5000;
let path;
let store;

before(async () => {
  ({ path } = await demoDatabase(1000));
  const w = new Database(path);
  w.prepare(
    `INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
     WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < ?)
     SELECT '!', NULL, 0, 'u' || x, '', '', '', 0, x % 3 <> 0, '2020-01-01 00:00:00' FROM seq`,
  ).run(EXTRA_USERS);
  w.close();
  store = new SqliteStore(path, DEFAULT_DJANGO_MAPPING);
});
after(async () => {
  await store?.close();
});

const like = (any) => ({ op: 'like', field: 'username', any: [any], ci: false });
/** `n` substring terms, only the first of which can match. */
const costly = (n, first) => ({ op: 'or', items: [like(first), ...Array.from({ length: n - 1 }, (_, i) => like(`zz${i}qq`))] });

/** Ids of active users whose username contains `part`, in id order (as SQLite's GLOB says). */
function expectedIds(part) {
  const r = new Database(path, { readonly: true });
  try {
    return r.prepare(`SELECT id FROM auth_user WHERE username GLOB ? AND is_active ORDER BY id`).pluck().all(`*${part}*`);
  } finally {
    r.close();
  }
}

async function allPages(pred, limit) {
  const ids = [];
  for (let afterId = 0; ; ) {
    const page = await store.findUsers(pred, { afterId, limit }, true);
    ids.push(...page.map((u) => u.id));
    if (page.length < limit) return ids;
    afterId = page[page.length - 1].id;
  }
}

test('pages read through windows are the pages one statement would give', async () => {
  const want = expectedIds('77');
  assert.ok(want.length > 20);
  for (const limit of [1, 7, 500]) assert.deepEqual(await allPages(costly(400, '77'), limit), want, `pages of ${limit}`);
  assert.deepEqual(await allPages(like('77'), 5), want);
});

test("each statement of a costly scan reads a window sized by the filter's cost", async () => {
  const seen = [];
  const original = store.query;
  store.query = function (sql, params) {
    if (/GLOB/.test(sql)) seen.push(params.slice(-3, -1));
    return original.call(this, sql, params);
  };
  try {
    await store.findUsers(costly(2000, '77'), { afterId: 0, limit: 1000 }, true);
  } finally {
    store.query = original;
  }
  assert.ok(seen.length >= EXTRA_USERS / 100, `${seen.length} statements`);
  for (const [lo, hi] of seen) assert.ok(hi - lo <= 50, `window ${lo}..${hi}`);
});

test('an index-narrowed predicate is one statement, whatever its size', async () => {
  let statements = 0;
  const original = store.query;
  store.query = function (sql, params) {
    statements++;
    return original.call(this, sql, params);
  };
  try {
    const pred = { op: 'or', items: ['alice', 'u5', 'u4999'].map((value) => ({ op: 'eq', field: 'username', value, ci: false })) };
    const users = await store.findUsers(pred, { afterId: 0, limit: 10 }, true);
    assert.deepEqual(users.map((u) => u.username), ['alice', 'u5', 'u4999']);
  } finally {
    store.query = original;
  }
  assert.equal(statements, 1);
});

test('a scan past its deadline stops between windows', async () => {
  await assert.rejects(store.findUsers(costly(2000, 'no-such'), { afterId: 0, limit: 10, deadline: Date.now() - 1 }, true), ScanTimeLimitError);
});
