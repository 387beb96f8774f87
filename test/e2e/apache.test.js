// `django-ldap-bridge apache-config` end to end: for each recipe, the command's code prints a
// <Location> from the bridge's configuration (the real command is checked to print the same),
// a PRIVATE Apache httpd 2.4 (mod_authnz_ldap) runs exactly that block in front of the bridge,
// and every user of a real-Django database (SQLite and PostgreSQL) logs in over HTTP Basic auth. Each status must be what Django says: authenticate()
// for the password, is_active, groups, get_all_permissions(), is_staff, is_superuser.
// Every recipe runs with Apache's LDAP caches off (each request reaches the bridge) and with
// the defaults; then Django changes show on the very next request (caches off), cached answers
// last LDAPCacheTTL (caches on), and stock Apache defaults cope with a 2,000-member group.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { apacheAvailable, startApache, checkMatrix, dnSafe, DJANGO_FACTS_PY, SITE_SETUP_PY, APACHE_HOSTILE_GROUP } from '../helpers/apache.js';
import { makePassword } from '../../dist/django/hashers/index.js';
import { loadConfig } from '../../dist/config/load.js';
import { apacheLocation, apacheOptionsFromConfig } from '../../dist/apache/config.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'django-ldap-bridge.js');
const apache = apacheAvailable();
const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const apacheSkip = need('Apache httpd 2.4 with mod_authnz_ldap (apache2)', apache.ok, apache.reason);
const pg = await postgresAvailable();
const pgSkip = need('PostgreSQL on 127.0.0.1:5432', pg.ok, pg.reason);

const HOSTILE_GROUPS = ['C++ Developers', "Smith, John's team", ' leading space', 'trailing space ', '#hash', 'a=b+c;<d>"e"\\f', 'Ünïcödé', APACHE_HOSTILE_GROUP];

/** Runs the CLI; resolves its stdout, rejects with its stderr. */
function cli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`apache-config ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/**
 * The recipes. `args` go to `apache-config` after --config/--listen/--location; `allowed(fact)`
 * says, from Django's answers, whether a user who authenticates may enter.
 */
function recipes(pwScript) {
  const inGroup = (g) => (f) => f.groups.includes(g);
  const hasPerm = (p) => (f) => f.permissions.includes(p);
  return [
    { name: 'valid-user', args: ['--require', 'valid-user'], allowed: () => true, slow: true },
    { name: 'group (member DN)', args: ['--require', 'group', 'secret-agents'], allowed: inGroup('secret-agents') },
    { name: 'group (memberUid)', args: ['--require', 'group', 'secret-agents', '--group-attribute', 'memberUid'], allowed: inGroup('secret-agents') },
    // One <Location> per hostile name, so a member of only that group proves its escaping.
    ...HOSTILE_GROUPS.map((g, i) => ({ name: `group needing escaping: ${JSON.stringify(g)}`, loc: `/hostile${i}`, args: ['--require', 'group', g], allowed: inGroup(g), group: 'hostile' })),
    { name: 'permission (group, held through a group)', args: ['--require', 'permission', 'svn.commit_repo'], allowed: hasPerm('svn.commit_repo') },
    { name: 'permission (attribute)', args: ['--require', 'permission', 'reports.view_report', '--via', 'attribute'], allowed: hasPerm('reports.view_report') },
    { name: 'staff (role group)', args: ['--require', 'staff'], allowed: (f) => f.isStaff },
    { name: 'staff (attribute)', args: ['--require', 'staff', '--via', 'attribute'], allowed: (f) => f.isStaff },
    { name: 'superuser (role group)', args: ['--require', 'superuser'], allowed: (f) => f.isSuperuser },
    { name: 'superuser (attribute)', args: ['--require', 'superuser', '--via', 'attribute'], allowed: (f) => f.isSuperuser },
    { name: 'user (names needing quoting, case twin)', args: ['--require', 'user', 'alice', 'josé.o+brien@x', 'Frank'], allowed: (f) => ['alice', 'josé.o+brien@x', 'Frank'].includes(f.username) },
    // No service account: names that need DN escaping cannot log in (documented limitation).
    { name: 'no service account: valid-user', args: ['--require', 'valid-user', '--bind-as-user'], allowed: (f) => dnSafe(f.username), slow: true },
    { name: 'no service account: group', args: ['--require', 'group', 'secret-agents', '--bind-as-user'], allowed: (f) => dnSafe(f.username) && f.groups.includes('secret-agents') },
    { name: 'no service account: permission (attribute)', args: ['--require', 'permission', 'reports.view_report', '--via', 'attribute', '--bind-as-user'], allowed: (f) => dnSafe(f.username) && hasPerm('reports.view_report')(f) },
    { name: 'no service account: permission (group)', args: ['--require', 'permission', 'svn.commit_repo', '--bind-as-user'], allowed: (f) => dnSafe(f.username) && hasPerm('svn.commit_repo')(f) },
    { name: 'service password from a program (exec:)', args: ['--require', 'group', 'committers', '--bind-password-exec', pwScript], allowed: inGroup('committers') },
  ];
}

/** What `apache-config --location loc --name name <args>` prints, computed in-process. */
function generate(config, location, name, args) {
  const req = { location, authName: name.replace(/[^\w ():-]/g, ''), require: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--require') while (args[i + 1] !== undefined && !args[i + 1].startsWith('--')) req.require.push(args[++i]);
    else if (a === '--group-attribute') req.groupAttribute = args[++i];
    else if (a === '--via') req.via = args[++i];
    else if (a === '--bind-as-user') req.bindAsUser = true;
    else if (a === '--bind-password-exec') req.bindPasswordExec = args[++i];
    else throw new Error(`generate(): unknown argument ${a}`);
  }
  return apacheLocation(apacheOptionsFromConfig(config, req));
}
const dropGeneratedBy = (text) => text.replace(/^# Generated by: .*\n/, '');

/** Same shape as startTestBridge's file, for the CLI: the same database, base DN and service account. */
async function cliConfig(dir, dbUrl) {
  const file = join(dir, 'bridge.json');
  writeFileSync(file, JSON.stringify({
    database: dbUrl,
    baseDn: BASE,
    serviceAccounts: [{ dn: SERVICE_DN, password: await makePassword(SERVICE_PW, { iterations: 1000 }) }],
  }));
  return file;
}

const timings = [];
after(() => {
  if (timings.length) console.log(`# apache timings (ms): ${timings.map(([k, v]) => `${k} ${v}`).join('; ')}`);
});

