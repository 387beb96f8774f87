// A PRIVATE Apache httpd per test: its own ServerRoot under a mkdtemp directory, its own
// httpd.conf loading only the modules it needs from /usr/lib/apache2/modules, a free loopback
// port, its own PidFile, ErrorLog and runtime directory. Never the system instance: the
// Debian apache2.conf, /etc/apache2/envvars and apache2ctl are not used.
//
//   const ap = await startApache({ modules: ['dav', 'dav_fs'], body: '<Location /x>...</Location>',
//                                  env: { DLB_BIND_PASSWORD: '...' }, cache: 'off' });
//   const r = await ap.get('/x/ok.txt', { user: 'alice', password: '...' });   // { status, headers, body }
//   await ap.stop();
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const APACHE_BIN = process.env.DLB_APACHE_BIN || '/usr/sbin/apache2';
export const MODULES_DIR = process.env.DLB_APACHE_MODULES || '/usr/lib/apache2/modules';

/** Modules every instance loads: the event MPM, Basic auth and the LDAP provider. */
export const BASE_MODULES = ['mpm_event', 'authn_core', 'authz_core', 'auth_basic', 'authz_user', 'ldap', 'authnz_ldap'];

let availability;
/** Is a usable Apache 2.4 with mod_ldap/mod_authnz_ldap installed? { ok, reason?, version? } */
export function apacheAvailable() {
  if (availability) return availability;
  const r = spawnSync(APACHE_BIN, ['-v'], { encoding: 'utf8' });
  if (r.error) availability = { ok: false, reason: `cannot run ${APACHE_BIN}: ${r.error.message} (Debian: apt-get install -y apache2)` };
  else {
    const version = /Apache\/(\S+)/.exec(r.stdout)?.[1];
    const missing = BASE_MODULES.filter((m) => !existsSync(moduleFile(m)));
    if (!version?.startsWith('2.4.')) availability = { ok: false, reason: `${APACHE_BIN} -v says ${JSON.stringify(r.stdout.trim())}, not Apache 2.4` };
    else if (missing.length) availability = { ok: false, reason: `missing modules in ${MODULES_DIR}: ${missing.join(', ')}` };
    else availability = { ok: true, version };
  }
  return availability;
}

/** Are these extra modules installed? (e.g. ['dav', 'dav_svn'] from libapache2-mod-svn) */
export function modulesAvailable(names) {
  const missing = names.filter((m) => !existsSync(moduleFile(m)));
  return missing.length ? { ok: false, reason: `missing Apache modules in ${MODULES_DIR}: ${missing.map((m) => `mod_${m}.so`).join(', ')}` } : { ok: true };
}

function moduleFile(name) {
  return join(MODULES_DIR, `mod_${name}.so`);
}

/** A free TCP port on 127.0.0.1 (the kernel's choice, released for Apache to take). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * When the tests run as root, Apache's children switch to this user (Apache refuses to serve as
 * root), so everything they read must be world-readable and what they write owned by it.
 */
export const RUN_AS = process.getuid?.() === 0 ? pickRunUser() : null;
function pickRunUser() {
  for (const [user, group] of [['www-data', 'www-data'], ['nobody', 'nogroup']]) {
    const u = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const g = spawnSync('getent', ['group', group], { encoding: 'utf8' });
    if (u.status === 0 && g.status === 0) return { user, group, uid: Number(u.stdout.trim()), gid: Number(g.stdout.split(':')[2]) };
  }
  throw new Error('running as root, but neither www-data nor nobody/nogroup exists for Apache to switch to');
}

/** A directory the Apache children may write (owned by their user when we are root). */
export function makeWritableDir(path) {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o755);
  if (RUN_AS) chownSync(path, RUN_AS.uid, RUN_AS.gid);
  return path;
}

/** Recursively hands a tree to the Apache children's user (for an svnadmin-made repository). */
export function chownTree(path) {
  if (!RUN_AS) return;
  const r = spawnSync('chown', ['-R', `${RUN_AS.uid}:${RUN_AS.gid}`, path]);
  if (r.status !== 0) throw new Error(`chown -R ${path} failed`);
}

