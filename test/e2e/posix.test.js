// POSIX accounts and groups (issue #15): with posix.enabled, users are posixAccounts and Django
// groups posixGroups, numbered base + Django id, found by the searches SSSD and nslcd send
// (read with OpenLDAP's ldapsearch against the real Django test database). Off by default:
// the entries are then exactly what they were without the setting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ldapsearch, startTestBridge, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { djangoAvailable, djangoShell, makeDjangoDatabase, makeSshKeyTable } from '../helpers/django.js';
import { hasCommand, need } from '../helpers/require.js';

const skip =
  need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason) ||
  need('OpenLDAP clients (ldap-utils)', hasCommand('ldapsearch', ['-VV']), 'ldapsearch not on PATH');

const POSIX = { enabled: true, uidBase: 2000000, gidBase: 1000000, homeDirectory: '/home/{uid}', loginShell: '/bin/bash' };
let db;
before(async () => {
  if (!skip) db = await makeDjangoDatabase();
});
after(async () => {
  await db?.drop();
});

const usersOu = `ou=users,${BASE}`;
const groupsOu = `ou=groups,${BASE}`;
const one = (e, a) => {
  assert.equal(e.attrs[a]?.length, 1, `${e.dn}: one ${a}, got ${JSON.stringify(e.attrs[a])}`);
  return e.attrs[a][0];
};

test('posix off (the default): no POSIX class or attribute on any entry', { skip }, async () => {
  const b = await startTestBridge({ url: db.url });
  try {
    const r = await ldapsearch(b.url, { filter: '(objectClass=*)', attrs: ['*'] });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.entries.length > 5);
    for (const e of r.entries) {
      for (const a of ['uidNumber', 'gidNumber', 'homeDirectory', 'loginShell', 'gecos']) assert.equal(e.attrs[a], undefined, `${e.dn} has ${a}`);
      assert.ok(!(e.attrs.objectClass ?? []).some((c) => /^posix/i.test(c)), `${e.dn}: ${e.attrs.objectClass}`);
    }
    // SSSD's user search finds nothing, as before.
    const s = await ldapsearch(b.url, { base: usersOu, filter: '(&(objectclass=posixAccount)(uidNumber=*))', attrs: ['uid'] });
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(s.entries, []);
  } finally {
    await b.close();
  }
});

