// Simple Paged Results (src/ldap/paging.ts) as a client meets it, over an in-memory store:
// pages that add up to the whole search, cookies that serve only their own search and only
// once, size 0 ending a paged search, a bounded cursor table, and the read-ahead pool.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore, user } from '../fakes/memory-store.js';
import { BASE, dispatchOnce, searchRequest, testContext, testSession } from '../fakes/ldap-context.js';
import { PAGED_RESULTS, decodePagedControl, encodePagedControl, pagingOf, pagedResponse, readAhead, isPaging } from '../../../dist/ldap/paging.js';

const SERVICE = { kind: 'service', dn: `cn=apache,ou=services,${BASE}` };
const USERS = `ou=users,${BASE}`;

function setup(n = 7) {
  const store = new MemoryStore({ users: Array.from({ length: n }, (_, i) => user(i + 1, `user${i + 1}`)) });
  return testContext(store);
}

const paged = (size, cookie = Buffer.alloc(0), critical = false) => [{ oid: PAGED_RESULTS, critical, value: encodePagedControl(size, cookie) }];
/** The cookie a page's answer carries (empty on the last page). */
const cookieOf = (result) => decodePagedControl(result.controls.find((c) => c.oid === PAGED_RESULTS).value).cookie;

// First in this file (its own process): the pool is shared, and the paged searches below leave
// read-aheads that nobody claims until they expire.
describe('read-ahead', () => {
  test('at most 8 pages are held; one taken frees its place, and is taken only once', async () => {
    const batch = { users: [], entries: [], more: false };
    const held = [];
    for (let i = 0; i < 9; i++) held.push(readAhead(1, i, async () => batch));
    assert.equal(held.filter(Boolean).length, 8);
    assert.equal(held[8], undefined);
    assert.equal(await held[0].take(), batch);
    assert.equal(held[0].take(), undefined);
    const again = readAhead(1, 99, async () => batch);
    assert.ok(again, 'a place was freed');
    for (const h of [...held, again]) h?.take();
  });

  test('a failed read-ahead fails only the page that takes it', async () => {
    const ahead = readAhead(1, 0, async () => {
      throw new Error('read failed');
    });
    await new Promise((r) => setImmediate(r)); // no unhandled rejection meanwhile
    await assert.rejects(ahead.take(), /read failed/);
  });
});

describe('paged searches through the dispatch', () => {
  test('pages of 3 add up to the unpaged search, each entry once, the last with an empty cookie', async () => {
    const { ctx } = setup();
    const s = testSession(SERVICE);
    const req = searchRequest(USERS, '(uid=*)', { scope: 1, attributes: ['uid'] });
    const all = (await dispatchOnce(ctx, s, req)).filter((r) => r.dn).map((r) => r.dn);
    assert.equal(all.length, 7);
    const pages = [];
    let cookie = Buffer.alloc(0);
    do {
      const replies = await dispatchOnce(ctx, s, req, paged(3, cookie, true));
      const result = replies.at(-1);
      assert.equal(result.code, 0);
      pages.push(replies.filter((r) => r.dn).map((r) => r.dn));
      cookie = cookieOf(result);
    } while (cookie.length);
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(pages.flat(), all);
    assert.equal(s.paged.size, 0, 'no cursor left once the search is done');
  });

  test('a cookie serves once, only its own search, and only who opened it', async () => {
    const { ctx } = setup();
    const s = testSession(SERVICE);
    const req = searchRequest(USERS, '(uid=*)', { scope: 1 });
    const first = (await dispatchOnce(ctx, s, req, paged(2))).at(-1);
    const cookie = cookieOf(first);
    assert.equal(cookie.length, 12);
    const other = await dispatchOnce(ctx, s, searchRequest(USERS, '(uid=user1)', { scope: 1 }), paged(2, cookie));
    assert.deepEqual(other.map((r) => [r.code, r.message]), [[53, 'unknown paged results cookie (or a different search)']]);
    const elsewhere = testSession(SERVICE);
    assert.equal((await dispatchOnce(ctx, elsewhere, req, paged(2, cookie))).at(-1).code, 53, 'another connection does not know it');
    const next = await dispatchOnce(ctx, s, req, paged(2, cookie));
    assert.deepEqual(next.filter((r) => r.dn).length, 2);
    assert.equal((await dispatchOnce(ctx, s, req, paged(2, cookie))).at(-1).code, 53, 'used once');
  });

  test('size 0 ends a paged search: success, no entries, an empty cookie, the cursor gone', async () => {
    const { ctx } = setup();
    const s = testSession(SERVICE);
    const req = searchRequest(USERS, '(uid=*)', { scope: 1 });
    const cookie = cookieOf((await dispatchOnce(ctx, s, req, paged(2))).at(-1));
    const end = await dispatchOnce(ctx, s, req, paged(0, cookie));
    assert.equal(end.length, 1);
    assert.equal(end[0].code, 0);
    assert.equal(cookieOf(end[0]).length, 0);
    assert.equal(s.paged.size, 0);
  });

  test('a malformed control is a protocol error', async () => {
    const { ctx } = setup();
    const [r] = await dispatchOnce(ctx, testSession(SERVICE), searchRequest(USERS), [{ oid: PAGED_RESULTS, critical: true, value: Buffer.from([1, 2, 3]) }]);
    assert.deepEqual([r.code, r.message], [2, 'malformed paged results control']);
  });

  test('the size limit counts across pages', async () => {
    const { ctx } = setup();
    const s = testSession(SERVICE);
    const req = searchRequest(USERS, '(uid=*)', { scope: 1, sizeLimit: 5 });
    const first = await dispatchOnce(ctx, s, req, paged(3));
    const second = await dispatchOnce(ctx, s, req, paged(3, cookieOf(first.at(-1))));
    assert.deepEqual([first.filter((r) => r.dn).length, second.filter((r) => r.dn).length, second.at(-1).code], [3, 2, 4]);
  });
});

describe('the cursor table', () => {
  const req = searchRequest(USERS, '(uid=*)');
  const resume = (n) => ({ pos: { phase: 1, after: n }, count: n });

  test('a connection keeps 16 cursors; the oldest goes first', () => {
    const cursors = new Map();
    const cookies = [];
    for (let i = 0; i < 17; i++) cookies.push(decodePagedControl(pagedResponse(cursors, req, SERVICE, resume(i))[0].value).cookie);
    assert.equal(cursors.size, 16);
    const control = (cookie) => ({ oid: PAGED_RESULTS, critical: false, value: encodePagedControl(10, cookie) });
    assert.equal(isPaging(pagingOf(cursors, control(cookies[0]), req, SERVICE)), false, 'the oldest was dropped');
    const last = pagingOf(cursors, control(cookies[16]), req, SERVICE);
    assert.deepEqual(last, { size: 10, resume: resume(16) });
    assert.equal(isPaging(pagingOf(cursors, control(cookies[1]), req, { kind: 'anonymous' })), false, 'another identity is refused');
  });

  test('no resume: the last page control, and nothing kept', () => {
    const cursors = new Map();
    const [c] = pagedResponse(cursors, req, SERVICE, undefined);
    assert.deepEqual([c.oid, c.critical, decodePagedControl(c.value)], [PAGED_RESULTS, false, { size: 0, cookie: Buffer.alloc(0) }]);
    assert.equal(cursors.size, 0);
  });
});
