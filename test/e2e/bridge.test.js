// The bridge end to end, against databases made by real Django (SQLite, PostgreSQL, and MySQL/
// MariaDB with the server's default collation and with utf8mb4_bin), with
// the real OpenLDAP clients (ldapwhoami, ldapsearch, ldapcompare) and an ldapjs client. Every
// expectation comes from what Django itself said about the same data (populate.py).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, mysqlAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, ldapTool, ldapsearch, client, allLogs, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { escapeDnValue } from '../../dist/ldap/dn.js';

const USERS = `ou=users,${BASE}`;
const GROUPS = `ou=groups,${BASE}`;
const userDn = (u) => `uid=${escapeDnValue(u)},${USERS}`;
const groupDn = (g) => `cn=${escapeDnValue(g)},${GROUPS}`;

const tools = hasCommand('ldapsearch', ['-VV']);
const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const toolsSkip = need('OpenLDAP clients (ldap-utils)', tools, 'ldapsearch not on PATH');
const pg = await postgresAvailable();
const pgSkip = need('PostgreSQL on 127.0.0.1:5432', pg.ok, pg.reason);
const my = await mysqlAvailable();
const mySkip = need('MySQL/MariaDB on 127.0.0.1:3306 (root, no password)', my.ok, my.reason) ?? need('Django for MySQL (python3-mysqldb)', djangoAvailable({ engine: 'mysql' }).ok, djangoAvailable({ engine: 'mysql' }).reason);
/** Every password and stored hash the suites used, to prove none reached a log line. */
const secrets = new Set([SERVICE_PW]);
const remember = (expected) => {
  for (const u of expected.users) for (const v of [u.password, u.wrongPassword, u.encoded, ...(u.extraChecks ?? []).map((x) => x.password)]) if (v && v.length >= 6) secrets.add(v);
};

