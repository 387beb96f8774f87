// Simple Paged Results (RFC 2696), as `ldapsearch -E pr=N` uses it: every entry exactly once,
// in pages, the same entries as one unpaged search; limits still apply across pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { need, hasCommand } from '../helpers/require.js';
import { ldapTool, parseLdif } from '../helpers/bridge.js';
import { demoDatabase, startDemoBridge, DEMO_SERVICE } from '../helpers/demo-bridge.js';
import { client } from '../helpers/bridge.js';
import { sqliteWrites } from '../helpers/writes.js';

const skip = need('OpenLDAP clients (ldap-utils)', hasCommand('ldapsearch', ['-VV']), 'ldapsearch not on PATH');

test('paged searches return every entry once, page by page', { skip }, async () => {
  const db = await demoDatabase(1000);
  const b = await startDemoBridge(db.url);
  try {
    const search = (extra) => ldapTool('ldapsearch', ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', b.url, '-D', DEMO_SERVICE.dn, '-y', '/dev/stdin', '-b', 'dc=example,dc=com', ...extra, '(objectClass=*)', 'dn'], DEMO_SERVICE.password);
    const all = await search([]);
    assert.equal(all.code, 0, all.stderr);
    const dns = parseLdif(all.stdout).map((e) => e.dn);
    assert.ok(dns.length > 20);
    for (const size of [1, 3, 7, 1000]) {
      const paged = await search(['-E', `pr=${size}/noprompt`]);
      assert.equal(paged.code, 0, paged.stderr);
      assert.deepEqual(parseLdif(paged.stdout).map((e) => e.dn), dns, `page size ${size}`);
      const pages = (paged.stdout.match(/pagedresults: cookie=/g) ?? []).length;
      assert.ok(pages >= Math.ceil(dns.length / size) - 1, `${pages} pages for size ${size}`);
    }
    // A filter the database cannot answer alone (cn is built from first and last names): rows
    // the SQL returns are re-checked and dropped, so a page has to read on past them.
    const byCn = (extra) => ldapTool('ldapsearch', ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', b.url, '-D', DEMO_SERVICE.dn, '-y', '/dev/stdin', '-b', 'ou=users,dc=example,dc=com', ...extra, '(|(cn=*o*)(uid=carol))', 'dn'], DEMO_SERVICE.password);
    const cnAll = parseLdif((await byCn([])).stdout).map((e) => e.dn);
    assert.ok(cnAll.length >= 2 && cnAll.length < parseLdif((await search([])).stdout).length);
    for (const size of [1, 2]) assert.deepEqual(parseLdif((await byCn(['-E', `pr=${size}/noprompt`])).stdout).map((e) => e.dn), cnAll, `filtered, page size ${size}`);
    // Paging does not lift the size limit: it counts across pages.
    const limited = await search(['-E', 'pr=2/noprompt', '-z', '5']);
    assert.equal(limited.code, 4);
    assert.equal(parseLdif(limited.stdout).length, 5);
    // A critical paged control is understood (not unavailableCriticalExtension).
    const critical = await search(['-E', '!pr=4/noprompt']);
    assert.equal(critical.code, 0, critical.stderr);
    assert.equal(parseLdif(critical.stdout).length, dns.length);
  } finally {
    await b.close();
  }
});

test('the next page is read ahead, but never served more than 2 s old: a user deactivated meanwhile is not in it', async () => {
  const db = await demoDatabase(1000);
  const b = await startDemoBridge(db.url, { log: { level: 'warn', format: 'json' } });
  const c = client(b.url);
  try {
    await c.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
    const pages = [];
    await new Promise((resolve, reject) => {
      c.raw.search('ou=users,dc=example,dc=com', { scope: 'one', filter: '(uid=*)', attributes: ['uid'], paged: { pageSize: 1, pagePause: true } }, (err, res) => {
        if (err) return reject(err);
        let current = [];
        res.on('searchEntry', (e) => current.push(e.pojo.attributes.find((a) => a.type === 'uid').values[0]));
        res.on('page', (_r, next) => {
          pages.push(current);
          current = [];
          if (!next) return;
          if (pages.length === 1) {
            // alice came first; bob's page is being read ahead. Deactivate him, wait past 2 s.
            sqliteWrites(db.path, ["UPDATE auth_user SET is_active = 0 WHERE username = 'bob'"])
              .then(() => new Promise((r) => setTimeout(r, 2500)))
              .then(() => next(), reject);
          } else next();
        });
        res.on('error', reject);
        res.on('end', () => resolve());
      });
    });
    assert.deepEqual(pages.flat(), ['alice', 'carol']);
  } finally {
    c.raw.destroy();
    await b.close();
  }
});
