// Every recipe of apache-examples/ is included VERBATIM by a private Apache httpd 2.4 in front
// of the bridge (the placeholders set with Define, the service password in httpd's environment,
// only the modules the file's "Modules:" line names), and real-Django users (SQLite and
// PostgreSQL) get what Django says they should: a login matrix over every user for the access
// recipes, and the full recipes used as their clients use them — static and media files,
// a WebDAV share (PUT/DELETE/MKCOL/LOCK by the writers' group only), a Subversion repository
// (the svn client), and a proxied backend told who the user is (AUTHENTICATE_* headers).
// Each runs with Apache's LDAP caches off and with the defaults.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { apacheAvailable, modulesAvailable, startApache, checkMatrix, dnSafe, makeWritableDir, chownTree, writeTree, DJANGO_FACTS_PY, SITE_SETUP_PY } from '../helpers/apache.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXAMPLES_DIR = join(ROOT, 'apache-examples');
const apache = apacheAvailable();
const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const apacheSkip = need('Apache httpd 2.4 with mod_authnz_ldap (apache2)', apache.ok, apache.reason);
const svnMods = modulesAvailable(['dav', 'dav_svn']);
const svnSkip = need('Subversion (libapache2-mod-svn, subversion)', svnMods.ok && hasCommand('svn') && hasCommand('svnadmin'), svnMods.ok ? 'svn or svnadmin not on PATH' : svnMods.reason);
const pg = await postgresAvailable();
const pgSkip = need('PostgreSQL on 127.0.0.1:5432', pg.ok, pg.reason);

const inGroup = (g) => (f) => f.groups.includes(g);
const hasPerm = (p) => (f) => f.permissions.includes(p);

/** What each example protects and who Django says may enter; `run` for the full recipes. */
const EXAMPLES = {
  '01-valid-user.conf': { path: '/members/ok.txt', allowed: () => true, slow: true },
  // Without a service account a name needing DN escaping cannot bind (documented in the file).
  '02-bind-as-user.conf': { path: '/self-bind/ok.txt', allowed: (f) => dnSafe(f.username) && inGroup('secret-agents')(f) },
  '03-group.conf': { path: '/agents/ok.txt', allowed: inGroup('secret-agents') },
  '04-group-memberuid.conf': { path: '/agents-by-uid/ok.txt', allowed: inGroup('secret-agents') },
  '05-permission.conf': { path: '/reports/ok.txt', allowed: hasPerm('reports.view_report') },
  '06-permission-attribute.conf': { path: '/reports-by-attribute/ok.txt', allowed: hasPerm('reports.view_report') },
  '07-staff.conf': { path: '/staff/ok.txt', allowed: (f) => f.isStaff },
  '08-superuser.conf': { path: '/superusers/ok.txt', allowed: (f) => f.isSuperuser },
  '09-staff-attribute.conf': { path: '/staff-by-attribute/ok.txt', allowed: (f) => f.isStaff },
  '10-user.conf': { path: '/alice-and-bob/ok.txt', allowed: (f) => ['alice', 'bob'].includes(f.username) },
  '11-dn.conf': { path: '/alice-only/ok.txt', allowed: (f) => f.username === 'alice' },
  '12-filter.conf': { path: '/staff-or-agents/ok.txt', allowed: (f) => f.isStaff || f.groups.includes('secret-agents') },
  '13-static-media.conf': { run: staticMedia },
  '14-webdav.conf': { run: webdav },
  '15-subversion.conf': { run: subversion, skip: () => svnSkip },
  '16-backend-attributes.conf': { run: backend },
};

const exampleFiles = existsSync(EXAMPLES_DIR) ? readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.conf')).sort() : [];
const readExample = (f) => readFileSync(join(EXAMPLES_DIR, f), 'utf8');
const placeholders = (text) => [...new Set([...text.matchAll(/\$\{(DLB_[A-Z0-9_]+)\}/g)].map((m) => m[1]))].sort();
const modulesOf = (text) => {
  const m = /^# Modules: (.+)$/m.exec(text);
  return m ? m[1].trim().split(/\s+/) : [];
};

