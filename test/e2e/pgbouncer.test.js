// The bridge behind a real pgbouncer in transaction mode (Debian's pgbouncer, a private instance
// with the configuration docs/operations.md shows): many operations at once over 2 server
// connections answer right, with db.preparedStatements off (the documented setting) and with
// the default, and a change in Django is seen by the next operation.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, ldapsearch, ldapTool, BASE } from '../helpers/bridge.js';
import { freePort } from '../helpers/apache.js';

const pgUp = await postgresAvailable();
const postgresUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
const skip =
  need('Django (python3-django, python3-psycopg2)', djangoAvailable({ engine: 'postgres' }).ok, djangoAvailable({ engine: 'postgres' }).reason) ??
  need('OpenLDAP clients (ldap-utils)', hasCommand('ldapsearch', ['-VV']), 'ldapsearch not on PATH') ??
  need('PostgreSQL on 127.0.0.1:5432', pgUp.ok, pgUp.reason) ??
  need('pgbouncer (Debian: pgbouncer)', hasCommand('pgbouncer', ['--version']), 'pgbouncer not on PATH') ??
  need('the postgres OS user and root (pgbouncer refuses to run as root)', postgresUser.status === 0 && process.getuid?.() === 0, 'run as root on a machine with the postgres user');

const USERS = `ou=users,${BASE}`;

/** The ini block of docs/operations.md, placeholders filled. */
function pgbouncerIni(db, port, dir) {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const ini = /```ini\n([\s\S]*?)```/.exec(doc)[1];
  return ini.replaceAll('@DB@', db).replaceAll('@PORT@', String(port)).replaceAll('@DIR@', dir);
}

async function waitForPort(port, ms, exited) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (exited()) throw new Error('pgbouncer exited');
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('pgbouncer did not listen');
}

describe('behind pgbouncer in transaction mode', { skip, timeout: 180_000 }, () => {
  let db;
  let dir;
  let bouncer;
  let port;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'postgres' });
    dir = mkdtempSync('/tmp/dlb-pgbouncer-');
    const uid = Number(postgresUser.stdout.trim());
    chownSync(dir, uid, Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()));
    port = await freePort();
    const ini = join(dir, 'pgbouncer.ini');
    writeFileSync(ini, pgbouncerIni(db.name, port, dir));
    writeFileSync(join(dir, 'userlist.txt'), '"postgres" ""\n');
    let exited = false;
    bouncer = spawn('runuser', ['-u', 'postgres', '--', 'pgbouncer', ini], { stdio: 'ignore' });
    bouncer.once('exit', () => (exited = true));
    await waitForPort(port, 15_000, () => exited);
  });
  after(async () => {
    if (bouncer && bouncer.exitCode === null) {
      const gone = new Promise((r) => bouncer.once('exit', r));
      bouncer.kill('SIGTERM');
      await gone;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  /** 40 searches at once for active users: each finds its user. */
  async function searchesAnswerRight(br) {
    const active = db.expected.users.filter((u) => u.isActive);
    const searches = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const u = active[i % active.length];
        const filter = `(uid=${u.username.replace(/[*()\\]/g, (c) => '\\' + c.charCodeAt(0).toString(16))})`;
        return ldapsearch(br.url, { base: USERS, filter, attrs: ['uid'] }).then((r) => ({ u, r }));
      }),
    );
    for (const { u, r } of searches) {
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.entries.map((e) => e.attrs.uid), [[u.username]]);
    }
  }

  test('with the default (prepared statements on) every answer is still right: a statement the server connection does not know, or knows by that name, runs again unprepared', async () => {
    const br = await startTestBridge({ url: `postgres://postgres@127.0.0.1:${port}/${db.name}`, config: { db: { poolSize: 8 } } });
    try {
      await searchesAnswerRight(br);
      assert.equal(br.logs.filter((l) => l.includes('"operation failed"')).length, 0);
    } finally {
      await br.close();
    }
  });

  test('db.preparedStatements: false: 40 operations at once over 2 server connections all answer right; a deactivation is seen by the next bind', async () => {
    const url = `postgres://postgres@127.0.0.1:${port}/${db.name}`;
    const br = await startTestBridge({ url, config: { db: { preparedStatements: false, poolSize: 8 } } });
    try {
      await searchesAnswerRight(br);
      const alice = db.expected.users.find((u) => u.username === 'alice');
      const whoami = () => ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', `uid=alice,${USERS}`, '-y', '/dev/stdin'], alice.password);
      assert.equal((await whoami()).code, 0);
      await djangoShell(db.env, "User.objects.filter(username='alice').update(is_active=False)");
      assert.equal((await whoami()).code, 49, 'deactivated in Django: the next bind fails');
      assert.equal(br.logs.filter((l) => l.includes('"operation failed"')).length, 0);
    } finally {
      await br.close();
    }
  });
});