/** Writes a file under root, creating its directories (mode 0755 so Apache's user can read). */
export function writeTree(root, files) {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    for (let d = dirname(p); d.startsWith(root) && d !== root; d = dirname(d)) {
      if (!existsSync(d)) mkdirSync(d, { recursive: true });
    }
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  spawnSync('chmod', ['-R', 'a+rX', root]);
}

/** The server-level LDAP cache settings per mode. */
export function cacheDirectives(cache) {
  if (cache === 'off') {
    return ['# Apache LDAP caches off: every request reaches the bridge.', 'LDAPCacheEntries 0', 'LDAPOpCacheEntries 0'].join('\n');
  }
  if (cache === 'default' || cache === undefined) return '# Apache LDAP caches at their defaults (600 s TTL).';
  if (typeof cache === 'object') {
    return [`LDAPCacheTTL ${cache.ttl}`, `LDAPOpCacheTTL ${cache.opTtl ?? cache.ttl}`].join('\n');
  }
  throw new Error(`cache must be 'off', 'default' or { ttl }, not ${JSON.stringify(cache)}`);
}

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts a private Apache in the foreground and resolves once it accepts connections.
 * @param {{ modules?: string[], baseModules?: string[], body: string, env?: Record<string,string>, defines?: Record<string,string>,
 *   cache?: 'off'|'default'|{ttl:number,opTtl?:number}, htdocs?: Record<string,string>, logLevel?: string,
 *   name?: string }} opts
 *   body: directives after the server setup (Location blocks, Include of an example file, ...);
 *   defines: `Define NAME value` lines written before body (values written verbatim);
 *   htdocs: files under the DocumentRoot, e.g. { 'secret/ok.txt': 'ok' }.
 */
export async function startApache({ modules = [], baseModules = BASE_MODULES, body, env = {}, defines = {}, cache = 'off', htdocs = {}, logLevel = 'warn', name = 'apache' }) {
  const avail = apacheAvailable();
  if (!avail.ok) throw new Error(`Apache unavailable: ${avail.reason}`);
  const dir = mkdtempSync(join(tmpdir(), `dlb-${name.replace(/[^a-z0-9-]/gi, '_')}-`));
  chmodSync(dir, 0o755); // mkdtemp makes 0700: Apache's children could not reach htdocs
  const docroot = join(dir, 'htdocs');
  mkdirSync(docroot);
  writeTree(docroot, htdocs);
  const run = makeWritableDir(join(dir, 'run'));
  const all = [...new Set([...baseModules, ...modules])];
  const missing = all.filter((m) => !existsSync(moduleFile(m)));
  if (missing.length) throw new Error(`missing Apache modules: ${missing.join(', ')}`);

  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'httpd.conf');
    const text = [
      `# Private test instance (${name}); see test/helpers/apache.js`,
      `ServerRoot "${dir}"`,
      'ServerName 127.0.0.1',
      `Listen 127.0.0.1:${port}`,
      `PidFile "${join(run, 'httpd.pid')}"`,
      `DefaultRuntimeDir "${run}"`,
      `ErrorLog "${join(dir, 'error.log')}"`,
      `LogLevel ${logLevel}`,
      ...(RUN_AS ? [`User ${RUN_AS.user}`, `Group ${RUN_AS.group}`] : []),
      ...all.map((m) => `LoadModule ${m}_module "${moduleFile(m)}"`),
      // One child process with a few threads: quick to start and stop, one LDAP connection pool.
      'StartServers 1',
      'ServerLimit 1',
      'ThreadsPerChild 8',
      'MaxRequestWorkers 8',
      'MinSpareThreads 1',
      'MaxSpareThreads 8',
      'KeepAlive Off',
      'Timeout 30',
      'GracefulShutdownTimeout 1',
      `DocumentRoot "${docroot}"`,
      cacheDirectives(cache),
      ...Object.entries(defines).map(([k, v]) => `Define ${k} ${v}`),
      '',
      body,
      '',
    ].join('\n');
    writeFileSync(conf, text);
    const errorLog = join(dir, 'error.log');
    writeFileSync(errorLog, '');
    if (RUN_AS) chownSync(errorLog, RUN_AS.uid, RUN_AS.gid);
    const child = spawn(APACHE_BIN, ['-f', conf, '-DFOREGROUND'], {
      env: { PATH: process.env.PATH, LANG: 'C', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }));
    // 'close' comes after 'exit' once both pipes are drained: only then is `output` complete.
    const closed = new Promise((resolve) => child.on('close', resolve));
    const t0 = performance.now();
    const up = await Promise.race([waitForPort(port, 10_000), exited.then(() => false)]);
    if (up === true) {
      const instance = makeInstance({ dir, conf, port, child, exited, closed, errorLog, output: () => output, docroot, startMs: Math.round(performance.now() - t0) });
      return instance;
    }
    child.kill('SIGKILL');
    await exited;
    const log = readIfExists(errorLog);
    lastError = new Error(`Apache did not start:\n${output}\n${log}\n--- ${conf} ---\n${text}`.trim());
    if (!/Address already in use|could not bind/i.test(output + log)) break; // only a port race is retried
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

