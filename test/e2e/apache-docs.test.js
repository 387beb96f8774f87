// docs/apache.md, checked against the real thing: every command of "Debugging with ldapsearch"
// runs verbatim (only ldap://127.0.0.1:3389 becomes the test bridge's address) with the exit
// status its comment announces; the sample `apache-config` output is what the command prints;
// the bridge equivalents of Django's mod_wsgi configurations run in a real Apache; and the
// claims made about Apache (two Require lines are alternatives; an undefined password variable
// gives AH00111 and 500) hold.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { apacheAvailable, startApache, checkMatrix, DJANGO_FACTS_PY } from '../helpers/apache.js';
import { apacheLocation, apacheOptionsFromConfig } from '../../dist/apache/config.js';
import { loadConfig } from '../../dist/config/load.js';
import { makePassword } from '../../dist/django/hashers/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'apache.md'), 'utf8');
/** The address the documented commands use; the only text the test replaces. */
const DOC_URL = 'ldap://127.0.0.1:3389';

const apache = apacheAvailable();
const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const toolsSkip = need('OpenLDAP clients (ldap-utils)', hasCommand('ldapsearch', ['-VV']), 'ldapsearch not on PATH');
const apacheSkip = need('Apache httpd 2.4 with mod_authnz_ldap (apache2)', apache.ok, apache.reason);

/** The markdown between `## title` and the next `## `. */
function section(title) {
  const start = DOC.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `docs/apache.md has a "## ${title}" section`);
  const end = DOC.indexOf('\n## ', start + 4);
  return DOC.slice(start, end < 0 ? undefined : end);
}

/** Fenced blocks of one language, in order. */
function blocks(md, lang) {
  return [...md.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** Commands of a sh block: `\`-continued lines joined, each with the comment lines above it. */
function commands(sh) {
  const out = [];
  let comment = [];
  const lines = sh.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.trim() === '') {
      comment = [];
      continue;
    }
    if (line.startsWith('#')) {
      comment.push(line.slice(1).trim());
      continue;
    }
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1).trimEnd()} ${lines[++i].trim()}`;
    const why = comment.join(' ');
    const status = /Exit status (\d+)/i.exec(why);
    out.push({ command: line, comment: why, status: status ? Number(status[1]) : undefined });
    comment = [];
  }
  return out;
}

