// A search builds only the attributes its selection and its filter need (Apache's [uid] search
// formats no names, flags or dates), yet a filter on an attribute it did not ask for still
// decides, and what it asked for is all it gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { client, ldapsearch } from '../helpers/bridge.js';
import { demoDatabase, startDemoBridge, DEMO_SERVICE, DEMO_USERS } from '../helpers/demo-bridge.js';

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
      ['(createTimestamp>=19700101000000Z)', ['uid'], ['alice', 'bob', 'carol'], ['uid']],
      ['(&(uid=alice)(createTimestamp<=19700101000000Z))', ['uid'], [], ['uid']],
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
    // Operational ones only when asked for: createTimestamp (date_joined) with '+', as djangoDateJoined says.
    assert.equal(alice.attrs.createTimestamp, undefined);
    const [plus] = await find('(uid=alice)', ['+', 'djangoDateJoined']);
    assert.deepEqual(plus.attrs.createTimestamp, plus.attrs.djangoDateJoined);
  } finally {
    c.raw.destroy();
    await b.close();
  }
});

test('a client asking for userPassword gets none, and the log says once per connection to use bind authentication', async () => {
  const db = await demoDatabase();
  const b = await startDemoBridge(db.url);
  const svc = client(b.url);
  const user = client(b.url);
  const told = () => b.logs.map((l) => JSON.parse(l)).filter((l) => l.attr === 'userPassword');
  /** The lines about userPassword once `n` have arrived (the log is written asynchronously). */
  const waitTold = async (n) => {
    const end = Date.now() + 20_000;
    while (told().length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return told();
  };
  try {
    await svc.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
    const find = async (c, attributes) => (await c.search('ou=users,dc=example,dc=com', { scope: 'sub', filter: '(uid=alice)', attributes })).entries;
    // No search for other attributes is told anything.
    await find(svc, ['uid', 'mail']);
    await find(svc, ['*', '+']);
    // Asked by name, with an option, in another case: never served.
    for (const attrs of [['uid', 'userPassword'], ['userPassword;binary'], ['USERPASSWORD', 'mail']]) {
      const [alice] = await find(svc, attrs);
      assert.ok(alice, 'alice is still found');
      assert.deepEqual(Object.keys(alice.attrs).filter((k) => /password/i.test(k)), [], `${attrs}: no password attribute`);
    }
    // By OID (ldapjs will not send one: OpenLDAP's ldapsearch does), on a connection of its own.
    const byOid = await ldapsearch(b.url, { bindDn: DEMO_SERVICE.dn, password: DEMO_SERVICE.password, base: 'ou=users,dc=example,dc=com', filter: '(uid=alice)', attrs: ['2.5.4.35', 'uid'] });
    assert.equal(byOid.code, 0, byOid.stderr);
    assert.deepEqual(byOid.entries.map((e) => Object.keys(e.attrs)), [['uid']]);
    // A user asking on their own connection is told on that one.
    await user.bind('uid=alice,ou=users,dc=example,dc=com', DEMO_USERS.find((u) => u.username === 'alice').password);
    await find(user, ['userPassword']);
    const lines = await waitTold(3);
    // The connection's own further searches are not logged again (once per connection).
    await find(svc, ['userPassword']);
    await find(user, ['userPassword']);
    const bridgeSaid = (await waitTold(4)).length;
    assert.equal(bridgeSaid, 3, 'one line per connection');
    assert.deepEqual(lines.map((l) => [l.level, l.attr, l.bound]), [
      [40, 'userPassword', DEMO_SERVICE.dn],
      [40, 'userPassword', DEMO_SERVICE.dn],
      [40, 'userPassword', 'uid=alice,ou=users,dc=example,dc=com'],
    ]);
    assert.equal(new Set(lines.map((l) => l.conn)).size, 3, 'three connections, one line each');
    for (const l of lines) assert.match(l.msg, /serves no password hashes.*bind/);
    // No password, and no hash, in any line this bridge wrote.
    for (const l of b.logs) {
      for (const u of [...DEMO_USERS, DEMO_SERVICE]) assert.ok(!l.includes(u.password), 'no password logged');
      assert.ok(!/pbkdf2_sha256\$/.test(l), 'no hash logged');
    }
  } finally {
    svc.raw.destroy();
    user.raw.destroy();
    await b.close();
  }
});
