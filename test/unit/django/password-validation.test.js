// src/django/password-validation.ts: the bridge's password rules answer as Django's own four
// validators do, asked through real Django (validate_password with the same settings) for every
// (user, password) pair below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { need } from '../../helpers/require.js';
import { djangoAvailable, djangoShell } from '../../helpers/django.js';
import { quickRatio, readCommonPasswords, validatePassword } from '../../../dist/django/password-validation.js';

const USERS = [
  { username: 'alice', firstName: 'Alice', lastName: 'Liddell', email: 'alice@example.com' },
  { username: 'josé.o+brien@x', firstName: 'José', lastName: "O'Brien", email: 'jose@example.com' },
  { username: 'bob', firstName: '', lastName: null, email: '' },
];
const PASSWORDS = [
  'short', 'alice', 'alice123', 'Alice.Liddell', 'liddell!', 'ecilA-ecila', 'aliceexample', 'alice@example.com',
  'password', 'iloveyou', '  Password  ', 'qwertyuiop', '12345678', '１２３４５６７８９', '1234567a',
  'correct horse battery staple', 'jose.obrien', "O'Brien-José", 'jösé-öbrien', 'bobbobbob', 'b0b-the-builder',
  'x'.repeat(100) + 'bob', 'Tr0ub4dor&3', '', 'Ünïcödé-Pässwörd-1',
];
const SIMILARITIES = [0.7, 0.5, 1];

test('quick_ratio as difflib computes it', () => {
  assert.equal(quickRatio('abc', 'abc'), 1);
  assert.equal(quickRatio('abcd', 'dcba'), 1);
  assert.equal(quickRatio('bob', 'bobsmith'), (2 * 3) / 11);
  assert.equal(quickRatio('', ''), 1);
  assert.equal(quickRatio('x', ''), 0);
});

test("every rule answers as Django's validate_password with the same validators", { skip: need('Django (python3-django)', djangoAvailable().ok, djangoAvailable().reason) }, async () => {
  const listPath = (await djangoShell({ DLB_DB_ENGINE: 'sqlite', DLB_DB_NAME: '/nonexistent/unused.sqlite3' }, 'from django.contrib.auth.password_validation import CommonPasswordValidator as C\nprint(C.DEFAULT_PASSWORD_LIST_PATH)')).trim();
  const code = `
import json, sys
from django.contrib.auth.password_validation import validate_password, get_password_validators
from django.core.exceptions import ValidationError
users = json.loads(${JSON.stringify(JSON.stringify(USERS))})
passwords = json.loads(${JSON.stringify(JSON.stringify(PASSWORDS))})
out = []
for sim in ${JSON.stringify(SIMILARITIES)}:
    validators = get_password_validators([
        {'NAME': 'django.contrib.auth.password_validation.MinimumLengthValidator', 'OPTIONS': {'min_length': 8}},
        {'NAME': 'django.contrib.auth.password_validation.UserAttributeSimilarityValidator', 'OPTIONS': {'max_similarity': sim}},
        {'NAME': 'django.contrib.auth.password_validation.CommonPasswordValidator'},
        {'NAME': 'django.contrib.auth.password_validation.NumericPasswordValidator'},
    ])
    for u in users:
        user = User(username=u['username'], first_name=u['firstName'] or '', last_name=u['lastName'] or '', email=u['email'] or '')
        for p in passwords:
            try:
                validate_password(p, user, validators)
                out.append([])
            except ValidationError as e:
                out.append([[x.code, ' '.join(x.messages)] for x in e.error_list])
print(json.dumps(out))
`;
  const django = JSON.parse(await djangoShell({ DLB_DB_ENGINE: 'sqlite', DLB_DB_NAME: '/nonexistent/unused.sqlite3' }, code));
  const common = readCommonPasswords(listPath);
  assert.ok(common.size > 10000, `${common.size} common passwords read from ${listPath}`);
  const ours = [];
  for (const maxSimilarity of SIMILARITIES) {
    for (const u of USERS) {
      for (const p of PASSWORDS) ours.push(validatePassword(p, u, { minLength: 8, maxSimilarity, common, numeric: true }).map((r) => [r.rule, r.message]));
    }
  }
  assert.equal(ours.length, django.length);
  const differ = ours.map((o, i) => [o, django[i], i]).filter(([o, d]) => JSON.stringify(o) !== JSON.stringify(d));
  assert.deepEqual(differ, [], 'cases where the bridge and Django disagree');
  // The corpus exercises every rule.
  const rules = new Set(django.flat().map(([c]) => c));
  assert.deepEqual([...rules].sort(), ['password_entirely_numeric', 'password_too_common', 'password_too_short', 'password_too_similar']);
});

test('rules switched off refuse nothing', () => {
  assert.deepEqual(validatePassword('1', { username: '1' }, { minLength: 0, maxSimilarity: null, numeric: false }), []);
});
