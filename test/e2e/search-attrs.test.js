// A search builds only the attributes its selection and its filter need (Apache's [uid] search
// formats no names, flags or dates), yet a filter on an attribute it did not ask for still
// decides, and what it asked for is all it gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { client } from '../helpers/bridge.js';
import { demoDatabase, startDemoBridge, DEMO_SERVICE } from '../helpers/demo-bridge.js';

test('filters on attributes that are not requested still match; only the requested ones come back', async () => {
  const db = await demoDatabase();
  const b = await startDemoBridge(db.url, { log: { level: 'warn', format: 'json' } });
  const c = client(b.url);
  try {
    await c.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
    const find = async (filter, attributes) => (await c.search('ou=users,dc=example,dc=com', { scope: 'sub', filter, attributes })).entries;
    const cases = [
      ['(&(objectclass=*)(uid=alice))', ['uid'], ['alice'], ['uid']],
      ['(cn=Alice Agent)', ['uid'], ['alice'], ['uid']],
      ['(&(sn=Builder)(djangoIsStaff=TRUE))', ['mail'], ['bob'], ['mail']],
      ['(djangoDateJoined>=19700101000000Z)', ['uid'], ['alice', 'bob', 'carol'], ['uid']],
      ['(givenName=Carol)', ['displayName', 'djangoIsSuperuser'], ['carol'], ['displayName', 'djangoIsSuperuser']],
      ['(memberOf=cn=committers,ou=groups,dc=example,dc=com)', ['uid'], ['bob'], ['uid']],
      ['(uid=alice)', ['1.1'], ['alice'], []],
    ];
    for (const [filter, attrs, users, returned] of cases) {
      const es = await find(filter, attrs);
      assert.deepEqual(es.map((e) => e.dn.split(',')[0].slice(4)).sort(), users, filter);
      for (const e of es) assert.deepEqual(Object.keys(e.attrs).sort(), [...returned].sort(), `${filter} returns ${returned}`);
    }
    // Everything when nothing is named: the names, flags and dates are all there.
    const [alice] = await find('(uid=alice)', []);
    for (const a of ['cn', 'sn', 'givenName', 'displayName', 'mail', 'djangoId', 'djangoIsActive', 'djangoIsStaff', 'djangoIsSuperuser', 'djangoDateJoined', 'memberOf']) assert.ok(alice.attrs[a], a);
  } finally {
    c.raw.destroy();
    await b.close();
  }
});
