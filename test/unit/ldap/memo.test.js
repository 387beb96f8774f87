// BoundedMemo (src/ldap/memo.ts): what a client sends is remembered within bounds of entries,
// characters and key length, and the answers stay those of the function remembered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedMemo } from '../../../dist/ldap/memo.js';

test('a number bound keeps at most that many entries, whatever their length', () => {
  let calls = 0;
  const m = new BoundedMemo(3, (k) => (calls++, k.length));
  for (const k of ['a', 'bb', 'a', 'x'.repeat(50_000), 'x'.repeat(50_000)]) m.get(k);
  assert.equal(calls, 3);
  assert.equal(m.size, 3);
  m.get('dddd');
  assert.equal(m.size, 1, 'full: it starts over');
});

test('keys longer than maxKeyChars are computed each time and never kept', () => {
  let calls = 0;
  const m = new BoundedMemo({ max: 100, maxKeyChars: 10 }, (k) => (calls++, k.toUpperCase()));
  const long = 'y'.repeat(11);
  assert.equal(m.get(long), long.toUpperCase());
  assert.equal(m.get(long), long.toUpperCase());
  assert.equal(calls, 2);
  assert.equal(m.size, 0);
  assert.equal(m.chars, 0);
  m.get('short');
  m.get('short');
  assert.equal(calls, 3);
  assert.equal(m.chars, 5);
});

test('the characters kept never pass maxChars', () => {
  const m = new BoundedMemo({ max: 1_000_000, maxChars: 10_000 }, (k) => k.length);
  for (let i = 0; i < 5_000; i++) {
    m.get(`${i}`.padEnd(900, '.'));
    assert.ok(m.chars <= 10_000, `${m.chars} characters kept after ${i + 1} keys`);
  }
  assert.ok(m.size >= 1 && m.size <= 11);
});

test('a throwing function keeps nothing', () => {
  const m = new BoundedMemo(10, () => {
    throw new Error('bad');
  });
  assert.throws(() => m.get('k'), /bad/);
  assert.equal(m.size, 0);
});
