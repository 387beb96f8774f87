// Real Python LDAP clients against the bridge, on SQLite and PostgreSQL data made by real Django:
// ldap3 with its default Server() (schema read, StartTLS, repeated binds), python-ldap (StartTLS,
// paged results) and django-auth-ldap on a second Django site (user search, GroupOfNamesType,
// REQUIRE_GROUP, USER_FLAGS_BY_GROUP, USER_ATTR_MAP, group mirroring). Each client runs the code
// of its docs/integrations page verbatim (test/helpers/python_clients.py reads it from there);
// every answer is compared with what Django says about the user.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell, runPython, PYTHON } from '../helpers/django.js';
import { startTestBridge, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { DJANGO_FACTS_PY } from '../helpers/apache.js';
import { recordSecrets } from '../helpers/secrets.js';
import { makePassword } from '../../dist/django/hashers/index.js';
import { subschemaValues } from '../../dist/ldap/schema.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DRIVER = join(ROOT, 'test', 'helpers', 'python_clients.py');
const page = (name) => join(ROOT, 'docs', 'integrations', `${name}.md`);

const INTRANET_DN = 'cn=intranet,ou=services,dc=example,dc=com';
const INTRANET_PW = 'intranet-Svc-Secret!';
const JOSE = { username: 'José', password: 'Jösé-Capital-Pw1' };
recordSecrets([INTRANET_PW, JOSE.password]);

const modules = spawnSync(PYTHON, ['-c', 'import ldap3, ldap, django_auth_ldap'], { encoding: 'utf8' });
const pyLdapSkip = need('python3-ldap3, python3-ldap, python3-django-auth-ldap', modules.status === 0, (modules.stderr || '').trim().split('\n').pop());
const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const opensslSkip = need('openssl', hasCommand('openssl', ['version']), 'not on PATH');
// ldap3's default Server() checks every attribute against cn=Subschema, and the code in
// docs/integrations/ldap3.md asks for these two (issue #11 declares them in the subschema).
const undeclared = ['createTimestamp', 'modifyTimestamp'].filter((n) => !subschemaValues().attributeTypes.some((t) => t.includes(`'${n}'`)));
const timestampsSkip = need('createTimestamp and modifyTimestamp declared in cn=Subschema', undeclared.length === 0, `not declared: ${undeclared.join(', ')}`);
const pg = await postgresAvailable();
const pgSkip = need('PostgreSQL on 127.0.0.1:5432', pg.ok, pg.reason);

/** Runs one docs page's code through the driver; resolves its JSON. */
async function runClient(client, cases, env) {
  const { stdout } = await runPython([DRIVER, page(client), client], env, JSON.stringify(cases));
  return JSON.parse(stdout);
}

/** Names no user has, or that a filter must not expand: all must fail. */
const STRANGERS = [
  { username: 'nobody-here', password: 'whatever' },
  { username: 'alice)(uid=*', password: 'lètmein-alice' },
  { username: '*', password: 'lètmein-alice' },
  { username: 'ALICE', password: 'lètmein-alice' },
  { username: 'alice', password: '' },
];

for (const engine of ['sqlite', 'postgres']) {
  const skip = pyLdapSkip || djangoSkip || opensslSkip || (engine === 'postgres' ? pgSkip : undefined);
  describe(`Python LDAP clients (${engine})`, { skip }, () => {
    let db;
    let br;
    let dir;
    let env;
    let users; // { username, password, wrongPassword, authenticates }
    let facts; // DJANGO_FACTS_PY, by username
    const refreshFacts = async () => {
      facts = new Map(JSON.parse(await djangoShell(db.env, DJANGO_FACTS_PY)).map((f) => [f.username, f]));
    };

    before(async () => {
      db = await makeDjangoDatabase({ engine });
      // A name with a capital and a non-ASCII letter (django-auth-ldap lower-cases its DN), and
      // members of the group the second site requires, among them a name that needs escaping.
      await djangoShell(db.env, `
u = User.objects.create_user(${JSON.stringify(JOSE.username)}, password=${JSON.stringify(JOSE.password)}, first_name='José', last_name='Núñez', email='jose.n@example.com')
agents = Group.objects.get(name='secret-agents')
u.groups.add(agents, Group.objects.get(name='committers'))
User.objects.get(username='josé.o+brien@x').groups.add(agents)
User.objects.get(username='root').groups.add(agents)
`);
      await refreshFacts();
      users = [
        ...db.expected.users.map((u) => ({ username: u.username, password: u.password, wrongPassword: u.wrongPassword, authenticates: u.authenticates })),
        { username: JOSE.username, password: JOSE.password, wrongPassword: JOSE.password.slice(0, -1), authenticates: true },
      ];

      dir = mkdtempSync(join(tmpdir(), 'dlb-pyclients-'));
      chmodSync(dir, 0o755);
      const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Bridge Test CA']);
      run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
      execFileSync('sh', ['-c', "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf"], { cwd: dir });
      run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);

      br = await startTestBridge({
        url: db.url,
        config: {
          serviceAccounts: [
            { dn: SERVICE_DN, password: await makePassword(SERVICE_PW, { iterations: 1000 }) },
            { dn: INTRANET_DN, password: await makePassword(INTRANET_PW, { iterations: 1000 }) },
          ],
          tls: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key') },
          // Every password bind over TLS, as on a real network: StartTLS is what the clients use.
          security: { requireTls: 'always' },
        },
      });
      const { hostname, port } = new URL(br.url);
      env = {
        LDAP_URI: br.url,
        LDAP_HOST: hostname,
        LDAP_PORT: port,
        LDAP_START_TLS: '1',
        LDAP_CA_FILE: join(dir, 'ca.pem'),
        LDAP_BIND_PASSWORD: INTRANET_PW,
        SITE_B_DB: join(dir, 'site-b.sqlite3'),
      };
    });

    after(async () => {
      await br?.close();
      await db?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** Right and wrong passwords of every user, then the strangers; what each should get. */
    const loginCases = () => [
      ...users.map((u) => ({ username: u.username, password: u.password, want: u.authenticates })),
      ...users.map((u) => ({ username: u.username, password: u.wrongPassword, want: false })),
      ...STRANGERS.map((s) => ({ ...s, want: false })),
    ];
    const mismatches = (cases, results) =>
      cases.flatMap((c, i) => (results[i].ok === c.want ? [] : [`${JSON.stringify(c.username)} with ${c.password === '' ? 'an empty' : c.want ? 'the right' : 'a wrong'} password: got ${results[i].ok}${results[i].error ? ` (${results[i].error})` : ''}`]));

    test('ldap3 with its default Server(): every login over StartTLS, one Server for all (repeated binds after its schema read), createTimestamp and modifyTimestamp asked for', { skip: timestampsSkip }, async () => {
      const cases = loginCases();
      const { results } = await runClient('ldap3', cases, env);
      assert.deepEqual(mismatches(cases, results), []);
      assert.ok(cases.filter((c) => c.want).length >= 10, 'most users log in');
      for (const [i, c] of cases.entries()) if (c.want) assert.equal(results[i].uid, c.username, 'the entry is the user who logged in');
      assert.ok(br.logs.some((l) => l.includes('"op":"extended"') && l.includes('starttls')), 'ldap3 used StartTLS');
    });

    test('python-ldap: every login over StartTLS; a paged search (3 per page) lists every active user', async () => {
      const cases = loginCases();
      const out = await runClient('python-ldap', cases, env);
      assert.deepEqual(mismatches(cases, out.results), []);
      assert.equal(out.allUsernamesError, undefined);
      const active = [...facts.values()].filter((f) => f.isActive).map((f) => f.username);
      const all = JSON.parse(await djangoShell(db.env, "import json; print(json.dumps(list(User.objects.filter(is_active=True).values_list('username', flat=True))))"));
      assert.deepEqual(out.allUsernames, [...all].sort());
      assert.ok(active.every((u) => out.allUsernames.includes(u)));
    });

    describe('django-auth-ldap on a second Django site', () => {
      /** Whether the second site should let this user in: Django's answer for the password,
       * membership of secret-agents, and not the upper-case one of two case twins (the DN
       * django-auth-ldap binds with is lower-cased, and names the lower-case twin). */
      const allowed = (c) => {
        const f = facts.get(c.username);
        if (!c.want || !f || !f.isActive || !f.groups.includes('secret-agents')) return false;
        return c.username === c.username.toLowerCase() || !facts.has(c.username.toLowerCase());
      };
      const check = (cases, results) => {
        const problems = [];
        for (const [i, c] of cases.entries()) {
          const r = results[i];
          // The upper-case twin's name with the lower-case twin's password: the lower-cased DN
          // is the lower-case twin's, whose password this is, so django-auth-ldap logs in the
          // local user of that (lower-cased) name; attributes come from its search (the
          // upper-case twin's entry): the mix docs/integrations/django-auth-ldap.md warns about.
          const twin = c.username !== c.username.toLowerCase() && facts.has(c.username) && facts.get(c.username.toLowerCase());
          if (twin && !c.want && c.password === users.find((u) => u.username === twin.username)?.password) {
            const want = twin.isActive && twin.groups.includes('secret-agents');
            if (r.ok !== want || (r.ok && r.username !== twin.username)) problems.push(`${c.username} with ${twin.username}'s password: ${JSON.stringify(r)}`);
            continue;
          }
          const want = allowed(c);
          if (r.ok !== want) {
            problems.push(`${JSON.stringify(c.username)} (${c.want ? 'right' : 'wrong'} password): got ${r.ok}${r.error ? ` (${r.error})` : ''}`);
            continue;
          }
          if (!r.ok) continue;
          const f = facts.get(c.username);
          const u = db.expected.users.find((x) => x.username === c.username) ?? { firstName: 'José', lastName: 'Núñez', email: 'jose.n@example.com' };
          const got = { username: r.username, isStaff: r.isStaff, isSuperuser: r.isSuperuser, groups: r.groups, firstName: r.firstName, email: r.email };
          const expected = { username: c.username.toLowerCase(), isStaff: f.isStaff, isSuperuser: f.isSuperuser, groups: f.groups.map((g) => g.trim()).sort(), firstName: u.firstName, email: u.email };
          try {
            assert.deepEqual(got, expected);
          } catch {
            problems.push(`${c.username}: ${JSON.stringify(got)} != ${JSON.stringify(expected)}`);
          }
        }
        return problems;
      };

      test('authenticate(): right, wrong, inactive, unusable, unknown, case twins, non-ASCII and escaped names, members and non-members; flags, attributes and mirrored groups', async () => {
        const cases = loginCases();
        const { results } = await runClient('django-auth-ldap', cases, env);
        assert.deepEqual(check(cases, results), []);
        const inn = cases.filter((c, i) => results[i].ok).map((c) => c.username);
        for (const name of ['alice', 'frank', 'José', 'josé.o+brien@x', 'root']) assert.ok(inn.includes(name), `${name} logs in (${inn.join(', ')})`);
        const frank = cases.findIndex((c) => c.username === 'Frank' && c.want);
        assert.equal(results[frank].ok, false, "the upper-case twin cannot log in with their password (django-auth-ldap binds the lower-case twin's DN)");
      });

      test('a deactivation, a removal from the required group and a removal from a mirrored group on the first site count at the next login', async () => {
        await djangoShell(db.env, `
User.objects.filter(username='alice').update(is_active=False)
User.objects.get(username='frank').groups.remove(Group.objects.get(name='secret-agents'))
User.objects.get(username=${JSON.stringify(JOSE.username)}).groups.remove(Group.objects.get(name='committers'))
`);
        await refreshFacts();
        const cases = ['alice', 'frank', JOSE.username].map((n) => users.find((u) => u.username === n)).map((u) => ({ username: u.username, password: u.password, want: u.authenticates }));
        const { results } = await runClient('django-auth-ldap', cases, env);
        assert.deepEqual(results.map((r) => r.ok), [false, false, true]);
        assert.deepEqual(results[2].groups, ['secret-agents'], 'committers is gone from the mirrored groups');
        assert.deepEqual(check(cases, results), []);
      });
    });
  });
}
