// How user names resolve across case, on real-Django data (SQLite) with the case twins `frank` and
// `Frank` and a user `José`: a user DN (bind, search base, compare, a member filter) names the
// exact user, else the single user equal to it ignoring case, never one of twins; with
// users.caseInsensitive, a `(uid=x)` filter finds the same one account a bind as uid=x checks.
// (docs/operations.md, "Usernames and case"; django-auth-ldap's lower-cased DNs are run for real
// in python-clients.test.js.)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { need } from '../helpers/require.js';
import { djangoAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, ldapsearch, client, BASE } from '../helpers/bridge.js';
import { recordSecrets } from '../helpers/secrets.js';

const skip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const JOSE_PW = 'Jösé-Capital-Pw1';
recordSecrets([JOSE_PW]);
const dn = (u) => `uid=${u},ou=users,${BASE}`;

/** The LDAP result code of a simple bind (0 on success). */
async function bindCode(url, bindDn, password) {
  const c = client(url);
  try {
    await c.bind(bindDn, password);
    return 0;
  } catch (e) {
    return e.code ?? -1;
  } finally {
    c.raw.destroy();
  }
}
const uids = (r) => r.entries.map((e) => e.attrs.uid?.[0]).sort();

describe('user names and case', { skip }, () => {
  let db;
  let pw; // username -> right password
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'sqlite' });
    await djangoShell(db.env, `
u = User.objects.create_user('José', password=${JSON.stringify(JOSE_PW)})
u.groups.add(Group.objects.get(name='secret-agents'))
`);
    pw = Object.fromEntries(db.expected.users.map((u) => [u.username, u.password]));
    pw['José'] = JOSE_PW;
  });
  after(async () => {
    await db?.drop();
  });

  describe('users.caseInsensitive off (the default)', () => {
    let br;
    before(async () => {
      br = await startTestBridge({ url: db.url });
    });
    after(async () => {
      await br?.close();
    });

    test('a bind DN in another case reaches the single user of that name, with their password; twins only by their exact names', async () => {
      assert.equal(await bindCode(br.url, dn('josé'), pw['José']), 0, 'uid=josé is José');
      assert.equal(await bindCode(br.url, dn('josé'), 'wrong'), 49);
      assert.equal(await bindCode(br.url, dn('ALICE'), pw.alice), 0, 'uid=ALICE is alice');
      assert.equal(await bindCode(br.url, dn('frank'), pw.frank), 0);
      assert.equal(await bindCode(br.url, dn('Frank'), pw.Frank), 0);
      assert.equal(await bindCode(br.url, dn('frank'), pw.Frank), 49, "uid=frank is frank: Frank's password is wrong there");
      assert.equal(await bindCode(br.url, dn('FRANK'), pw.Frank), 49, 'uid=FRANK names neither twin');
      assert.equal(await bindCode(br.url, dn('FRANK'), pw.frank), 49);
    });

    test('a base DN, a compare and a (member=<user DN>) filter resolve the same way; uid filters stay exact', async () => {
      const base = await ldapsearch(br.url, { base: dn('josé'), scope: 'base', attrs: ['uid'] });
      assert.deepEqual(base.entries.map((e) => [e.dn, e.attrs.uid[0]]), [[dn('José'), 'José']]);
      const groups = await ldapsearch(br.url, { base: `ou=groups,${BASE}`, scope: 'one', filter: `(member=${dn('josé')})`, attrs: ['cn'] });
      assert.deepEqual(groups.entries.map((e) => e.attrs.cn[0]), ['secret-agents']);
      const twinGroups = await ldapsearch(br.url, { base: `ou=groups,${BASE}`, scope: 'one', filter: `(member=${dn('FRANK')})`, attrs: ['cn'] });
      assert.deepEqual(twinGroups.entries, [], 'uid=FRANK is nobody');
      const c = client(br.url);
      try {
        await c.bind('cn=apache,ou=services,dc=example,dc=com', 'svc-Secret!');
        assert.equal(await c.compare(`cn=secret-agents,ou=groups,${BASE}`, 'member', dn('josé')), true);
        assert.equal(await c.compare(`cn=secret-agents,ou=groups,${BASE}`, 'member', dn('ALICE')), true);
        assert.equal(await c.compare(`cn=committers,ou=groups,${BASE}`, 'member', dn('josé')), false);
        assert.equal(await c.compare(`cn=secret-agents,ou=groups,${BASE}`, 'member', dn('FRANK')), false);
      } finally {
        c.raw.destroy();
      }
      assert.deepEqual(uids(await ldapsearch(br.url, { filter: '(uid=josé)', attrs: ['uid'] })), [], 'filters compare uid exactly, as Django does');
      assert.deepEqual(uids(await ldapsearch(br.url, { filter: '(uid=frank)', attrs: ['uid'] })), ['frank']);
    });
  });

  describe('users.caseInsensitive: true', () => {
    let br;
    before(async () => {
      br = await startTestBridge({ url: db.url, config: { users: { caseInsensitive: true } } });
    });
    after(async () => {
      await br?.close();
    });

    test('(uid=x) finds the one account a bind as uid=x checks: the exact name, else the single match, never a twin; substrings still ignore case', async () => {
      const find = async (f) => uids(await ldapsearch(br.url, { filter: f, attrs: ['uid'] }));
      assert.deepEqual(await find('(uid=frank)'), ['frank']);
      assert.deepEqual(await find('(uid=Frank)'), ['Frank']);
      assert.deepEqual(await find('(uid=FRANK)'), []);
      assert.deepEqual(await find('(uid=ALICE)'), ['alice']);
      assert.deepEqual(await find('(&(objectClass=person)(uid=jOSé))'), ['José']);
      const notFrank = await find('(!(uid=frank))');
      assert.ok(!notFrank.includes('frank') && notFrank.includes('Frank'), `NOT (uid=frank) is everyone but frank: ${notFrank}`);
      assert.deepEqual(await find('(uid=FRAN*)'), ['Frank', 'frank'].sort());
      assert.equal(await bindCode(br.url, dn('frank'), pw.frank), 0);
      assert.equal(await bindCode(br.url, dn('Frank'), pw.Frank), 0);
      assert.equal(await bindCode(br.url, dn('FRANK'), pw.Frank), 49);
      assert.equal(await bindCode(br.url, dn('ALICE'), pw.alice), 0);
    });
  });
});