test('posix on: every active user is a posixAccount numbered uidBase + Django id, with a private group, home, shell and gecos', { skip }, async () => {
  const b = await startTestBridge({ url: db.url, config: { posix: POSIX } });
  try {
    const active = db.expected.users.filter((u) => u.isActive);
    assert.ok(active.length >= 3);
    const r = await ldapsearch(b.url, { base: usersOu, filter: '(&(objectclass=posixAccount)(uid=*)(uidNumber=*))', attrs: ['uid', 'uidNumber', 'gidNumber', 'homeDirectory', 'loginShell', 'gecos', 'objectClass'] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.entries.map((e) => one(e, 'uid')).sort(), active.map((u) => u.username).sort());
    for (const u of active) {
      const e = r.entries.find((x) => x.attrs.uid[0] === u.username);
      assert.equal(one(e, 'uidNumber'), String(2000000 + u.id), u.username);
      assert.equal(one(e, 'gidNumber'), String(2000000 + u.id), `${u.username}: private group numbered like the uid`);
      assert.equal(one(e, 'homeDirectory'), `/home/${u.username}`);
      assert.equal(one(e, 'loginShell'), '/bin/bash');
      assert.equal(one(e, 'gecos'), u.fullName.trim() || u.username);
      assert.ok(e.attrs.objectClass.includes('posixAccount'));
    }
    // By number, as SSSD and nslcd ask (getent passwd <number>); a number outside the range
    // or without a user answers nothing.
    for (const u of active.slice(0, 4)) {
      const n = await ldapsearch(b.url, { base: usersOu, filter: `(&(objectclass=posixAccount)(uidNumber=${2000000 + u.id}))`, attrs: ['uid'] });
      assert.deepEqual(n.entries.map((e) => e.attrs.uid[0]), [u.username]);
    }
    for (const n of [u0(active) - 1, 2000000 + 999999, 12]) {
      const none = await ldapsearch(b.url, { base: usersOu, filter: `(&(objectclass=posixAccount)(uidNumber=${n}))`, attrs: ['uid'] });
      assert.equal(none.code, 0, none.stderr);
      assert.deepEqual(none.entries, [], `uidNumber=${n}`);
    }
    // Ranges, as an enumeration with a lower bound asks.
    const hi = Math.max(...active.map((u) => u.id));
    const ge = await ldapsearch(b.url, { base: usersOu, filter: `(&(objectclass=posixAccount)(uidNumber>=${2000000 + hi}))`, attrs: ['uid'] });
    assert.deepEqual(ge.entries.map((e) => e.attrs.uid[0]), [active.find((u) => u.id === hi).username]);
  } finally {
    await b.close();
  }
});

function u0(active) {
  return 2000000 + Math.min(...active.map((u) => u.id));
}

test('posix on: Django groups are posixGroups numbered gidBase + group id with memberUid; the number survives a rename', { skip }, async () => {
  const b = await startTestBridge({ url: db.url, config: { posix: { ...POSIX, homeDirectory: '/srv/home/{id}', loginShell: '/bin/sh', primaryGroup: 4242 } } });
  try {
    const groups = db.expected.groups;
    assert.ok(groups.length >= 2);
    const r = await ldapsearch(b.url, { base: groupsOu, filter: '(&(objectClass=posixGroup)(cn=*)(gidNumber=*))', attrs: ['cn', 'gidNumber', 'memberUid'] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.entries.map((e) => one(e, 'cn')).sort(), groups.map((g) => g.name).sort());
    const activeNames = new Set(db.expected.users.filter((u) => u.isActive).map((u) => u.username));
    for (const g of groups) {
      const e = r.entries.find((x) => x.attrs.cn[0] === g.name);
      assert.equal(one(e, 'gidNumber'), String(1000000 + g.id), g.name);
      assert.deepEqual([...(e.attrs.memberUid ?? [])].sort(), g.members.filter((m) => activeNames.has(m)).sort(), g.name);
    }
    // getent group <number>
    const g = groups[0];
    const byNumber = await ldapsearch(b.url, { base: groupsOu, filter: `(&(objectClass=posixGroup)(gidNumber=${1000000 + g.id}))`, attrs: ['cn'] });
    assert.deepEqual(byNumber.entries.map((e) => e.attrs.cn[0]), [g.name]);
    // The configured primary group, home template and shell.
    const u = db.expected.users.find((x) => x.isActive);
    const ue = await ldapsearch(b.url, { base: usersOu, filter: `(uid=${u.username})`, attrs: ['gidNumber', 'homeDirectory', 'loginShell'] });
    assert.equal(one(ue.entries[0], 'gidNumber'), '4242');
    assert.equal(one(ue.entries[0], 'homeDirectory'), `/srv/home/${u.id}`);
    assert.equal(one(ue.entries[0], 'loginShell'), '/bin/sh');
    const fixed = await ldapsearch(b.url, { base: usersOu, filter: '(&(objectClass=posixAccount)(gidNumber=4242))', attrs: ['uid'] });
    assert.equal(fixed.entries.length, db.expected.users.filter((x) => x.isActive).length);

    // A rename in Django keeps the number.
    await djangoShell(db.env, `g = Group.objects.get(pk=${g.id}); g.name = 'renamed-posix'; g.save()`);
    const after = await ldapsearch(b.url, { base: groupsOu, filter: `(gidNumber=${1000000 + g.id})`, attrs: ['cn'] });
    assert.deepEqual(after.entries.map((e) => e.attrs.cn[0]), ['renamed-posix']);
    await djangoShell(db.env, `g = Group.objects.get(pk=${g.id}); g.name = ${JSON.stringify(g.name)}; g.save()`);
  } finally {
    await b.close();
  }
});

test('posix settings are checked: a bad value names the setting and the bridge does not start', { skip }, async () => {
  await assert.rejects(startTestBridge({ url: db.url, config: { posix: { enabled: true, uidBase: 5 } } }), /posix\.uidBase|posix.*uidBase/);
  await assert.rejects(startTestBridge({ url: db.url, config: { posix: { enabled: true, homeDirectory: 'home/{uid}' } } }), /homeDirectory/);
  await assert.rejects(startTestBridge({ url: db.url, config: { posix: { enabled: true, primaryGroup: 'shared' } } }), /primaryGroup/);
  await assert.rejects(startTestBridge({ url: db.url, config: { posix: { enabled: true, unixUsers: 'permission:shell_access' } } }), /unixUsers/);
});

test('posix.unixUsers: only the members of a group, or the holders of a permission, are posixAccounts; the others stay plain users', { skip }, async () => {
  const active = db.expected.users.filter((u) => u.isActive);
  // A group and a permission some active users have and others do not.
  const some = (has) => has.length > 0 && has.length < active.length;
  const group = db.expected.groups.find((g) => some(active.filter((u) => u.groups.includes(g.name))));
  const labels = [...new Set(active.flatMap((u) => u.permissions))].sort();
  const perm = labels.find((l) => some(active.filter((u) => u.permissions.includes(l))));
  assert.ok(group && perm, 'the test data has a group and a permission that split the active users');
  for (const [rule, isUnix] of [
    [`group:${group.name}`, (u) => u.groups.includes(group.name)],
    [`permission:${perm}`, (u) => u.permissions.includes(perm)],
  ]) {
    const b = await startTestBridge({ url: db.url, config: { posix: { enabled: true, unixUsers: rule } } });
    try {
      const r = await ldapsearch(b.url, { base: usersOu, filter: '(&(objectclass=posixAccount)(uidNumber=*))', attrs: ['uid', 'uidNumber'] });
      assert.equal(r.code, 0, r.stderr);
      const unix = active.filter(isUnix);
      assert.deepEqual(r.entries.map((e) => e.attrs.uid[0]).sort(), unix.map((u) => u.username).sort(), rule);
      for (const e of r.entries) assert.equal(one(e, 'uidNumber'), String(2000000 + unix.find((u) => u.username === e.attrs.uid[0]).id));
      const outsider = active.find((u) => !isUnix(u));
      // SSSD's lookups of an outsider, by name and by the number it would have, find nothing...
      const byName = await ldapsearch(b.url, { base: usersOu, filter: `(&(objectclass=posixAccount)(uid=${outsider.username}))`, attrs: ['uid'] });
      assert.deepEqual(byName.entries, [], `${rule}: ${outsider.username}`);
      const byNumber = await ldapsearch(b.url, { base: usersOu, filter: `(uidNumber=${2000000 + outsider.id})`, attrs: ['uid'] });
      assert.deepEqual(byNumber.entries, [], `${rule}: ${outsider.username} by number`);
      // ...while the website's own searches still see them as before.
      const plain = await ldapsearch(b.url, { base: usersOu, filter: `(uid=${outsider.username})`, attrs: ['*'] });
      assert.equal(plain.entries.length, 1);
      assert.equal(plain.entries[0].attrs.uidNumber, undefined);
      assert.ok(!plain.entries[0].attrs.objectClass.includes('posixAccount'));
    } finally {
      await b.close();
    }
  }
});

test('posix on with inactive users shown: inactive users are never posixAccounts', { skip }, async () => {
  const inactive = db.expected.users.filter((u) => !u.isActive);
  assert.ok(inactive.length > 0);
  const b = await startTestBridge({ url: db.url, config: { posix: { enabled: true }, users: { showInactive: true } } });
  try {
    const r = await ldapsearch(b.url, { base: usersOu, filter: '(objectclass=posixAccount)', attrs: ['uid'] });
    assert.deepEqual(r.entries.map((e) => e.attrs.uid[0]).sort(), db.expected.users.filter((u) => u.isActive).map((u) => u.username).sort());
    const all = await ldapsearch(b.url, { base: usersOu, filter: '(objectclass=person)', attrs: ['uid'] });
    assert.equal(all.entries.length, db.expected.users.length);
  } finally {
    await b.close();
  }
});

test('doctor reports the POSIX settings, the ranges in use and the host accounts inside them', { skip }, async () => {
  const { execFile } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { BIN } = await import('../helpers/serve.js');
  const dir = mkdtempSync(join(tmpdir(), 'dlb-posix-doctor-'));
  const doctor = (posix) => {
    const file = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ database: db.url, baseDn: BASE, posix }));
    return new Promise((resolve) => execFile(process.execPath, [BIN, 'doctor', '--config', file, '--json'], { timeout: 60000 }, (_e, stdout, stderr) => resolve({ stdout, stderr })));
  };
  try {
    const ids = db.expected.users.map((u) => u.id);
    const gids = db.expected.groups.map((g) => g.id);
    const r = await doctor({ enabled: true });
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.posix.uids, { min: 2000000 + Math.min(...ids), max: 2000000 + Math.max(...ids) });
    assert.deepEqual(j.posix.gids, { min: 1000000 + Math.min(...gids), max: 1000000 + Math.max(...gids) });
    assert.equal(j.posix.settings.homeDirectory, '/home/{uid}');
    // The test data's case twins (frank / Frank) are named, with the setting SSSD's rfc2307bis needs.
    const twins = db.expected.users.filter((u) => db.expected.users.some((v) => v !== u && v.username.toLowerCase() === u.username.toLowerCase()));
    assert.ok(twins.length >= 2);
    const posixWarnings = j.warnings.filter((w) => w.startsWith('posix'));
    assert.equal(posixWarnings.length, 1, posixWarnings.join('\n'));
    for (const t of twins) assert.ok(posixWarnings[0].includes(t.username), posixWarnings[0]);
    assert.match(posixWarnings[0], /^posix: names that differ only in case \(users Frank \/ frank\).*rfc2307bis.*set posix\.caseTwins: exclude/);
    // With the setting, the same twins are named as left out.
    const ex = JSON.parse((await doctor({ enabled: true, caseTwins: 'exclude' })).stdout).warnings.filter((w) => w.startsWith('posix'));
    assert.equal(ex.length, 1, ex.join('\n'));
    assert.match(ex[0], /left out of POSIX \(posix\.caseTwins exclude\): users Frank \/ frank/);
    // A base that puts the lowest user on nobody's uid (65534, nogroup's gid too).
    const low = await doctor({ enabled: true, uidBase: 65534 - Math.min(...ids) });
    const k = JSON.parse(low.stdout);
    assert.ok(k.posix.hostUsers.some((h) => h.name === 'nobody' && h.number === 65534), low.stdout);
    assert.ok(k.posix.hostGroups.some((h) => h.name === 'nogroup' && h.number === 65534), low.stdout);
    assert.ok(k.warnings.some((w) => /posix: local accounts .*nobody \(65534\).*posix\.uidBase/.test(w)), k.warnings.join('\n'));
    // The lowest private user group on the highest Django group's number.
    const meet = await doctor({ enabled: true, uidBase: 1000000 + Math.max(...gids) - Math.min(...ids) });
    assert.ok(JSON.parse(meet.stdout).warnings.some((w) => /meet the private user groups/.test(w)), meet.stdout);
    // A Django group named exactly like a Unix user: two groups of that name with private user
    // groups (the default), none with a fixed primary group.
    const like = db.expected.users.find((u) => u.isActive && /^[a-z]+$/.test(u.username)).username;
    await djangoShell(db.env, `from django.contrib.auth.models import Group; Group.objects.create(name=${JSON.stringify(like)})`);
    try {
      const clash = JSON.parse((await doctor({ enabled: true })).stdout).warnings.filter((w) => /named exactly like users/.test(w));
      assert.equal(clash.length, 1, clash.join('\n'));
      assert.ok(clash[0].includes(`(${like})`), clash[0]);
      const fixed = JSON.parse((await doctor({ enabled: true, primaryGroup: 1000 })).stdout);
      assert.deepEqual(fixed.warnings.filter((w) => /named exactly like users/.test(w)), []);
    } finally {
      await djangoShell(db.env, `from django.contrib.auth.models import Group; Group.objects.filter(name=${JSON.stringify(like)}).delete()`);
    }
    // posix off: no POSIX section and no POSIX warning.
    const off = JSON.parse((await doctor({ enabled: false })).stdout);
    assert.equal(off.posix, undefined);
    assert.deepEqual(off.warnings.filter((w) => w.startsWith('posix')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('posix.loginShells: the shell of the first listed group a user belongs to, else loginShell', { skip }, async () => {
  const active = db.expected.users.filter((u) => u.isActive);
  // Two groups, listed in the opposite of their name order, and a user in both if there is one.
  const named = db.expected.groups.filter((g) => g.members.length).map((g) => g.name);
  const listed = [named[1], named[0]];
  const shells = { [listed[0]]: '/bin/zsh', [listed[1]]: '/usr/sbin/nologin' };
  const b = await startTestBridge({ url: db.url, config: { posix: { enabled: true, loginShell: '/bin/dash', loginShells: shells } } });
  try {
    const r = await ldapsearch(b.url, { base: usersOu, filter: '(objectClass=posixAccount)', attrs: ['uid', 'loginShell'] });
    assert.equal(r.entries.length, active.length);
    const seen = new Set();
    for (const u of active) {
      const e = r.entries.find((x) => x.attrs.uid[0] === u.username);
      const first = listed.find((g) => u.groups.includes(g));
      const want = first ? shells[first] : '/bin/dash';
      seen.add(want);
      assert.equal(one(e, 'loginShell'), want, u.username);
    }
    assert.ok(seen.size >= 2, 'the data exercises a group shell and the default');
    // The same when the search also loads memberships for memberOf.
    const withGroups = await ldapsearch(b.url, { base: usersOu, filter: '(objectClass=posixAccount)', attrs: ['uid', 'loginShell', 'memberOf'] });
    assert.deepEqual(withGroups.entries.map((e) => [e.attrs.uid[0], e.attrs.loginShell[0]]).sort(), r.entries.map((e) => [e.attrs.uid[0], e.attrs.loginShell[0]]).sort());
  } finally {
    await b.close();
  }
});

test('posix.sshKeys: sshPublicKey holds a Unix user\'s active keys from the table the site names', { skip }, async () => {
  const [a, c] = ['alice', 'carol'].map((n) => db.expected.users.find((u) => u.username === n));
  const keyA1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDlbAliceKeyOneXXXXXXXXXXXXXXXXXXXXXXXXXX alice@laptop';
  const keyA2 = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDlbAliceKeyTwo alice@desktop';
  const revoked = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDlbAliceRevokedXXXXXXXXXXXXXXXXXXXXXXXXX old';
  await makeSshKeyTable(db.env, [
    { userId: a.id, key: keyA1, active: true },
    { userId: a.id, key: keyA2, active: true },
    { userId: a.id, key: revoked, active: false },
  ]);
  const sshKeys = { table: 'dlb_sshkey', userColumn: 'user_id', keyColumn: 'public_key', activeColumn: 'enabled' };
  const b = await startTestBridge({ url: db.url, config: { posix: { enabled: true, sshKeys } } });
  try {
    // SSSD's ssh responder asks for sshPublicKey by uid.
    const r = await ldapsearch(b.url, { base: usersOu, filter: '(&(objectclass=posixAccount)(uid=alice))', attrs: ['sshPublicKey'] });
    assert.deepEqual([...r.entries[0].attrs.sshPublicKey].sort(), [keyA1, keyA2].sort());
    const none = await ldapsearch(b.url, { base: usersOu, filter: `(uid=${c.username})`, attrs: ['sshPublicKey'] });
    assert.equal(none.entries[0].attrs.sshPublicKey, undefined);
    // Not asked for: not read, not sent.
    const plain = await ldapsearch(b.url, { base: usersOu, filter: '(uid=alice)', attrs: ['uid'] });
    assert.deepEqual(Object.keys(plain.entries[0].attrs), ['uid']);
    // openssh-lpk's class: on the Unix users that have keys, by filter, by objectClass and by compare.
    const lpk = await ldapsearch(b.url, { base: usersOu, filter: '(&(objectClass=ldapPublicKey)(uid=*))', attrs: ['uid'] });
    assert.equal(lpk.code, 0, lpk.stderr);
    assert.deepEqual(lpk.entries.map((e) => e.attrs.uid[0]), ['alice']);
    for (const [name, has] of [['alice', true], [c.username, false]]) {
      const oc = await ldapsearch(b.url, { base: usersOu, filter: `(uid=${name})`, attrs: ['objectClass'] });
      assert.equal(oc.entries[0].attrs.objectClass.includes('ldapPublicKey'), has, `${name}: ${oc.entries[0].attrs.objectClass}`);
      const { execFile } = await import('node:child_process');
      const code = await new Promise((resolve) => execFile('ldapcompare', ['-x', '-H', b.url, '-D', SERVICE_DN, '-w', SERVICE_PW, `uid=${name},${usersOu}`, 'objectClass:ldapPublicKey'], (e) => resolve(e ? e.code : 0)));
      assert.equal(code, has ? 6 : 5, `compare objectClass ldapPublicKey on ${name}`);
    }
    const schema = await ldapsearch(b.url, { base: 'cn=Subschema', scope: 'base', attrs: ['objectClasses'] });
    assert.ok(schema.entries[0].attrs.objectClasses.some((d) => /NAME 'ldapPublicKey'/.test(d)), 'the class is in the subschema');
  } finally {
    await b.close();
  }
  // Without activeColumn every key is served; a missing table stops the start naming the setting.
  const all = await startTestBridge({ url: db.url, config: { posix: { enabled: true, sshKeys: { ...sshKeys, activeColumn: null } } } });
  try {
    const r = await ldapsearch(all.url, { base: usersOu, filter: '(uid=alice)', attrs: ['sshPublicKey'] });
    assert.equal(r.entries[0].attrs.sshPublicKey.length, 3);
  } finally {
    await all.close();
  }
  await assert.rejects(startTestBridge({ url: db.url, config: { posix: { enabled: true, sshKeys: { table: 'no_such_keys' } } } }), /posix\.sshKeys\.table/);
  // posix off: the setting's table is not read and no key is served.
  const off = await startTestBridge({ url: db.url, config: { posix: { enabled: false, sshKeys: { table: 'no_such_keys' } } } });
  try {
    const r = await ldapsearch(off.url, { base: usersOu, filter: '(uid=alice)', attrs: ['*'] });
    assert.equal(r.entries[0].attrs.sshPublicKey, undefined);
  } finally {
    await off.close();
  }
});

test('initgroups: the groups of one member, by memberUid (rfc2307) and by member DN (rfc2307bis), are that user\'s Django groups', { skip }, async () => {
  const b = await startTestBridge({ url: db.url, config: { posix: { enabled: true } } });
  try {
    const esc = (v) => v.replace(/[\\*()\0]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0'));
    const dnEsc = (v) => v.replace(/[\\,+"<>;=#]/g, (c) => '\\' + c).replace(/^ | $/g, (c) => '\\' + c);
    for (const u of db.expected.users) {
      const want = u.isActive ? [...u.groups].sort() : [];
      const byUid = await ldapsearch(b.url, { base: groupsOu, filter: `(&(memberUid=${esc(u.username)})(objectClass=posixGroup))`, attrs: ['cn'] });
      assert.equal(byUid.code, 0, byUid.stderr);
      assert.deepEqual(byUid.entries.map((e) => e.attrs.cn[0]).sort(), want, `memberUid=${u.username}`);
      const dn = `uid=${dnEsc(u.username)},${usersOu}`;
      const byDn = await ldapsearch(b.url, { base: groupsOu, filter: `(&(objectClass=posixGroup)(member=${esc(dn)}))`, attrs: ['cn'] });
      assert.deepEqual(byDn.entries.map((e) => e.attrs.cn[0]).sort(), want, `member=${dn}`);
    }
    // A name nobody has, and a DN outside the users: no group.
    for (const f of ['(&(memberUid=nobody-here)(objectClass=posixGroup))', `(member=cn=committers,${groupsOu})`]) {
      const r = await ldapsearch(b.url, { base: groupsOu, filter: f, attrs: ['cn'] });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.entries, [], f);
    }
  } finally {
    await b.close();
  }
});

test('private user groups: each Unix user has a posixGroup cn=<username>,ou=usergroups numbered like the uid, found by name and by number', { skip }, async () => {
  const pgOu = `ou=usergroups,${BASE}`;
  const active = db.expected.users.filter((u) => u.isActive);
  const b = await startTestBridge({ url: db.url, config: { posix: POSIX } });
  try {
    // Enumeration, from the base as SSSD and nslcd search: one per active (Unix) user, no members.
    const all = await ldapsearch(b.url, { base: BASE, filter: '(&(objectClass=posixGroup)(cn=*)(gidNumber=*))', attrs: ['cn', 'gidNumber', 'memberUid', 'member'] });
    assert.equal(all.code, 0, all.stderr);
    const priv = all.entries.filter((e) => e.dn.endsWith(pgOu));
    assert.deepEqual(priv.map((e) => one(e, 'cn')).sort(), active.map((u) => u.username).sort());
    for (const e of priv) {
      const u = active.find((x) => x.username === e.attrs.cn[0]);
      assert.equal(one(e, 'gidNumber'), String(2000000 + u.id));
      assert.equal(e.attrs.memberUid, undefined);
      assert.equal(e.attrs.member, undefined);
    }
    // The Django groups are still there, under their own container.
    assert.equal(all.entries.filter((e) => e.dn.endsWith(groupsOu)).length, db.expected.groups.length);
    // getent group <gid> and getent group <name>; case twins stay apart (frank / Frank).
    for (const u of active) {
      const byNumber = await ldapsearch(b.url, { base: BASE, filter: `(&(objectClass=posixGroup)(gidNumber=${2000000 + u.id}))`, attrs: ['cn'] });
      assert.deepEqual(byNumber.entries.map((e) => e.attrs.cn[0]), [u.username], `gidNumber of ${u.username}`);
      const esc = u.username.replace(/[\\*()\0]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0'));
      const byName = await ldapsearch(b.url, { base: pgOu, filter: `(&(objectClass=posixGroup)(cn=${esc}))`, attrs: ['gidNumber'] });
      assert.deepEqual(byName.entries.map((e) => e.attrs.gidNumber[0]), [String(2000000 + u.id)], `cn=${u.username}`);
    }
    // No private group for an inactive user, and an initgroups search never lists one.
    for (const u of db.expected.users.filter((x) => !x.isActive)) {
      const r = await ldapsearch(b.url, { base: pgOu, filter: `(gidNumber=${2000000 + u.id})`, attrs: ['cn'] });
      assert.deepEqual(r.entries, [], u.username);
    }
    const ig = await ldapsearch(b.url, { base: BASE, filter: '(&(objectClass=posixGroup)(memberUid=alice))', attrs: ['cn'] });
    assert.ok(ig.entries.every((e) => e.dn.endsWith(groupsOu)), JSON.stringify(ig.entries.map((e) => e.dn)));
    // A private group's own DN reads as the entry the searches return (base scope), and
    // compares; an inactive user's or nobody's is noSuchObject (32) under ou=usergroups.
    const { execFile } = await import('node:child_process');
    const tool = (cmd, args) => new Promise((resolve) => execFile(cmd, args, (e, stdout, stderr) => resolve({ code: e ? e.code : 0, stdout: stdout + stderr })));
    for (const u of active.filter((x) => /^[a-z]+$/.test(x.username))) {
      const r = await ldapsearch(b.url, { base: `cn=${u.username},${pgOu}`, scope: 'base', attrs: ['cn', 'gidNumber', 'objectClass'] });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.entries.map((e) => [e.dn, one(e, 'cn'), one(e, 'gidNumber')]), [[`cn=${u.username},${pgOu}`, u.username, String(2000000 + u.id)]]);
      assert.equal((await tool('ldapcompare', ['-x', '-H', b.url, '-D', SERVICE_DN, '-w', SERVICE_PW, `cn=${u.username},${pgOu}`, `gidNumber:${2000000 + u.id}`])).code, 6);
      assert.equal((await tool('ldapcompare', ['-x', '-H', b.url, '-D', SERVICE_DN, '-w', SERVICE_PW, `cn=${u.username},${pgOu}`, 'objectClass:posixGroup'])).code, 6);
    }
    for (const name of [...db.expected.users.filter((x) => !x.isActive).map((x) => x.username), 'nobody-at-all']) {
      const r = await tool('ldapsearch', ['-x', '-LLL', '-H', b.url, '-D', SERVICE_DN, '-w', SERVICE_PW, '-s', 'base', '-b', `cn=${name},${pgOu}`, '(objectClass=*)', 'cn']);
      assert.equal(r.code, 32, `${name}: ${r.stdout}`);
      assert.match(r.stdout, new RegExp(`^Matched DN: ${pgOu}`, 'm'));
    }
  } finally {
    await b.close();
  }
  // A fixed primary group, or posix off: no private groups and no container.
  for (const posix of [{ ...POSIX, primaryGroup: 4242 }, { enabled: false }]) {
    const c = await startTestBridge({ url: db.url, config: { posix } });
    try {
      const r = await ldapsearch(c.url, { base: pgOu, filter: '(objectClass=*)', attrs: ['cn'] });
      assert.notEqual(r.code, 0, JSON.stringify(posix));
      const s = await ldapsearch(c.url, { base: BASE, filter: '(cn=alice)', attrs: ['cn'] });
      assert.ok(!s.entries.some((e) => e.dn.endsWith(pgOu)));
    } finally {
      await c.close();
    }
  }
});

test('posix.caseTwins exclude: users and groups named like another ignoring case are plain LDAP entries; everyone else is unchanged', { skip }, async () => {
  const { execFile } = await import('node:child_process');
  // Its own database: group twins (DevOps / devops) beside the test data's user twins (frank / Frank).
  const tdb = await makeDjangoDatabase();
  await djangoShell(
    tdb.env,
    `from django.contrib.auth.models import Group
a = Group.objects.create(name='DevOps'); a.user_set.add(User.objects.get(username='alice'))
b = Group.objects.create(name='devops'); b.user_set.add(User.objects.get(username='frank'), User.objects.get(username='bob'))`,
  );
  const ids = JSON.parse((await djangoShell(tdb.env, `import json; print(json.dumps({g.name: g.id for g in Group.objects.all()}))`)).trim().split('\n').pop());
  const twinUsers = tdb.expected.users.filter((u) => tdb.expected.users.some((v) => v !== u && v.username.toLowerCase() === u.username.toLowerCase()));
  assert.deepEqual(twinUsers.map((u) => u.username).sort(), ['Frank', 'frank']);
  const b = await startTestBridge({ url: tdb.url, config: { posix: { ...POSIX, caseTwins: 'exclude' } } });
  const serve = await startTestBridge({ url: tdb.url, config: { posix: POSIX } });
  try {
    const active = tdb.expected.users.filter((u) => u.isActive);
    const posixUsers = async (url) => (await ldapsearch(url, { base: usersOu, filter: '(&(objectclass=posixAccount)(uid=*)(uidNumber=*))', attrs: ['uid'] })).entries.map((e) => e.attrs.uid[0]).sort();
    // Only the twins leave POSIX; by default (serve) they are in it.
    assert.deepEqual(await posixUsers(b.url), active.filter((u) => !twinUsers.includes(u)).map((u) => u.username).sort());
    assert.deepEqual(await posixUsers(serve.url), active.map((u) => u.username).sort());
    for (const u of twinUsers) {
      // Still an LDAP user (Apache, binds): no POSIX class or attribute, not found by number, no private group.
      const r = await ldapsearch(b.url, { base: usersOu, filter: `(uid=${u.username})`, attrs: ['*'] });
      assert.equal(r.entries.length, 1, u.username);
      assert.ok(!r.entries[0].attrs.objectClass.includes('posixAccount'), `${u.username}: ${r.entries[0].attrs.objectClass}`);
      assert.equal(r.entries[0].attrs.uidNumber, undefined);
      const byNumber = await ldapsearch(b.url, { filter: `(&(objectClass=posixAccount)(uidNumber=${2000000 + u.id}))`, attrs: ['uid'] });
      assert.deepEqual(byNumber.entries, [], `uidNumber of ${u.username}`);
      const priv = await ldapsearch(b.url, { filter: `(&(objectClass=posixGroup)(gidNumber=${2000000 + u.id}))`, attrs: ['cn'] });
      assert.deepEqual(priv.entries, [], `private group of ${u.username}`);
    }
    // Groups: the twins are groupOfNames without posixGroup or gidNumber; the others keep theirs.
    const posixGroups = (await ldapsearch(b.url, { base: groupsOu, filter: '(&(objectClass=posixGroup)(gidNumber=*))', attrs: ['cn', 'gidNumber'] })).entries;
    const names = posixGroups.map((e) => e.attrs.cn[0]).sort();
    assert.deepEqual(names, Object.keys(ids).filter((n) => n !== 'DevOps' && n !== 'devops').sort());
    for (const e of posixGroups) assert.equal(one(e, 'gidNumber'), String(1000000 + ids[e.attrs.cn[0]]));
    for (const name of ['DevOps', 'devops']) {
      const r = await ldapsearch(b.url, { base: `cn=${name},${groupsOu}`, scope: 'base', attrs: ['objectClass', 'gidNumber', 'member'] });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.entries[0].attrs.objectClass.includes('groupOfNames') && !r.entries[0].attrs.objectClass.includes('posixGroup'), `${name}: ${r.entries[0].attrs.objectClass}`);
      assert.equal(r.entries[0].attrs.gidNumber, undefined);
      assert.ok(r.entries[0].attrs.member.length >= 1, 'members are still listed (Apache\'s group checks read them)');
      const n = await ldapsearch(b.url, { filter: `(&(objectClass=posixGroup)(gidNumber=${1000000 + ids[name]}))`, attrs: ['cn'] });
      assert.deepEqual(n.entries, [], `gidNumber of ${name}`);
      // ldapcompare objectClass posixGroup says FALSE (6) for a twin, TRUE (5) for another group.
      const cmp = (dn) => new Promise((resolve) => execFile('ldapcompare', ['-x', '-H', b.url, '-D', SERVICE_DN, '-w', SERVICE_PW, dn, 'objectClass:posixGroup'], (e) => resolve(e ? e.code : 0)));
      assert.equal(await cmp(`cn=${name},${groupsOu}`), 5);
      assert.equal(await cmp(`cn=secret-agents,${groupsOu}`), 6);
    }
    // initgroups of bob (rfc2307 and rfc2307bis forms): his groups without the twin devops.
    const bob = tdb.expected.users.find((u) => u.username === 'bob');
    for (const filter of ['(&(memberUid=bob)(objectClass=posixGroup))', `(&(member=uid=bob,${usersOu})(objectClass=posixGroup)(gidNumber=*))`]) {
      const r = await ldapsearch(b.url, { filter, attrs: ['cn'] });
      assert.deepEqual(r.entries.map((e) => e.attrs.cn[0]).sort(), [...bob.groups].sort(), filter);
    }
  } finally {
    await b.close();
    await serve.close();
    await tdb.drop();
  }
});
