// Squid's LDAP helpers against the bridge, on data made by real Django (SQLite and PostgreSQL;
// the real proxy on SQLite): Debian's basic_ldap_auth and ext_ldap_group_acl run with the exact command lines of the squid.conf in
// docs/integrations/squid.md (read from the page; only host, port and password file replaced),
// fed the way Squid feeds them (one URL-escaped request a line on stdin, OK/ERR on stdout).
// Every answer is compared with what Django says: authenticate(), is_active, the user's groups.
// Then a real Squid (squid -N, its own squid.conf, port and runtime directory) runs the page's
// squid.conf in front of a tiny local HTTP server: 407 / 200 / 403 as Django says.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { DJANGO_FACTS_PY, RUN_AS, freePort, basic, request } from '../helpers/apache.js';
import { recordSecrets } from '../helpers/secrets.js';
import { makePassword } from '../../dist/django/hashers/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOC = join(ROOT, 'docs', 'integrations', 'squid.md');
const BASIC = '/usr/lib/squid/basic_ldap_auth';
const GROUP = '/usr/lib/squid/ext_ldap_group_acl';
const SQUID_DN = 'cn=squid,ou=services,dc=example,dc=com';
const SQUID_PW = 'squid-Svc-Secret!';
recordSecrets([SQUID_PW]);

const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const pg = await postgresAvailable();
const pgSkip = need('PostgreSQL on 127.0.0.1:5432', pg.ok, pg.reason);
const squidBin = spawnSync('squid', ['-v'], { encoding: 'utf8' });
const proxySkip = need('Squid (squid)', squidBin.status === 0, squidBin.error ? 'squid not on PATH' : squidBin.stderr);
const squidSkip = need('Squid LDAP helpers (squid)', existsSync(BASIC) && existsSync(GROUP), `${BASIC} or ${GROUP} missing`);

/** The squid.conf block of the docs page. */
export function squidConf() {
  const m = readFileSync(DOC, 'utf8').match(/```squidconf\n([\s\S]*?)```/);
  if (!m) throw new Error(`${DOC} has no squidconf block`);
  return m[1];
}

/** A helper's argv from the squid.conf line starting with `prefix`, pointed at the test's bridge. */
function helperArgv(conf, prefix, { host, port, passwordFile }) {
  const line = conf.split('\n').find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`no "${prefix}" line in the squidconf block of ${DOC}`);
  const words = line.slice(prefix.length).trim().split(/\s+/);
  const start = words.findIndex((w) => w.startsWith('/'));
  return words.slice(start).map((w) => (w === 'ldap.example.com' ? host : w === '389' ? port : w === '/etc/squid/ldap-password' ? passwordFile : w));
}

/** The page's squid.conf pointed at the test's bridge and password file. */
const localConf = (conf, { host, port, passwordFile }) =>
  conf.replaceAll('ldap.example.com', host).replaceAll(' -p 389', ` -p ${port}`).replaceAll('/etc/squid/ldap-password', passwordFile);

/** Squid's URL escaping of a helper's token (rfc1738_escape: anything but unreserved ASCII). */
const squidEscape = (s) => encodeURIComponent(s).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Runs a helper once over `lines`; resolves one answer word (OK/ERR/BH) per line. */
function runHelper(argv, lines) {
  return new Promise((done, fail) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', fail);
    child.on('close', (code) => {
      const answers = out.split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
      if (answers.length !== lines.length) fail(new Error(`${argv[0]} exited ${code} after ${answers.length}/${lines.length} answers: ${err}`));
      else done(answers);
    });
    child.stdin.end(lines.map((l) => `${l}\n`).join(''));
  });
}

/** Names no user has, or that a filter must not expand: all must fail. */
const STRANGERS = [
  { username: 'nobody-here', password: 'whatever' },
  { username: 'alice)(uid=*', password: 'lètmein-alice' },
  { username: '*', password: 'lètmein-alice' },
  { username: 'ALICE', password: 'lètmein-alice' },
  { username: 'FRANK', password: 'frank-lower' },
];

const GROUPS = ['secret-agents', "Smith, John's team", 'hashers', '#hash', 'Ünïcödé', 'trailing space ', 'no such group'];

