// The table of operations (src/ldap/dispatch.ts) over an in-memory store: who may run what,
// the one answer to a store that is down, the read-only refusals, and the log line each
// operation writes, as clients and operators see them.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore, user } from '../fakes/memory-store.js';
import { BASE, dispatchOnce, searchRequest, testContext, testSession } from '../fakes/ldap-context.js';
import { OPERATIONS, dispatch } from '../../../dist/ldap/dispatch.js';
import { makePassword } from '../../../dist/django/hashers/index.js';

const SERVICE_DN = `cn=apache,ou=services,${BASE}`;
const ALICE_DN = `uid=alice,ou=users,${BASE}`;
const BOB_DN = `uid=bob,ou=users,${BASE}`;
const GROUP_DN = `cn=staff-team,ou=groups,${BASE}`;
const SERVICE = { kind: 'service', dn: SERVICE_DN };
const ALICE = { kind: 'user', dn: ALICE_DN, userId: 1, username: 'alice' };

let aliceHash;
let serviceHash;
before(async () => {
  aliceHash = await makePassword('alice-pw', { iterations: 1000 });
  serviceHash = await makePassword('service-pw', { iterations: 1000 });
});

/** Logs at debug unless told: most tests here read the line every operation writes. */
function directory(logLevel = 'debug') {
  const store = new MemoryStore({
    users: [user(1, 'alice', { password: aliceHash, email: 'alice@example.com' }), user(2, 'bob', { email: 'bob@example.com' })],
    groups: [{ id: 1, name: 'staff-team' }],
    memberships: [[1, 1]],
  });
  const { ctx, logs } = testContext(store, { services: [{ dn: SERVICE_DN, password: serviceHash }], logLevel });
  return { store, ctx, logs };
}

const bindRequest = (name, password) => ({ op: 'bind', version: 3, name, simple: true, password: Buffer.from(password) });
const compareRequest = (entry, attribute, value) => ({ op: 'compare', entry, attribute, value });
/** The log lines of one kind of operation. */
const lines = (logs, op) => logs.filter((l) => l.op === op);

