// Dovecot against the bridge, on data made by real Django (SQLite and PostgreSQL): private
// Dovecot 2.3 instances (own dovecot.conf, base_dir, log and IMAP port on 127.0.0.1, started
// and stopped here) run the configuration of docs/integrations/dovecot.md (read from the page;
// only host, port, service password, mail directory and mail user replaced). `doveadm auth test`
// asks Dovecot's passdb, `doveadm user` its userdb, and a real IMAP LOGIN goes through
// imap-login; every answer is compared with what Django says (authenticate(), is_active, groups).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge } from '../helpers/bridge.js';
import { DJANGO_FACTS_PY, LOGIN_STRANGERS, freePort, mapPool } from '../helpers/apache.js';
import { recordSecrets } from '../helpers/secrets.js';
import { makePassword } from '../../dist/django/hashers/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOC = join(ROOT, 'docs', 'integrations', 'dovecot.md');
const DOVECOT_DN = 'cn=dovecot,ou=services,dc=example,dc=com';
const DOVECOT_PW = 'dovecot-Svc-Secret!';
recordSecrets([DOVECOT_PW]);
// The mail user Dovecot's mail processes run as (the page's `vmail`): root cannot be one.
const MAIL_USER = { user: 'nobody', group: 'nogroup' };

const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const pg = await postgresAvailable();
const pgSkip = need('PostgreSQL on 127.0.0.1:5432', pg.ok, pg.reason);
const dovecotBin = spawnSync('dovecot', ['--version'], { encoding: 'utf8' });
const ldapDriver = ['/usr/lib/dovecot/modules/auth/libauthdb_ldap.so', '/usr/lib/dovecot/modules/auth/lib20_authdb_ldap.so'].some(existsSync);
const imapd = existsSync('/usr/lib/dovecot/imap') && existsSync('/usr/lib/dovecot/imap-login');
const dovecotSkip = need('Dovecot 2.3 with LDAP and IMAP (dovecot-core, dovecot-ldap, dovecot-imapd)',
  dovecotBin.status === 0 && dovecotBin.stdout.startsWith('2.3.') && ldapDriver && imapd,
  dovecotBin.error ? 'dovecot not on PATH' : !dovecotBin.stdout.startsWith('2.3.') ? `dovecot --version says ${JSON.stringify(dovecotBin.stdout.trim())}` : !ldapDriver ? 'no LDAP auth driver (dovecot-ldap)' : 'no imap/imap-login (dovecot-imapd)');
const mailUser = spawnSync('id', ['-u', MAIL_USER.user], { encoding: 'utf8' });
const mailGroup = spawnSync('getent', ['group', MAIL_USER.group], { encoding: 'utf8' });
// Dovecot switches its processes to its own users (dovecot, dovenull) and the mail user: as root.
const rootSkip = need('root (Dovecot switches its processes to the dovecot, dovenull and nobody users)',
  process.getuid?.() === 0 && mailUser.status === 0 && mailGroup.status === 0,
  process.getuid?.() !== 0 ? 'not running as root' : `no ${MAIL_USER.user} user or ${MAIL_USER.group} group`);

/** A fenced block of the docs page by its language tag. */
function docBlock(lang) {
  const m = readFileSync(DOC, 'utf8').match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'));
  if (!m) throw new Error(`${DOC} has no ${lang} block`);
  return m[1];
}

/** `key = value` lines of `changes` replace the same keys of `conf` (the page's variants). */
function replaceLines(conf, changes) {
  let out = conf;
  for (const line of changes.split('\n').filter(Boolean)) {
    const key = line.split('=')[0].trim();
    const re = new RegExp(`^${key} =.*$`, 'm');
    if (!re.test(out)) throw new Error(`no ${key} line to replace`);
    out = out.replace(re, () => line);
  }
  return out;
}

/**
 * Starts a private Dovecot running `ldapConf` (a dovecot-ldap.conf.ext text from the page) behind
 * `doveconf` (the page's dovecot.conf block unless given); resolves once its IMAP port greets.
 */
