// The clients we cannot install here (Gitea, Grafana, Jenkins, Nextcloud, Keycloak, Authelia):
// their searches replayed with OpenLDAP's real ldapsearch, on data made by real Django (SQLite
// and PostgreSQL).
//
// Doc and test cannot drift: each page docs/integrations/<client>.md marks its configuration
// block with REPLAYED (an HTML comment), and this test reads that very block (TOML, YAML, JSON,
// shell commands) and builds every filter, base DN and attribute list from it, substituting
// placeholders as the client does (Grafana's %s, Gitea's %[1]s, Jenkins' {0}/{1}, Nextcloud's
// %uid, Keycloak's composed AND, Authelia's {username_attribute}/{input}/{dn}). Nothing of a
// client's configuration is repeated here; what IS stated here is how each client fills its
// placeholders and composes its searches (from its own documentation and code), and what Django
// says the answer must be.
//
// For each client: the login search for active members, a non-member, an inactive user, a user
// without a usable password, case twins, a name with non-ASCII and `+`, unknown names; the exact
// entry DN and attribute values the client asked for, computed from Django's own answers
// (names, email, groups, get_all_permissions(), is_staff/is_superuser); the group or admin
// searches; then a bind as the DN found with the right and a wrong password, as these clients do.
//
// Grafana's ldap.toml is read with a small reader for the TOML subset the page uses (tables,
// arrays of tables, strings, string arrays, booleans, integers): no TOML parser is a dependency,
// and the reader throws on any other line, so a page edit it cannot read fails the test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, ldapsearch, ldapTool, BASE } from '../helpers/bridge.js';
import { recordSecrets } from '../helpers/secrets.js';
import { makePassword } from '../../dist/django/hashers/index.js';
import { escapeDnValue } from '../../dist/ldap/dn.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPLAYED = '<!-- replayed by test/e2e/documented-clients.test.js -->';
export const CLIENTS = ['gitea', 'grafana', 'jenkins', 'nextcloud', 'keycloak', 'authelia'];
const SERVICE_PW = 'documented-Clients-Svc!';
recordSecrets([SERVICE_PW]);
const serviceDn = (client) => `cn=${client},ou=services,${BASE}`;

const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const pg = await postgresAvailable();
const pgSkip = need('PostgreSQL on 127.0.0.1:5432', pg.ok, pg.reason);
const ldapSkip = need('OpenLDAP clients (ldap-utils)', hasCommand('ldapsearch', ['-VV']), 'ldapsearch not on PATH');

/** The page's marked configuration block: { lang, text }. */
export function replayedBlock(client) {
  const file = join(ROOT, 'docs', 'integrations', `${client}.md`);
  const md = readFileSync(file, 'utf8');
  const at = md.indexOf(REPLAYED);
  if (at < 0) throw new Error(`${file} has no ${REPLAYED} marker`);
  const m = /^\s*```([a-z]+)\n([\s\S]*?)^```/m.exec(md.slice(at + REPLAYED.length));
  if (!m) throw new Error(`${file}: no fenced block after the marker`);
  return { lang: m[1], text: m[2], md };
}

/** The TOML subset of the Grafana page (see the file's first comment). */
export function readToml(text) {
  const root = {};
  let table = root;
  const path = (p) => p.split('.');
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let m;
    if ((m = /^\[\[([\w.]+)\]\]$/.exec(line))) {
      const keys = path(m[1]);
      let t = root;
      for (const k of keys.slice(0, -1)) t = Array.isArray(t[k]) ? t[k].at(-1) : (t[k] ??= {});
      table = {};
      (t[keys.at(-1)] ??= []).push(table);
    } else if ((m = /^\[([\w.]+)\]$/.exec(line))) {
      let t = root;
      for (const k of path(m[1])) t = Array.isArray(t[k]) ? t[k].at(-1) : (t[k] ??= {});
      table = t;
    } else if ((m = /^(\w+)\s*=\s*(.+)$/.exec(line))) {
      const v = m[2].trim();
      let value;
      if (/^"([^"\\]*)"$/.test(v)) value = v.slice(1, -1);
      else if (/^\[\s*("[^"\\]*"\s*,?\s*)*\]$/.test(v)) value = [...v.matchAll(/"([^"\\]*)"/g)].map((x) => x[1]);
      else if (v === 'true' || v === 'false') value = v === 'true';
      else if (/^\d+$/.test(v)) value = Number(v);
      else throw new Error(`ldap.toml line ${i + 1}: cannot read ${JSON.stringify(raw)}`);
      table[m[1]] = value;
    } else throw new Error(`ldap.toml line ${i + 1}: cannot read ${JSON.stringify(raw)}`);
  }
  return root;
}