describe('who may run what', () => {
  test('an anonymous search of the user subtree is refused 50; the root DSE answers anyone', async () => {
    const { ctx, logs } = directory();
    const s = testSession();
    const [refused] = await dispatchOnce(ctx, s, searchRequest(`ou=users,${BASE}`, '(uid=*)'));
    assert.equal(refused.code, 50);
    assert.equal(refused.message, 'anonymous search is not allowed; bind first');
    const [line] = lines(logs, 'search');
    assert.deepEqual({ dn: line.dn, result: line.result, entries: line.entries, level: line.level }, { dn: `ou=users,${BASE}`, result: 50, entries: 0, level: 20 });

    const root = await dispatchOnce(ctx, s, searchRequest('', '(objectClass=*)', { scope: 0 }));
    assert.equal(root.length, 2, 'the root DSE entry, then the result');
    assert.equal(root[0].dn, '');
    assert.deepEqual(root[0].attributes.namingContexts, [BASE]);
    assert.equal(root[1].code, 0);
  });

  test('an anonymous compare is refused 50 (a DN that does not parse is still 34, an unknown attribute 17)', async () => {
    const { ctx } = directory();
    const s = testSession();
    assert.equal((await dispatchOnce(ctx, s, compareRequest(GROUP_DN, 'member', ALICE_DN)))[0].code, 50);
    assert.equal((await dispatchOnce(ctx, s, compareRequest('uid=alice,,', 'member', ALICE_DN)))[0].code, 34);
    assert.equal((await dispatchOnce(ctx, s, compareRequest(GROUP_DN, 'noSuchAttribute', 'x')))[0].code, 17);
  });

  test('a bound user reads their own entry, not another user’s, and sees only themselves in the subtree', async () => {
    const { ctx } = directory();
    const s = testSession(ALICE);
    const own = await dispatchOnce(ctx, s, searchRequest(ALICE_DN, '(objectClass=*)', { scope: 0, attributes: ['mail'] }));
    assert.deepEqual(own[0].attributes, { mail: ['alice@example.com'] });
    const other = await dispatchOnce(ctx, s, searchRequest(BOB_DN, '(objectClass=*)', { scope: 0 }));
    assert.deepEqual([other.length, other[0].code, other[0].message], [1, 50, 'a user may read only their own entry']);
    const subtree = await dispatchOnce(ctx, s, searchRequest(`ou=users,${BASE}`, '(uid=*)', { attributes: ['uid'] }));
    assert.deepEqual(subtree.filter((r) => r.dn).map((r) => r.dn), [ALICE_DN]);
    // Compares: memberships of groups yes, another user's attributes no.
    assert.equal((await dispatchOnce(ctx, s, compareRequest(GROUP_DN, 'member', ALICE_DN)))[0].code, 6);
    assert.equal((await dispatchOnce(ctx, s, compareRequest(BOB_DN, 'mail', 'bob@example.com')))[0].code, 50);
    assert.equal((await dispatchOnce(ctx, s, compareRequest(ALICE_DN, 'mail', 'alice@example.com')))[0].code, 6);
  });

  test('a service account searches everything', async () => {
    const { ctx, logs } = directory();
    const replies = await dispatchOnce(ctx, testSession(SERVICE), searchRequest(`ou=users,${BASE}`, '(uid=*)', { attributes: ['uid'] }));
    assert.deepEqual(replies.filter((r) => r.dn).map((r) => r.dn), [ALICE_DN, BOB_DN]);
    assert.equal(replies.at(-1).code, 0);
    const [line] = lines(logs, 'search');
    assert.deepEqual(
      { ...line, time: undefined, ms: typeof line.ms },
      { level: 20, time: undefined, conn: line.conn, peer: '127.0.0.1:40000', msgid: line.msgid, op: 'search', dn: `ou=users,${BASE}`, scope: 2, filter: '(uid=*)', attrs: ['uid'], result: 0, entries: 2, ms: 'number', msg: 'search' },
    );
  });
});

describe('a store that is down answers unavailable (52), once for every operation', () => {
  test('bind: 52 with the same words, logged as a warning with outcome "unavailable"; the connection stays anonymous', async () => {
    const { store, ctx, logs } = directory();
    store.down = true;
    const s = testSession();
    const [r] = await dispatchOnce(ctx, s, bindRequest(ALICE_DN, 'alice-pw'));
    assert.deepEqual([r.code, r.message], [52, 'the user database is unavailable']);
    assert.deepEqual(s.identity, { kind: 'anonymous' });
    const [line] = lines(logs, 'bind');
    assert.deepEqual([line.level, line.msg, line.result, line.outcome, line.dn], [40, 'bind', 52, 'unavailable', ALICE_DN]);
    // The database back: the same bind succeeds.
    store.down = false;
    assert.equal((await dispatchOnce(ctx, s, bindRequest(ALICE_DN, 'alice-pw')))[0].code, 0);
    assert.deepEqual(s.identity, ALICE);
  });

  test('search and compare: 52 with the same words, logged with the result', async () => {
    const { store, ctx, logs } = directory();
    store.down = true;
    const s = testSession(SERVICE);
    const search = await dispatchOnce(ctx, s, searchRequest(`ou=users,${BASE}`, '(uid=alice)'));
    assert.deepEqual(search.map((r) => [r.code, r.message]), [[52, 'the user database is unavailable']]);
    const leaf = await dispatchOnce(ctx, s, searchRequest(ALICE_DN, '(objectClass=*)', { scope: 0 }));
    assert.deepEqual(leaf.map((r) => r.code), [52]);
    const compare = await dispatchOnce(ctx, s, compareRequest(GROUP_DN, 'member', ALICE_DN));
    assert.deepEqual(compare.map((r) => [r.code, r.message]), [[52, 'the user database is unavailable']]);
    assert.deepEqual(lines(logs, 'search').map((l) => [l.result, l.entries]), [[52, 0], [52, 0]]);
    assert.deepEqual(lines(logs, 'compare').map((l) => l.result), [52]);
    assert.equal(s.running.size, 0, 'nothing left registered for Abandon');
  });

  test('a search the store fails part-way logs the entries it did send', async () => {
    const { store, ctx, logs } = directory();
    const s = testSession(SERVICE);
    // The container entry goes out before the users are read; then the store fails.
    const realFind = store.findUsers.bind(store);
    store.findUsers = (...args) => {
      store.down = true;
      return realFind(...args);
    };
    const replies = await dispatchOnce(ctx, s, searchRequest(`ou=users,${BASE}`, '(objectClass=*)'));
    assert.deepEqual(replies.map((r) => r.dn ?? r.code), [`ou=users,${BASE}`, 52]);
    assert.deepEqual(lines(logs, 'search').map((l) => [l.result, l.entries]), [[52, 1]]);
  });

  test('any other failure is not answered 52: it is the connection’s internal error', async () => {
    const { store, ctx } = directory();
    store.findUsers = async () => {
      throw new Error('a bug');
    };
    await assert.rejects(dispatchOnce(ctx, testSession(SERVICE), searchRequest(`ou=users,${BASE}`, '(uid=*)')), /a bug/);
  });
});