async function startDovecot({ name, ldapConf, bridgeUrl, doveconf = docBlock('doveconf') }) {
  const dir = mkdtempSync(join(tmpdir(), `dlb-dovecot-${name}-`));
  chmodSync(dir, 0o755); // the mail user must reach its maildir under here
  for (const d of ['run', 'state']) mkdirSync(join(dir, d));
  const vmail = join(dir, 'vmail');
  mkdirSync(vmail);
  chownSync(vmail, Number(mailUser.stdout.trim()), Number(mailGroup.stdout.split(':')[2]));
  const { hostname, port } = new URL(bridgeUrl);
  const ldapFile = join(dir, 'dovecot-ldap.conf.ext');
  writeFileSync(ldapFile, ldapConf
    .replace('ldap://ldap.example.com:389', `ldap://${hostname}:${port}`)
    .replace('dnpass = CHANGE-ME', `dnpass = ${DOVECOT_PW}`)
    .replaceAll('/var/vmail/', `${vmail}/`), { mode: 0o600 });
  const imapPort = await freePort();
  const page = doveconf
    .replaceAll('/etc/dovecot/dovecot-ldap.conf.ext', ldapFile)
    .replace('mail_uid = vmail', `mail_uid = ${MAIL_USER.user}`)
    .replace('mail_gid = vmail', `mail_gid = ${MAIL_USER.group}`);
  const conf = join(dir, 'dovecot.conf');
  const log = join(dir, 'dovecot.log');
  writeFileSync(conf, [
    '# A private test instance: nothing from /etc/dovecot.',
    `base_dir = ${join(dir, 'run')}`,
    `state_dir = ${join(dir, 'state')}`,
    `log_path = ${log}`,
    'protocols = imap',
    'listen = 127.0.0.1',
    'ssl = no',
    'auth_failure_delay = 0',
    'auth_verbose = yes',
    'service imap-login {',
    '  inet_listener imap {',
    '    address = 127.0.0.1',
    `    port = ${imapPort}`,
    '  }',
    '  inet_listener imaps {',
    '    port = 0',
    '  }',
    '}',
    page,
  ].join('\n'));
  const child = spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.on('exit', r));
  const logTail = () => (existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : '');
  const inst = {
    dir,
    conf,
    imapPort,
    log: () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Ready when imap-login greets; a deadline, never a fixed sleep.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dovecot exited ${child.exitCode}: ${stderr}${logTail()}`);
    const greeting = await imapGreeting(imapPort).catch(() => null);
    if (greeting?.startsWith('* OK')) break;
    if (Date.now() > deadline) {
      await inst.stop();
      throw new Error(`dovecot did not greet on ${imapPort} within 60 s: ${stderr}${logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return inst;
}

function imapGreeting(port) {
  return new Promise((done, fail) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.setTimeout(5000, () => s.destroy(new Error('no greeting')));
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\r\n')) {
        s.end('x LOGOUT\r\n');
        done(buf.split('\r\n')[0]);
      }
    });
    s.on('error', fail);
  });
}

