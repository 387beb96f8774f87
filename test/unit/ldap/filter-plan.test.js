// src/ldap/filter-plan.ts on time attributes: a filter on a time column (date_joined,
// last_login) is pushed to SQL as a range the database narrows, never losing a match; the
// search answers exactly what the GeneralizedTime values say. The users and their times are
// written by real Django (its SQLite backend's own datetime text, microseconds included).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { need } from '../../helpers/require.js';
import { djangoAvailable, makeDjangoDatabase, djangoShell } from '../../helpers/django.js';
import { SqliteStore } from '../../../dist/db/sqlite.js';
import { DEFAULT_DJANGO_MAPPING } from '../../../dist/config/load.js';
import { parseFilter } from '../../../dist/ldap/filter.js';
import { planUsers } from '../../../dist/ldap/filter-plan.js';
import { USER_ATTRIBUTES } from '../../../dist/ldap/attributes.js';
import { staticMatcher } from '../../../dist/ldap/ops/search.js';
import { USER_CLASSES } from '../../../dist/ldap/entries.js';
import { BASE, dispatchOnce, searchRequest, testContext, testSession } from '../fakes/ldap-context.js';

const skip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const SERVICE = { kind: 'service', dn: `cn=apache,ou=services,${BASE}` };

/** The time attributes SQL filters on that Django's date_joined feeds. */
const JOINED = USER_ATTRIBUTES.filter((r) => r.sql && r.from.column?.field === 'dateJoined').map((r) => r.type.names[0]);

let db;
let store;
before(async () => {
  if (skip) return;
  db = await makeDjangoDatabase();
  // Everyone Django's populate made joined in 2010; three more join at chosen instants.
  await djangoShell(
    db.env,
    `
from datetime import datetime, timezone as tz
User.objects.all().update(date_joined=datetime(2010, 1, 1, tzinfo=tz.utc))
for name, t in [('t_old', datetime(2019, 5, 1, 8, 0, 0, 250000, tzinfo=tz.utc)),
                ('t_mid', datetime(2021, 3, 1, 12, 34, 56, tzinfo=tz.utc)),
                ('t_new', datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=tz.utc))]:
    User.objects.create(username=name, password=make_password(None), date_joined=t)
`,
  );
  store = new SqliteStore(db.url.slice('sqlite://'.length), DEFAULT_DJANGO_MAPPING);
});
after(async () => {
  await store?.close();
  await db?.drop();
});

/** The usernames a service account's search of ou=users with `filter` returns, sorted. */
async function search(filter) {
  const { ctx } = testContext(store);
  const replies = await dispatchOnce(ctx, testSession(SERVICE), searchRequest(`ou=users,${BASE}`, filter, { scope: 1, attributes: ['uid'] }));
  assert.equal(replies.at(-1).code, 0, filter);
  return replies.filter((r) => r.dn !== undefined).map((r) => r.attributes.uid[0]).sort();
}

/** The usernames the database hands the search for `filter` (the planned SQL's rows). */
async function candidates(filter) {
  const pred = planUsers(parseFilter(filter), false, staticMatcher(USER_CLASSES));
  assert.notEqual(pred.op, 'all', `${filter} is filtered in SQL`);
  const users = await store.findUsers(pred, { afterId: 0, limit: 10_000 }, true);
  return users.map((u) => u.username);
}

test('a time attribute is served from date_joined and filtered by ordering and equality', { skip }, async () => {
  assert.ok(JOINED.includes('djangoDateJoined'), JOINED.join());
  for (const a of JOINED) {
    const cases = [
      [`(${a}>=20210301123456Z)`, ['t_mid', 't_new']],
      [`(${a}>=20210301123457Z)`, ['t_new']],
      [`(${a}<=20210301123456Z)`, ['t_mid', 't_old']],
      [`(${a}=20210301123456Z)`, ['t_mid']],
      [`(${a}=20190501080000Z)`, ['t_old']], // its quarter second is not served
      [`(${a}<=20241231235959Z)`, ['t_mid', 't_new', 't_old']], // served to the second: ...59Z
      [`(${a}<=20241231235958Z)`, ['t_mid', 't_old']],
      [`(&(${a}>=20190101000000Z)(${a}<=20191231235959Z))`, ['t_old']],
      [`(${a}>=20250101000000Z)`, []],
      [`(${a}=not a time)`, []],
    ];
    for (const [filter, want] of cases) {
      const got = await search(filter);
      // Django's populated users joined in 2010: only the <= filters reach back to them.
      assert.deepEqual(got.filter((u) => u.startsWith('t_')), want, filter);
      assert.equal(got.some((u) => !u.startsWith('t_')), filter.includes('<=') && !filter.includes('&'), `${filter}: the 2010 users`);
    }
    const all = (await search(`(${a}<=20211231000000Z)`)).length;
    assert.ok(all > 3, 'the populated users are there');
    // The database narrows: a range far from 2010 brings none of the 2010 rows back to be checked.
    assert.deepEqual(await candidates(`(${a}>=20240101000000Z)`), ['t_new']);
    assert.deepEqual((await candidates(`(${a}=20210301123456Z)`)).sort(), ['t_mid']);
    assert.deepEqual(await candidates(`(${a}>=29990101000000Z)`), []);
  }
});
