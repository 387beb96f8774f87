// `npm run demo`: builds (once) a SQLite database with Django's real auth schema and a few
// users and groups, serves it on ldap://127.0.0.1:3389, and prints what to try.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { makePassword } from './django/hashers/index.js';
import { loadConfig } from './config/load.js';
import { createLogger } from './log.js';
import { startBridge } from './bridge.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEMO_ITERATIONS = 260_000; // Django 3.2's default

export const DEMO_USERS = [
  { username: 'alice', password: 'alice-password', first: 'Alice', last: 'Agent', email: 'alice@example.com', groups: ['secret-agents'], staff: false, superuser: false, active: true },
  { username: 'bob', password: 'bob-password', first: 'Bob', last: 'Builder', email: 'bob@example.com', groups: ['committers'], staff: true, superuser: false, active: true },
  { username: 'carol', password: 'carol-password', first: 'Carol', last: '', email: 'carol@example.com', groups: [], staff: true, superuser: true, active: true },
  { username: 'dave', password: 'dave-password', first: 'Dave', last: 'Gone', email: '', groups: ['secret-agents'], staff: false, superuser: false, active: false },
];
export const DEMO_SERVICE = { dn: 'cn=apache,ou=services,dc=example,dc=com', password: 'apache-secret' };

export async function createDemoDatabase(path: string, opts: { iterations?: number } = {}): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.exec(readFileSync(resolve(root, 'src/django/demo-schema.sql'), 'utf8'));
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const groupId = new Map<string, number>();
    for (const name of ['secret-agents', 'committers']) {
      groupId.set(name, Number(db.prepare('INSERT INTO auth_group (name) VALUES (?)').run(name).lastInsertRowid));
    }
    const commit = db.prepare("SELECT p.id FROM auth_permission p JOIN django_content_type c ON c.id = p.content_type_id WHERE c.app_label = 'svn' AND p.codename = 'commit_repo'").get() as { id: number };
    db.prepare('INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (?, ?)').run(groupId.get('committers'), commit.id);
    for (const u of DEMO_USERS) {
      const hash = await makePassword(u.password, { iterations: opts.iterations ?? DEMO_ITERATIONS });
      const id = Number(
        db
          .prepare('INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(hash, u.superuser ? 1 : 0, u.username, u.first, u.last, u.email, u.staff ? 1 : 0, u.active ? 1 : 0, now).lastInsertRowid,
      );
      for (const g of u.groups) db.prepare('INSERT INTO auth_user_groups (user_id, group_id) VALUES (?, ?)').run(id, groupId.get(g));
    }
  } finally {
    db.close();
  }
}

async function main() {
  const dbPath = resolve(process.env.DJANGO_LDAP_DEMO_DB ?? resolve(root, 'demo/db.sqlite3'));
  if (!existsSync(dbPath)) {
    process.stdout.write(`Creating the demo database ${dbPath} ...\n`);
    await createDemoDatabase(dbPath);
  }
  const serviceHash = await makePassword(DEMO_SERVICE.password, { iterations: DEMO_ITERATIONS });
  const config = loadConfig({
    flags: { database: `sqlite://${dbPath}`, baseDn: 'dc=example,dc=com', listen: [process.env.DJANGO_LDAP_DEMO_LISTEN ?? 'ldap://127.0.0.1:3389'], logFormat: 'auto' },
    env: {},
    cwd: root,
  });
  config.serviceAccounts = [{ dn: DEMO_SERVICE.dn, password: serviceHash }];
  const log = createLogger(config.log);
  const bridge = await startBridge(config, log);
  const url = bridge.urls[0];
  process.stdout.write(`
django-ldap-bridge demo is serving ${dbPath}
on ${url} (base dc=example,dc=com). Users: ${DEMO_USERS.map((u) => `${u.username}/${u.password}${u.active ? '' : ' (inactive)'}`).join(', ')}.
Service account: ${DEMO_SERVICE.dn} / ${DEMO_SERVICE.password}

Try (Debian package ldap-utils):
  ldapsearch -x -H ${url} -D '${DEMO_SERVICE.dn}' -w ${DEMO_SERVICE.password} -b ou=users,dc=example,dc=com '(uid=alice)' uid cn mail memberOf
  ldapwhoami -x -H ${url} -D uid=alice,ou=users,dc=example,dc=com -w alice-password
  ldapcompare -x -H ${url} -D '${DEMO_SERVICE.dn}' -w ${DEMO_SERVICE.password} cn=secret-agents,ou=groups,dc=example,dc=com member:uid=alice,ou=users,dc=example,dc=com

Apache (mod_authnz_ldap):
  <Location /secret>
    AuthType Basic
    AuthName "Secret agents"
    AuthBasicProvider ldap
    AuthLDAPURL "${url}/ou=users,dc=example,dc=com?uid"
    AuthLDAPBindDN "${DEMO_SERVICE.dn}"
    AuthLDAPBindPassword "${DEMO_SERVICE.password}"
    AuthLDAPMaxSubGroupDepth 0
    Require ldap-group cn=secret-agents,ou=groups,dc=example,dc=com
  </Location>

Press Ctrl-C to stop.
`);
  const stop = async () => {
    await bridge.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