/** Runs doveadm against the instance; resolves { code, out }. */
function doveadm(inst, args) {
  return new Promise((done, fail) => {
    const child = spawn('doveadm', ['-c', inst.conf, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

/**
 * Dovecot's passdb for one login, as IMAP would ask it: { ok, user } (user: the name Dovecot
 * keeps). A temporary failure (the bridge unreachable, the service bind refused) is an error,
 * never a refusal, so that no case passes because nothing answered.
 */
async function passdb(inst, username, password) {
  // -x no-penalty: Dovecot's per-address penalty would delay every later check after a failure.
  const { code, out } = await doveadm(inst, ['auth', 'test', '-x', 'service=imap', '-x', 'no-penalty', username, password]);
  if (code !== 0 && code !== 77) throw new Error(`doveadm auth test ${JSON.stringify(username)} exited ${code}: ${out}`);
  if (/code=temp_fail/.test(out)) throw new Error(`doveadm auth test ${JSON.stringify(username)}: temporary failure: ${out}\n${inst.log().slice(-2000)}`);
  const ok = code === 0;
  if (ok !== /auth succeeded/.test(out)) throw new Error(`doveadm auth test ${JSON.stringify(username)} exited ${code} but said: ${out}`);
  return { ok, user: /^\s*user=(.*)$/m.exec(out)?.[1] };
}

/** Dovecot's userdb for one name: its home, or null when the user is not found. */
async function userdbHome(inst, username) {
  const { code, out } = await doveadm(inst, ['user', '-f', 'home', username]);
  if (code === 67) return null; // EX_NOUSER: "userdb lookup: user ... doesn't exist"
  if (code !== 0) throw new Error(`doveadm user ${JSON.stringify(username)} exited ${code}: ${out}`);
  return out.trim();
}

/**
 * A real IMAP session on the instance's port: LOGIN (name and password as literals, so any
 * byte goes through unquoted), then SELECT INBOX when logged in, then LOGOUT.
 * Resolves { login: 'OK'|'NO'|'BAD'|'closed', text, select }: 'closed' when the server hangs
 * up before answering the LOGIN (text: all it sent).
 */
function imapLogin(port, username, password) {
  return new Promise((done, fail) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    let all = '';
    let waiter = null;
    let loggedIn = null;
    const timer = setTimeout(() => {
      s.destroy();
      fail(new Error(`IMAP session for ${JSON.stringify(username)} did not finish within 60 s; got ${JSON.stringify(all)}`));
    }, 60_000);
    s.on('close', () => {
      clearTimeout(timer);
      if (loggedIn === null) done({ login: 'closed', text: all, select: null });
      else if (waiter) fail(new Error(`IMAP server closed the session of ${JSON.stringify(username)} after LOGIN; got ${JSON.stringify(all)}`));
    });
    const check = () => {
      if (!waiter) return;
      const m = waiter.re.exec(buf);
      if (m) {
        buf = buf.slice(m.index + m[0].length);
        const w = waiter;
        waiter = null;
        w.resolve(m[0].trim());
      }
    };
    const line = (re) => new Promise((r) => {
      waiter = { re, resolve: r };
      check();
    });
    s.on('data', (d) => {
      buf += d.toString('utf8');
      all += d.toString('utf8');
      check();
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    (async () => {
      await line(/^\* OK.*\r\n/m);
      const u = Buffer.from(username);
      const p = Buffer.from(password);
      s.write(`a1 LOGIN {${u.length}}\r\n`);
      await line(/^\+.*\r\n/m);
      s.write(Buffer.concat([u, Buffer.from(` {${p.length}}\r\n`)]));
      await line(/^\+.*\r\n/m);
      s.write(Buffer.concat([p, Buffer.from('\r\n')]));
      const answer = await line(/^a1 .*\r\n/m);
      loggedIn = answer.startsWith('a1 OK');
      let select = null;
      if (answer.startsWith('a1 OK')) {
        s.write('a2 SELECT INBOX\r\n');
        select = (await line(/^a2 .*\r\n/m)).split(' ')[1];
      }
      s.end('a3 LOGOUT\r\n');
      done({ login: answer.split(' ')[1], text: answer, select });
    })().catch((e) => {
      clearTimeout(timer);
      s.destroy();
      fail(e);
    });
  });
}

/** Names no user has, or that a filter or DN must not expand: all refused. */
const STRANGERS = [...LOGIN_STRANGERS, { username: 'alice,ou=users', password: 'lètmein-alice' }];

for (const engine of ['sqlite', 'postgres']) describe(`Dovecot passdb/userdb ldap (${engine})`, { skip: djangoSkip || dovecotSkip || rootSkip || (engine === 'postgres' ? pgSkip : undefined) }, () => {
  let db;
  const bridges = [];
  let users;
  let facts;
  const inst = {}; // search, group, groupEscaped, userdn, lookup, stockNames
  const refreshFacts = async () => {
    facts = new Map(JSON.parse(await djangoShell(db.env, DJANGO_FACTS_PY)).map((f) => [f.username, f]));
  };
  /** Every user right and wrong, and the strangers: [{ username, password, right }]. */
  const allCases = () => [
    ...users.map((u) => ({ username: u.username, password: u.password, right: true })),
    ...users.map((u) => ({ username: u.username, password: u.wrongPassword, right: false })),
    ...STRANGERS.map((s) => ({ ...s, right: false })),
  ];
  const authenticates = (c) => c.right && users.find((u) => u.username === c.username).authenticates;

  before(async () => {
    db = await makeDjangoDatabase({ engine });
    await refreshFacts();
    users = db.expected.users;
    const search = docBlock('dovecot-ldap');
    const group = replaceLines(search, docBlock('dovecot-ldap-group'));
    // The page's rule for names that need DN escaping, on a real group of that kind.
    const groupEscaped = group.replaceAll('memberOf=cn=secret-agents,', "memberOf=cn=Smith\\5c, John's team,");
    const lookup = replaceLines(search, 'auth_bind = no\npass_attrs = uid=user,userPassword=password');
    const confs = { search, group, groupEscaped, userdn: docBlock('dovecot-ldap-userdn'), lookup };
    // One bridge per instance, each with its own brute-force counters (as separate bridges
    // keep them without Redis): every form is asked the same wrong passwords, and five
    // failures for one name within five minutes lock it.
    const serviceAccounts = [{ dn: DOVECOT_DN, password: await makePassword(DOVECOT_PW, { iterations: 1000 }) }];
    // Dovecot's defaults for the two username settings (the page's lines left out).
    const stockNames = docBlock('doveconf').replace(/^auth_username_(format|chars) =.*\n/gm, '');
    assert.doesNotMatch(stockNames, /auth_username/);
    for (const [name, ldapConf, doveconf] of [...Object.entries(confs), ['stockNames', search, stockNames]]) {
      const br = await startTestBridge({ url: db.url, config: { serviceAccounts } });
      bridges.push(br);
      inst[name] = await startDovecot({ name, ldapConf, bridgeUrl: br.url, doveconf });
    }
  });

  after(async () => {
    for (const i of Object.values(inst)) await i.stop();
    for (const br of bridges) await br.close();
    await db?.drop();
  });

  test('search form: every user with the right and a wrong password, and the strangers, as Django answers; the name kept is the Django username', async () => {
    const cases = allCases();
    const answers = await mapPool(cases, 4, (c) => passdb(inst.search, c.username, c.password));
    const wrong = cases.flatMap((c, i) => {
      const want = authenticates(c);
      const got = answers[i];
      if (got.ok !== want) return [`${JSON.stringify(c.username)} ${c.right ? 'right' : 'wrong'} password: ${got.ok ? 'logged in' : 'refused'}`];
      if (got.ok && got.user !== c.username) return [`${JSON.stringify(c.username)} logged in as ${JSON.stringify(got.user)}`];
      return [];
    });
    assert.deepEqual(wrong, []);
    assert.ok(cases.filter(authenticates).length >= 10, 'most users log in');
    for (const name of ['josé.o+brien@x', 'Frank', 'frank']) assert.ok(cases.some((c) => c.username === name && authenticates(c)), `${name} logs in`);
    for (const name of ['dora', 'eve']) assert.ok(cases.some((c) => c.username === name && c.right && !authenticates(c)), `${name} (inactive / unusable) is refused`);
    // Dovecot's log says why: a refused bind, or no such user (never a connection problem).
    assert.match(inst.search.log(), /ldap\(alice\): Password mismatch \(for LDAP bind\)/);
    assert.match(inst.search.log(), /ldap\(dora\): unknown user/);
  });

  test('userdb: an active user\'s home is named by the Django id; inactive and unknown users are not found', async () => {
    const alice = users.find((u) => u.username === 'alice');
    const ids = JSON.parse(await djangoShell(db.env, 'import json; print(json.dumps({u.username: u.pk for u in User.objects.all()}))'));
    assert.equal(await userdbHome(inst.search, 'alice'), join(inst.search.dir, 'vmail', String(ids[alice.username])));
    assert.equal(await userdbHome(inst.search, 'josé.o+brien@x'), join(inst.search.dir, 'vmail', String(ids['josé.o+brien@x'])));
    assert.equal(await userdbHome(inst.search, 'dora'), null);
    assert.equal(await userdbHome(inst.search, 'nobody-here'), null);
    assert.equal(await userdbHome(inst.search, 'ALICE'), null);
  });

  test('group filter: only active members of secret-agents (and of "Smith, John\'s team", a name needing DN escaping) log in', async () => {
    const cases = allCases();
    for (const [name, group] of [['group', 'secret-agents'], ['groupEscaped', "Smith, John's team"]]) {
      const answers = await mapPool(cases, 4, (c) => passdb(inst[name], c.username, c.password));
      const want = (c) => authenticates(c) && facts.get(c.username).groups.includes(group);
      const wrong = cases.flatMap((c, i) => (answers[i].ok === want(c) ? [] : [`${group}: ${JSON.stringify(c.username)} ${c.right ? 'right' : 'wrong'} password: ${answers[i].ok ? 'logged in' : 'refused'}`]));
      assert.deepEqual(wrong, []);
      assert.ok(cases.some(want), `a member of ${group} logs in`);
      assert.ok(cases.some((c) => authenticates(c) && !want(c)), `a non-member of ${group} who could log in is refused`);
    }
    // A non-member's userdb lookup finds no one either (LMTP would refuse their mail).
    assert.equal(await userdbHome(inst.group, 'bob'), null);
    assert.notEqual(await userdbHome(inst.group, 'alice'), null);
  });

  test('auth_bind_userdn form: the same users log in; ALICE passes the passdb as "ALICE" (bind DNs resolve case-insensitively to a single match), the userdb does not find her', async () => {
    const cases = allCases();
    const answers = await mapPool(cases, 4, (c) => passdb(inst.userdn, c.username, c.password));
    const want = (c) => authenticates(c) || (c.username === 'ALICE' && c.password === users.find((u) => u.username === 'alice').password);
    const wrong = cases.flatMap((c, i) => {
      if (answers[i].ok !== want(c)) return [`${JSON.stringify(c.username)} ${c.right ? 'right' : 'wrong'} password: ${answers[i].ok ? 'logged in' : 'refused'}`];
      if (answers[i].ok && answers[i].user !== c.username) return [`${JSON.stringify(c.username)} kept as ${JSON.stringify(answers[i].user)}`];
      return [];
    });
    assert.deepEqual(wrong, []);
    // FRANK matches both frank and Frank case-insensitively: no single match, refused (above).
    assert.equal(await userdbHome(inst.userdn, 'ALICE'), null);
  });

  test('password lookups (auth_bind = no, pass_attrs with userPassword) refuse everyone: no hashes are served', async () => {
    const pick = users.filter((u) => u.authenticates).slice(0, 5);
    assert.equal(pick.length, 5);
    const answers = await mapPool(pick, 4, (u) => passdb(inst.lookup, u.username, u.password));
    assert.deepEqual(answers.map((a) => a.ok), pick.map(() => false));
    // Refused because no password came back, not because the search or the connection failed.
    for (const u of pick) assert.ok(inst.lookup.log().includes(`ldap(${u.username}): No password returned (and no nopassword)`), `${u.username}: ${inst.lookup.log().slice(-1500)}`);
  });

  test('without the page\'s username settings (Dovecot\'s defaults): names are lowercased, so Frank cannot log in and types into frank\'s account, and names with + or non-ASCII letters are refused', async () => {
    const pw = (name) => users.find((u) => u.username === name).password;
    const got = [];
    for (const [username, password] of [['Frank', pw('Frank')], ['Frank', pw('frank')], ['ALICE', pw('alice')], ['josé.o+brien@x', pw('josé.o+brien@x')], ['alice', pw('alice')]]) {
      const r = await passdb(inst.stockNames, username, password);
      got.push(`${username} with ${users.find((u) => u.password === password).username}'s password: ${r.ok ? `in as ${r.user}` : 'refused'}`);
    }
    assert.deepEqual(got, [
      "Frank with Frank's password: refused",
      "Frank with frank's password: in as frank",
      "ALICE with alice's password: in as alice",
      "josé.o+brien@x with josé.o+brien@x's password: refused",
      "alice with alice's password: in as alice",
    ]);
  });

  test('a real IMAP LOGIN: OK and SELECT INBOX for users who log in, NO for a wrong password, an inactive user, an unknown name and ALICE (both forms)', async () => {
    const pw = (name) => users.find((u) => u.username === name).password;
    // Failures and successes alternate: Dovecot delays a failed address's next login, and a
    // success clears it.
    const cases = [
      ['search', 'alice', pw('alice'), 'OK'],
      ['search', 'alice', users.find((u) => u.username === 'alice').wrongPassword, 'NO'],
      ['search', 'josé.o+brien@x', pw('josé.o+brien@x'), 'OK'],
      ['search', 'dora', pw('dora'), 'NO'],
      ['search', 'Frank', pw('Frank'), 'OK'],
      ['search', 'ALICE', pw('alice'), 'NO'],
      ['search', 'u_argon2', pw('u_argon2'), 'OK'],
      ['search', 'nobody-here', 'whatever', 'NO'],
      ['userdn', 'frank', pw('frank'), 'OK'],
      ['userdn', 'ALICE', pw('alice'), 'NO'],
      ['userdn', 'alice', pw('alice'), 'OK'],
    ];
    const got = [];
    for (const [form, username, password] of cases) {
      const r = await imapLogin(inst[form].imapPort, username, password);
      if (form === 'userdn' && username === 'ALICE') {
        // The passdb said yes, the userdb found no one: Dovecot ends the login as an internal
        // error, answering NO [UNAVAILABLE]; under load one run's session ended without the
        // tagged answer (the client then waited forever), so a hang-up counts as the refusal.
        assert.ok(r.login === 'closed' || /NO \[UNAVAILABLE\] Internal error occurred/.test(r.text), r.text);
        got.push(`${form} ${username}: ${r.login === 'closed' ? 'NO' : r.login}`);
      } else got.push(`${form} ${username}: ${r.login}${r.select ? ` select ${r.select}` : ''}`);
    }
    assert.match(inst.userdn.log(), /ldap\(ALICE,127\.0\.0\.1,<[^>]*>\): user not found from userdb/);
    assert.deepEqual(got, cases.map(([form, username, , want]) => `${form} ${username}: ${want}${want === 'OK' ? ' select OK' : ''}`));
    assert.ok(existsSync(join(inst.search.dir, 'vmail')), 'the maildirs live under the instance');
    assert.match(inst.search.log(), /imap-login: Info: Login: user=<josé\.o\+brien@x>/);
  });

  test('a deactivation and a group removal in Django are seen on the next login', async () => {
    const pw = (name) => users.find((u) => u.username === name).password;
    assert.equal((await passdb(inst.group, 'alice', pw('alice'))).ok, true);
    assert.equal((await passdb(inst.search, 'frank', pw('frank'))).ok, true);
    await djangoShell(db.env, `
User.objects.get(username='alice').groups.remove(Group.objects.get(name='secret-agents'))
u = User.objects.get(username='frank'); u.is_active = False; u.save()
`);
    assert.equal((await passdb(inst.group, 'alice', pw('alice'))).ok, false, 'alice left the group');
    assert.equal((await passdb(inst.search, 'alice', pw('alice'))).ok, true, 'alice still logs in without the group filter');
    assert.equal((await passdb(inst.search, 'frank', pw('frank'))).ok, false, 'frank deactivated');
    assert.equal((await passdb(inst.userdn, 'frank', pw('frank'))).ok, false, 'frank deactivated (userdn form)');
    assert.equal(await userdbHome(inst.search, 'frank'), null);
  });
});
