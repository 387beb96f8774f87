// PHP's php-ldap against the bridge, on data made by real Django (SQLite and PostgreSQL): php-cli runs the
// login code of docs/integrations/php.md verbatim (read from the page): search the user as the
// service account, bind as the user, check Django groups with ldap_compare. Every answer is
// compared with what Django says: authenticate(), is_active, the user's groups.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { DJANGO_FACTS_PY, LOGIN_STRANGERS as STRANGERS } from '../helpers/apache.js';
import { recordSecrets } from '../helpers/secrets.js';
import { makePassword } from '../../dist/django/hashers/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOC = join(ROOT, 'docs', 'integrations', 'php.md');
const INTRANET_DN = 'cn=intranet,ou=services,dc=example,dc=com';
const INTRANET_PW = 'intranet-Svc-Secret!';
recordSecrets([INTRANET_PW]);

const php = spawnSync('php', ['-r', 'echo function_exists("ldap_connect") ? "yes" : "no";'], { encoding: 'utf8' });
const phpSkip = need('php-cli with php-ldap', php.stdout === 'yes', php.error ? 'php not on PATH' : 'ldap extension not loaded');
const pg = await postgresAvailable();
const pgSkip = need('PostgreSQL on 127.0.0.1:5432', pg.ok, pg.reason);
const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);

/** The test's driver: the page's functions over JSON cases on stdin, JSON answers on stdout. */
const DRIVER = `<?php
require getenv('LOGIN_PHP');
$out = [];
foreach (json_decode(stream_get_contents(STDIN), true) as $c) {
    $user = ldap_login($c['username'], $c['password']);
    $groups = [];
    if ($user !== null) {
        foreach ($c['groups'] as $g) {
            $groups[$g] = ldap_in_group($user['dn'], $g);
        }
    }
    $out[] = ['ok' => $user !== null, 'uid' => $user['uid'] ?? null, 'groups' => (object) $groups];
}
echo json_encode($out);
`;

/** Runs the driver over `cases`; resolves its answers. */
function runPhp(dir, env, cases) {
  return new Promise((done, fail) => {
    const child = spawn('php', [join(dir, 'driver.php')], { env: { PATH: process.env.PATH, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`php exited ${code}: ${err}${out}`));
      try {
        done(JSON.parse(out));
      } catch (e) {
        fail(new Error(`php printed no JSON (${e.message}): ${out}${err}`));
      }
    });
    child.stdin.end(JSON.stringify(cases));
  });
}


const GROUPS = ['secret-agents', "Smith, John's team", 'hashers', '#hash', 'Ünïcödé', 'trailing space ', 'no such group'];

for (const engine of ['sqlite', 'postgres']) describe(`PHP php-ldap (${engine})`, { skip: djangoSkip || phpSkip || (engine === 'postgres' ? pgSkip : undefined) }, () => {
  let db;
  let br;
  let dir;
  let env;
  let users;
  let facts;
  const refreshFacts = async () => {
    facts = new Map(JSON.parse(await djangoShell(db.env, DJANGO_FACTS_PY)).map((f) => [f.username, f]));
  };

  before(async () => {
    db = await makeDjangoDatabase({ engine });
    await refreshFacts();
    users = db.expected.users;
    br = await startTestBridge({
      url: db.url,
      config: {
        serviceAccounts: [
          { dn: SERVICE_DN, password: await makePassword(SERVICE_PW, { iterations: 1000 }) },
          { dn: INTRANET_DN, password: await makePassword(INTRANET_PW, { iterations: 1000 }) },
        ],
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'dlb-php-'));
    const code = readFileSync(DOC, 'utf8').match(/```php\n([\s\S]*?)```/);
    if (!code) throw new Error(`${DOC} has no php block`);
    writeFileSync(join(dir, 'login.php'), code[1]);
    writeFileSync(join(dir, 'driver.php'), DRIVER);
    env = { LDAP_URI: br.url, LDAP_BIND_PASSWORD: INTRANET_PW, LOGIN_PHP: join(dir, 'login.php') };
  });

  after(async () => {
    await br?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every user with the right and a wrong password, and the strangers; group checks by compare for those who log in', async () => {
    const cases = [
      ...users.map((u) => ({ username: u.username, password: u.password, want: u.authenticates, groups: GROUPS })),
      ...users.map((u) => ({ username: u.username, password: u.wrongPassword, want: false, groups: GROUPS })),
      ...STRANGERS.map((s) => ({ ...s, want: false, groups: GROUPS })),
    ];
    const out = await runPhp(dir, env, cases);
    const wrong = [];
    for (const [i, c] of cases.entries()) {
      if (out[i].ok !== c.want) wrong.push(`${JSON.stringify(c.username)} ${c.want ? 'right' : 'wrong'} password: ${out[i].ok}`);
      if (!c.want || !out[i].ok) continue;
      if (out[i].uid !== c.username) wrong.push(`${JSON.stringify(c.username)} logged in as ${JSON.stringify(out[i].uid)}`);
      for (const g of GROUPS) {
        const member = facts.get(c.username).groups.includes(g);
        if (out[i].groups[g] !== member) wrong.push(`${JSON.stringify(c.username)} in ${JSON.stringify(g)}: ${out[i].groups[g]}, Django says ${member}`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(cases.filter((c) => c.want).length >= 10, 'most users log in');
    for (const name of ['josé.o+brien@x', 'Frank', 'frank']) assert.ok(cases.some((c) => c.username === name && c.want), `${name} logs in`);
    for (const g of GROUPS.slice(0, 6)) assert.ok(out.some((o) => o.groups[g] === true), `a member of ${JSON.stringify(g)} is found`);
  });

  test('a group removal and a deactivation in Django are seen on the next login', async () => {
    const alice = users.find((u) => u.username === 'alice');
    const frank = users.find((u) => u.username === 'frank');
    const before = await runPhp(dir, env, [{ username: 'alice', password: alice.password, groups: ['secret-agents'] }]);
    assert.deepEqual(before.map((o) => [o.ok, o.groups['secret-agents']]), [[true, true]]);
    await djangoShell(db.env, `
User.objects.get(username='alice').groups.remove(Group.objects.get(name='secret-agents'))
u = User.objects.get(username='frank'); u.is_active = False; u.save()
`);
    const now = await runPhp(dir, env, [
      { username: 'alice', password: alice.password, groups: ['secret-agents'] },
      { username: 'frank', password: frank.password, groups: [] },
    ]);
    assert.deepEqual(now.map((o) => [o.ok, o.groups['secret-agents']]), [[true, false], [false, undefined]]);
  });
});
