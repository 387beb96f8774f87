// The settings document helpers (src/config/document.ts): dotted paths and own-key access.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPath, get, setOwn, clone } from '../../../dist/config/document.js';

test('paths read as people write them', () => {
  assert.equal(formatPath(['users', 'columns', 'email']), 'users.columns.email');
  assert.equal(formatPath(['serviceAccounts', 1, 'password']), 'serviceAccounts[1].password');
  assert.equal(formatPath(['listen', 0]), 'listen[0]');
  assert.equal(formatPath(['users', 'odd key']), 'users["odd key"]');
});

test('get reads own keys only; setOwn and clone keep "__proto__" a plain key', () => {
  assert.equal(get({ a: { b: 1 } }, 'a', 'b'), 1);
  assert.equal(get({ a: 1 }, 'toString'), undefined);
  assert.equal(get({ a: [1] }, 'a', 'length'), undefined, 'not into lists');
  const o = {};
  setOwn(o, '__proto__', { polluted: true });
  const c = clone(o);
  assert.ok(Object.prototype.hasOwnProperty.call(c, '__proto__'));
  assert.equal(Object.getPrototypeOf(c), Object.prototype);
  assert.equal({}.polluted, undefined);
});