for (const engine of ['sqlite', 'postgres']) {
  const skip = djangoSkip || apacheSkip || (engine === 'postgres' ? pgSkip : undefined);
  describe(`Apache in front of the bridge (${engine})`, { skip }, () => {
    let db;
    let br;
    let facts;
    let configFile;
    let dir;
    let blocks; // recipe name -> the <Location> apache-config prints
    let all;
    const users = () => db.expected.users;
    const refreshFacts = async () => (facts = JSON.parse(await djangoShell(db.env, DJANGO_FACTS_PY)));

    before(async () => {
      const t0 = performance.now();
      db = await makeDjangoDatabase({ engine });
      await djangoShell(db.env, SITE_SETUP_PY);
      await refreshFacts();
      // Brute-force lockout off: the matrix sends every user's wrong password once per recipe,
      // far past 5 failures per user (the lockout itself is tested through Apache below).
      br = await startTestBridge({ url: db.url, config: { security: { bruteForce: { enabled: false } } } });
      dir = mkdtempSync(join(tmpdir(), 'dlb-apache-cli-'));
      configFile = await cliConfig(dir, db.url);
      const pwScript = join(dir, 'bind-password.sh');
      writeFileSync(pwScript, `#!/bin/sh\nprintf '%s\\n' '${SERVICE_PW}'\n`);
      chmodSync(pwScript, 0o755);
      chmodSync(dir, 0o755);
      all = recipes(pwScript);
      // The CLI's own code path, in-process (a node process per recipe would cost seconds);
      // a test below checks the real command prints the same blocks.
      const config = loadConfig({ flags: { config: configFile, listen: [br.url] }, env: {}, cwd: dir });
      blocks = new Map(all.map((r, i) => [r.name, generate(config, r.loc ?? `/r${i}`, r.name, r.args)]));
      timings.push([`${engine} setup`, Math.round(performance.now() - t0)]);
    });
    after(async () => {
      await br?.close();
      await db?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('the apache-config command prints the same blocks the recipes run', async () => {
      for (const name of ['group (member DN)', `group needing escaping: ${JSON.stringify("Smith, John's team")}`, 'no service account: permission (attribute)']) {
        const i = all.findIndex((r) => r.name === name);
        const r = all[i];
        const out = await cli(['apache-config', '--config', configFile, '--listen', br.url, '--location', r.loc ?? `/r${i}`, '--name', r.name.replace(/[^\w ():-]/g, ''), ...r.args]);
        assert.match(out, /^# Generated by: django-ldap-bridge apache-config --location /);
        assert.equal(dropGeneratedBy(out), blocks.get(name), name);
      }
    });

    test('the generated blocks carry the bridge URL, base DN, service account and doubled escapes', () => {
      const group = blocks.get('group (member DN)');
      assert.match(group, new RegExp(`AuthLDAPURL "${br.url}/ou=users,dc=example,dc=com\\?uid"`));
      assert.match(group, /AuthLDAPBindDN "cn=apache,ou=services,dc=example,dc=com"/);
      assert.match(group, /AuthLDAPBindPassword "\$\{DLB_BIND_PASSWORD\}"/);
      assert.match(group, /^\s*AuthLDAPMaxSubGroupDepth 0$/m);
      assert.match(group, /^\s*Require ldap-group cn=secret-agents,ou=groups,dc=example,dc=com$/m);
      assert.match(blocks.get(`group needing escaping: ${JSON.stringify("Smith, John's team")}`), /^\s*Require ldap-group cn=Smith\\\\, John's team,ou=groups,/m);
      assert.match(blocks.get(`group needing escaping: ${JSON.stringify('C++ Developers')}`), /^\s*Require ldap-group cn=C\\\\\+\\\\\+ Developers,ou=groups,/m);
      assert.ok(!blocks.get('no service account: group').includes('AuthLDAPBindDN'));
      for (const [name, text] of blocks) assert.match(text, /^\s*AuthLDAPMaxSubGroupDepth 0$/m, name);
    });

    const recipeNames = recipes('/x').map((r) => r.name);
    for (const cache of ['off', 'default']) {
      test(`every recipe, LDAP caches ${cache}: each user gets what Django says`, async (t) => {
        const names = recipeNames;
        // The hostile-name groups share one Apache (one <Location> each); every other recipe has its own.
        const runs = [];
        const hostile = all.filter((r) => r.group === 'hostile' && names.includes(r.name));
        for (const r of all) if (names.includes(r.name) && r.group !== 'hostile') runs.push([r]);
        if (hostile.length) runs.push(hostile);
        let requests = 0;
        const t0 = performance.now();
        for (const set of runs) {
          const label = set.length > 1 ? 'groups needing escaping' : set[0].name;
          const htdocs = {};
          const locs = set.map((r) => r.loc ?? `/r${all.indexOf(r)}`);
          for (const l of locs) htdocs[`${l.slice(1)}/ok.txt`] = 'ok\n';
          const ap = await startApache({ name: `recipe-${cache}`, body: set.map((r) => blocks.get(r.name)).join('\n'), env: { DLB_BIND_PASSWORD: SERVICE_PW }, cache, htdocs });
          try {
            const problems = [];
            for (const [i, r] of set.entries()) {
              const { mismatches, requests: n } = await checkMatrix(ap, `${locs[i]}/ok.txt`, users(), facts, r.allowed, { slow: r.slow });
              requests += n;
              problems.push(...mismatches);
            }
            assert.deepEqual(problems, [], `${label}: ${problems.length} wrong answers\n${blocks.get(set[0].name)}\n${ap.errorLog().split('\n').filter((l) => /error|warn/i.test(l)).slice(-15).join('\n')}`);
          } finally {
            await ap.stop();
          }
        }
        timings.push([`${engine} recipes caches ${cache} (${runs.length} Apaches, ${requests} requests)`, Math.round(performance.now() - t0)]);
        t.diagnostic(`${runs.length} Apache instances, ${requests} requests in ${Math.round(performance.now() - t0)} ms`);
      });
    }

    test('caches off: deactivating, removing from a group and revoking a permission act on the very next request', async () => {
      const set = ['valid-user', 'group (member DN)', 'permission (group, held through a group)', 'no service account: group'];
      const locs = set.map((n) => `/r${all.findIndex((r) => r.name === n)}`);
      const htdocs = Object.fromEntries(locs.map((l) => [`${l.slice(1)}/ok.txt`, 'ok\n']));
      const ap = await startApache({ name: 'changes', body: set.map((n) => blocks.get(n)).join('\n'), env: { DLB_BIND_PASSWORD: SERVICE_PW }, cache: 'off', htdocs });
      const alice = users().find((u) => u.username === 'alice');
      const carol = users().find((u) => u.username === 'carol');
      const as = async (u, i) => (await ap.get(`${locs[i]}/ok.txt`, { user: u.username, password: u.password })).status;
      try {
        assert.deepEqual([await as(alice, 0), await as(alice, 1), await as(alice, 3), await as(carol, 2)], [200, 200, 200, 200]);
        await djangoShell(db.env, "u = User.objects.get(username='alice'); u.groups.remove(Group.objects.get(name='secret-agents'))");
        assert.equal(await as(alice, 1), 401, 'removed from the group: refused at once');
        assert.equal(await as(alice, 3), 401, 'removed from the group: refused at once (no service account)');
        assert.equal(await as(alice, 0), 200, 'still a valid user');
        await djangoShell(db.env, "u = User.objects.get(username='alice'); u.groups.add(Group.objects.get(name='secret-agents'))");
        assert.equal(await as(alice, 1), 200, 'added back: allowed at once');
        await djangoShell(db.env, "User.objects.filter(username='alice').update(is_active=False)");
        assert.deepEqual([await as(alice, 0), await as(alice, 1), await as(alice, 3)], [401, 401, 401], 'deactivated: refused at once');
        await djangoShell(db.env, "User.objects.filter(username='alice').update(is_active=True)");
        assert.equal(await as(alice, 0), 200, 'reactivated');
        await djangoShell(db.env, "u = User.objects.get(username='carol'); u.groups.remove(Group.objects.get(name='committers'))");
        assert.equal(await as(carol, 2), 401, 'permission (held through a group) revoked: refused at once');
        await djangoShell(db.env, "u = User.objects.get(username='carol'); u.groups.add(Group.objects.get(name='committers'))");
        assert.equal(await as(carol, 2), 200);
        await djangoShell(db.env, "u = User.objects.get(username='alice'); u.set_password('a-new-password'); u.save()");
        assert.equal(await as(alice, 0), 401, 'the old password stops working at once');
        assert.equal((await ap.get(`${locs[0]}/ok.txt`, { user: 'alice', password: 'a-new-password' })).status, 200, 'the new one works at once');
      } finally {
        await djangoShell(db.env, `u = User.objects.get(username='alice'); u.password = ${JSON.stringify(alice.encoded)}; u.is_active = True; u.save()`);
        await ap.stop();
      }
      await refreshFacts();
    });

    if (engine === 'sqlite') {
      test("the bridge's brute-force lockout seen through Apache: per user always, per address only without a service account", async () => {
        // A second bridge on the same database with the default security settings.
        const guarded = await startTestBridge({ url: db.url });
        const cfg = loadConfig({ flags: { config: configFile, listen: [guarded.url] }, env: {}, cwd: dir });
        const svc = await startApache({ name: 'lockout-svc', body: generate(cfg, '/svc', 'svc', ['--require', 'valid-user']), env: { DLB_BIND_PASSWORD: SERVICE_PW }, cache: 'off', htdocs: { 'svc/ok.txt': 'ok\n' } });
        const self = await startApache({ name: 'lockout-self', body: generate(cfg, '/self', 'self', ['--require', 'valid-user', '--bind-as-user']), cache: 'off', htdocs: { 'self/ok.txt': 'ok\n' } });
        const u = (n) => users().find((x) => x.username === n);
        const as = (ap, path, name, password) => ap.get(path, { user: name, password }).then((r) => r.status);
        try {
          const others = users().filter((x) => x.checkRight && x.isActive && x.hasher !== 'unusable' && !['alice', 'bob', 'carol'].includes(x.username) && dnSafe(x.username));
          // 1. Behind a service account, many users' wrong passwords (under 5 each) lock nobody out.
          for (let round = 0; round < 3; round++) for (const x of others) assert.equal(await as(svc, '/svc/ok.txt', x.username, x.wrongPassword), 401);
          assert.ok(others.length * 3 > 30, `${others.length * 3} failures from Apache's address`);
          assert.equal(await as(svc, '/svc/ok.txt', 'alice', u('alice').password), 200, 'the address is not locked: Apache bound as a service account');
          // 2. Five wrong passwords for one user lock that user out (for 30 s), and only them.
          for (let i = 0; i < 5; i++) assert.equal(await as(svc, '/svc/ok.txt', 'carol', u('carol').wrongPassword), 401);
          assert.equal(await as(svc, '/svc/ok.txt', 'carol', u('carol').password), 401, 'carol is locked out for now');
          assert.equal(await as(svc, '/svc/ok.txt', 'alice', u('alice').password), 200, 'alice is not');
          // 3. Without a service account every bind counts against Apache's one address, per
          //    password: 30 failures of one password lock that password out for every user of
          //    that Apache, and no other (docs/apache.md). Here bob's password is sprayed over 31
          //    made-up names (without a service account Apache binds before it searches, so even
          //    unknown names reach the bridge as failed binds).
          assert.equal(await as(self, '/self/ok.txt', 'bob', u('bob').password), 200);
          for (let i = 0; i <= 30; i++) assert.equal(await as(self, '/self/ok.txt', `sprayed${i}`, u('bob').password), 401);
          assert.equal(await as(self, '/self/ok.txt', 'bob', u('bob').password), 401, "bound as himself, bob's password is locked out at Apache's address");
          assert.equal(await as(self, '/self/ok.txt', 'alice', u('alice').password), 200, "alice's password is not");
          assert.equal(await as(svc, '/svc/ok.txt', 'bob', u('bob').password), 200, 'the service-account Apache is not affected');
        } finally {
          await svc.stop();
          await self.stop();
          await guarded.close();
        }
      });

      test('caches on: answers last LDAPCacheTTL/LDAPOpCacheTTL (600 s by default; here lowered to 1 s)', async () => {
        const loc = `/r${all.findIndex((r) => r.name === 'group (member DN)')}`;
        const alice = users().find((u) => u.username === 'alice');
        const get = (ap) => ap.get(`${loc}/ok.txt`, { user: 'alice', password: alice.password });
        const body = blocks.get('group (member DN)');
        const stock = await startApache({ name: 'cache-default', body, env: { DLB_BIND_PASSWORD: SERVICE_PW }, cache: 'default', htdocs: { [`${loc.slice(1)}/ok.txt`]: 'ok\n' } });
        const short = await startApache({ name: 'cache-1s', body, env: { DLB_BIND_PASSWORD: SERVICE_PW }, cache: { ttl: 1 }, htdocs: { [`${loc.slice(1)}/ok.txt`]: 'ok\n' } });
        try {
          assert.equal((await get(stock)).status, 200);
          assert.equal((await get(short)).status, 200);
          const bob = users().find((u) => u.username === 'bob');
          assert.equal((await stock.get(`${loc}/ok.txt`, { user: 'bob', password: bob.password })).status, 401, 'bob is no member (a cached negative compare)');
          await djangoShell(db.env, "u = User.objects.get(username='bob'); u.groups.add(Group.objects.get(name='secret-agents'))");
          assert.equal((await stock.get(`${loc}/ok.txt`, { user: 'bob', password: bob.password })).status, 401, 'default caches: the negative compare is cached too');
          assert.equal((await short.get(`${loc}/ok.txt`, { user: 'bob', password: bob.password })).status, 200, 'not asked before: asks the bridge');
          const frank = users().find((u) => u.username === 'frank');
          const asFrank = (password) => stock.get(`${loc}/ok.txt`, { user: 'frank', password }).then((r) => r.status);
          assert.equal(await asFrank(frank.password), 200);
          await djangoShell(db.env, "u = User.objects.get(username='frank'); u.set_password('changed-password'); u.save()");
          assert.equal(await asFrank(frank.password), 200, 'default caches: the old password still works from the cache');
          assert.equal(await asFrank('changed-password'), 200, 'the new one works (and replaces the cached one)');
          assert.equal(await asFrank(frank.password), 401, 'now the old one is asked for, and refused');
          await djangoShell(db.env, `u = User.objects.get(username='frank'); u.password = ${JSON.stringify(frank.encoded)}; u.save()`);
          await djangoShell(db.env, "User.objects.filter(username='alice').update(is_active=False)");
          const t0 = Date.now();
          assert.equal((await get(stock)).status, 200, 'default caches: a deactivated user still gets in from the cache');
          assert.equal((await stock.get(`${loc}/ok.txt`, { user: 'alice', password: alice.wrongPassword })).status, 401, 'failures are never cached');
          await new Promise((r) => setTimeout(r, Math.max(0, 1300 - (Date.now() - t0))));
          assert.equal((await get(short)).status, 401, 'LDAPCacheTTL 1 / LDAPOpCacheTTL 1: refused once the entries expired');
          assert.equal((await get(stock)).status, 200, 'default caches: still cached');
        } finally {
          await djangoShell(db.env, "User.objects.filter(username='alice').update(is_active=True); u = User.objects.get(username='bob'); u.groups.remove(Group.objects.get(name='secret-agents'))");
          await stock.stop();
          await short.stop();
        }
      });
    }

    test("stock Apache 2.4 defaults (sub-group depth 10, member + uniqueMember) against a 2,000-member group", async () => {
      const t0 = performance.now();
      await djangoShell(db.env, `
pw = make_password('bulk-password', hasher='md5')
users = User.objects.bulk_create([User(username='bulk%04d' % i, password=pw, email='bulk%04d@example.com' % i) for i in range(2000)])
big = Group.objects.create(name='big-group')
users = list(User.objects.filter(username__startswith='bulk'))
Through = User.groups.through
Through.objects.bulk_create([Through(user_id=u.pk, group_id=big.pk) for u in users])
Through.objects.create(user_id=User.objects.get(username='carol').pk, group_id=big.pk)
print(big.user_set.count())
`);
      const setupMs = Math.round(performance.now() - t0);
      const url = `${br.url}/ou=users,${BASE}?uid`;
      // What an admin writes from Apache's documentation alone: no AuthLDAPMaxSubGroupDepth,
      // no AuthLDAPGroupAttribute, caches at their defaults.
      const stockBody = `<Location "/big">
    AuthType Basic
    AuthName "Big"
    AuthBasicProvider ldap
    AuthLDAPURL "${url}"
    AuthLDAPBindDN "${SERVICE_DN}"
    AuthLDAPBindPassword "\${DLB_BIND_PASSWORD}"
    Require ldap-group cn=big-group,ou=groups,${BASE}
</Location>`;
      const generated = await cli(['apache-config', '--config', configFile, '--listen', br.url, '--location', '/big', '--require', 'group', 'big-group']);
      const results = {};
      for (const [label, body] of [['stock', stockBody], ['generated', generated]]) {
        const ap = await startApache({ name: `big-${label}`, body, env: { DLB_BIND_PASSWORD: SERVICE_PW }, cache: 'default', htdocs: { 'big/ok.txt': 'ok\n' } });
        try {
          const alice = users().find((u) => u.username === 'alice');
          const carol = users().find((u) => u.username === 'carol');
          const tm = performance.now();
          const member = await ap.get('/big/ok.txt', { user: 'bulk1234', password: 'bulk-password' });
          const memberMs = Math.round(performance.now() - tm);
          const tn = performance.now();
          const nonMember = await ap.get('/big/ok.txt', { user: 'alice', password: alice.password });
          const nonMemberMs = Math.round(performance.now() - tn);
          const realMember = await ap.get('/big/ok.txt', { user: 'carol', password: carol.password });
          const wrong = await ap.get('/big/ok.txt', { user: 'bulk0007', password: 'bulk-passwort' });
          assert.deepEqual([member.status, nonMember.status, realMember.status, wrong.status], [200, 401, 200, 401], `${label}\n${ap.errorLog().slice(-2000)}`);
          results[label] = { memberMs, nonMemberMs };
        } finally {
          await ap.stop();
        }
      }
      timings.push([`${engine} 2000-member group (setup ${setupMs}; non-member: stock ${results.stock.nonMemberMs}, depth 0 ${results.generated.nonMemberMs})`, Math.round(performance.now() - t0)]);
    });
  });
}