function readIfExists(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

async function waitForPort(port, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 15));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

function makeInstance({ dir, conf, port, child, exited, closed, errorLog, output, docroot, startMs }) {
  let stopped = false;
  let finalLogs;
  // Apache writes a start-up warning such as AH00111 to stderr on its first configuration pass
  // (before ErrorLog is open) and to the error log on later passes, at moments that do not follow
  // the port opening: whoever asserts on Apache's words reads both, and waits for them.
  const logs = () => finalLogs ?? `${readIfExists(errorLog)}${output()}`;
  const inst = {
    dir,
    conf,
    port,
    docroot,
    startMs,
    origin: `http://127.0.0.1:${port}`,
    pid: child.pid,
    errorLog: () => readIfExists(errorLog),
    /** The error log and what Apache printed on stdout/stderr; after stop(), all of it. */
    logs,
    /**
     * Resolves with logs() once they contain `pattern` (a RegExp or a string); rejects after
     * `timeoutMs` with what they held. For what Apache writes at a moment of its own choosing.
     */
    async waitForLog(pattern, { timeoutMs = 10_000 } = {}) {
      const found = (t) => (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t));
      const end = Date.now() + timeoutMs;
      for (;;) {
        const text = logs();
        if (found(text)) return text;
        if (Date.now() > end || finalLogs !== undefined) throw new Error(`Apache's logs do not contain ${pattern} after ${timeoutMs} ms:\n${text}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    request: (path, opts = {}) => request(port, path, opts),
    get: (path, opts = {}) => request(port, path, { ...opts, method: 'GET' }),
    /** Stops this instance (SIGTERM to the parent we started; SIGKILL after 5 s), keeps its
     * complete logs for logs(), and removes its directory. */
    async stop({ keep = false } = {}) {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await closed;
      finalLogs = logs();
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
  return inst;
}

/** Basic credentials as a browser sends them: base64 of the UTF-8 bytes of user:password. */
export function basic(user, password) {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * One HTTP request on a fresh connection (no keep-alive pool that could outlive the server).
 * Resolves { status, headers, body } (body as a UTF-8 string).
 */
export function request(port, path, { method = 'GET', user, password, headers = {}, body } = {}) {
  const h = { ...headers };
  if (user !== undefined) h.Authorization = basic(user, password ?? '');
  if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: h, agent: false, timeout: 60_000 }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// What Django says, and the request matrix checked against it

/** Python for djangoShell: every user as Django sees them now (after any test's changes). */
/** A group whose name is hostile to httpd.conf itself: a regex back-reference, an expression
 * variable and an httpd variable reference. */
export const APACHE_HOSTILE_GROUP = 'pay$1 100%{x} ${HOME}';

/**
 * Python for djangoShell: what the recipes need besides populate.py's site. A permission
 * reports.view_report (held through the group secret-agents and directly by bob), the group
 * webdav-writers (carol) and a group named APACHE_HOSTILE_GROUP (u_sha1).
 */
export const SITE_SETUP_PY = `
from django.contrib.contenttypes.models import ContentType
ct, _ = ContentType.objects.get_or_create(app_label='reports', model='report')
p = Permission.objects.create(content_type=ct, codename='view_report', name='Can view reports')
Group.objects.get(name='secret-agents').permissions.add(p)
User.objects.get(username='bob').user_permissions.add(p)
w = Group.objects.create(name='webdav-writers')
User.objects.get(username='carol').groups.add(w)
h = Group.objects.create(name=${JSON.stringify('pay$1 100%{x} ${HOME}')})
User.objects.get(username='u_sha1').groups.add(h)
`;

export const DJANGO_FACTS_PY = `
import json
out = []
for u in User.objects.exclude(username__startswith='bulk').order_by('pk'):
    out.append({
        'username': u.get_username(),
        'isActive': u.is_active,
        'isStaff': u.is_staff,
        'isSuperuser': u.is_superuser,
        'usable': u.has_usable_password(),
        'groups': sorted(g.name for g in u.groups.all()),
        'permissions': sorted(u.get_all_permissions()),
    })
print(json.dumps(out))
`;

/** Runs `fn` over `items`, `n` at a time; resolves the answers in the items' order. */
export async function mapPool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

/**
 * Logins that must fail on the populated site whatever the client: names no user has, filter
 * metacharacters, the case variants of alice and frank (Django names are case-sensitive;
 * FRANK matches both frank and Frank case-insensitively), and an empty password.
 */
export const LOGIN_STRANGERS = [
  { username: 'nobody-here', password: 'whatever' },
  { username: 'alice)(uid=*', password: 'lètmein-alice' },
  { username: '*', password: 'lètmein-alice' },
  { username: 'ALICE', password: 'lètmein-alice' },
  { username: 'FRANK', password: 'frank-lower' },
  { username: 'alice', password: '' },
];

/** Characters that need RFC 4514 escaping in a uid value (AuthLDAPInitialBindPattern pastes names unescaped). */
export function dnSafe(name) {
  return !/[,+"\\<>;=\0]/.test(name) && !/^[ #]/.test(name) && !/ $/.test(name);
}

/**
 * Requests `path` as every user of the populated site, with the right and a wrong password,
 * plus unknown users, case twins, a wildcard and an empty password, and compares each status
 * with what Django says: `allowed(fact)` decides for users who authenticate.
 * Users whose hash has Django's real default cost are left out unless `slow` is set.
 * Returns the list of mismatches (empty when everything matches) and the number of requests.
 * @param {{ get: Function }} ap  a startApache() instance
 * @param {object[]} users  db.expected.users (passwords and Django's check_password answers)
 * @param {object[]} facts  djangoFacts() (the current state)
 */
export async function checkMatrix(ap, path, users, facts, allowed, { method = 'GET', headers, ok = 200, denied = 401, extraCases = true, only, slow = false, concurrency = 4 } = {}) {
  const cases = [];
  const byName = new Map(facts.map((f) => [f.username, f]));
  for (const u of users) {
    if (only && !only(u)) continue;
    // Django's real default work factor (260,000 PBKDF2 iterations) costs ~0.1 s a check, and
    // the bridge then spends as much on every dummy check: one recipe per suite includes it.
    if (!slow && /^pbkdf2_sha256\$260000\$/.test(u.encoded)) continue;
    const f = byName.get(u.username);
    if (!f) continue;
    const authenticates = u.checkRight && f.isActive && f.usable;
    cases.push({ user: u.username, password: u.password, expect: authenticates && allowed(f) ? ok : denied, why: authenticates ? (allowed(f) ? 'allowed' : 'authenticated, not allowed') : 'Django refuses the login' });
    cases.push({ user: u.username, password: u.wrongPassword, expect: denied, why: 'wrong password' });
  }
  if (extraCases) {
    const alice = users.find((u) => u.username === 'alice');
    if (alice) {
      cases.push({ user: 'ALICE', password: alice.password, expect: denied, why: 'usernames are case-sensitive' });
      cases.push({ user: 'alice', password: '', expect: denied, why: 'empty password (an LDAP unauthenticated bind)' });
      cases.push({ user: '*', password: alice.password, expect: denied, why: 'a wildcard is not a user' });
      cases.push({ user: 'ali*', password: alice.password, expect: denied, why: 'a wildcard is not a user' });
    }
    cases.push({ user: 'nobody-here', password: 'whatever', expect: denied, why: 'unknown user' });
  }
  // A few requests at a time, as browsers send them (each on its own connection).
  const results = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i];
      const r = await ap.request(path, { method, headers, user: c.user, password: c.password });
      if (r.status !== c.expect) results[i] = `${method} ${path} as ${JSON.stringify(c.user)} (${c.why}): HTTP ${r.status}, expected ${c.expect}`;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
  return { mismatches: results.filter(Boolean), requests: cases.length };
}
