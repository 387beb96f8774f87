// The defaults (src/config/defaults.ts) are frozen and are what the schema documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DJANGO_MAPPING, DEFAULT_LISTEN } from '../../../dist/config/defaults.js';
import { schemaDefault } from '../../../dist/config/schema.js';

test('the defaults cannot be changed by whoever uses them', () => {
  assert.ok(Object.isFrozen(DEFAULT_LISTEN));
  assert.ok(Object.isFrozen(DEFAULT_DJANGO_MAPPING.groups.permissions));
  assert.throws(() => {
    'use strict';
    DEFAULT_DJANGO_MAPPING.users.table = 'x';
  }, TypeError);
});

test('the default listener is the one the schema documents', () => {
  assert.deepEqual([...DEFAULT_LISTEN], schemaDefault(['listen']));
});
