// The listen URL parser (src/ldap/listen-url.ts), shared by the config check and the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListenUrl, InvalidListenUrlError } from '../../../dist/ldap/listen-url.js';

test('ldap:// and ldaps:// with a host (name, IPv4 or [IPv6]) and a port', () => {
  assert.deepEqual(parseListenUrl('ldap://127.0.0.1:3389'), { host: '127.0.0.1', port: 3389, secure: false });
  assert.deepEqual(parseListenUrl('LDAPS://ldap.example.com:636/'), { host: 'ldap.example.com', port: 636, secure: true });
  assert.deepEqual(parseListenUrl('ldap://[::]:0'), { host: '::', port: 0, secure: false });
});

test('anything else is refused with a message naming the URL, never guessed', () => {
  for (const url of ['ldap://localhost', 'ldap://:389', 'ldap://h:65536', 'ldap://h:1/dc=x', 'ldap://u:p@h:1', 'http://h:1', 'ldap://h:1?x', 'ldap://[zz]:1', ' ldap://h:1']) {
    assert.throws(() => parseListenUrl(url), (e) => e instanceof InvalidListenUrlError && e.message.endsWith(`(got ${JSON.stringify(url)})`), url);
  }
});

test('the server module still offers it (its importers need not change)', async () => {
  const server = await import('../../../dist/ldap/server.js');
  assert.equal(server.parseListenUrl, parseListenUrl);
});