function sh(command, cwd) {
  return new Promise((resolvePromise) => {
    execFile('bash', ['-c', command], { cwd, timeout: 20_000, env: { PATH: process.env.PATH, HOME: cwd, LDAPNOINIT: '1' } }, (err, stdout, stderr) => {
      resolvePromise({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('docs/apache.md', { skip: djangoSkip }, () => {
  let db;
  let br;
  let facts;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'sqlite' });
    facts = JSON.parse(await djangoShell(db.env, DJANGO_FACTS_PY));
    br = await startTestBridge({ url: db.url, config: { security: { bruteForce: { enabled: false } } } });
  });
  after(async () => {
    await br?.close();
    await db?.drop();
  });
  const alice = () => db.expected.users.find((u) => u.username === 'alice');

  test('"Debugging with ldapsearch": every command runs verbatim with the exit status its comment gives', { skip: toolsSkip }, async () => {
    const cmds = blocks(section('Debugging with ldapsearch'), 'sh').flatMap(commands);
    assert.ok(cmds.length >= 8, `${cmds.length} commands`);
    const cwd = mkdtempSync(join(tmpdir(), 'dlb-doc-'));
    // The two password files the section asks for.
    writeFileSync(join(cwd, 'apache.pw'), SERVICE_PW, { mode: 0o600 });
    writeFileSync(join(cwd, 'user.pw'), alice().password, { mode: 0o600 });
    for (const c of cmds) {
      assert.ok(c.command.includes(DOC_URL), `uses ${DOC_URL}: ${c.command}`);
      assert.notEqual(c.status, undefined, `the comment above says the exit status: ${c.command}`);
      assert.ok(!/ -w /.test(c.command), `no password on the command line: ${c.command}`);
      const r = await sh(c.command.split(DOC_URL).join(br.url), cwd);
      assert.equal(r.code, c.status, `${c.command}\n${r.stdout}${r.stderr}`);
      if (c.command.startsWith('ldapsearch')) assert.match(r.stdout, /^dn:/m, `an entry: ${c.command}`);
    }
    rmSync(cwd, { recursive: true, force: true });
  });

  test('the sample apache-config output is what the command prints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlb-doc-cfg-'));
    const file = join(dir, 'bridge.json');
    writeFileSync(file, JSON.stringify({ database: db.url, baseDn: BASE, listen: [DOC_URL], serviceAccounts: [{ dn: SERVICE_DN, password: await makePassword('x', { iterations: 1000 }) }] }));
    const md = section('`django-ldap-bridge apache-config`');
    const [cmd] = blocks(md, 'sh');
    const sample = blocks(md, 'apache')[0];
    const m = /--location (\S+) --require (.+)$/.exec(cmd.trim());
    const printed = apacheLocation(apacheOptionsFromConfig(loadConfig({ flags: { config: file }, env: {}, cwd: dir }), {
      location: m[1],
      require: m[2].split(' '),
      generatedBy: `django-ldap-bridge apache-config --location ${m[1]} --require ${m[2]}`,
    }));
    assert.equal(sample, printed);
    rmSync(dir, { recursive: true, force: true });
  });

  test("the bridge equivalents of Django's mod_wsgi configurations, and Apache 2.4's OR-ed Require lines", { skip: apacheSkip }, async () => {
    const md = section('Coming from mod_wsgi `check_password`');
    const ours = blocks(md, 'apache').filter((b) => b.includes('AuthBasicProvider ldap'));
    assert.equal(ours.length, 2);
    const group = (f) => f.groups.includes('secret-agents');
    for (const [i, allowed] of [[0, () => true], [1, group]]) {
      const ap = await startApache({ name: 'doc-wsgi', body: ours[i].split(DOC_URL).join(br.url), env: { DLB_BIND_PASSWORD: SERVICE_PW }, htdocs: { 'secret/ok.txt': 'ok\n' } });
      try {
        const { mismatches } = await checkMatrix(ap, '/secret/ok.txt', db.expected.users, facts, allowed, { slow: i === 0 });
        assert.deepEqual(mismatches, [], ours[i]);
      } finally {
        await ap.stop();
      }
    }
    // Django's `Require group` is no provider of Apache 2.4's (without mod_authz_groupfile).
    await assert.rejects(
      startApache({ name: 'doc-group', body: ours[1].replace(/Require ldap-group .*/, 'Require group secret-agents').split(DOC_URL).join(br.url) }),
      /Unknown Authz provider: group/,
    );
    // Django's group example also says `Require valid-user`: in 2.4 that is an alternative, so
    // with it every user gets in, members or not.
    const both = ours[1].replace(/(\s*)(Require ldap-group .*)/, '$1$2$1Require valid-user').split(DOC_URL).join(br.url);
    const ap = await startApache({ name: 'doc-or', body: both, env: { DLB_BIND_PASSWORD: SERVICE_PW }, htdocs: { 'secret/ok.txt': 'ok\n' } });
    try {
      const bob = db.expected.users.find((u) => u.username === 'bob');
      assert.ok(!facts.find((f) => f.username === 'bob').groups.includes('secret-agents'));
      assert.equal((await ap.get('/secret/ok.txt', { user: 'bob', password: bob.password })).status, 200, 'a non-member gets in');
    } finally {
      await ap.stop();
    }
  });

  test("an undefined password variable, and the log lines that tell Apache's failures apart", { skip: apacheSkip }, async () => {
    const log = section('Debugging with ldapsearch');
    const lines = {
      service: '[LDAP: ldap_simple_bind() failed][Invalid credentials]',
      password: '[ldap_simple_bind() to check user credentials failed][Invalid credentials]',
      notFound: '[User not found][No such object]',
    };
    for (const l of Object.values(lines)) assert.ok(log.includes(l), `the doc quotes ${l}`);
    const cfg = loadConfig({ flags: { database: db.url, baseDn: BASE, listen: [br.url] }, env: {}, cwd: tmpdir() });
    const block = apacheLocation(apacheOptionsFromConfig({ ...cfg, serviceAccounts: [{ dn: SERVICE_DN, password: 'pbkdf2_sha256$1$x$y' }] }, { location: '/secret', require: ['valid-user'] }));
    const logLevel = 'warn authnz_ldap:info';
    const unset = await startApache({ name: 'doc-nopw', body: block, env: {}, htdocs: { 'secret/ok.txt': 'ok\n' }, logLevel });
    try {
      // Apache says so at start-up, on stderr or in its error log depending on the pass.
      await unset.waitForLog(/AH00111: Config variable \$\{DLB_BIND_PASSWORD\} is not defined/);
      assert.equal((await unset.get('/secret/ok.txt', { user: 'alice', password: alice().password })).status, 401, 'every login fails like a wrong password');
      await unset.waitForLog(`AH01695: auth_ldap authenticate: user alice authentication failed; URI /secret/ok.txt ${lines.service}`);
    } finally {
      await unset.stop();
    }
    const ok = await startApache({ name: 'doc-log', body: block, env: { DLB_BIND_PASSWORD: SERVICE_PW }, htdocs: { 'secret/ok.txt': 'ok\n' }, logLevel });
    try {
      assert.equal((await ok.get('/secret/ok.txt', { user: 'alice', password: alice().wrongPassword })).status, 401);
      assert.equal((await ok.get('/secret/ok.txt', { user: 'dora', password: 'dora-inactive' })).status, 401);
      assert.equal((await ok.get('/secret/ok.txt', { user: 'alice', password: alice().password })).status, 200);
      await ok.waitForLog(`user alice authentication failed; URI /secret/ok.txt ${lines.password}`);
      await ok.waitForLog(`user dora authentication failed; URI /secret/ok.txt ${lines.notFound}`);
    } finally {
      await ok.stop();
    }
  });
});
