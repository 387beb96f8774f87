// Hostile values in filters and DNs are data, never SQL or LIKE/GLOB syntax, on SQLite and on
// PostgreSQL. Users and groups whose names hold ' " ; -- \ % _ * (and GLOB's ? [ ]) are created
// through Django's ORM; searches for them (exact, substring, near misses that must NOT match),
// compares and binds go through the real OpenLDAP clients and ldapjs; afterwards the database
// holds exactly what it held before.
//
// What the bridge pushes to SQL (src/ldap/filter-plan.ts): uid (username), mail (email),
// givenName (first_name) and a group's cn (name); sn and cn of users are checked in memory.
// Both paths are exercised. NUL cannot be stored in PostgreSQL text, so no value holds one; it
// is still sent (as \00) in filters and DNs, where it must match nothing and break nothing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, ldapTool, ldapsearch, client, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import ldapFilter from '@ldapjs/filter';
import { escapeDnValue } from '../../dist/ldap/dn.js';

const USERS = `ou=users,${BASE}`;
const GROUPS = `ou=groups,${BASE}`;
const userDn = (u) => `uid=${escapeDnValue(u)},${USERS}`;
const groupDn = (g) => `cn=${escapeDnValue(g)},${GROUPS}`;
/** RFC 4515 value escaping, done here (not with the bridge's own helper). */
const esc = (v) => v.replace(/[*()\\\0]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0'));

const PASSWORD = 'inj-Passw0rd';
// Decoys hold what a wildcard would wrongly match: X where the needle has _ or %, no backslash
// where it has one, and so on.
const HOSTILE_USERS = [
  { username: 'inj_percent', first: '100%', last: 'Per%cent', email: 'pct%sign@example.com', groups: ['100% legit', '%'] },
  { username: 'inj_under', first: 'a_b', last: 'Under_score', email: 'under_score@example.com', groups: ['under_score', '_'] },
  { username: 'injXunder', first: 'aXb', last: 'UnderXscore', email: 'underXscore@example.com', groups: ['underXscore'] },
  { username: 'inj_quote', first: "O'Brien", last: '"Bob"; --', email: "o'brien@example.com", groups: ['quote\'n"double', 'semi;colon -- comment'] },
  { username: 'inj_back', first: 'back\\slash', last: 'C:\\Temp\\%_*', email: 'back.slash@example.com', groups: ['back\\slash', '\\'] },
  { username: 'inj_star', first: 'star*', last: '*', email: 'star*user@example.com', groups: ['star*group', '*'] },
  { username: 'inj_sql', first: "'; DROP TABLE auth_user; --", last: "' OR '1'='1", email: 'sql@example.com', groups: ["'; DROP TABLE auth_group; --"] },
  { username: 'inj_glob', first: '[a-z]?', last: 'Glob[*]', email: 'glob@example.com', groups: ['[a-z]?'] },
  { username: 'inj_plain', first: 'abc', last: 'Plain', email: 'plain@example.com', groups: ['backslash', 'starXgroup', '100 legit', '1000 legit'] },
];
const HOSTILE_GROUPS = [...new Set([...HOSTILE_USERS.flatMap((u) => u.groups), '%%', '__'])];

const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const toolsSkip = need('OpenLDAP clients (ldap-utils)', hasCommand('ldapsearch', ['-VV']), 'ldapsearch not on PATH');
const pg = await postgresAvailable();
const pgSkip = need('PostgreSQL on 127.0.0.1:5432', pg.ok, pg.reason);

/** Creates the hostile users and groups through Django (full_clean: only what Django accepts). */
async function addHostileData(env) {
  const data = Buffer.from(JSON.stringify({ users: HOSTILE_USERS, groups: HOSTILE_GROUPS, password: PASSWORD })).toString('base64');
  const out = await djangoShell(
    env,
    `
import base64, json
data = json.loads(base64.b64decode('${data}').decode('utf-8'))
with transaction.atomic():
    groups = {}
    for name in data['groups']:
        g = Group(name=name)
        g.full_clean()
        g.save()
        groups[name] = g
    for u in data['users']:
        user = User(username=u['username'], first_name=u['first'], last_name=u['last'], email=u['email'], is_active=True)
        user.set_password(data['password'])
        user.full_clean()
        user.save()
        user.groups.set([groups[n] for n in u['groups']])
print('ok')
`,
  );
  assert.equal(out.trim(), 'ok');
}

/** Everything that could change, as Django sees it. */
async function snapshot(env) {
  return JSON.parse(
    await djangoShell(
      env,
      `
import json
print(json.dumps({
    'users': User.objects.count(),
    'groups': Group.objects.count(),
    'memberships': User.groups.through.objects.count(),
    'userPermissions': User.user_permissions.through.objects.count(),
    'permissions': Permission.objects.count(),
    'userRows': sorted([list(r) for r in User.objects.values_list('id', 'username', 'first_name', 'last_name', 'email', 'password', 'is_active', 'is_staff', 'is_superuser')]),
    'groupRows': sorted([list(r) for r in Group.objects.values_list('id', 'name')]),
}))
`,
    ),
  );
}

// ---------------------------------------------------------------- literal matching, in JS
// What LDAP says these filters mean, computed without the bridge: caseIgnore attributes fold
// case, uid is case-exact (Django), and every character of an assertion is literal.
const fold = (s) => s.toLowerCase();
function substringMatch(value, { initial, any = [], final }) {
  let pos = 0;
  if (initial !== undefined) {
    if (!value.startsWith(initial)) return false;
    pos = initial.length;
  }
  let end = value.length;
  if (final !== undefined) {
    if (value.length - pos < final.length || !value.endsWith(final)) return false;
    end = value.length - final.length;
  }
  for (const a of any) {
    const k = value.indexOf(a, pos);
    if (k < 0 || k + a.length > end) return false;
    pos = k + a.length;
  }
  return true;
}
/** Parses the one-assertion filters used below: (attr=value) with value possibly holding *. */
function literal(filter) {
  const m = /^\(([A-Za-z]+)=(.*)\)$/s.exec(filter);
  assert.ok(m, filter);
  const unescape = (s) => Buffer.from(s.replace(/\\([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  const [, attr, raw] = m;
  if (!raw.includes('*')) return { attr, eq: unescape(raw) };
  const parts = raw.split('*').map(unescape);
  return { attr, sub: { initial: parts[0] || undefined, any: parts.slice(1, -1), final: parts[parts.length - 1] || undefined } };
}
function expectMatches(entries, attr, filter, caseExact = false) {
  const f = literal(filter);
  const norm = caseExact ? (s) => s : fold;
  return entries
    .filter((e) => (e.attrs[attr] ?? []).some((v) => (f.eq !== undefined ? norm(v) === norm(f.eq) : substringMatch(norm(v), { initial: f.sub.initial && norm(f.sub.initial), any: f.sub.any.map(norm), final: f.sub.final && norm(f.sub.final) }))))
    .map((e) => e.dn)
    .sort();
}

for (const engine of ['sqlite', 'postgres']) {
  const skip = djangoSkip || toolsSkip || (engine === 'postgres' ? pgSkip : undefined);
  describe(`hostile values are data, not syntax (${engine})`, { skip }, () => {
    let db;
    let br;
    let before0;
    let allUsers; // every active user entry, as ldapsearch returns it
    let allGroups;
    const search = async (base, filter, attrs = ['1.1'], scope = 'sub') => {
      const r = await ldapsearch(br.url, { base, filter, attrs, scope });
      assert.equal(r.code, 0, `${filter} under ${base}: exit ${r.code} ${r.stderr}`);
      return r.entries.map((e) => e.dn).sort();
    };
    const cmp = async (dn, assertion) => (await ldapTool('ldapcompare', ['-x', '-H', br.url, '-D', SERVICE_DN, '-y', '/dev/stdin', dn, assertion], SERVICE_PW)).code;

    before(async () => {
      db = await makeDjangoDatabase({ engine });
      await addHostileData(db.env);
      before0 = await snapshot(db.env);
      // The failed binds below must not lock the test's address out (security.bruteForce).
      br = await startTestBridge({ url: db.url, config: { security: { bruteForce: { userFailures: 1e6, addressFailures: 1e6 } } } });
      const u = await ldapsearch(br.url, { base: USERS, filter: '(objectClass=inetOrgPerson)', attrs: ['uid', 'givenName', 'sn', 'cn', 'mail'] });
      assert.equal(u.code, 0, u.stderr);
      allUsers = u.entries;
      const g = await ldapsearch(br.url, { base: GROUPS, scope: 'one', filter: '(objectClass=groupOfNames)', attrs: ['cn'] });
      assert.equal(g.code, 0, g.stderr);
      allGroups = g.entries;
    });
    after(async () => {
      await br?.close();
      await db?.drop();
    });

    test('hostile names round-trip exactly: every created user and group is served as stored', () => {
      for (const u of HOSTILE_USERS) {
        const e = allUsers.find((x) => x.attrs.uid?.[0] === u.username);
        assert.ok(e, `${u.username} is served`);
        assert.equal(e.dn, userDn(u.username));
        assert.deepEqual(e.attrs.givenName, [u.first], `${u.username} givenName`);
        assert.deepEqual(e.attrs.sn, [u.last], `${u.username} sn`);
        assert.deepEqual(e.attrs.mail, [u.email], `${u.username} mail`);
      }
      for (const name of HOSTILE_GROUPS) {
        const e = allGroups.find((x) => x.attrs.cn?.[0] === name);
        assert.ok(e, `group ${JSON.stringify(name)} is served`);
        assert.equal(e.dn, groupDn(name));
      }
    });

    test('group names: exact searches find exactly the one group; wildcard characters in values are literal', async () => {
      for (const name of HOSTILE_GROUPS) {
        assert.deepEqual(await search(GROUPS, `(cn=${esc(name)})`), [groupDn(name)], `(cn=${esc(name)})`);
      }
      const only = async (filter, names) => assert.deepEqual(await search(GROUPS, filter), names.map(groupDn).sort(), filter);
      await only('(cn=%)', ['%']); // not every group
      await only('(cn=_)', ['_']); // not every one-character name
      await only('(cn=__)', ['__']);
      await only('(cn=%%)', ['%%']);
      await only('(cn=under_score)', ['under_score']); // not underXscore
      await only('(cn=100% legit)', ['100% legit']); // not "100 legit" / "1000 legit"
      await only('(cn=100%legit)', []);
      await only('(cn=100_legit)', []);
      await only('(cn=star\\2agroup)', ['star*group']); // not starXgroup
      await only('(cn=back\\5cslash)', ['back\\slash']); // not backslash
      await only('(cn=\\5c)', ['\\']);
      await only('(cn=\\2a)', ['*']);
      await only('(cn=[a-z]?)', ['[a-z]?']);
      await only("(cn='; DROP TABLE auth_group; --)", ["'; DROP TABLE auth_group; --"]);
      await only("(cn=' OR '1'='1)", []);
      await only("(cn=x' OR 'x'='x)", []);
      await only('(cn=\\00)', []);
      await only('(cn=%\\00)', []);
      // A real wildcard still works next to literal ones.
      await only('(cn=star*group)', ['star*group', 'starXgroup']);
      await only('(cn=*\\2agroup)', ['star*group']);
    });

    test('group names: substrings (*%*, *_*, *\\5c*, *\\2a*, quotes, comments) match the literal character only', async () => {
      const filters = ['(cn=*%*)', '(cn=*_*)', '(cn=*\\5c*)', '(cn=*\\2a*)', "(cn=*'*)", '(cn=*"*)', '(cn=*;*)', '(cn=*--*)', '(cn=*\\00*)', '(cn=%*)', '(cn=*%)', '(cn=_*)', '(cn=*_)',
        '(cn=*[*)', '(cn=*?*)', '(cn=*]*)', '(cn=100*legit)', '(cn=1*%*legit)', '(cn=under*score)', '(cn=*r_s*)', '(cn=*k\\5cs*)', '(cn=*%%*)', '(cn=*__*)'];
      for (const f of filters) {
        const want = expectMatches(allGroups, 'cn', f);
        assert.deepEqual(await search(GROUPS, f), want, f);
      }
      // Spot checks that the expectations above are the ones meant.
      assert.deepEqual(await search(GROUPS, '(cn=*%*)'), ['%', '%%', '100% legit'].map(groupDn).sort());
      assert.deepEqual(await search(GROUPS, '(cn=*\\00*)'), []);
      assert.ok(!(await search(GROUPS, '(cn=*_*)')).includes(groupDn('underXscore')));
      assert.ok(!(await search(GROUPS, '(cn=*\\5c*)')).includes(groupDn('backslash')));
      // NOT around a pushed-down LIKE keeps the complement exact.
      const notPct = await search(GROUPS, '(!(cn=*%*))', ['1.1'], 'one');
      assert.deepEqual(notPct, allGroups.filter((g) => !g.attrs.cn[0].includes('%')).map((g) => g.dn).sort());
      const notUnder = await search(GROUPS, '(&(objectClass=groupOfNames)(!(cn=*_*)))', ['1.1'], 'one');
      assert.deepEqual(notUnder, allGroups.filter((g) => !g.attrs.cn[0].includes('_')).map((g) => g.dn).sort());
    });

    test('user attributes pushed to SQL (uid, mail, givenName) and checked in memory (sn, cn): literal matching', async () => {
      const checks = [
        ['givenName', ['(givenName=100%)', '(givenName=100_)', '(givenName=a_b)', '(givenName=a_c)', '(givenName=a%c)', '(givenName=abc)', '(givenName=*%*)', '(givenName=*_*)', '(givenName=*\\5c*)',
          '(givenName=*\\2a*)', "(givenName=*'*)", '(givenName=*--*)', '(givenName=back\\5cslash)', '(givenName=star\\2a)', '(givenName=[a-z]?)', '(givenName=*[*)', '(givenName=*?)',
          "(givenName='; DROP TABLE auth_user; --)", "(givenName=' OR '1'='1)", '(givenName=\\00)', '(givenName=*\\00*)', '(givenName=a\\00*)']],
        ['mail', ['(mail=pct%sign@example.com)', '(mail=pct_sign@example.com)', '(mail=under_score@example.com)', '(mail=*%*)', '(mail=*_*)', '(mail=under_score*)', '(mail=*r_s*)',
          '(mail=star\\2auser@example.com)', '(mail=*\\2a*)', "(mail=o'brien@example.com)", "(mail=*'*)", '(mail=%)', '(mail=_)', '(mail=*\\00*)', '(mail=plain@example.co_)']],
        ['uid', ['(uid=inj_under)', '(uid=inj%under)', '(uid=inj?under)', '(uid=inj[_X]under)', '(uid=*j_u*)', '(uid=inj_*)', '(uid=*\\2a*)', '(uid=*?*)', '(uid=*[*)', '(uid=*%*)',
          '(uid=inj\\00)', '(uid=%)', '(uid=_)', '(uid=*)']],
        ['sn', ['(sn=*\\5c*)', '(sn=*--*)', '(sn=\\2a)', '(sn=*%_\\2a)', '(sn=*"*)', '(sn=*;*)', '(sn=Glob[\\2a])', "(sn=' OR '1'='1)", '(sn=*\\00*)']],
        ['cn', ['(cn=*%*)', '(cn=*_*)', '(cn=*\\5c*)', '(cn=a_b Under_score)', '(cn=a%b*)']],
      ];
      for (const [attr, filters] of checks) {
        for (const f of filters) {
          const want = f === '(uid=*)' ? allUsers.map((e) => e.dn).sort() : expectMatches(allUsers, attr, f, attr === 'uid');
          assert.deepEqual(await search(USERS, f), want, f);
        }
      }
      // The classic near misses, spelled out.
      assert.deepEqual(await search(USERS, '(givenName=a_c)'), [], '_ is not "any one character"');
      assert.deepEqual(await search(USERS, '(givenName=a%c)'), [], '% is not "anything"');
      assert.deepEqual(await search(USERS, '(mail=%)'), [], '% alone matches nothing');
      assert.deepEqual(await search(USERS, '(uid=*j_u*)'), [userDn('inj_under')], 'not injXunder');
      assert.deepEqual(await search(USERS, '(uid=inj?under)'), [], '? is not a GLOB wildcard');
      assert.deepEqual(await search(USERS, '(uid=inj[_X]under)'), [], '[...] is not a GLOB class');
      assert.deepEqual(await search(USERS, '(givenName=100%)'), [userDn('inj_percent')]);
      assert.deepEqual(await search(USERS, '(givenName=*\\5c*)'), [userDn('inj_back')]);
      assert.deepEqual(await search(USERS, '(mail=*\\2a*)'), [userDn('inj_star')]);
    });

    test('the same searches through ldapjs (filter objects) give the same answers', async () => {
      // ldapjs 3's filter-string parser sends RFC 4515 escapes undecoded ((cn=*\\25*) goes out
      // as the three characters \25), so the ldapjs side builds filter objects from raw values.
      const { EqualityFilter, SubstringFilter } = ldapFilter;
      const cases = [
        [GROUPS, new SubstringFilter({ attribute: 'cn', any: ['%'] }), '(cn=*%*)'],
        [GROUPS, new SubstringFilter({ attribute: 'cn', any: ['_'] }), '(cn=*_*)'],
        [GROUPS, new SubstringFilter({ attribute: 'cn', any: ['\\'] }), '(cn=*\\5c*)'],
        [GROUPS, new SubstringFilter({ attribute: 'cn', any: ['*'] }), '(cn=*\\2a*)'],
        [GROUPS, new SubstringFilter({ attribute: 'cn', initial: "'; DROP", any: ['--'] }), "(cn='; DROP*--*)"],
        [GROUPS, new EqualityFilter({ attribute: 'cn', value: '%' }), '(cn=%)'],
        [GROUPS, new EqualityFilter({ attribute: 'cn', value: 'back\\slash' }), '(cn=back\\5cslash)'],
        [USERS, new EqualityFilter({ attribute: 'givenName', value: 'a_c' }), '(givenName=a_c)'],
        [USERS, new SubstringFilter({ attribute: 'mail', any: ['%'] }), '(mail=*%*)'],
        [USERS, new SubstringFilter({ attribute: 'uid', any: ['j_u'] }), '(uid=*j_u*)'],
        [USERS, new SubstringFilter({ attribute: 'givenName', any: ['\0'] }), '(givenName=*\\00*)'],
      ];
      const c = client(br.url);
      try {
        await c.bind(SERVICE_DN, SERVICE_PW);
        for (const [base, filter, text] of cases) {
          // Compared by naming value: ldapjs re-formats DNs (\\; becomes \\3b).
          const naming = base === GROUPS ? 'cn' : 'uid';
          const viaLdapjs = (await c.search(base, { filter, scope: 'sub', attributes: [naming] })).entries.map((e) => e.attrs[naming][0]).sort();
          const viaLdapsearch = await ldapsearch(br.url, { base, filter: text, attrs: [naming] });
          assert.equal(viaLdapsearch.code, 0, viaLdapsearch.stderr);
          assert.deepEqual(viaLdapjs, viaLdapsearch.entries.map((e) => e.attrs[naming][0]).sort(), text);
        }
      } finally {
        await c.close();
      }
    });

    test('DNs with hostile values name exactly one entry: base searches and compares', async () => {
      for (const name of HOSTILE_GROUPS) {
        const r = await ldapsearch(br.url, { base: groupDn(name), scope: 'base', attrs: ['cn'] });
        assert.equal(r.code, 0, `${groupDn(name)}: ${r.stderr}`);
        assert.deepEqual(r.entries.map((e) => e.attrs.cn), [[name]]);
      }
      for (const dn of [`cn=1%,${GROUPS}`, `cn=_%,${GROUPS}`, `cn=under%,${GROUPS}`, `cn=100\\25 legit,${GROUPS}x`, `uid=inj%under,${USERS}`, `uid=inj\\5funde_,${USERS}`]) {
        const r = await ldapsearch(br.url, { base: dn, scope: 'base', attrs: ['1.1'] });
        assert.ok(r.code === 32 || r.code === 34, `${dn}: expected noSuchObject (or invalid DN), got ${r.code} ${r.stderr}`);
      }
      // Membership by compare: members of hostile groups, and near-miss groups they are not in.
      for (const u of HOSTILE_USERS) {
        for (const g of HOSTILE_GROUPS) {
          const member = u.groups.includes(g);
          assert.equal(await cmp(groupDn(g), `member:${userDn(u.username)}`), member ? 6 : 5, `${u.username} in ${JSON.stringify(g)}`);
        }
        assert.equal(await cmp(groupDn(u.groups[0]), `memberUid:${u.username}`), 6);
      }
      assert.equal(await cmp(groupDn('%'), 'memberUid:%'), 5);
      assert.equal(await cmp(groupDn('_'), 'memberUid:inj%'), 5);
      assert.equal(await cmp(groupDn('under_score'), `member:uid=inj%under,${USERS}`), 5);
      assert.equal(await cmp(groupDn('under_score'), `member:uid=inj_unde_,${USERS}`), 5);
      assert.equal(await cmp(groupDn("'; DROP TABLE auth_group; --"), `member:uid=' OR '1'='1,${USERS}`), 5);
      assert.equal(await cmp(`cn=under%,${GROUPS}`, `member:${userDn('inj_under')}`), 32);
      assert.equal(await cmp(`cn=\\25,${GROUPS}`, `member:${userDn('inj_percent')}`), 6, '\\25 in a DN is the % group itself');
      // Compare on hostile attribute values goes through the matching rule, not SQL.
      assert.equal(await cmp(userDn('inj_percent'), 'givenName:100%'), 6);
      assert.equal(await cmp(userDn('inj_percent'), 'givenName:100_'), 5);
      assert.equal(await cmp(userDn('inj_back'), 'sn:C:\\Temp\\%_*'), 6);
    });

    test('binds with hostile DNs answer 49, never an error and never a wildcard match', async () => {
      const who = async (dn, password) => (await ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', dn, '-y', '/dev/stdin'], password)).code;
      assert.equal(await who(userDn('inj_under'), PASSWORD), 0, 'the right DN and password bind');
      assert.equal(await who(userDn("inj_quote"), PASSWORD), 0);
      // The DN in another case is the single user equal to it ignoring case (compared with
      // lower() =, never LIKE: its _ is no wildcard, as the list below checks).
      assert.equal(await who(`uid=INJ_UNDER,${USERS}`, PASSWORD), 0);
      for (const dn of [
        `uid=inj%,${USERS}`, `uid=inj_unde_,${USERS}`, `uid=inj%under,${USERS}`, `uid=%,${USERS}`, `uid=_,${USERS}`, `uid=*,${USERS}`, `uid=inj*,${USERS}`,
        `uid=' OR '1'='1,${USERS}`, `uid=x' OR 'x'='x' --,${USERS}`, `uid=admin'--,${USERS}`, `uid=inj\\5c_under,${USERS}`,
        `uid=inj?under,${USERS}`, `uid=inj[_]under,${USERS}`, `cn=100\\25 legit,${GROUPS}`, `cn=\\22\\3b--,${USERS}`, `uid=a"b,${USERS}`,
      ]) {
        assert.equal(await who(dn, PASSWORD), 49, dn);
      }
      const c = client(br.url);
      try {
        for (const dn of [`uid=inj%,${USERS}`, `uid=' OR '1'='1,${USERS}`, `uid=_,${USERS}`]) {
          await assert.rejects(c.bind(dn, PASSWORD), (e) => e.code === 49, dn);
        }
        await c.bind(userDn('inj_percent'), PASSWORD);
      } finally {
        await c.close();
      }
    });

    test('NUL (\\00) in DNs and assertion values is data too: noSuchObject, 49, compareFalse, never an error', async () => {
      const b64 = (v) => Buffer.from(v, 'utf8').toString('base64');
      for (const dn of [`cn=\\00,${GROUPS}`, `cn=under_score\\00,${GROUPS}`, `uid=inj_under\\00,${USERS}`, `uid=\\00,${USERS}`]) {
        const r = await ldapsearch(br.url, { base: dn, scope: 'base', attrs: ['1.1'] });
        assert.equal(r.code, 32, `search base ${dn}: ${r.stderr}`);
        assert.equal(await cmp(dn, `objectClass:top`), 32, `compare on ${dn}`);
      }
      const who = async (dn) => (await ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', dn, '-y', '/dev/stdin'], PASSWORD)).code;
      assert.equal(await who(`uid=inj_under\\00,${USERS}`), 49);
      assert.equal(await who(`uid=\\00,${USERS}`), 49);
      assert.equal(await cmp(groupDn('under_score'), `member:uid=inj_under\\00,${USERS}`), 5);
      assert.equal(await cmp(groupDn('under_score'), `memberUid::${b64('inj_under\0')}`), 5);
      assert.equal(await cmp(`cn=svn.commit_repo,ou=permissions,${BASE}`, `member:uid=inj_under\\00,${USERS}`), 5);
      assert.equal(await cmp(userDn('inj_percent'), `givenName::${b64('100%\0')}`), 5);
    });

    test('the database is unchanged', async () => {
      assert.deepEqual(await snapshot(db.env), before0);
    });

    test('the bridge logged no error (an SQL error would be one)', () => {
      const errors = br.logs.filter((l) => /"level":(5\d|6\d)/.test(l));
      assert.deepEqual(errors.map((l) => l.slice(0, 400)), []);
    });
  });
}
