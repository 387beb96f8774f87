// The apache-config generator (src/apache/config.ts) as a pure function, and the command's
// errors. What its output does in a real Apache is test/e2e/apache.test.js's job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../dist/config/load.js';
import { parseDn } from '../../../dist/ldap/dn.js';
import {
  apacheLocation, apacheOptionsFromConfig, apacheQuote, apacheExprString, apacheWord, apacheUrlForListen, ldapUrl, ApacheConfigError,
} from '../../../dist/apache/config.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'django-ldap-bridge.js');
const HASH = 'pbkdf2_sha256$1000$c2FsdA$aGFzaA==';
const SVC = 'cn=apache,ou=services,dc=example,dc=com';

const dirs = [];
process.on('exit', () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function configFile(doc) {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-apache-cfg-'));
  dirs.push(dir);
  const file = join(dir, 'bridge.json');
  writeFileSync(file, JSON.stringify({ database: 'sqlite:///nonexistent/db.sqlite3', baseDn: 'dc=example,dc=com', serviceAccounts: [{ dn: SVC, password: HASH }], ...doc }));
  return { file, dir };
}
function config(doc = {}) {
  const { file, dir } = configFile(doc);
  return loadConfig({ flags: { config: file }, env: {}, cwd: dir });
}
const gen = (req, doc) => apacheLocation(apacheOptionsFromConfig(config(doc), { location: '/x', ...req }));
const requireLines = (text) => text.split('\n').filter((l) => /^\s*Require /.test(l)).map((l) => l.trim());

/** What Apache's two parsers make of a `Require` argument (the escapes this module writes). */
function unExpr(s) {
  return s.replace(/\\(.)/g, '$1');
}

test('quoting for the config-file tokenizer, the expression parser and Require word lists', () => {
  assert.equal(apacheQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.throws(() => apacheQuote('x${HOME}'), ApacheConfigError);
  assert.throws(() => apacheQuote('a\nb'), ApacheConfigError);
  assert.equal(apacheExprString('cn=a\\,b 100%{x} $1'), 'cn=a\\\\,b 100\\%{x} \\$1');
  assert.equal(apacheWord('alice'), 'alice');
  assert.equal(apacheWord("o'brien x"), '"o\'brien x"');
  assert.equal(apacheWord('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(apacheWord(''), '""');
});

test('the LDAP URL percent-encodes the DN but keeps = and , readable', () => {
  assert.equal(ldapUrl('ldap://h:1', 'ou=users,dc=example,dc=com', ['uid']), 'ldap://h:1/ou=users,dc=example,dc=com?uid');
  assert.equal(ldapUrl('ldap://h:1/', 'ou=users,o=A\\2C B?&C', ['uid', 'mail']), 'ldap://h:1/ou=users,o=A%5C2C%20B%3F%26C?uid,mail');
  assert.equal(ldapUrl('ldap://h:1', 'dc=x', ['uid'], '(objectClass=*)'), 'ldap://h:1/dc=x?uid?sub?(objectClass=*)');
});

test("the URL Apache uses comes from the bridge's first listen address", () => {
  assert.equal(apacheUrlForListen('ldap://127.0.0.1:3389'), 'ldap://127.0.0.1:3389');
  assert.equal(apacheUrlForListen('ldap://0.0.0.0:3389'), 'ldap://127.0.0.1:3389');
  assert.equal(apacheUrlForListen('ldap://[::]:3389'), 'ldap://[::1]:3389');
  assert.equal(apacheUrlForListen('ldaps://ldap.example.com'), 'ldaps://ldap.example.com:636');
  assert.equal(apacheUrlForListen('ldap://ldap.example.com/'), 'ldap://ldap.example.com:389');
  assert.throws(() => apacheUrlForListen('ldap://127.0.0.1:0'), /port 0.*--ldap-url/);
  const text = gen({ require: ['valid-user'] }, { listen: ['ldap://0.0.0.0:3999'] });
  assert.match(text, /AuthLDAPURL "ldap:\/\/127\.0\.0\.1:3999\/ou=users,dc=example,dc=com\?uid"/);
  assert.match(gen({ require: ['valid-user'], ldapUrl: 'ldap://bridge.internal:3389' }), /AuthLDAPURL "ldap:\/\/bridge\.internal:3389\/ou=users,/);
  assert.match(gen({ require: ['valid-user'], ldapUrl: 'ldaps://bridge.internal:636' }), /LDAPTrustedGlobalCert/);
});

test('every recipe sets AuthLDAPMaxSubGroupDepth 0 and says why', () => {
  const reqs = [['valid-user'], ['user', 'alice'], ['group', 'g'], ['permission', 'a.b'], ['staff'], ['superuser']];
  for (const r of reqs) {
    for (const extra of [{}, { bindAsUser: true }]) {
      const text = gen({ require: r, ...extra });
      assert.match(text, /^ {4}AuthLDAPMaxSubGroupDepth 0$/m, r.join(' '));
      assert.match(text, /Django groups do not nest/);
      assert.match(text, /^<Location "\/x">$/m);
      assert.match(text, /^<\/Location>$/m);
    }
  }
});

test('Require lines for each recipe, with DNs as the bridge writes them and escapes doubled', () => {
  assert.deepEqual(requireLines(gen({ require: ['valid-user'] })), ['Require valid-user']);
  assert.deepEqual(requireLines(gen({ require: ['group', 'secret-agents', 'C++ Developers'] })), [
    'Require ldap-group cn=secret-agents,ou=groups,dc=example,dc=com',
    'Require ldap-group cn=C\\\\+\\\\+ Developers,ou=groups,dc=example,dc=com',
  ]);
  assert.deepEqual(requireLines(gen({ require: ['permission', 'svn.commit_repo'] })), ['Require ldap-group cn=svn.commit_repo,ou=permissions,dc=example,dc=com']);
  assert.deepEqual(requireLines(gen({ require: ['permission', 'svn.commit_repo'], via: 'attribute' })), ['Require ldap-attribute djangoPermission=svn.commit_repo']);
  assert.deepEqual(requireLines(gen({ require: ['staff'] })), ['Require ldap-group cn=staff,ou=roles,dc=example,dc=com']);
  assert.deepEqual(requireLines(gen({ require: ['superuser'] })), ['Require ldap-group cn=superusers,ou=roles,dc=example,dc=com']);
  assert.deepEqual(requireLines(gen({ require: ['staff'], via: 'attribute' })), ['Require ldap-attribute djangoIsStaff=TRUE']);
  assert.deepEqual(requireLines(gen({ require: ['superuser'], via: 'attribute' })), ['Require ldap-attribute djangoIsSuperuser=TRUE']);
  assert.deepEqual(requireLines(gen({ require: ['user', 'alice', 'josé o"b\\x'] })), ['Require ldap-user alice "josé o\\\\"b\\\\\\\\x"']);
  const memberUid = gen({ require: ['group', 'g'], groupAttribute: 'memberUid' });
  assert.match(memberUid, /AuthLDAPGroupAttribute memberUid\n\s+AuthLDAPGroupAttributeIsDN off/);
  assert.match(gen({ require: ['group', 'g'] }), /AuthLDAPGroupAttribute member\n\s+AuthLDAPGroupAttributeIsDN on/);
  // The configured tree is used.
  assert.deepEqual(requireLines(gen({ require: ['group', 'g'] }, { tree: { groups: 'Django Groups' } })), ['Require ldap-group cn=g,ou=Django Groups,dc=example,dc=com']);
});

test('each group DN survives Apache\'s expression parser and parses back to the group name', () => {
  for (const name of ["Smith, John's team", ' leading space', 'trailing space ', '#hash', 'a=b+c;<d>"e"\\f', 'Ünïcödé', 'pay$1 100%{x} ${HOME}', 'x\\']) {
    const [line] = requireLines(gen({ require: ['group', name] }));
    const arg = line.replace(/^Require ldap-group /, '');
    assert.ok(!arg.includes('${'), `no httpd variable reference left: ${arg}`);
    const dn = unExpr(arg);
    assert.deepEqual(parseDn(dn)[0], [{ type: 'cn', value: name }], `${JSON.stringify(name)} -> ${arg}`);
  }
});

test('the service password is never in the output: an environment variable or a program', () => {
  const env = gen({ require: ['valid-user'] });
  assert.match(env, /AuthLDAPBindDN "cn=apache,ou=services,dc=example,dc=com"/);
  assert.match(env, /AuthLDAPBindPassword "\$\{DLB_BIND_PASSWORD\}"/);
  assert.ok(!env.includes(HASH));
  assert.match(gen({ require: ['valid-user'], bindPasswordEnv: 'APACHE_LDAP_PW' }), /AuthLDAPBindPassword "\$\{APACHE_LDAP_PW\}"/);
  assert.match(gen({ require: ['valid-user'], bindPasswordExec: '/usr/local/sbin/ldap-pw' }), /AuthLDAPBindPassword "exec:\/usr\/local\/sbin\/ldap-pw"/);
  assert.throws(() => gen({ require: ['valid-user'], bindPasswordEnv: 'NOT-A-NAME' }), ApacheConfigError);
  assert.throws(() => gen({ require: ['valid-user'], bindPasswordEnv: 'A', bindPasswordExec: '/x' }), /not both/);
  // Which service account.
  const two = { serviceAccounts: [{ dn: SVC, password: HASH }, { dn: 'cn=other,ou=services,dc=example,dc=com', password: HASH }] };
  assert.match(gen({ require: ['valid-user'], bindDn: 'CN=Other, OU=services,dc=example,dc=com' }, two), /AuthLDAPBindDN "cn=other,ou=services,dc=example,dc=com"/);
  assert.throws(() => gen({ require: ['valid-user'], bindDn: 'cn=nobody,dc=example,dc=com' }, two), /not one of the configured serviceAccounts/);
  assert.throws(() => gen({ require: ['valid-user'] }, { serviceAccounts: [] }), /no serviceAccounts.*--bind-as-user/);
});

test('without a service account: bind as the user, search and compare as the user', () => {
  const text = gen({ require: ['group', 'g'], bindAsUser: true }, { serviceAccounts: [] });
  assert.ok(!/AuthLDAPBindDN|AuthLDAPBindPassword/.test(text));
  assert.match(text, /AuthLDAPInitialBindAsUser on\n\s+AuthLDAPInitialBindPattern \(\.\+\) "uid=\$1,ou=users,dc=example,dc=com"\n\s+AuthLDAPSearchAsUser on\n\s+AuthLDAPCompareAsUser on/);
  // ap_pregsub takes & and $N from the container DN literally only when escaped.
  assert.match(gen({ require: ['valid-user'], bindAsUser: true }, { baseDn: 'o=A&B$2,c=DE' }), /AuthLDAPInitialBindPattern \(\.\+\) "uid=\$1,ou=users,o=A\\\\&B\\\\\$2,c=DE"/);
  assert.throws(() => gen({ require: ['valid-user'], bindAsUser: true, bindDn: SVC }), /--bind-as-user uses no service account/);
});

test('attributes for the backend become part of the URL', () => {
  const text = gen({ require: ['valid-user'], attributes: ['mail', 'cn', 'UID'] });
  assert.match(text, /AuthLDAPURL "[^"]*\?uid,mail,cn"/);
  assert.match(text, /AUTHENTICATE_MAIL, AUTHENTICATE_CN/);
  assert.throws(() => gen({ require: ['valid-user'], attributes: ['mail)(x'] }), ApacheConfigError);
});

test('requests that cannot be written are refused with the option to fix', () => {
  assert.throws(() => gen({ require: [] }), /--require is required/);
  assert.throws(() => gen({ require: ['group'] }), /needs at least one group name/);
  assert.throws(() => gen({ require: ['valid-user', 'alice'] }), /takes no names/);
  assert.throws(() => gen({ require: ['permission', 'commit_repo'] }), /app_label\.codename/);
  assert.throws(() => gen({ require: ['wheel'] }), /one of valid-user, user, group, permission, staff, superuser/);
  assert.throws(() => gen({ require: ['group', 'g'], via: 'attribute' }), /--via applies to/);
  assert.throws(() => gen({ require: ['permission', 'a.b'], groupAttribute: 'memberUid' }), /--group-attribute applies to --require group only/);
  assert.throws(() => gen({ require: ['user', 'a${HOME}'] }), /cannot be escaped/);
  assert.throws(() => gen({ require: ['valid-user'], location: 'secret' }), /--location must be a URL path/);
  assert.throws(() => gen({ require: ['valid-user'], authName: 'a\nb' }), ApacheConfigError);
});

test('the command: output on stdout, problems on stderr with exit status 2', () => {
  const { file } = configFile({});
  const run = (args) => spawnSync(process.execPath, [BIN, 'apache-config', '--config', file, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  const ok = run(['--location', '/secret', '--require', 'group', "Smith, John's team"]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^# Generated by: django-ldap-bridge apache-config --location \/secret --require group 'Smith, John'\\''s team'\n<Location "\/secret">/);
  assert.match(ok.stdout, /Require ldap-group cn=Smith\\\\, John's team,ou=groups,dc=example,dc=com/);
  const bad = run(['--require', 'group']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /apache-config: --require group needs at least one group name/);
  const noSvc = spawnSync(process.execPath, [BIN, 'apache-config', '--database', 'sqlite:///x/db.sqlite3', '--base-dn', 'dc=example,dc=com', '--require', 'valid-user'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.equal(noSvc.status, 2);
  assert.match(noSvc.stderr, /no serviceAccounts/);
  const noBase = spawnSync(process.execPath, [BIN, 'apache-config', '--database', 'sqlite:///x/db.sqlite3', '--require', 'valid-user'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.equal(noBase.status, 2);
  assert.match(noBase.stderr, /baseDn: required/);
  const missing = run([]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /--require/);
});
