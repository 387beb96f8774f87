// Apache talking to the bridge over TLS: `AuthLDAPURL ... STARTTLS` and `ldaps://`, with the
// CA given by LDAPTrustedGlobalCert, against a bridge that refuses password binds without TLS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { need } from '../helpers/require.js';
import { apacheAvailable, startApache } from '../helpers/apache.js';
import { demoDatabase, startDemoBridge, password, DEMO_SERVICE } from '../helpers/demo-bridge.js';

const opensslOk = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();
const skip = need('Apache 2.4 with mod_authnz_ldap', apacheAvailable().ok, apacheAvailable().reason) || need('openssl', opensslOk, 'not on PATH');

let dir;
let bridge;
let apache;
before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'dlb-apache-tls-'));
  chmodSync(dir, 0o755);
  const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Bridge Test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  execFileSync('sh', ['-c', "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf"], { cwd: dir });
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
  chmodSync(join(dir, 'ca.pem'), 0o644);
  const db = await demoDatabase(2000);
  bridge = await startDemoBridge(db.url, {
    tls: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key') },
    listen: ['ldap://127.0.0.1:0', 'ldaps://127.0.0.1:0'],
    security: { requireTls: 'always' },
  });
  const [plain, secure] = bridge.urls;
  const loc = (path, url, extra = '') => `
<Location ${path}>
  AuthType Basic
  AuthName "tls"
  AuthBasicProvider ldap
  AuthLDAPURL "${url}/ou=users,dc=example,dc=com?uid"${extra}
  AuthLDAPBindDN "${DEMO_SERVICE.dn}"
  AuthLDAPBindPassword "${DEMO_SERVICE.password}"
  AuthLDAPMaxSubGroupDepth 0
  Require valid-user
</Location>`;
  apache = await startApache({
    name: 'tls',
    htdocs: { 'starttls/ok.txt': 'ok', 'ldaps/ok.txt': 'ok', 'plain/ok.txt': 'ok' },
    body: [`LDAPTrustedGlobalCert CA_BASE64 "${join(dir, 'ca.pem')}"`, 'LDAPVerifyServerCert On', loc('/starttls', plain, ' STARTTLS'), loc('/ldaps', secure), loc('/plain', plain)].join('\n'),
  });
});
after(async () => {
  await apache?.stop();
  await bridge?.close();
});

test('Apache authenticates through StartTLS and ldaps://, and not in the clear when TLS is required', { skip }, async () => {
  for (const path of ['/starttls/ok.txt', '/ldaps/ok.txt']) {
    assert.equal((await apache.get(path, { user: 'alice', password: password('alice') })).status, 200, path);
    assert.equal((await apache.get(path, { user: 'alice', password: 'wrong' })).status, 401, path);
    assert.equal((await apache.get(path, { user: 'dave', password: password('dave') })).status, 401, `${path}: inactive`);
  }
  // Without TLS the bridge answers confidentialityRequired (13) to Apache's service bind: nobody
  // gets in, and Apache says 500 (an LDAP error, not a wrong password).
  assert.equal((await apache.get('/plain/ok.txt', { user: 'alice', password: password('alice') })).status, 500);
  const tlsBinds = bridge.logs.filter((l) => l.includes('"op":"extended"') && l.includes('starttls'));
  assert.ok(tlsBinds.length > 0, 'Apache used StartTLS');
  assert.ok(bridge.logs.some((l) => l.includes('"outcome":"tls-required"')));
});