/** Shell words of a command block: backslash-newline joins lines; '…' and "…" are taken
 * literally (no expansion: "$(cat …)" stays a word). One array of words per command line. */
export function shellCommands(text) {
  const out = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const words = [];
    let w = null;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (c === "'" || c === '"') {
        const end = line.indexOf(c, i + 1);
        if (end < 0) throw new Error(`unterminated quote in: ${line}`);
        w = (w ?? '') + line.slice(i + 1, end);
        i = end;
      } else if (/\s/.test(c)) {
        if (w !== null) words.push(w);
        w = null;
      } else w = (w ?? '') + c;
    }
    if (w !== null) words.push(w);
    if (words.length) out.push(words);
  }
  return out;
}

/** RFC 4515 escaping of the specials, as JNDI (Jenkins), Nextcloud and ldapsearch users do. */
const escape4515 = (v) => v.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
/** go-ldap's EscapeFilter (Grafana, Authelia), and Keycloak's default: the specials and every
 * byte over 0x7f as \xx. */
const escapeBytes = (v) => [...Buffer.from(v, 'utf8')].map((b) => (b > 0x7f || [0x5c, 0x2a, 0x28, 0x29, 0].includes(b) ? `\\${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b))).join('');

const userDn = (name) => `uid=${escapeDnValue(name)},ou=users,${BASE}`;
const groupDn = (name) => `cn=${escapeDnValue(name)},ou=groups,${BASE}`;

// What Django says about every user: the source of every expected entry.
const FACTS_PY = `
import json
out = {'users': [], 'groups': sorted(Group.objects.values_list('name', flat=True))}
for u in User.objects.order_by('pk'):
    out['users'].append({
        'username': u.get_username(), 'isActive': u.is_active, 'isStaff': u.is_staff,
        'isSuperuser': u.is_superuser, 'first': u.first_name, 'last': u.last_name, 'email': u.email,
        'groups': sorted(g.name for g in u.groups.all()),
        'permissions': sorted(u.get_all_permissions()),
    })
print(json.dumps(out))
`;

/** The user entry the bridge must serve for a Django user (README, "User entries"), by
 * lower-cased attribute name. */
function expectedEntry(f) {
  const first = f.first.trim();
  const last = f.last.trim();
  const full = `${first} ${last}`.trim() || f.username;
  const roles = [...(f.isStaff ? ['staff'] : []), ...(f.isSuperuser ? ['superusers'] : [])];
  const attrs = {
    uid: [f.username],
    cn: [full],
    displayname: [full],
    sn: [last || f.username],
    memberof: [...f.groups.map(groupDn), ...f.permissions.map((p) => `cn=${escapeDnValue(p)},ou=permissions,${BASE}`), ...roles.map((r) => `cn=${r},ou=roles,${BASE}`)],
  };
  if (first) attrs.givenname = [first];
  if (f.email) attrs.mail = [f.email];
  return { dn: userDn(f.username), attrs };
}

/** An ldapsearch entry with lower-cased attribute names and sorted values. */
const norm = (e) => ({ dn: e.dn, attrs: Object.fromEntries(Object.entries(e.attrs).map(([k, v]) => [k.toLowerCase(), [...v].sort()])) });

/** The expected entry cut to the attributes a client asked for. */
function asked(f, attrs) {
  const e = expectedEntry(f);
  const want = {};
  for (const a of attrs.map((x) => x.toLowerCase())) if (e.attrs[a]?.length) want[a] = [...e.attrs[a]].sort();
  return { dn: e.dn, attrs: want };
}

/** Names every client is asked: members, a non-member (bob), inactive (dora), unusable (eve),
 * a superuser (root), case twins, non-ASCII and `+`, and names that are nobody. */
const NAMES = ['alice', 'bob', 'dora', 'eve', 'root', 'frank', 'Frank', 'josé.o+brien@x', 'ALICE', 'nobody-here'];

for (const engine of ['sqlite', 'postgres']) describe(`documented clients' searches (${engine})`, { skip: djangoSkip || ldapSkip || (engine === 'postgres' ? pgSkip : undefined) }, () => {
  let db;
  let br;
  let facts; // username -> Django's facts
  let groupNames; // every Django group
  let users; // username -> { password, wrongPassword, authenticates }

  before(async () => {
    db = await makeDjangoDatabase({ engine });
    const said = JSON.parse(await djangoShell(db.env, FACTS_PY));
    facts = new Map(said.users.map((f) => [f.username, f]));
    groupNames = said.groups;
    users = new Map(db.expected.users.map((u) => [u.username, u]));
    const hash = await makePassword(SERVICE_PW, { iterations: 1000 });
    br = await startTestBridge({
      url: db.url,
      config: {
        serviceAccounts: CLIENTS.map((c) => ({ dn: serviceDn(c), password: hash })),
        // Each client binds every user with a wrong password: six clients would pass the
        // per-account limit (5) and lock the later right-password binds out.
        security: { bruteForce: { userFailures: 1000 } },
      },
    });
  });

  after(async () => {
    await br?.close();
    await db?.drop();
  });

  /** A search as `client`'s service account; entries normalised. */
  const search = async (client, bindDn, { base, filter, attrs = [], scope = 'sub', extra = [] }) => {
    assert.equal(bindDn, serviceDn(client), `${client}'s page binds as its service account`);
    const r = await ldapsearch(br.url, { bindDn, password: SERVICE_PW, base, scope, filter, attrs, extra });
    assert.ok(r.code === 0 || (r.code === 32 && scope === 'base'), `${client}: ldapsearch -b ${base} ${filter} exited ${r.code}: ${r.stderr}`);
    return r.entries.map(norm);
  };

  /** The bind a client does with the DN its search found: right and wrong password. */
  const checkBinds = async (client, found) => {
    const wrong = [];
    for (const [name, dn] of found) {
      const u = users.get(name);
      for (const [pw, want] of [[u.password, u.authenticates ? 0 : 49], [u.wrongPassword, 49]]) {
        const r = await ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', dn, '-y', '/dev/stdin'], pw);
        if (r.code !== want) wrong.push(`${client}: bind ${dn} with the ${pw === u.password ? 'right' : 'wrong'} password exited ${r.code}, not ${want}`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(found.has('alice'), `${client}: alice was found and bound`);
  };

  /** Runs `login(name)` for every name; checks that exactly those `admits` (and active) are found,
   * with the attributes asked; returns the names found with their DNs. */
  const checkLogins = async (client, admits, login) => {
    const found = new Map();
    const wrong = [];
    for (const name of NAMES) {
      const q = login(name);
      if (!q) continue; // the client refuses the name before searching
      const entries = await search(client, q.bindDn, q);
      const f = facts.get(name);
      const want = f && f.isActive && admits(f) ? [asked(f, q.expect ?? q.attrs)] : [];
      const got = entries.map((e) => (q.extraCheck ? q.extraCheck(e) : e));
      try {
        assert.deepEqual(got, want);
      } catch {
        wrong.push(`${client} login ${JSON.stringify(name)} (${q.filter}): got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
      if (entries.length === 1) found.set(name, entries[0].dn);
    }
    assert.deepEqual(wrong, []);
    assert.ok(!found.has('dora') && !found.has('nobody-here') && !found.has('ALICE'), `${client}: inactive and unknown users are not found`);
    return found;
  };

  const activeWhere = (pred) => [...facts.values()].filter((f) => f.isActive && pred(f)).map((f) => f.username).sort();
  const inSecretAgents = (f) => f.groups.includes('secret-agents');

  test('a login filter with memberOf (Gitea, Nextcloud, Keycloak) reads the one user by username, not a scan', async () => {
    // What Gitea's, Nextcloud's and Keycloak's pages make them send for alice, from the pages.
    const gitea = shellCommands(replayedBlock('gitea').text).find((w) => w[0] === 'gitea');
    const giteaFilter = gitea[gitea.indexOf('--user-filter') + 1].replaceAll('%[1]s', 'alice');
    const nextcloudFilter = shellCommands(replayedBlock('nextcloud').text).find((w) => w[3] === 'ldapLoginFilter')[4].replaceAll('%uid', 'alice');
    const kc = JSON.parse(replayedBlock('keycloak').text)[0].config;
    const keycloakFilter = `(&(uid=alice)${kc.userObjectClasses[0].split(',').map((c) => `(objectclass=${c.trim()})`).join('')}${kc.customUserSearchFilter[0]})`;
    const alice = facts.get('alice');
    for (const filter of [giteaFilter, nextcloudFilter, keycloakFilter, `(&(uid=alice)(memberOf=${groupDn('secret-agents')}))`]) {
      assert.match(filter, /\(memberOf=/);
      const seen = [];
      const store = br.bridge.store;
      const original = store.query;
      store.query = function (sql, params) {
        seen.push({ sql: sql.replace(/\s+/g, ' '), params: [...params] });
        return original.call(this, sql, params);
      };
      let r;
      try {
        r = await ldapsearch(br.url, { bindDn: serviceDn('gitea'), password: SERVICE_PW, base: `ou=users,${BASE}`, filter, attrs: ['uid', 'mail', 'memberOf'] });
      } finally {
        store.query = original;
      }
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.entries.map((e) => e.dn), [userDn('alice')], filter);
      // The users table is read once, by the username's unique index: `username = <alice>`,
      // no LIKE/GLOB, no unbounded id range. Everything else is read by alice's id (her groups
      // and permissions) or is a small table of its own (the permissions list).
      const users = seen.filter((x) => /FROM "auth_user" u\b/.test(x.sql));
      assert.equal(users.length, 1, `${filter}: one read of auth_user`);
      assert.match(users[0].sql, /WHERE u\."username" = (\+\?|\$1)/, filter);
      assert.doesNotMatch(users[0].sql, /LIKE|GLOB/);
      assert.equal(users[0].params[0], 'alice');
      const userId = Number(JSON.parse(await djangoShell(db.env, "print(User.objects.get(username='alice').pk)")));
      for (const x of seen) {
        if (x === users[0]) continue;
        assert.doesNotMatch(x.sql, /FROM "auth_user" u\b/);
        assert.ok(x.params.every((v) => Number(v) === userId), `${x.sql} binds only alice's id (${JSON.stringify(x.params)})`);
        if (x.params.length === 0) assert.match(x.sql, /FROM "auth_permission"/, `${x.sql}: only the permissions list is read whole`);
      }
      assert.ok(alice.groups.includes('secret-agents'));
    }
  });

  test('Gitea (LDAP via BindDN): user filter, admin filter, user sync, bind', async () => {
    const { text } = replayedBlock('gitea');
    const [cmd] = shellCommands(text).filter((w) => w[0] === 'gitea');
    assert.deepEqual(cmd.slice(0, 4), ['gitea', 'admin', 'auth', 'add-ldap']);
    const opt = {};
    for (let i = 4; i < cmd.length; i++) {
      assert.ok(cmd[i].startsWith('--'), `gitea: ${cmd[i]} is no option`);
      if (cmd[i + 1] === undefined || cmd[i + 1].startsWith('--')) opt[cmd[i].slice(2)] = true;
      else opt[cmd[i].slice(2)] = cmd[++i];
    }
    const attrs = [opt['username-attribute'], opt['firstname-attribute'], opt['surname-attribute'], opt['email-attribute']];
    // Gitea refuses names with NUL ( ) * \ before searching and puts the name in raw
    // (fmt.Sprintf); %[1]s and %s are the same argument.
    const filterFor = (v) => opt['user-filter'].replaceAll('%[1]s', v).replaceAll('%s', v);
    const found = await checkLogins('gitea', inSecretAgents, (name) =>
      /[\0()*\\]/.test(name) ? undefined : { bindDn: opt['bind-dn'], base: opt['user-search-base'], filter: filterFor(name), attrs });
    assert.ok(!found.has('bob'), 'bob (not in secret-agents) is not a Gitea user');
    // The admin filter, on the user's own entry: run on every active user (the page's user
    // filter admits no superuser of the test data, so the positive case is checked this way).
    const admins = [];
    for (const f of facts.values()) {
      if (!f.isActive) continue;
      const e = await search('gitea', opt['bind-dn'], { base: userDn(f.username), scope: 'base', filter: opt['admin-filter'], attrs: [opt['username-attribute']] });
      if (e.length) admins.push(f.username);
    }
    assert.deepEqual(admins.sort(), activeWhere((f) => f.isSuperuser));
    assert.ok(admins.includes('root'));
    // The periodic user sync: the user filter with `*`.
    assert.ok(opt['synchronize-users']);
    const all = await search('gitea', opt['bind-dn'], { base: opt['user-search-base'], filter: filterFor('*'), attrs });
    assert.deepEqual(all.map((e) => e.attrs.uid[0]).sort(), activeWhere(inSecretAgents));
    await checkBinds('gitea', found);
  });

  test('Grafana (ldap.toml): search_filter, memberOf group_mappings, bind', async () => {
    const { text } = replayedBlock('grafana');
    const [s] = readToml(text).servers;
    const a = s.attributes;
    const attrs = [a.username, a.name, a.surname, a.email, a.member_of];
    const found = await checkLogins('grafana', () => true, (name) => ({ bindDn: s.bind_dn, base: s.search_base_dns[0], filter: s.search_filter.replace('%s', escapeBytes(name)), attrs }));
    assert.equal(s.search_base_dns.length, 1);
    // Grafana's mapping: the first group_mappings entry whose group_dn equals (ignoring case) a
    // memberOf value; none: refused.
    const roleOf = async (name) => {
      const [e] = await search('grafana', s.bind_dn, { base: s.search_base_dns[0], filter: s.search_filter.replace('%s', escapeBytes(name)), attrs });
      const dns = (e?.attrs[a.member_of.toLowerCase()] ?? []).map((d) => d.toLowerCase());
      const m = s.group_mappings.find((g) => g.group_dn === '*' || dns.includes(g.group_dn.toLowerCase()));
      return m ? `${m.org_role}${m.grafana_admin ? '+admin' : ''}` : 'refused';
    };
    assert.deepEqual(
      { root: await roleOf('root'), alice: await roleOf('alice'), bob: await roleOf('bob'), dora: await roleOf('dora') },
      { root: 'Admin+admin', alice: 'Editor', bob: 'refused', dora: 'refused' },
    );
    await checkBinds('grafana', found);
  });

  test('Jenkins (LDAP plugin): user search, group membership search, group by name, bind', async () => {
    const { text } = replayedBlock('jenkins');
    const realm = parseYaml(text).jenkins.securityRealm.ldap;
    const [c] = realm.configurations;
    assert.equal(realm.userIdStrategy, 'CaseSensitive');
    const userBase = `${c.userSearchBase},${c.rootDN}`;
    const groupBase = `${c.groupSearchBase},${c.rootDN}`;
    // The plugin asks for every user attribute and reads the display name and mail from them.
    const pick = (e) => ({ dn: e.dn, attrs: Object.fromEntries([c.displayNameAttributeName, c.mailAddressAttributeName, 'uid'].map((k) => k.toLowerCase()).filter((k) => e.attrs[k]).map((k) => [k, e.attrs[k]])) });
    const found = await checkLogins('jenkins', () => true, (name) => ({
      bindDn: c.managerDN, base: userBase, filter: c.userSearch.replaceAll('{0}', escape4515(name)), attrs: [],
      expect: ['uid', c.displayNameAttributeName, c.mailAddressAttributeName], extraCheck: pick,
    }));
    const membership = c.groupMembershipStrategy.fromGroupSearch.filter;
    const wrong = [];
    for (const [name, dn] of found) {
      const groups = await search('jenkins', c.managerDN, { base: groupBase, filter: membership.replaceAll('{0}', escape4515(dn)).replaceAll('{1}', escape4515(name)), attrs: ['cn'] });
      const got = groups.map((g) => g.attrs.cn[0]).sort();
      if (JSON.stringify(got) !== JSON.stringify(facts.get(name).groups)) wrong.push(`${name}: groups ${JSON.stringify(got)}, Django ${JSON.stringify(facts.get(name).groups)}`);
    }
    assert.deepEqual(wrong, []);
    for (const g of ['secret-agents', "Smith, John's team", 'Ünïcödé', 'no such group']) {
      const e = await search('jenkins', c.managerDN, { base: groupBase, filter: c.groupSearchFilter.replaceAll('{0}', escape4515(g)), attrs: ['cn'] });
      assert.deepEqual(e.map((x) => x.dn), g === 'no such group' ? [] : [groupDn(g)], `jenkins group ${g}`);
    }
    await checkBinds('jenkins', found);
  });

  test('Nextcloud (user_ldap): login filter, user and group listings, a user\'s groups, bind', async () => {
    const { text } = replayedBlock('nextcloud');
    const cfg = {};
    for (const w of shellCommands(text)) {
      assert.deepEqual(w.slice(0, 2), ['occ', 'ldap:set-config'], `nextcloud: ${w.join(' ')}`);
      cfg[w[3]] = w[4];
    }
    const attrs = [cfg.ldapExpertUsernameAttr, cfg.ldapUserDisplayName, cfg.ldapEmailAttribute, 'memberOf', cfg.ldapExpertUUIDUserAttr];
    const uuidKey = cfg.ldapExpertUUIDUserAttr.toLowerCase();
    const uuids = new Map();
    const found = await checkLogins('nextcloud', inSecretAgents, (name) => ({
      bindDn: cfg.ldapAgentName, base: cfg.ldapBaseUsers, filter: cfg.ldapLoginFilter.replaceAll('%uid', escape4515(name)), attrs,
      extraCheck: (e) => {
        const [uuid, ...more] = e.attrs[uuidKey] ?? [];
        assert.match(uuid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `${e.dn}: one entryUUID`);
        assert.equal(more.length, 0);
        uuids.set(e.dn, uuid);
        const { [uuidKey]: _u, ...rest } = e.attrs;
        return { dn: e.dn, attrs: rest };
      },
    }));
    assert.ok(!found.has('bob'), 'bob (not in secret-agents) is not a Nextcloud user');
    // The user listing Nextcloud pages through (its own paging: Simple Paged Results).
    const listed = await search('nextcloud', cfg.ldapAgentName, { base: cfg.ldapBaseUsers, filter: cfg.ldapUserFilter, attrs, extra: ['-E', 'pr=3/noprompt'] });
    assert.deepEqual(listed.map((e) => e.attrs.uid[0]).sort(), activeWhere(inSecretAgents));
    for (const e of listed) if (uuids.has(e.dn)) assert.deepEqual(e.attrs[uuidKey], [uuids.get(e.dn)], 'the same UUID in the listing and at login');
    // Groups: the listing, and each user's groups by the member association.
    const groups = await search('nextcloud', cfg.ldapAgentName, { base: cfg.ldapBaseGroups, filter: cfg.ldapGroupFilter, attrs: [cfg.ldapGroupDisplayName, cfg.ldapExpertUUIDGroupAttr] });
    assert.deepEqual(groups.map((g) => g.attrs.cn[0]).sort(), [...groupNames].sort());
    assert.ok(groups.every((g) => g.attrs.entryuuid?.length === 1), 'every group has its UUID');
    for (const [name, dn] of found) {
      const mine = await search('nextcloud', cfg.ldapAgentName, { base: cfg.ldapBaseGroups, filter: `(&${cfg.ldapGroupFilter}(${cfg.ldapGroupMemberAssocAttr}=${escape4515(dn)}))`, attrs: [cfg.ldapGroupDisplayName] });
      assert.deepEqual(mine.map((g) => g.attrs.cn[0]).sort(), facts.get(name).groups, `nextcloud groups of ${name}`);
    }
    await checkBinds('nextcloud', found);
  });

  test('Keycloak (LDAP user federation, READ_ONLY): user by username, user listing, groups by member, bind', async () => {
    const { text } = replayedBlock('keycloak');
    const [provider, mapper] = JSON.parse(text);
    const one = (x) => {
      assert.equal(x.length, 1);
      return x[0];
    };
    const p = Object.fromEntries(Object.entries(provider.config).map(([k, v]) => [k, one(v)]));
    const m = Object.fromEntries(Object.entries(mapper.config).map(([k, v]) => [k, one(v)]));
    assert.equal(p.editMode, 'READ_ONLY');
    assert.equal(m.mode, 'READ_ONLY');
    // Keycloak ANDs the object classes, the custom filter and (for one user) the username test.
    const classes = p.userObjectClasses.split(',').map((c) => `(objectclass=${c.trim()})`).join('');
    const custom = p.customUserSearchFilter ?? '';
    // The attributes of its default mappers (username, first name, last name, email, creation
    // and modification dates) and the UUID attribute.
    const attrs = [p.usernameLDAPAttribute, 'cn', 'sn', 'mail', 'createTimestamp', 'modifyTimestamp', p.uuidLDAPAttribute];
    const created = new Map();
    const found = await checkLogins('keycloak', inSecretAgents, (name) => ({
      bindDn: p.bindDn, base: p.usersDn, scope: p.searchScope === '2' ? 'sub' : 'one', filter: `(&(${p.usernameLDAPAttribute}=${escapeBytes(name)})${classes}${custom})`, attrs,
      extraCheck: (e) => {
        assert.match(e.attrs.createtimestamp?.[0] ?? '', /^\d{14}Z$/, `${e.dn}: createTimestamp`);
        assert.equal(e.attrs.modifytimestamp, undefined, 'modifyTimestamp is not served');
        assert.equal(e.attrs.entryuuid?.length, 1);
        created.set(e.dn, e.attrs.createtimestamp[0]);
        const { createtimestamp: _c, entryuuid: _e, ...rest } = e.attrs;
        return { dn: e.dn, attrs: rest };
      },
    }));
    assert.ok(!found.has('bob'));
    const listed = await search('keycloak', p.bindDn, { base: p.usersDn, filter: `(&${classes}${custom})`, attrs, extra: ['-E', 'pr=2/noprompt'] });
    assert.deepEqual(listed.map((e) => e.attrs.uid[0]).sort(), activeWhere(inSecretAgents));
    for (const [name, dn] of found) {
      const classesG = m['group.object.classes'].split(',').map((c) => `(objectclass=${c.trim()})`).join('');
      const value = m['membership.attribute.type'] === 'DN' ? dn : name;
      const groups = await search('keycloak', p.bindDn, { base: m['groups.dn'], filter: `(&${classesG}(${m['membership.ldap.attribute']}=${escapeBytes(value)}))`, attrs: [m['group.name.ldap.attribute']] });
      assert.deepEqual(groups.map((g) => g.attrs.cn[0]).sort(), facts.get(name).groups, `keycloak groups of ${name}`);
    }
    await checkBinds('keycloak', found);
  });

  test('Authelia (implementation custom): users_filter, groups_filter, bind', async () => {
    const { text } = replayedBlock('authelia');
    const backend = parseYaml(text).authentication_backend;
    const l = backend.ldap;
    assert.equal(l.implementation, 'custom');
    assert.equal(backend.password_reset.disable, true);
    const a = l.attributes;
    const attrs = [a.username, a.display_name, a.mail, a.member_of];
    const under = (rel) => (rel ? `${rel},${l.base_dn}` : l.base_dn);
    const usersFilter = (input) => l.users_filter.replaceAll('{username_attribute}', a.username).replaceAll('{mail_attribute}', a.mail).replaceAll('{display_name_attribute}', a.display_name).replaceAll('{input}', escapeBytes(input));
    const found = await checkLogins('authelia', () => true, (name) => ({ bindDn: l.user, base: under(l.additional_users_dn), filter: usersFilter(name), attrs }));
    const groupsFilter = (name, dn) => l.groups_filter.replaceAll('{dn}', escapeBytes(dn)).replaceAll('{username}', escapeBytes(name)).replaceAll('{input}', escapeBytes(name));
    for (const [name, dn] of found) {
      const f = facts.get(name);
      const groups = await search('authelia', l.user, { base: under(l.additional_groups_dn), filter: groupsFilter(name, dn), attrs: [a.group_name] });
      assert.deepEqual(groups.map((g) => g.attrs.cn[0]).sort(), f.groups, `authelia groups of ${name}`);
      // The page's variant: additional_groups_dn '' (the whole tree) adds permissions and roles.
      const everything = await search('authelia', l.user, { base: under(''), filter: groupsFilter(name, dn), attrs: [a.group_name] });
      const roles = [...(f.isStaff ? ['staff'] : []), ...(f.isSuperuser ? ['superusers'] : [])];
      assert.deepEqual(everything.map((g) => g.attrs.cn[0]).sort(), [...f.groups, ...f.permissions, ...roles].sort(), `authelia groups of ${name} from the base`);
    }
    await checkBinds('authelia', found);
  });
});
