// Reading the config file (src/config/file.ts): YAML and JSON through the `yaml` package, with
// the line and column of every syntax error and duplicate key, and never a value quoted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigFile } from '../../../dist/config/file.js';
import { ConfigError } from '../../../dist/config/database-url.js';

const dir = mkdtempSync(join(tmpdir(), 'dlb-config-file-'));
const SECRET = 'pw-Zq81-never-shown';
const read = (name, text) => {
  writeFileSync(join(dir, name), text);
  return readConfigFile(name, dir);
};
/** The problems readConfigFile throws, each without its "config file <name>: " prefix. */
const problems = (name, text) => {
  try {
    read(name, text);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    for (const p of e.problems) assert.ok(p.startsWith(`config file ${name}: `), p);
    return e.problems.map((p) => p.slice(`config file ${name}: `.length));
  }
  assert.fail('no problem reported');
};

test('a duplicate key in YAML is named, with its line and column', () => {
  assert.deepEqual(problems('dup.yaml', 'baseDn: dc=x\nusers:\n  table: a\n  columns: {}\n  table: b\n'), ['YAML error at line 5, column 3: duplicate key "table"']);
  assert.deepEqual(problems('dup2.yml', 'log: { level: info, level: debug }\n'), ['YAML error at line 1, column 21: duplicate key "level"']);
});

test('a duplicate key in JSON is named, with its line and column, at any depth', () => {
  assert.deepEqual(problems('dup.json', '{"baseDn": "dc=x",\n "baseDn": "dc=y"}'), ['invalid JSON at line 2, column 2: duplicate key "baseDn"']);
  assert.deepEqual(problems('nested.json', '{\n  "users": {\n    "table": "a",\n    "columns": {"email": "e", "email": "f"}\n  }\n}'), ['invalid JSON at line 4, column 31: duplicate key "email"']);
});

test('JSON syntax errors: the first one, where it is, never quoting the text', () => {
  assert.deepEqual(problems('bare.json', `{\n  "baseDn": "dc=x",\n  "database": ${SECRET}\n}`), ['invalid JSON at line 3, column 15: not a JSON value (a string needs "double quotes")']);
  assert.deepEqual(problems('trunc.json', '{"baseDn": "dc=x",\n'), ['invalid JSON at line 2, column 1: unexpected end of file']);
  assert.deepEqual(problems('colon.json', '{"baseDn" "dc=x"}'), ['invalid JSON at line 1, column 11: Missing , or : between flow map items']);
});

test('YAML syntax in a .json file stays an error, located where V8 can say', () => {
  const [trailing] = problems('trailing.json', '{"baseDn": "dc=x",\n "database": "sqlite:///x",}');
  assert.match(trailing, /^invalid JSON at line 2, column 28: YAML syntax, not JSON \(a comment, a trailing comma, /);
  assert.match(problems('comment.json', '# settings\n{"baseDn": "dc=x"}')[0], /^invalid JSON: YAML syntax, not JSON .*name the file \.yaml$/);
  assert.match(problems('single.json', "{'baseDn': 'dc=x'}")[0], /^invalid JSON at line 1, column 2: YAML syntax/);
  // The same text is a fine YAML file.
  assert.deepEqual(read('single.yaml', "{'baseDn': 'dc=x'}"), { baseDn: 'dc=x' });
});

test('YAML syntax errors: every one, each with its line, none quoting the file', () => {
  const p = problems('broken.yaml', `baseDn: dc=x\ndatabase: postgres://a:${SECRET}@h/db\nlisten: [ldap://a:1\nlog: x\n`);
  assert.ok(p.length >= 1);
  for (const l of p) assert.match(l, /^YAML error at line \d+, column \d+: /);
  assert.ok(!p.join('\n').includes(SECRET));
});

test('JSON and YAML give the same values; a BOM and an empty file are fine; "__proto__" stays a key', () => {
  const doc = { baseDn: 'dc=x', listen: ['ldap://127.0.0.1:1'], limits: { maxSearchSeconds: 2.5 }, users: { columns: { email: null } }, anonymous: { search: true } };
  assert.deepEqual(read('same.json', `\uFEFF${JSON.stringify(doc, null, 2)}`), doc);
  assert.deepEqual(read('same.yaml', 'baseDn: dc=x\nlisten: [ldap://127.0.0.1:1]\nlimits: { maxSearchSeconds: 2.5 }\nusers: { columns: { email: ~ } }\nanonymous: { search: true }\n'), doc);
  assert.deepEqual(read('empty.yaml', '# nothing yet\n'), {});
  const proto = read('proto.json', '{"__proto__": {"x": 1}}');
  assert.ok(Object.prototype.hasOwnProperty.call(proto, '__proto__'));
  assert.equal({}.x, undefined);
});

test('a file that is not a mapping, of an unknown type, or missing is a problem naming it', () => {
  assert.deepEqual(problems('list.json', '[1, 2]'), ['must hold a mapping of settings at the top level']);
  assert.deepEqual(problems('c.toml', 'x = 1'), ['unsupported file type ".toml" (expected .yaml, .yml or .json)']);
  assert.throws(() => readConfigFile('nope.yaml', dir), (e) => e instanceof ConfigError && /^config file nope\.yaml: not found \(/.test(e.problems[0]));
});

test('an alias bomb is refused, not expanded', () => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n');
  assert.match(problems('bomb.yaml', bomb)[0], /^YAML error: /);
});