// mysql without a collation: the server's default (case-insensitive, as a real site gets it),
// where the case twin Frank cannot exist; utf8mb4_bin holds both frank and Frank.
for (const [engine, collation] of [['sqlite'], ['postgres'], ['mysql'], ['mysql', 'utf8mb4_bin']]) {
  const skip = djangoSkip || toolsSkip || (engine === 'postgres' ? pgSkip : engine === 'mysql' ? mySkip : undefined);
  describe(`bridge on ${engine}${collation ? ` (${collation})` : ''}`, { skip }, () => {
    let db;
    let br;
    let expected;
    const byName = (n) => expected.users.find((u) => u.username === n);
    before(async () => {
      db = await makeDjangoDatabase({ engine, collation });
      expected = db.expected;
      remember(expected);
      br = await startTestBridge({ url: db.url });
    });
    after(async () => {
      await br?.close();
      await db?.drop();
    });

    test('every user binds exactly when Django authenticates them (ldapwhoami)', async () => {
      for (const u of expected.users) {
        const ok = await ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', userDn(u.username), '-y', '/dev/stdin'], u.password);
        const django = u.checkRight && u.isActive && u.hasher !== 'unusable';
        assert.equal(ok.code === 0, django, `${u.username} (${u.hasher}) right password: bridge ${ok.code}, Django authenticate ${django}`);
        if (ok.code === 0) assert.equal(ok.stdout.trim(), `dn:${userDn(u.username)}`);
        else assert.equal(ok.code, 49, `${u.username}: ${ok.stderr}`);
        const bad = await ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', userDn(u.username), '-y', '/dev/stdin'], u.wrongPassword);
        assert.equal(bad.code, 49, `${u.username} wrong password must fail with 49`);
        for (const x of u.extraChecks ?? []) {
          const r = await ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', userDn(u.username), '-y', '/dev/stdin'], x.password);
          assert.equal(r.code === 0, x.check && u.isActive, `${u.username} with ${JSON.stringify(x.password)}`);
        }
      }
    });

    test('unauthenticated, unknown-user, SASL and malformed binds fail and never become anonymous success', async () => {
      const c = client(br.url);
      try {
        await assert.rejects(c.bind(userDn('alice'), ''), (e) => e.code === 49);
        await assert.rejects(c.bind(userDn('nobody-here'), 'x'), (e) => e.code === 49);
        await assert.rejects(c.bind('cn=not,dc=elsewhere', 'x'), (e) => e.code === 49);
        await assert.rejects(c.bind(SERVICE_DN, 'wrong'), (e) => e.code === 49);
        // After a failed bind the connection is anonymous: searching is refused, not empty.
        await assert.rejects(c.search(USERS, { filter: '(uid=alice)', scope: 'sub' }), (e) => e.code === 50);
      } finally {
        await c.close();
      }
      const sasl = await ldapTool('ldapwhoami', ['-H', br.url, '-Y', 'PLAIN', '-U', 'alice', '-w', 'x']);
      assert.notEqual(sasl.code, 0);
      // Case twins are different accounts: Frank's password does not open frank (where the
      // collation lets Django hold both).
      assert.equal(!byName('Frank'), (expected.skippedUsers ?? []).includes('Frank'));
      if (byName('Frank')) {
        const twin = await ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', userDn('frank'), '-y', '/dev/stdin'], byName('Frank').password);
        assert.equal(twin.code, 49);
      }
      // A DN in another case names the single user equal to it ignoring case (docs/operations.md,
      // "Usernames and case"); with twins frank and Frank, FRANK names neither.
      const upper = await ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', `UID=FRANK,${USERS}`, '-y', '/dev/stdin'], byName('frank').password);
      assert.equal(upper.code, byName('Frank') ? 49 : 0, byName('Frank') ? 'FRANK names neither twin' : 'FRANK is frank, the only user of that name ignoring case');
    });

    test("Apache's user search returns exactly one entry, with its DN and the asked attributes", async () => {
      for (const u of expected.users) {
        const r = await ldapsearch(br.url, { base: USERS, filter: `(&(objectclass=*)(uid=${u.username.replace(/[*()\\]/g, (c) => '\\' + c.charCodeAt(0).toString(16))}))`, attrs: ['uid'], extra: ['-a', 'always', '-l', '60'] });
        assert.equal(r.code, 0, r.stderr);
        const visible = u.isActive;
        assert.equal(r.entries.length, visible ? 1 : 0, `${u.username}: ${JSON.stringify(r.entries)}`);
        if (visible) {
          assert.equal(r.entries[0].dn, userDn(u.username));
          assert.deepEqual(r.entries[0].attrs, { uid: [u.username] });
        }
      }
      const star = await ldapsearch(br.url, { base: USERS, filter: '(uid=\\2a)', attrs: ['uid'] });
      assert.equal(star.entries.length, 0, 'an escaped * is a literal, not a wildcard');
    });

    test('user entries carry what Django says: names, mail, flags, groups, permissions', async () => {
      const r = await ldapsearch(br.url, { base: USERS, filter: '(objectClass=inetOrgPerson)', attrs: ['*', '+'] });
      assert.equal(r.code, 0, r.stderr);
      const active = expected.users.filter((u) => u.isActive);
      assert.deepEqual(r.entries.map((e) => e.attrs.uid[0]).sort(), active.map((u) => u.username).sort());
      for (const e of r.entries) {
        const u = byName(e.attrs.uid[0]);
        assert.equal(e.dn, userDn(u.username));
        assert.deepEqual(e.attrs.objectClass, ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'djangoAccount']);
        assert.deepEqual(e.attrs.mail, u.email ? [u.email] : undefined);
        assert.deepEqual(e.attrs.djangoId, [String(u.id)]);
        assert.deepEqual(e.attrs.djangoIsStaff, [u.isStaff ? 'TRUE' : 'FALSE']);
        assert.deepEqual(e.attrs.djangoIsSuperuser, [u.isSuperuser ? 'TRUE' : 'FALSE']);
        // date_joined as GeneralizedTime, to the second (RFC 4517): YYYYMMDDHHMMSSZ.
        assert.deepEqual(e.attrs.createTimestamp, [new Date(u.dateJoined).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'], `${u.username} createTimestamp`);
        const full = `${u.firstName} ${u.lastName}`.trim();
        assert.deepEqual(e.attrs.cn, [full || u.username]);
        assert.deepEqual(e.attrs.sn, [u.lastName || u.username]);
        assert.deepEqual((e.attrs.djangoPermission ?? []).sort(), [...u.permissions].sort(), `${u.username} permissions`);
        const memberOf = [
          ...u.groups.map(groupDn),
          ...u.permissions.map((p) => `cn=${escapeDnValue(p)},ou=permissions,${BASE}`),
          ...(u.isStaff ? [`cn=staff,ou=roles,${BASE}`] : []),
          ...(u.isSuperuser ? [`cn=superusers,ou=roles,${BASE}`] : []),
        ].sort();
        assert.deepEqual((e.attrs.memberOf ?? []).sort(), memberOf, `${u.username} memberOf`);
        assert.match(e.attrs.entryUUID[0], /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        const served = JSON.stringify(e.attrs);
        assert.ok(!('userPassword' in e.attrs) && expected.users.every((x) => !x.encoded || !served.includes(x.encoded)), 'no hash is ever served');
      }
    });

    test('groups, including names that need DN escaping, list their active members', async () => {
      const r = await ldapsearch(br.url, { base: GROUPS, scope: 'one', filter: '(objectClass=groupOfNames)', attrs: ['cn', 'member', 'memberUid'] });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.entries.map((e) => e.attrs.cn[0]).sort(), expected.groups.map((g) => g.name).sort());
      for (const g of expected.groups) {
        const e = r.entries.find((x) => x.attrs.cn[0] === g.name);
        assert.equal(e.dn, groupDn(g.name), `DN of ${JSON.stringify(g.name)}`);
        const active = g.members.filter((m) => byName(m).isActive).sort();
        assert.deepEqual((e.attrs.memberUid ?? []).sort(), active, `members of ${JSON.stringify(g.name)}`);
        assert.deepEqual((e.attrs.member ?? []).sort(), active.map(userDn).sort());
        // The same group found by its own DN (base search) — the DN round-trips.
        const b = await ldapsearch(br.url, { base: groupDn(g.name), scope: 'base', attrs: ['cn'] });
        assert.equal(b.code, 0, `${groupDn(g.name)}: ${b.stderr}`);
        assert.deepEqual(b.entries[0].attrs.cn, [g.name]);
      }
    });

    test('compare answers membership as Django does (ldapcompare)', async () => {
      const cmp = async (dn, assertion) => (await ldapTool('ldapcompare', ['-x', '-H', br.url, '-D', SERVICE_DN, '-y', '/dev/stdin', dn, assertion], SERVICE_PW)).code;
      for (const g of expected.groups) {
        for (const u of expected.users) {
          const member = g.members.includes(u.username) && u.isActive;
          assert.equal(await cmp(groupDn(g.name), `member:${userDn(u.username)}`), member ? 6 : 5, `${u.username} in ${JSON.stringify(g.name)}`);
        }
      }
      assert.equal(await cmp(groupDn('secret-agents'), 'memberUid:alice'), 6);
      assert.equal(await cmp(groupDn('secret-agents'), 'memberUid:dora'), 5, 'inactive members do not count');
      assert.equal(await cmp(groupDn('secret-agents'), `uniqueMember:${userDn('alice')}`), 16);
      assert.equal(await cmp(groupDn('secret-agents'), 'objectClass:groupOfNames'), 6);
      assert.equal(await cmp(groupDn('secret-agents'), 'objectClass:groupOfUniqueNames'), 5);
      assert.equal(await cmp(userDn('alice'), 'objectClass:groupOfNames'), 5);
      assert.equal(await cmp(userDn('alice'), 'uid:alice'), 6);
      assert.equal(await cmp(userDn('alice'), 'uid:ALICE'), 5);
      assert.equal(await cmp(groupDn('no such group'), `member:${userDn('alice')}`), 32);
      // DN values compare as DNs: case and spaces of attribute types do not matter.
      assert.equal(await cmp(groupDn('secret-agents'), `member:UID=alice, OU=Users,DC=Example,DC=com`), 6);
      // Permission groups: users holding svn.commit_repo directly, through a group, or as superuser.
      for (const u of expected.users) {
        const holds = u.permissions.includes('svn.commit_repo');
        assert.equal(await cmp(`cn=svn.commit_repo,ou=permissions,${BASE}`, `member:${userDn(u.username)}`), holds ? 6 : 5, `${u.username} svn.commit_repo`);
      }
      assert.equal(await cmp(`cn=staff,ou=roles,${BASE}`, `member:${userDn('staffer')}`), 6);
      assert.equal(await cmp(`cn=superusers,ou=roles,${BASE}`, `member:${userDn('staffer')}`), 5);
      assert.equal(await cmp(`cn=superusers,ou=roles,${BASE}`, `member:${userDn('root')}`), 6);
    });

    test('a user bound as themself can compare group membership and read only their own entry', async () => {
      const alice = byName('alice');
      const c = client(br.url);
      try {
        await c.bind(userDn('alice'), alice.password);
        assert.equal(await c.compare(groupDn('secret-agents'), 'member', userDn('alice')), true);
        const own = await c.search(USERS, { filter: '(uid=alice)', scope: 'sub', attributes: ['uid'] });
        assert.equal(own.entries.length, 1);
        const other = await c.search(USERS, { filter: '(uid=bob)', scope: 'sub', attributes: ['uid'] });
        assert.equal(other.entries.length, 0);
        await assert.rejects(c.search(userDn('bob'), { scope: 'base' }), (e) => e.code === 50);
      } finally {
        await c.close();
      }
    });

    test('anonymous clients see the root DSE and schema only; writes are refused and change nothing', async () => {
      const dse = await ldapsearch(br.url, { bindDn: null, base: '', scope: 'base', attrs: ['+'] });
      assert.equal(dse.code, 0, dse.stderr);
      assert.deepEqual(dse.entries[0].attrs.namingContexts, [BASE]);
      assert.deepEqual(dse.entries[0].attrs.supportedLDAPVersion, ['3']);
      assert.ok(dse.entries[0].attrs.supportedExtension.includes('1.3.6.1.4.1.4203.1.11.3'));
      const schema = await ldapsearch(br.url, { bindDn: null, base: 'cn=Subschema', scope: 'base', filter: '(objectClass=subschema)', attrs: ['objectClasses', 'attributeTypes'] });
      assert.equal(schema.code, 0);
      assert.ok(schema.entries[0].attrs.objectClasses.some((v) => v.includes("NAME 'djangoAccount'")));
      const anon = await ldapsearch(br.url, { bindDn: null, base: USERS, filter: '(uid=alice)' });
      assert.equal(anon.code, 50, 'anonymous search is refused, not answered empty');

      const c = client(br.url);
      try {
        await c.bind(SERVICE_DN, SERVICE_PW);
        await assert.rejects(c.add(`uid=mallory,${USERS}`, { objectClass: 'inetOrgPerson', uid: 'mallory', cn: 'm', sn: 'm' }), (e) => e.code === 53);
        await assert.rejects(c.del(userDn('alice')), (e) => e.code === 53);
      } finally {
        await c.close();
      }
      const count = await djangoShell(db.env, "print(User.objects.filter(username='mallory').count(), User.objects.filter(username='alice').count())");
      assert.equal(count.trim(), '0 1');
    });

    test('bad requests get the right result code', async () => {
      const below = await ldapsearch(br.url, { base: `ou=nowhere,${BASE}`, filter: '(objectClass=*)' });
      assert.equal(below.code, 32);
      assert.match(below.stdout + below.stderr, /Matched DN: dc=example,dc=com/);
      const missing = await ldapsearch(br.url, { base: userDn('nobody'), scope: 'base' });
      assert.equal(missing.code, 32);
      const unknownAttr = await ldapsearch(br.url, { base: USERS, filter: '(noSuchAttr=1)' });
      assert.equal(unknownAttr.code, 0);
      assert.equal(unknownAttr.entries.length, 0);
      const notUnknown = await ldapsearch(br.url, { base: USERS, filter: '(!(noSuchAttr=1))' });
      assert.equal(notUnknown.entries.length, 0, 'NOT of Undefined is Undefined (RFC 4511)');
      const badDn = await ldapsearch(br.url, { base: 'cn=\\zz,dc=example,dc=com' });
      assert.equal(badDn.code, 34);
      const limited = await ldapsearch(br.url, { base: USERS, filter: '(uid=*)', attrs: ['uid'], extra: ['-z', '2'] });
      assert.equal(limited.code, 4);
      assert.equal(limited.entries.length, 2);
      // A malformed filter (unknown CHOICE tag 0xaf) in raw BER: protocolError, connection closed.
      const reply = await rawExchange(br.url, Buffer.from('301d020101631804000a01020a0100020100020100010100af0130300004000000'.slice(0, 62), 'hex'));
      assert.ok(reply.closed, 'the server closes the connection after a malformed message');
    });

    test('attribute selection: names in any case, 1.1, typesOnly, + and *', async () => {
      const upper = await ldapsearch(br.url, { base: USERS, filter: '(UID=alice)', attrs: ['UID', 'Mail'] });
      const want = { uid: ['alice'] };
      if (byName('alice').email) want.mail = [byName('alice').email];
      assert.deepEqual(upper.entries[0].attrs, want);
      const none = await ldapsearch(br.url, { base: USERS, filter: '(uid=alice)', attrs: ['1.1'] });
      assert.deepEqual(none.entries, [{ dn: userDn('alice'), attrs: {} }]);
      const types = await ldapsearch(br.url, { base: USERS, filter: '(uid=alice)', attrs: ['uid', 'cn'], extra: ['-A'] });
      assert.deepEqual(Object.keys(types.entries[0].attrs).sort(), ['cn', 'uid']);
      assert.ok(!types.stdout.includes(': alice'), 'typesOnly sends no values');
      const plain = await ldapsearch(br.url, { base: USERS, filter: '(uid=alice)' });
      assert.ok(!('entryUUID' in plain.entries[0].attrs), 'operational attributes only on request');
      const plus = await ldapsearch(br.url, { base: USERS, filter: '(uid=alice)', attrs: ['+'] });
      assert.deepEqual(Object.keys(plus.entries[0].attrs).sort(), ['createTimestamp', 'entryDN', 'entryUUID', 'hasSubordinates', 'subschemaSubentry']);
    });

    test('filters: substrings, ranges, negation, approx, extensible and memberOf, as Django data says', async () => {
      const uids = async (filter) => (await ldapsearch(br.url, { base: USERS, filter, attrs: ['uid'] })).entries.map((e) => e.attrs.uid[0]).sort();
      const active = expected.users.filter((u) => u.isActive);
      assert.deepEqual(await uids('(uid=u_*)'), active.filter((u) => u.username.startsWith('u_')).map((u) => u.username).sort());
      assert.deepEqual(await uids('(&(objectClass=person)(!(uid=u_*)))'), active.filter((u) => !u.username.startsWith('u_')).map((u) => u.username).sort());
      assert.deepEqual(await uids(`(memberOf=${groupDn('secret-agents').replace(/\\/g, '\\5c')})`), active.filter((u) => u.groups.includes('secret-agents')).map((u) => u.username).sort());
      assert.deepEqual(await uids('(djangoPermission=svn.commit_repo)'), active.filter((u) => u.permissions.includes('svn.commit_repo')).map((u) => u.username).sort());
      assert.deepEqual(await uids('(djangoIsSuperuser=TRUE)'), active.filter((u) => u.isSuperuser).map((u) => u.username).sort());
      const alice = byName('alice');
      assert.deepEqual(await uids(`(&(djangoId>=${alice.id})(djangoId<=${alice.id}))`), ['alice']);
      assert.deepEqual(await uids('(uid:caseIgnoreMatch:=FRANK)'), active.filter((u) => u.username.toLowerCase() === 'frank').map((u) => u.username).sort());
      assert.deepEqual(await uids('(uid=FRANK)'), [], 'uid follows Django: case-sensitive');
      assert.deepEqual(await uids('(|(uid=alice)(uid=%)(uid=_lice)(uid=ali\\5c))'), ['alice'], 'SQL wildcards in values are data');
      assert.deepEqual(await uids("(uid=alice' OR '1'='1)"), []);
    });

    test('with caches off, Django changes show on the next operation', async () => {
      const cmp = async () => (await ldapTool('ldapcompare', ['-x', '-H', br.url, '-D', SERVICE_DN, '-y', '/dev/stdin', groupDn('secret-agents'), `member:${userDn('alice')}`], SERVICE_PW)).code;
      assert.equal(await cmp(), 6);
      await djangoShell(db.env, "u = User.objects.get(username='alice'); u.groups.remove(Group.objects.get(name='secret-agents'))");
      assert.equal(await cmp(), 5);
      await djangoShell(db.env, "u = User.objects.get(username='alice'); u.groups.add(Group.objects.get(name='secret-agents')); u.is_active = False; u.save()");
      assert.equal(await cmp(), 5, 'an inactive user is no member');
      const who = await ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', userDn('alice'), '-y', '/dev/stdin'], byName('alice').password);
      assert.equal(who.code, 49, 'a deactivated user cannot bind at once');
      await djangoShell(db.env, "u = User.objects.get(username='alice'); u.is_active = True; u.save()");
      assert.equal(await cmp(), 6);
    });
  });
}

describe('custom user model logging in by email (SQLite)', { skip: djangoSkip || toolsSkip }, () => {
  let db;
  let br;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'sqlite', custom: true });
    remember(db.expected);
    br = await startTestBridge({ url: db.url, custom: true });
  });
  after(async () => {
    await br?.close();
    await db?.drop();
  });
  test('users bind by email and carry their groups and permissions', async () => {
    for (const u of db.expected.users) {
      const r = await ldapTool('ldapwhoami', ['-x', '-H', br.url, '-D', userDn(u.username), '-y', '/dev/stdin'], u.password);
      assert.equal(r.code === 0, u.checkRight && u.isActive && u.hasher !== 'unusable', `${u.username}: ${r.code}`);
    }
    const r = await ldapsearch(br.url, { base: USERS, filter: '(uid=bob@example.com)', attrs: ['uid', 'mail', 'memberOf', 'djangoPermission', 'cn'] });
    assert.equal(r.entries.length, 1);
    const bob = db.expected.users.find((u) => u.username === 'bob@example.com');
    assert.deepEqual(r.entries[0].attrs.uid, ['bob@example.com']);
    assert.deepEqual(r.entries[0].attrs.cn, ['bob@example.com']);
    assert.deepEqual((r.entries[0].attrs.djangoPermission ?? []).sort(), bob.permissions);
    assert.ok(r.entries[0].attrs.memberOf.includes(groupDn("Smith, John's team")));
  });
});

test('no log line holds a password or a password hash', { skip: djangoSkip || toolsSkip }, () => {
  assert.ok(allLogs.length > 100, `the suites logged (${allLogs.length} lines)`);
  const text = allLogs.join('');
  for (const s of secrets) assert.ok(!text.includes(s) && !text.includes(JSON.stringify(s).slice(1, -1)), `a log line holds the secret ${JSON.stringify(s.slice(0, 3))}...`);
});

/** Sends raw bytes and reports whether the server closed the connection. */
function rawExchange(url, bytes) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(port), hostname, () => s.write(bytes));
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.on('close', () => resolve({ closed: true, data: Buffer.concat(chunks) }));
    s.on('error', () => {});
    setTimeout(() => {
      s.destroy();
      resolve({ closed: false, data: Buffer.concat(chunks) });
    }, 3000);
  });
}