for (const engine of ['sqlite', 'postgres']) describe(`Squid helpers (${engine})`, { skip: djangoSkip || squidSkip || (engine === 'postgres' ? pgSkip : undefined) }, () => {
  let db;
  let br;
  let dir;
  let users;
  let facts;
  let basicArgv;
  let groupArgv;
  let ldapAt; // { host, port } of the bridge

  before(async () => {
    db = await makeDjangoDatabase({ engine });
    facts = new Map(JSON.parse(await djangoShell(db.env, DJANGO_FACTS_PY)).map((f) => [f.username, f]));
    users = db.expected.users;
    br = await startTestBridge({
      url: db.url,
      config: {
        serviceAccounts: [
          { dn: SERVICE_DN, password: await makePassword(SERVICE_PW, { iterations: 1000 }) },
          { dn: SQUID_DN, password: await makePassword(SQUID_PW, { iterations: 1000 }) },
        ],
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'dlb-squid-'));
    const passwordFile = join(dir, 'ldap-password');
    writeFileSync(passwordFile, SQUID_PW, { mode: 0o600 });
    const { hostname, port } = new URL(br.url);
    ldapAt = { host: hostname, port };
    const conf = squidConf();
    basicArgv = helperArgv(conf, 'auth_param basic program', { host: hostname, port, passwordFile });
    groupArgv = helperArgv(conf, 'external_acl_type', { host: hostname, port, passwordFile });
  });

  after(async () => {
    await br?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('basic_ldap_auth: every user with the right and a wrong password, and the strangers, as Django answers', async () => {
    const cases = [
      ...users.map((u) => ({ username: u.username, password: u.password, want: u.authenticates })),
      ...users.map((u) => ({ username: u.username, password: u.wrongPassword, want: false })),
      ...STRANGERS.map((s) => ({ ...s, want: false })),
    ];
    const answers = await runHelper(basicArgv, cases.map((c) => `${squidEscape(c.username)} ${squidEscape(c.password)}`));
    // Squid lets in only OK. The helper answers ERR when the user's bind fails (wrong password)
    // and BH ("Success") when its search finds no one (unknown, inactive): both are refusals.
    const known = (c) => facts.get(c.username)?.isActive;
    const want = (c) => (c.want ? 'OK' : known(c) ? 'ERR' : 'BH');
    const wrong = cases.flatMap((c, i) => (answers[i] === want(c) ? [] : [`${JSON.stringify(c.username)} ${c.want ? 'right' : 'wrong'} password: ${answers[i]}, not ${want(c)}`]));
    assert.deepEqual(wrong, []);
    assert.ok(cases.filter((c) => c.want).length >= 10, 'most users log in');
    for (const name of ['josé.o+brien@x', 'Frank', 'frank']) assert.ok(cases.some((c) => c.username === name && c.want), `${name} logs in`);
    for (const name of ['dora', 'eve']) assert.ok(cases.some((c) => c.username === name && !c.want && c.password === users.find((u) => u.username === name).password), `${name} (inactive / unusable) is refused`);
  });

  test('ext_ldap_group_acl: every user against Django groups (names needing escaping, non-ASCII), members OK, others ERR', async () => {
    const names = [...facts.keys(), 'nobody-here', 'ALICE', '*'];
    const cases = names.flatMap((username) => GROUPS.map((group) => {
      const f = facts.get(username);
      return { username, group, want: Boolean(f && f.isActive && f.groups.includes(group)) };
    }));
    const answers = await runHelper(groupArgv, cases.map((c) => `${squidEscape(c.username)} ${squidEscape(c.group)}`));
    const wrong = cases.flatMap((c, i) => (answers[i] === (c.want ? 'OK' : 'ERR') ? [] : [`${JSON.stringify(c.username)} in ${JSON.stringify(c.group)}: ${answers[i]}`]));
    assert.deepEqual(wrong, []);
    assert.ok(cases.filter((c) => c.want).length >= 10, 'many memberships are found');
    for (const g of GROUPS.slice(0, 6)) assert.ok(cases.some((c) => c.group === g && c.want), `a member of ${JSON.stringify(g)} is found`);
  });

  test('a group removal and a deactivation in Django are seen on the next check', async () => {
    await djangoShell(db.env, `
User.objects.get(username='alice').groups.remove(Group.objects.get(name='secret-agents'))
u = User.objects.get(username='frank'); u.is_active = False; u.save()
`);
    assert.deepEqual(await runHelper(groupArgv, ['alice secret-agents', 'frank secret-agents', 'root secret-agents']), ['ERR', 'ERR', facts.get('root').groups.includes('secret-agents') ? 'OK' : 'ERR']);
    const frank = users.find((u) => u.username === 'frank');
    assert.deepEqual(await runHelper(basicArgv, [`frank ${squidEscape(frank.password)}`]), ['BH'], 'no longer found, so refused');
  });
});

/** One request through the proxy at `proxyPort` for `url`; resolves its status. */
const viaProxy = async (proxyPort, url, headers = {}) => (await request(proxyPort, url, { headers })).status;

describe('a real Squid proxy with the page\'s squid.conf (SQLite)', { skip: djangoSkip || squidSkip || proxySkip }, () => {
  let db;
  let br;
  let dir;
  let upstream;
  let squid;
  let squidExit;
  let proxyPort;
  let users;
  let facts;
  let target;

  before(async () => {
    db = await makeDjangoDatabase({ engine: 'sqlite' });
    facts = new Map(JSON.parse(await djangoShell(db.env, DJANGO_FACTS_PY)).map((f) => [f.username, f]));
    users = db.expected.users;
    br = await startTestBridge({
      url: db.url,
      config: { serviceAccounts: [{ dn: SQUID_DN, password: await makePassword(SQUID_PW, { iterations: 1000 }) }] },
    });
    upstream = http.createServer((_req, res) => res.end('upstream page'));
    await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
    target = `http://127.0.0.1:${upstream.address().port}/`;

    // Squid's own runtime directory; as root, Squid and its helpers run as RUN_AS's user.
    dir = mkdtempSync(join(tmpdir(), 'dlb-squid-proxy-'));
    chmodSync(dir, 0o755);
    const passwordFile = join(dir, 'ldap-password');
    writeFileSync(passwordFile, SQUID_PW, { mode: 0o600 });
    if (RUN_AS) for (const p of [dir, passwordFile]) chownSync(p, RUN_AS.uid, RUN_AS.gid);
    proxyPort = await freePort();
    const { hostname, port } = new URL(br.url);
    const conf = [
      `http_port 127.0.0.1:${proxyPort}`,
      ...(RUN_AS ? [`cache_effective_user ${RUN_AS.user}`] : []),
      `pid_filename ${join(dir, 'squid.pid')}`,
      `access_log stdio:${join(dir, 'access.log')}`,
      `cache_log ${join(dir, 'cache.log')}`,
      `coredump_dir ${dir}`,
      'netdb_filename none',
      'pinger_enable off',
      'cache deny all',
      'cache_mem 8 MB',
      'visible_hostname localhost',
      'shutdown_lifetime 0 seconds',
      localConf(squidConf(), { host: hostname, port, passwordFile }),
    ].join('\n');
    writeFileSync(join(dir, 'squid.conf'), conf);
    squid = spawn('squid', ['-N', '-f', join(dir, 'squid.conf')], { stdio: 'ignore' });
    squidExit = new Promise((r) => squid.on('exit', r));
    // Ready when it answers (407: it asks for credentials); a deadline, never a fixed sleep.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (squid.exitCode !== null) throw new Error(`squid exited ${squid.exitCode}: ${readFileSync(join(dir, 'cache.log'), 'utf8').slice(-2000)}`);
      const status = await viaProxy(proxyPort, target).catch(() => null);
      if (status !== null) break;
      if (Date.now() > deadline) throw new Error('squid did not answer within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    if (squid && squid.exitCode === null) {
      squid.kill('SIGTERM');
      await squidExit;
    }
    await new Promise((r) => (upstream ? upstream.close(r) : r()));
    await br?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('407 without credentials, with a wrong password or for an unknown or inactive user; 200 for members of secret-agents; 403 for other users', async () => {
    assert.equal(await viaProxy(proxyPort, target), 407);
    const pick = ['alice', 'frank', 'Frank', 'josé.o+brien@x', 'bob', 'root', 'dora', 'eve'];
    const got = [];
    const want = [];
    for (const name of pick) {
      const u = users.find((x) => x.username === name);
      const f = facts.get(name);
      got.push(`${name} right: ${await viaProxy(proxyPort, target, { 'proxy-authorization': basic(name, u.password) })}`);
      want.push(`${name} right: ${!u.authenticates ? 407 : f.groups.includes('secret-agents') ? 200 : 403}`);
      got.push(`${name} wrong: ${await viaProxy(proxyPort, target, { 'proxy-authorization': basic(name, u.wrongPassword) })}`);
      want.push(`${name} wrong: 407`);
    }
    // Squid's default lowercases names; with the page's casesensitive on, FRANK is no one.
    got.push(`FRANK: ${await viaProxy(proxyPort, target, { 'proxy-authorization': basic('FRANK', users.find((x) => x.username === 'frank').password) })}`);
    want.push('FRANK: 407');
    got.push(`nobody: ${await viaProxy(proxyPort, target, { 'proxy-authorization': basic('nobody-here', 'whatever') })}`);
    want.push('nobody: 407');
    assert.deepEqual(got, want);
    assert.ok(want.some((w) => w.endsWith(': 200')) && want.some((w) => w.endsWith(': 403')), 'both a member and a non-member log in');
  });
});