describe('requests refused before they run', () => {
  test('writes are refused 53 with their own response tags, and logged', async () => {
    const { ctx, logs } = directory();
    const s = testSession(SERVICE);
    const tags = { add: 0x69, modify: 0x67, delete: 0x6b, modifyDN: 0x6d };
    for (const [op, tag] of Object.entries(tags)) {
      const [r] = await dispatchOnce(ctx, s, { op, entry: ALICE_DN });
      assert.deepEqual([r.tag, r.code, r.message], [tag, 53, 'the directory is read-only: change users and groups in Django'], op);
      const [line] = lines(logs, op);
      assert.deepEqual([line.msg, line.dn, line.result], [op, ALICE_DN, 53]);
    }
  });

  test('an unknown critical control fails the operation with 12 (not logged), a bind too; a non-critical one is ignored', async () => {
    const { ctx, logs } = directory();
    const s = testSession(SERVICE);
    const critical = [{ oid: '1.2.3.4', critical: true }];
    const [r] = await dispatchOnce(ctx, s, compareRequest(GROUP_DN, 'member', ALICE_DN), critical);
    assert.deepEqual([r.code, r.message], [12, 'unsupported critical control 1.2.3.4']);
    assert.equal(lines(logs, 'compare').length, 0);
    const [paged] = await dispatchOnce(ctx, s, searchRequest(`ou=users,${BASE}`, '(uid=*)'), critical);
    assert.equal(paged.code, 12);
    const [b] = await dispatchOnce(ctx, s, bindRequest(SERVICE_DN, 'service-pw'), critical);
    assert.equal(b.code, 12, 'RFC 4511 §4.1.11: a bind is an operation like any other');
    const [ignored] = await dispatchOnce(ctx, s, bindRequest(SERVICE_DN, 'service-pw'), [{ oid: '1.2.3.4', critical: false }]);
    assert.equal(ignored.code, 0);
  });

  test('more attributes than limits.maxRequestedAttributes: 11', async () => {
    const { ctx } = directory();
    const attributes = Array.from({ length: 101 }, (_, i) => `a${i}`);
    const [r] = await dispatchOnce(ctx, testSession(SERVICE), searchRequest(`ou=users,${BASE}`, '(uid=*)', { attributes }));
    assert.deepEqual([r.code, r.message], [11, 'more than 100 attributes requested']);
  });
});

