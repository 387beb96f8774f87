// FreeRADIUS against the bridge, on data made by real Django (SQLite and PostgreSQL): private
// FreeRADIUS 3.2 instances (own radiusd.conf, log, run directory and UDP port on 127.0.0.1,
// started and stopped here) run the ldap module and virtual server of
// docs/integrations/freeradius.md (read from the page; only host, port, service password and
// listening address replaced). PAP Access-Requests from radclient and radtest get Accept or
// Reject; every answer is compared with what Django says (authenticate(), is_active, groups).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge } from '../helpers/bridge.js';
import { DJANGO_FACTS_PY, LOGIN_STRANGERS, mapPool } from '../helpers/apache.js';
import { recordSecrets } from '../helpers/secrets.js';
import { makePassword } from '../../dist/django/hashers/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOC = join(ROOT, 'docs', 'integrations', 'freeradius.md');
const RADIUS_DN = 'cn=freeradius,ou=services,dc=example,dc=com';
const RADIUS_PW = 'freeradius-Svc-Secret!';
const CLIENT_SECRET = 'radius-Client-Secret';
recordSecrets([RADIUS_PW, CLIENT_SECRET]);

const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const pg = await postgresAvailable();
const pgSkip = need('PostgreSQL on 127.0.0.1:5432', pg.ok, pg.reason);
const radiusd = spawnSync('freeradius', ['-v'], { encoding: 'utf8' });
const rlmLdap = existsSync('/usr/lib/freeradius/rlm_ldap.so');
const ALWAYS = '/etc/freeradius/3.0/mods-available/always';
const tools = ['radclient', 'radtest'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
const radiusSkip = need('FreeRADIUS 3.2 with rlm_ldap, radclient and radtest (freeradius, freeradius-ldap, freeradius-utils)',
  radiusd.status === 0 && /FreeRADIUS Version 3\.2\./.test(radiusd.stdout) && rlmLdap && tools && existsSync(ALWAYS),
  radiusd.error ? 'freeradius not on PATH' : !/FreeRADIUS Version 3\.2\./.test(radiusd.stdout) ? `freeradius -v says ${JSON.stringify(radiusd.stdout.split('\n')[0])}` : !rlmLdap ? 'no /usr/lib/freeradius/rlm_ldap.so (freeradius-ldap)' : !tools ? 'no radclient/radtest (freeradius-utils)' : `no ${ALWAYS} (freeradius-config)`);
// Without `security { user, group }` FreeRADIUS keeps the user it starts as; the test's files
// are its own either way, so no root is needed.

/** A fenced block of the docs page by its language tag. */
function docBlock(lang) {
  const m = readFileSync(DOC, 'utf8').match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'));
  if (!m) throw new Error(`${DOC} has no ${lang} block`);
  return m[1];
}

/** A free UDP port on 127.0.0.1 (the kernel's choice, released for FreeRADIUS to take). */
function freeUdpPort() {
  return new Promise((done, fail) => {
    const s = dgram.createSocket('udp4');
    s.on('error', fail);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

/**
 * Starts a private FreeRADIUS with `ldap` (the page's ldap module unless given) and `site` (the
 * page's virtual server, or a variant of it); resolves once it logs that it is ready.
 */
async function startRadius({ name, site, ldap: ldapModule = docBlock('freeradius-ldap'), bridgeUrl }) {
  const dir = mkdtempSync(join(tmpdir(), `dlb-freeradius-${name}-`));
  for (const d of ['run', 'log']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'dictionary'), ''); // the main dictionary comes from /usr/share/freeradius
  const { hostname, port } = new URL(bridgeUrl);
  const ldap = ldapModule
    .replace("server = 'ldap.example.com'", `server = '${hostname}'`)
    .replace('port = 389', `port = ${port}`)
    .replace("password = 'CHANGE-ME'", `password = '${RADIUS_PW}'`);
  writeFileSync(join(dir, 'ldap'), ldap, { mode: 0o600 });
  let udpPort;
  let child;
  let stderr = '';
  const log = join(dir, 'log', 'radius.log');
  const readLog = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  // The port is free when asked for and taken a moment later: retry if another process took it.
  for (let attempt = 0; ; attempt++) {
    udpPort = await freeUdpPort();
    const listen = site.replace('ipaddr = *', 'ipaddr = 127.0.0.1').replace('port = 1812', `port = ${udpPort}`);
    writeFileSync(join(dir, 'radiusd.conf'), [
      '# A private test instance: nothing from /etc/freeradius.',
      'prefix = /usr',
      'exec_prefix = /usr',
      'sysconfdir = /etc',
      'localstatedir = /var',
      'sbindir = /usr/sbin',
      `logdir = ${join(dir, 'log')}`,
      `raddbdir = ${dir}`,
      `radacctdir = ${join(dir, 'log')}`,
      'name = freeradius',
      'confdir = ${raddbdir}',
      'modconfdir = ${confdir}/mods-config',
      'certdir = ${confdir}/certs',
      'cadir = ${confdir}/certs',
      `run_dir = ${join(dir, 'run')}`,
      'db_dir = ${raddbdir}',
      'libdir = /usr/lib/freeradius',
      'pidfile = ${run_dir}/${name}.pid',
      'max_request_time = 30',
      'cleanup_delay = 5',
      'max_requests = 16384',
      'hostname_lookups = no',
      'log {',
      '\tdestination = files',
      '\tfile = ${logdir}/radius.log',
      '\tauth = yes',
      '\tauth_badpass = no',
      '\tauth_goodpass = no',
      '}',
      'security {',
      '\tallow_core_dumps = no',
      '\tmax_attributes = 200',
      '\treject_delay = 0',
      '\tstatus_server = no',
      '}',
      'thread pool {',
      '\tstart_servers = 2',
      '\tmax_servers = 4',
      '\tmin_spare_servers = 1',
      '\tmax_spare_servers = 3',
      '\tmax_requests_per_server = 0',
      '}',
      'client localhost {',
      '\tipaddr = 127.0.0.1',
      `\tsecret = ${CLIENT_SECRET}`,
      '}',
      'modules {',
      '$INCLUDE ${confdir}/ldap',
      // Debian's stock `always` module (enabled by default) defines `reject`, which the page's
      // group check calls.
      `$INCLUDE ${ALWAYS}`,
      '}',
      listen,
    ].join('\n'));
    child = spawn('freeradius', ['-f', '-d', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Errors before the log file is open go to stdout.
    child.stdout.on('data', (d) => (stderr += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((r) => child.on('exit', r));
    // Ready when it says so; a deadline, never a fixed sleep.
    const deadline = Date.now() + 60_000;
    let ready = false;
    while (!ready) {
      if (child.exitCode !== null) break;
      ready = readLog().includes('Ready to process requests');
      if (!ready && Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`freeradius did not get ready within 60 s: ${stderr}${readLog().slice(-3000)}`);
      }
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    if (ready) {
      return {
        dir,
        port: udpPort,
        log: readLog,
        async stop() {
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await exited;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await exited;
    if (attempt >= 2 || !/Address already in use/.test(stderr + readLog())) {
      const why = `freeradius exited ${child.exitCode}: ${stderr}${readLog().slice(-3000)}`;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(why);
    }
  }
}

/**
 * A double-quoted string of radclient's input. radclient 3.2 unescapes a quoted value twice
 * (its tokenizer, then the attribute parser): a single escape of `\"` sent `"`, and the bind
 * was refused; so `"` and `\` are escaped twice.
 */
const escapeOnce = (s) => s.replace(/[\\"]/g, '\\$&');
const quoted = (s) => `"${escapeOnce(escapeOnce(s))}"`;

/** Runs `cmd` with `input` on stdin; resolves { code, out } (stdout and stderr together). */
function run(cmd, args, input = '') {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** The answer to a RADIUS request: 'accept' or 'reject'; no answer is an error, never a reject. */
function answer(what, out) {
  if (/Received Access-Accept/.test(out)) return 'accept';
  if (/Received Access-Reject/.test(out)) return 'reject';
  throw new Error(`${what}: no Access-Accept or Access-Reject: ${out}`);
}

/** One PAP Access-Request by radclient (any bytes in the name and password). */
async function radclient(inst, username, password) {
  const input = `User-Name = ${quoted(username)}\nUser-Password = ${quoted(password)}\n`;
  const { out } = await run('radclient', ['-x', '-r', '1', '-t', '30', `127.0.0.1:${inst.port}`, 'auth', CLIENT_SECRET], input);
  return answer(`radclient ${JSON.stringify(username)}`, out);
}

/** One PAP Access-Request by radtest (only names and passwords its shell quoting survives). */
async function radtest(inst, username, password) {
  const { out } = await run('radtest', [username, password, `127.0.0.1:${inst.port}`, '0', CLIENT_SECRET]);
  return answer(`radtest ${JSON.stringify(username)}`, out);
}

for (const engine of ['sqlite', 'postgres']) describe(`FreeRADIUS rlm_ldap, PAP by LDAP bind (${engine})`, { skip: djangoSkip || radiusSkip || (engine === 'postgres' ? pgSkip : undefined) }, () => {
  let db;
  const bridges = [];
  let users;
  let facts;
  const inst = {}; // plain, group, groupPlus, stockFilter
  const refreshFacts = async () => {
    facts = new Map(JSON.parse(await djangoShell(db.env, DJANGO_FACTS_PY)).map((f) => [f.username, f]));
  };
  /** Every user right and wrong, and the strangers: [{ username, password, right }]. */
  const allCases = () => [
    ...users.map((u) => ({ username: u.username, password: u.password, right: true })),
    ...users.map((u) => ({ username: u.username, password: u.wrongPassword, right: false })),
    ...LOGIN_STRANGERS.map((s) => ({ ...s, right: false })),
  ];
  const authenticates = (c) => c.right && users.find((u) => u.username === c.username).authenticates;
  const pw = (name) => users.find((u) => u.username === name).password;

  before(async () => {
    db = await makeDjangoDatabase({ engine });
    await refreshFacts();
    users = db.expected.users;
    const site = docBlock('freeradius-site');
    const check = docBlock('freeradius-group');
    const afterLdap = '\tauthorize {\n\t\tldap\n';
    if (!site.includes(afterLdap)) throw new Error('the freeradius-site block has no `ldap` line first in authorize');
    const group = site.replace(afterLdap, afterLdap + check);
    const groupPlus = group.replace('LDAP-Group == "secret-agents"', 'LDAP-Group == "C++ Developers"');
    // One bridge per instance, each with its own brute-force counters: every instance is asked
    // the same wrong passwords, and five failures for one name within five minutes lock it.
    const serviceAccounts = [{ dn: RADIUS_DN, password: await makePassword(RADIUS_PW, { iterations: 1000 }) }];
    // Debian's stock user filter in place of the page's.
    const stockFilter = docBlock('freeradius-ldap').replace('filter = "(uid=%{User-Name})"', 'filter = "(uid=%{%{Stripped-User-Name}:-%{User-Name}})"');
    assert.notEqual(stockFilter, docBlock('freeradius-ldap'));
    for (const [name, text, ldap] of [['plain', site], ['group', group], ['groupPlus', groupPlus], ['stockFilter', site, stockFilter]]) {
      const br = await startTestBridge({ url: db.url, config: { serviceAccounts } });
      bridges.push(br);
      inst[name] = await startRadius({ name, site: text, ldap, bridgeUrl: br.url });
    }
  });

  after(async () => {
    for (const i of Object.values(inst)) await i.stop();
    for (const br of bridges) await br.close();
    await db?.drop();
  });

  test('radclient: every user with the right and a wrong password, and the strangers, as Django answers', async () => {
    const cases = allCases();
    const answers = await mapPool(cases, 4, (c) => radclient(inst.plain, c.username, c.password));
    const wrong = cases.flatMap((c, i) => (answers[i] === (authenticates(c) ? 'accept' : 'reject') ? [] : [`${JSON.stringify(c.username)} ${c.right ? 'right' : 'wrong'} password: ${answers[i]}`]));
    assert.deepEqual(wrong, []);
    assert.ok(cases.filter(authenticates).length >= 10, 'most users are accepted');
    for (const name of ['josé.o+brien@x', 'Frank', 'frank', 'u_bcrypt_sha256']) assert.ok(cases.some((c) => c.username === name && authenticates(c)), `${name} is accepted`);
    for (const name of ['dora', 'eve']) assert.ok(cases.some((c) => c.username === name && c.right && !authenticates(c)), `${name} (inactive / unusable) is rejected`);
  });

  test('radtest: Access-Accept for alice and Frank, Access-Reject for a wrong password, an inactive and an unknown user', async () => {
    const got = [];
    for (const [username, password] of [['alice', pw('alice')], ['alice', 'not-alices-password'], ['Frank', pw('Frank')], ['dora', pw('dora')], ['nobody-here', 'whatever']]) {
      got.push(`${username}: ${await radtest(inst.plain, username, password)}`);
    }
    assert.deepEqual(got, ['alice: accept', 'alice: reject', 'Frank: accept', 'dora: reject', 'nobody-here: reject']);
  });

  test('group check: only active members of secret-agents (and of "C++ Developers", a name with +) are accepted', async () => {
    const cases = allCases();
    for (const [name, group] of [['group', 'secret-agents'], ['groupPlus', 'C++ Developers']]) {
      const answers = await mapPool(cases, 4, (c) => radclient(inst[name], c.username, c.password));
      const want = (c) => authenticates(c) && facts.get(c.username).groups.includes(group);
      const wrong = cases.flatMap((c, i) => (answers[i] === (want(c) ? 'accept' : 'reject') ? [] : [`${group}: ${JSON.stringify(c.username)} ${c.right ? 'right' : 'wrong'} password: ${answers[i]}`]));
      assert.deepEqual(wrong, []);
      assert.ok(cases.some(want), `a member of ${group} is accepted`);
      assert.ok(cases.some((c) => authenticates(c) && !want(c)), `a non-member of ${group} who could log in is rejected`);
    }
  });

  test('Debian\'s stock nested user filter escapes twice: josé.o+brien@x is not found (the page\'s filter finds them)', async () => {
    const got = [];
    for (const name of ['josé.o+brien@x', 'alice', 'Frank']) {
      got.push(`${name}: stock ${await radclient(inst.stockFilter, name, pw(name))}, page ${await radclient(inst.plain, name, pw(name))}`);
    }
    assert.deepEqual(got, ['josé.o+brien@x: stock reject, page accept', 'alice: stock accept, page accept', 'Frank: stock accept, page accept']);
  });

  test('a deactivation and a group removal in Django are seen on the next request', async () => {
    assert.equal(await radclient(inst.group, 'alice', pw('alice')), 'accept');
    assert.equal(await radclient(inst.plain, 'frank', pw('frank')), 'accept');
    await djangoShell(db.env, `
User.objects.get(username='alice').groups.remove(Group.objects.get(name='secret-agents'))
u = User.objects.get(username='frank'); u.is_active = False; u.save()
`);
    assert.equal(await radclient(inst.group, 'alice', pw('alice')), 'reject', 'alice left the group');
    assert.equal(await radclient(inst.plain, 'alice', pw('alice')), 'accept', 'alice still gets in without the group check');
    assert.equal(await radclient(inst.plain, 'frank', pw('frank')), 'reject', 'frank deactivated');
  });
});
