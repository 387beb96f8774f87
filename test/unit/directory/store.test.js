// The in-memory store the unit tests use (test/unit/fakes/memory-store.js) must answer the
// port as src/directory/store.ts declares it, member for member, or the tests over it would
// test something the bridge never runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MemoryStore, user } from '../fakes/memory-store.js';
import { StoreUnavailableError } from '../../../dist/directory/store.js';

const source = readFileSync(new URL('../../../src/directory/store.ts', import.meta.url), 'utf8');
const port = source.slice(source.indexOf('export interface DirectoryStore {'), source.indexOf('\n}\n', source.indexOf('export interface DirectoryStore {')));
/** Member names of the DirectoryStore interface (optional ones marked with `?`). */
const members = [...port.matchAll(/^ {2}(?:readonly )?(\w+)(\??)[(:]/gm)].map((m) => ({ name: m[1], optional: m[2] === '?' }));

test('the memory store has every member of the DirectoryStore port', () => {
  assert.ok(members.length > 15, `read ${members.length} members from store.ts`);
  const store = new MemoryStore();
  const missing = members.filter((m) => !m.optional && !(m.name in store)).map((m) => m.name);
  assert.deepEqual(missing, []);
});

test('its predicates select what the SQL stores select, and `down` fails every query', async () => {
  const store = new MemoryStore({ users: [user(1, 'alice', { isStaff: true, email: 'a@x.org' }), user(2, 'bob', { isActive: false }), user(3, 'Carol', { email: null })] });
  const ids = async (pred, activeOnly = false) => (await store.findUsers(pred, { afterId: 0, limit: 10 }, activeOnly)).map((u) => u.id);
  assert.deepEqual(await ids({ op: 'eq', field: 'isStaff', value: true, ci: false }), [1]);
  assert.deepEqual(await ids({ op: 'eq', field: 'username', value: 'carol', ci: true }), [3]);
  assert.deepEqual(await ids({ op: 'like', field: 'username', initial: 'a', any: ['l'], final: 'e', ci: false }), [1]);
  assert.deepEqual(await ids({ op: 'present', field: 'email' }), [1]);
  assert.deepEqual(await ids({ op: 'not', item: { op: 'cmp', field: 'id', dir: 'ge', value: 2, ci: false } }), [1]);
  assert.deepEqual(await ids({ op: 'all' }, true), [1, 3]);
  store.down = true;
  await assert.rejects(store.usersByUsername('alice', false), StoreUnavailableError);
});

test('Directory.caseTwins: read at first need, kept for a minute, re-read in the background, kept when the re-read fails', async (t) => {
  const { Directory, CASE_TWINS_MS } = await import('../../../dist/directory/directory.js');
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const store = new MemoryStore({ users: [user(1, 'frank'), user(2, 'Frank'), user(3, 'alice')], groups: [{ id: 1, name: 'DevOps' }, { id: 2, name: 'devops' }, { id: 3, name: 'ops' }] });
  let reads = 0;
  const read = store.caseTwinNames.bind(store);
  store.caseTwinNames = () => (reads++, read());
  const dir = new Directory(store, { caseInsensitiveUsernames: false, showInactiveUsers: false });
  const [a, b] = await Promise.all([dir.caseTwins(), dir.caseTwins()]);
  assert.equal(reads, 1, 'two first callers share one read');
  assert.deepEqual([[...a.users].sort(), [...a.groups].sort()], [['Frank', 'frank'], ['DevOps', 'devops']]);
  assert.equal(b, a);
  // A new twin within the minute is not read yet.
  store.users.push(user(4, 'ALICE'));
  assert.ok(!(await dir.caseTwins()).users.has('alice'));
  assert.equal(reads, 1);
  // After it, the first call still answers with what it has and starts a re-read.
  t.mock.timers.tick(CASE_TWINS_MS + 1);
  assert.ok(!(await dir.caseTwins()).users.has('alice'));
  assert.equal(reads, 2);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([...(await dir.caseTwins()).users].sort(), ['ALICE', 'Frank', 'alice', 'frank']);
  // A database down at the next re-read: the last answer stays, and the read is tried again later.
  t.mock.timers.tick(CASE_TWINS_MS + 1);
  store.down = true;
  assert.equal((await dir.caseTwins()).users.size, 4);
  await new Promise((r) => setImmediate(r));
  assert.equal((await dir.caseTwins()).users.size, 4);
  assert.equal(reads, 4, 'the failed re-read is retried at the next call');
});