describe('what the default level (info) logs', () => {
  test('every bind, with who, from where and the outcome; no search, compare or unbind', async () => {
    const { ctx, logs } = directory('info');
    const s = testSession();
    assert.equal((await dispatchOnce(ctx, s, bindRequest(SERVICE_DN, 'service-pw')))[0].code, 0);
    assert.equal((await dispatchOnce(ctx, s, searchRequest(`ou=users,${BASE}`, '(uid=alice)', { attributes: ['uid'] }))).at(-1).code, 0);
    assert.equal((await dispatchOnce(ctx, s, compareRequest(GROUP_DN, 'member', ALICE_DN)))[0].code, 6);
    assert.equal((await dispatchOnce(ctx, s, bindRequest(ALICE_DN, 'wrong')))[0].code, 49);
    assert.equal((await dispatchOnce(ctx, s, bindRequest(ALICE_DN, 'alice-pw')))[0].code, 0);
    OPERATIONS.unbind.now(ctx, s, { op: 'unbind' });
    assert.deepEqual(
      logs.map((l) => [l.level, l.op, l.dn, l.peer, l.outcome]),
      [
        [30, 'bind', SERVICE_DN, '127.0.0.1:40000', 'success'],
        [40, 'bind', ALICE_DN, '127.0.0.1:40000', 'wrong-password'],
        [30, 'bind', ALICE_DN, '127.0.0.1:40000', 'success'],
      ],
    );
  });
});

describe('bind, extended, abandon, unbind', () => {
  test('a service bind, then WhoAmI names it', async () => {
    const { ctx, logs } = directory();
    const s = testSession();
    assert.equal((await dispatchOnce(ctx, s, bindRequest(SERVICE_DN, 'service-pw')))[0].code, 0);
    const [who] = await dispatchOnce(ctx, s, { op: 'extended', oid: '1.3.6.1.4.1.4203.1.11.3' });
    assert.deepEqual([who.tag, who.code, who.value], [0x78, 0, `dn:${SERVICE_DN}`]);
    const [bad] = await dispatchOnce(ctx, s, { op: 'extended', oid: '1.2.3' });
    assert.deepEqual([bad.code, bad.message], [2, 'unsupported extended operation 1.2.3']);
    assert.deepEqual(lines(logs, 'extended').map((l) => [l.oid, l.result]), [['1.3.6.1.4.1.4203.1.11.3', 0], ['1.2.3', 2]]);
    const [wrong] = await dispatchOnce(ctx, s, bindRequest(SERVICE_DN, 'nope'));
    assert.equal(wrong.code, 49);
    assert.deepEqual(lines(logs, 'bind').map((l) => [l.level, l.outcome]), [[30, 'success'], [40, 'wrong-password']]);
  });

  test('an abandoned search gets no answer, and is logged with result -1', async () => {
    const { ctx, logs } = directory();
    const s = testSession(SERVICE);
    const msg = { id: 7, request: searchRequest(`ou=users,${BASE}`, '(uid=*)'), controls: [] };
    // As the connection does: registered when read, abandoned before it runs.
    assert.equal(OPERATIONS.search.abandonable, true);
    s.running.set(7, { abandoned: false, entries: 0 });
    assert.equal(OPERATIONS.abandon.now(ctx, s, { op: 'abandon', id: 7 }), true);
    const written = [];
    await dispatch(ctx, s, msg, (b) => written.push(b), async () => {});
    assert.equal(written.length, 0);
    assert.deepEqual(lines(logs, 'search').map((l) => l.result), [-1]);
    assert.equal(s.running.size, 0);
  });

  test('unbind ends the connection and is logged', () => {
    const { ctx, logs } = directory();
    const s = testSession();
    assert.equal(OPERATIONS.unbind.now(ctx, s, { op: 'unbind' }), false);
    assert.deepEqual(lines(logs, 'unbind').map((l) => [l.conn, l.msg]), [[s.id, 'unbind']]);
  });
});
