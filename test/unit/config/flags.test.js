// The command-line layer (src/config/flags.ts): what each flag sets, and its label.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagsLayer } from '../../../dist/config/flags.js';

test('each flag sets its setting, labelled with the flag', () => {
  const l = flagsLayer({ database: 'sqlite:///x', baseDn: 'dc=x', listen: ['ldap://a:1'], logLevel: 'debug', logFormat: 'json', metrics: '127.0.0.1:9100', workers: '4' });
  assert.deepEqual(l.data, { database: 'sqlite:///x', baseDn: 'dc=x', listen: ['ldap://a:1'], log: { level: 'debug', format: 'json' }, metrics: { listen: '127.0.0.1:9100' }, workers: 4 });
  assert.deepEqual(Object.fromEntries(l.labels), {
    database: '--database', baseDn: '--base-dn', listen: '--listen', 'log.level': '--log-level', 'log.format': '--log-format', 'metrics.listen': '--metrics', workers: '--workers',
  });
});

test('absent flags set nothing: undefined, an empty --listen list; --config is not a setting', () => {
  const l = flagsLayer({ config: 'x.yaml', database: undefined, listen: [], logLevel: undefined });
  assert.deepEqual(l.data, {});
  assert.equal(l.labels.size, 0);
});

test('a --listen string is split at commas; a --workers word is left for the schema to refuse', () => {
  assert.deepEqual(flagsLayer({ listen: 'ldap://a:1, ldap://b:2,' }).data.listen, ['ldap://a:1', 'ldap://b:2']);
  assert.equal(flagsLayer({ workers: 'many' }).data.workers, 'many');
});