test('every example is tested here, documented in apache-examples/README.md, and names its modules', () => {
  assert.ok(exampleFiles.length >= 16, `apache-examples/ holds ${exampleFiles.length} recipes`);
  assert.deepEqual(exampleFiles, Object.keys(EXAMPLES).sort(), 'each apache-examples/*.conf needs an entry in EXAMPLES (and each entry a file)');
  const readme = readFileSync(join(EXAMPLES_DIR, 'README.md'), 'utf8');
  for (const f of exampleFiles) {
    const text = readExample(f);
    assert.match(readme, new RegExp(`\\[\`${f.replace(/\./g, '\\.')}\`\\]\\(${f.replace(/\./g, '\\.')}\\)[^\\n]*Use this when`, 'i'), `README.md lists ${f} with a "use this when"`);
    assert.match(text, /^# Use this when: /m, `${f} says when to use it`);
    assert.ok(modulesOf(text).includes('authnz_ldap'), `${f} has a "# Modules:" line`);
    assert.match(text, /^\s*AuthLDAPMaxSubGroupDepth 0$/m, `${f} sets AuthLDAPMaxSubGroupDepth 0`);
    assert.match(text, /# Django groups do not nest/, `${f} says why`);
    for (const p of placeholders(text)) assert.match(readme, new RegExp(`\`${p}\``), `${p} (used by ${f}) is documented in README.md`);
  }
});

describe('apache-examples/ in a real Apache', { skip: djangoSkip || apacheSkip }, () => {
  for (const engine of ['sqlite', 'postgres']) {
    describe(engine, { skip: engine === 'postgres' ? pgSkip : undefined }, () => {
      const ctx = {};
      before(async () => {
        ctx.db = await makeDjangoDatabase({ engine });
        await djangoShell(ctx.db.env, SITE_SETUP_PY);
        ctx.facts = JSON.parse(await djangoShell(ctx.db.env, DJANGO_FACTS_PY));
        ctx.users = ctx.db.expected.users;
        ctx.user = (n) => ctx.users.find((u) => u.username === n);
        // The login matrix sends every user's wrong password once per run: no lockout here.
        ctx.br = await startTestBridge({ url: ctx.db.url, config: { security: { bruteForce: { enabled: false } } } });
        ctx.defines = { DLB_LDAP_URL: ctx.br.url, DLB_BASE_DN: BASE, DLB_BIND_DN: SERVICE_DN };
      });
      after(async () => {
        await ctx.br?.close();
        await ctx.db?.drop();
      });

      for (const file of Object.keys(EXAMPLES)) {
        const spec = EXAMPLES[file];
        for (const cache of ['off', 'default']) {
          test(`${file}, LDAP caches ${cache}`, { skip: spec.skip?.() }, async () => {
            const text = readExample(file);
            const work = mkdtempSync(join(tmpdir(), 'dlb-example-'));
            chmodSync(work, 0o755);
            const extra = spec.run ? await spec.run.setup?.(work, ctx) : undefined;
            const defines = { ...ctx.defines, ...(extra?.defines ?? {}) };
            for (const p of placeholders(text)) {
              if (p !== 'DLB_BIND_PASSWORD') assert.ok(p in defines, `${file}: the test has no value for \${${p}}`);
            }
            const htdocs = spec.path ? { [spec.path.slice(1)]: 'ok\n' } : {};
            const ap = await startApache({
              name: file.replace(/\.conf$/, ''),
              baseModules: ['mpm_event'],
              modules: modulesOf(text), // only what the file says it needs
              defines,
              env: { DLB_BIND_PASSWORD: SERVICE_PW },
              body: `Include "${join(EXAMPLES_DIR, file)}"`,
              cache,
              htdocs,
            });
            try {
              if (spec.path) {
                const { mismatches } = await checkMatrix(ap, spec.path, ctx.users, ctx.facts, spec.allowed, { slow: spec.slow });
                assert.deepEqual(mismatches, [], `${file}: ${mismatches.length} wrong answers\n${ap.errorLog().split('\n').filter((l) => /error|warn/i.test(l)).slice(-10).join('\n')}`);
                assert.equal((await ap.get(spec.path)).status, 401, 'no credentials: 401');
              } else {
                await spec.run(ap, ctx, extra);
              }
            } finally {
              await ap.stop();
              await extra?.close?.();
              rmSync(work, { recursive: true, force: true });
            }
            // Read once Apache has exited and every line it printed is in: an absence can only
            // be asserted on the whole log.
            assert.ok(!/AH00111/.test(ap.logs()), `every placeholder is defined:\n${ap.logs()}`);
          });
        }
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The full recipes

async function staticMedia(ap, ctx) {
  const alice = ctx.user('alice');
  for (const [path, body] of [['/static/css/site.css', 'body { color: teal }\n'], ['/media/uploads/report.txt', 'quarterly numbers\n']]) {
    assert.equal((await ap.get(path)).status, 401, `${path} without credentials`);
    const r = await ap.get(path, { user: 'alice', password: alice.password });
    assert.equal(r.status, 200, path);
    assert.equal(r.body, body);
    assert.equal((await ap.get(path, { user: 'alice', password: alice.wrongPassword })).status, 401);
    assert.equal((await ap.get(path, { user: 'dora', password: ctx.user('dora').password })).status, 401, 'inactive user');
  }
  const { mismatches } = await checkMatrix(ap, '/media/uploads/report.txt', ctx.users, ctx.facts, () => true);
  assert.deepEqual(mismatches, []);
  assert.equal((await ap.get('/static/missing.css', { user: 'alice', password: alice.password })).status, 404);
}
staticMedia.setup = (work) => {
  const staticRoot = join(work, 'static');
  const mediaRoot = join(work, 'media');
  writeTree(staticRoot, { 'css/site.css': 'body { color: teal }\n' });
  writeTree(mediaRoot, { 'uploads/report.txt': 'quarterly numbers\n' });
  return { defines: { DLB_STATIC_ROOT: staticRoot, DLB_MEDIA_ROOT: mediaRoot } };
};

const LOCK_BODY = '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>carol</D:owner></D:lockinfo>';

async function webdav(ap, ctx) {
  const carol = { user: 'carol', password: ctx.user('carol').password }; // in webdav-writers
  const alice = { user: 'alice', password: ctx.user('alice').password }; // a reader
  const put = (who, path, body) => ap.request(path, { method: 'PUT', ...who, body, headers: { 'Content-Type': 'text/plain' } });
  assert.equal((await put(carol, '/dav/notes.txt', 'v1\n')).status, 201, 'the writer creates a file');
  assert.equal((await put(carol, '/dav/notes.txt', 'v2\n')).status, 204, 'the writer overwrites it');
  for (const who of [carol, alice]) {
    const r = await ap.get('/dav/notes.txt', who);
    assert.equal(r.status, 200, `${who.user} reads`);
    assert.equal(r.body, 'v2\n');
    const pf = await ap.request('/dav/', { method: 'PROPFIND', ...who, headers: { Depth: '1' } });
    assert.equal(pf.status, 207, `${who.user} lists the share`);
    assert.match(pf.body, /notes\.txt/);
  }
  assert.equal((await put(alice, '/dav/notes.txt', 'vandalised\n')).status, 401, 'a reader cannot PUT');
  assert.equal((await put(alice, '/dav/new.txt', 'x\n')).status, 401, 'a reader cannot create');
  assert.equal((await ap.request('/dav/notes.txt', { method: 'DELETE', ...alice })).status, 401, 'a reader cannot DELETE');
  assert.equal((await ap.request('/dav/dir/', { method: 'MKCOL', ...alice })).status, 401, 'a reader cannot MKCOL');
  assert.equal((await ap.request('/dav/notes.txt', { method: 'MOVE', ...alice, headers: { Destination: `${ap.origin}/dav/moved.txt` } })).status, 401, 'a reader cannot MOVE');
  assert.equal((await ap.get('/dav/notes.txt', alice)).body, 'v2\n', 'the file is untouched');
  assert.equal((await ap.get('/dav/notes.txt')).status, 401, 'anonymous cannot read');
  assert.equal((await put({ user: 'carol', password: ctx.user('carol').wrongPassword }, '/dav/notes.txt', 'x')).status, 401);
  // Locks go through DavLockDB.
  const lock = await ap.request('/dav/notes.txt', { method: 'LOCK', ...carol, body: LOCK_BODY, headers: { 'Content-Type': 'application/xml', Timeout: 'Second-60' } });
  assert.equal(lock.status, 200, `LOCK: ${lock.body}`);
  const token = lock.headers['lock-token'];
  assert.match(token, /^<opaquelocktoken:/);
  assert.equal((await put(carol, '/dav/notes.txt', 'no token\n')).status, 423, 'locked');
  assert.equal((await ap.request('/dav/notes.txt', { method: 'PUT', ...carol, body: 'v3\n', headers: { If: `(${token})` } })).status, 204);
  assert.equal((await ap.request('/dav/notes.txt', { method: 'UNLOCK', ...alice, headers: { 'Lock-Token': token } })).status, 401, 'a reader cannot UNLOCK');
  assert.equal((await ap.request('/dav/notes.txt', { method: 'UNLOCK', ...carol, headers: { 'Lock-Token': token } })).status, 204);
  assert.equal((await ap.request('/dav/dir/', { method: 'MKCOL', ...carol })).status, 201);
  assert.equal((await ap.request('/dav/notes.txt', { method: 'DELETE', ...carol })).status, 204);
  // Everyone: GET needs a valid user, PUT needs webdav-writers.
  const { mismatches: readers } = await checkMatrix(ap, '/dav/dir/', ctx.users, ctx.facts, () => true, { method: 'PROPFIND', headers: { Depth: '0' }, ok: 207 });
  assert.deepEqual(readers, []);
  const writers = [];
  for (const [i, u] of ctx.users.entries()) {
    const f = ctx.facts.find((x) => x.username === u.username);
    const expect = u.checkRight && f.isActive && f.usable && f.groups.includes('webdav-writers') ? 201 : 401;
    const r = await put({ user: u.username, password: u.password }, `/dav/dir/m${i}.txt`, 'x');
    if (r.status !== expect) writers.push(`PUT as ${u.username}: ${r.status}, expected ${expect}`);
  }
  assert.deepEqual(writers, []);
}
webdav.setup = (work) => {
  const root = makeWritableDir(join(work, 'share'));
  const lockDir = makeWritableDir(join(work, 'davlock'));
  return { defines: { DLB_DAV_ROOT: root, DLB_DAV_LOCKDB: join(lockDir, 'lockdb') } };
};

function svn(work, args) {
  return new Promise((resolvePromise) => {
    execFile('svn', [...args, '--non-interactive', '--no-auth-cache', '--config-dir', join(work, 'svn-config')], { cwd: work, timeout: 60_000, env: { PATH: process.env.PATH, HOME: work, LANG: 'C.UTF-8' } }, (err, stdout, stderr) => {
      resolvePromise({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function subversion(ap, ctx, { work }) {
  const url = `${ap.origin}/svn/repo`;
  const creds = (n, pw = ctx.user(n).password) => ['--username', n, '--password', pw];
  // carol holds svn.commit_repo through the group committers; root is a superuser.
  const co = await svn(work, ['checkout', url, 'wc-carol', ...creds('carol')]);
  assert.equal(co.code, 0, `carol checks out: ${co.stderr}`);
  writeFileSync(join(work, 'wc-carol', 'README.txt'), 'committed through Django permissions\n');
  assert.equal((await svn(work, ['add', join(work, 'wc-carol', 'README.txt')])).code, 0);
  const ci = await svn(work, ['commit', join(work, 'wc-carol'), '-m', 'first commit', ...creds('carol')]);
  assert.equal(ci.code, 0, `carol commits: ${ci.stderr}`);
  assert.match(ci.stdout, /Committed revision 1\./);
  const cat = await svn(work, ['cat', `${url}/README.txt`, ...creds('root')]);
  assert.equal(cat.code, 0, `root (superuser) reads: ${cat.stderr}`);
  assert.equal(cat.stdout, 'committed through Django permissions\n');
  const rootCo = await svn(work, ['checkout', url, 'wc-root', ...creds('root')]);
  assert.equal(rootCo.code, 0, rootCo.stderr);
  for (const [name, pw, why] of [['alice', undefined, 'no permission'], ['dora', undefined, 'inactive, though she holds the permission directly'], ['carol', ctx.user('carol').wrongPassword, 'wrong password'], ['eve', undefined, 'unusable password']]) {
    const r = await svn(work, ['checkout', url, `wc-${name}-${Math.random().toString(36).slice(2)}`, ...creds(name, pw)]);
    assert.notEqual(r.code, 0, `${name} (${why}) must not check out`);
    assert.match(r.stderr, /E170001|E215004|[Aa]uthori[sz]ation failed|[Aa]uthentication failed/, r.stderr);
  }
  // Everyone, over plain HTTP (mod_dav_svn answers GET on the repository root).
  const { mismatches } = await checkMatrix(ap, '/svn/repo/', ctx.users, ctx.facts, hasPerm('svn.commit_repo'));
  assert.deepEqual(mismatches, []);
}
subversion.setup = async (work) => {
  const repo = join(work, 'repo');
  const r = await new Promise((res) => execFile('svnadmin', ['create', repo], (err, _o, stderr) => res({ err, stderr })));
  if (r.err) throw new Error(`svnadmin create: ${r.stderr}`);
  chownTree(repo);
  mkdirSync(join(work, 'svn-config'));
  return { work, defines: { DLB_SVN_REPO: repo } };
};

async function backend(ap, ctx, { seen }) {
  const spoof = { 'X-Remote-User': 'root', 'X-Remote-Mail': 'root@example.com', 'X-Remote-Name': 'Root' };
  const get = (name) => ap.get('/app/whoami', { user: name, password: ctx.user(name).password, headers: spoof });
  const r = await get('alice');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { path: '/whoami', user: 'alice', mail: 'alice@example.com', name: 'Alice Liddell' });
  const jose = JSON.parse((await get('josé.o+brien@x')).body);
  assert.deepEqual(jose, { path: '/whoami', user: 'josé.o+brien@x', mail: 'jose@example.com', name: "José O'Brien" }, 'UTF-8 passes through');
  const noMail = JSON.parse((await get('u_argon2')).body);
  assert.deepEqual(noMail, { path: '/whoami', user: 'u_argon2', mail: null, name: 'u_argon2' }, 'no e-mail: no header, and the client\'s spoofed one is gone');
  const before = seen.length;
  assert.equal((await ap.get('/app/whoami', { headers: spoof })).status, 401);
  assert.equal((await ap.get('/app/whoami', { user: 'alice', password: ctx.user('alice').wrongPassword, headers: spoof })).status, 401);
  assert.equal(seen.length, before, 'refused requests never reach the backend');
  const { mismatches } = await checkMatrix(ap, '/app/whoami', ctx.users, ctx.facts, () => true);
  assert.deepEqual(mismatches, []);
}
backend.setup = async () => {
  const seen = [];
  // A backend that answers with what Apache told it (header bytes are UTF-8).
  const server = http.createServer((req, res) => {
    const h = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) h[req.rawHeaders[i].toLowerCase()] = Buffer.from(req.rawHeaders[i + 1], 'latin1').toString('utf8');
    seen.push(req.url);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ path: req.url, user: h['x-remote-user'] ?? null, mail: h['x-remote-mail'] ?? null, name: h['x-remote-name'] ?? null }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    seen,
    defines: { DLB_BACKEND_URL: `http://127.0.0.1:${server.address().port}` },
    close: () => new Promise((r) => server.close(r)),
  };
};
