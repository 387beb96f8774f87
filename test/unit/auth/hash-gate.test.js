// The hashing budget: at most `concurrency` checks run and `queue` wait, first come first served;
// names that do not exist may hold only the unreserved part of the queue; a check whose client
// is gone leaves the queue unrun.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashGate, BusyError, DroppedError } from '../../../dist/auth/hash-gate.js';

/** A piece of work that runs until released. */
function held() {
  let release;
  const done = new Promise((r) => (release = r));
  const work = { started: false, release: () => release(), run: async () => ((work.started = true), await done) };
  return work;
}
const settle = () => new Promise((r) => setImmediate(r));

test('at most `concurrency` run, the rest wait in arrival order, past `queue` busy at once', async () => {
  const gate = new HashGate(2, 3);
  const works = Array.from({ length: 6 }, held);
  const runs = works.map((w) => gate.run(w.run).then(() => 'done', (e) => e));
  await settle();
  assert.deepEqual(works.map((w) => w.started), [true, true, false, false, false, false]);
  assert.ok((await runs[5]) instanceof BusyError);
  assert.deepEqual(gate.depth, { running: 2, waiting: 3, computed: 2, dropped: 0 });
  works[1].release();
  await settle();
  assert.deepEqual(works.map((w) => w.started), [true, true, true, false, false, false], 'the first waiter goes next');
  for (const w of works) w.release();
  await Promise.all(runs);
  assert.deepEqual(gate.depth, { running: 0, waiting: 0, computed: 5, dropped: 0 });
});

test('names that do not exist fill only the unreserved places; existing names still get a place, in turn', async () => {
  const gate = new HashGate(1, 4, 2);
  const order = [];
  const running = held();
  const first = gate.run(running.run, false);
  const waiters = [];
  const enqueue = (name, known) => {
    const w = held();
    waiters.push(w);
    return gate.run(async () => (order.push(name), w.release(), w.run()), known).then(() => 'done', (e) => e);
  };
  const spray = [enqueue('ghost1', false), enqueue('ghost2', false), enqueue('ghost3', false)];
  assert.ok((await spray[2]) instanceof BusyError, 'a third made-up name finds no place');
  const alice = enqueue('alice', true);
  const bob = enqueue('bob', true);
  const carol = enqueue('carol', true);
  assert.ok((await carol) instanceof BusyError, 'a full queue is full for everyone');
  assert.deepEqual(gate.depth.waiting, 4);
  running.release();
  await Promise.all([first, spray[0], spray[1], alice, bob]);
  assert.deepEqual(order, ['ghost1', 'ghost2', 'alice', 'bob'], 'first come, first served: no name jumps the queue');
});

test('the reserved part defaults to half the queue', async () => {
  const gate = new HashGate(1, 5);
  assert.equal(gate.reservedQueue, 2);
  const running = held();
  const all = [gate.run(running.run, false)];
  for (let i = 0; i < 4; i++) all.push(gate.run(async () => {}, false).catch((e) => e));
  assert.ok((await all[4]) instanceof BusyError, 'made-up names hold 3 of 5');
  running.release();
  await Promise.all(all);
});

test('a waiting check whose client is gone leaves the queue at once and never runs; one arriving gone takes no place', async () => {
  const gate = new HashGate(1, 4, 2);
  const order = [];
  const running = held();
  const first = gate.run(running.run);
  const enqueue = (name, known, gone) => gate.run(async () => order.push(name), known, gone).then(() => 'done', (e) => e);
  const sprayers = Array.from({ length: 2 }, () => new AbortController());
  const apache = new AbortController();
  const ghosts = sprayers.map((c, i) => enqueue(`ghost${i}`, false, c.signal));
  const alice = enqueue('alice', true, new AbortController().signal);
  const bob = enqueue('bob', true, apache.signal);
  assert.deepEqual(gate.depth, { running: 1, waiting: 4, computed: 1, dropped: 0 });
  assert.ok((await enqueue('carol', true)) instanceof BusyError, 'the queue is full');

  for (const c of sprayers) c.abort();
  apache.abort();
  for (const g of ghosts) assert.ok((await g) instanceof DroppedError);
  assert.ok((await bob) instanceof DroppedError);
  assert.deepEqual(gate.depth, { running: 1, waiting: 1, computed: 1, dropped: 3 }, 'their places are free before the running check ends');
  const late = enqueue('ghost-late', false, AbortSignal.abort());
  assert.ok((await late) instanceof DroppedError, 'a check arriving gone is dropped without waiting');
  const dave = enqueue('dave', false);
  const erin = enqueue('erin', false);
  assert.equal(gate.depth.waiting, 3, 'made-up names have their two places back');

  running.release();
  assert.deepEqual(await Promise.all([first, alice, dave, erin]), [undefined, 'done', 'done', 'done']);
  assert.deepEqual(order, ['alice', 'dave', 'erin'], 'the live waiters run in order of arrival; the gone ones never');
  assert.deepEqual(gate.depth, { running: 0, waiting: 0, computed: 4, dropped: 4 });
});

test('a gone signal fired after the check started changes nothing', async () => {
  const gate = new HashGate(1, 4);
  const w = held();
  const c = new AbortController();
  const run = gate.run(w.run, true, c.signal).then(() => 'done', (e) => e);
  await settle();
  assert.ok(w.started);
  c.abort();
  w.release();
  assert.equal(await run, 'done');
  assert.deepEqual(gate.depth, { running: 0, waiting: 0, computed: 1, dropped: 0 });
});
