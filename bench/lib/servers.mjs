// The servers under test, each a child process of the benchmark started on a free loopback
// port and stopped by its own pid: the bridge (dist/, through bin/django-ldap-bridge.js serve),
// slapd (back-mdb, its own config directory, as the unprivileged openldap user when we are
// root), and a private Apache httpd (never the system instance).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ROOT } from './datasets.mjs';
import * as D from './data.mjs';

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

export async function waitForPort(port, timeoutMs, exited) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (exited?.done) throw new Error(`the server exited before listening on ${port}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** A pid and its live descendants (a bridge with --workers is a primary and its workers). */
function family(pid) {
  // Parent links from /proc/<pid>/stat (task/*/children needs a kernel option).
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      parent.set(Number(d), Number(f[1]));
    } catch {
      // gone
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parent) if (pp === out[i]) out.push(p);
  return out;
}

/** VmRSS / VmHWM of a pid and its descendants, summed, in MiB. */
export function memoryOf(pid) {
  let rss = 0;
  let hwm = 0;
  let seen = false;
  for (const p of family(pid)) {
    try {
      const s = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
      rss += kb('VmRSS') / 1024;
      hwm += kb('VmHWM') / 1024;
      seen = true;
    } catch {
      // gone
    }
  }
  return seen ? { rss, hwm } : { rss: NaN, hwm: NaN };
}

/** CPU seconds (user+system) a pid and its live descendants have used so far. */
export function cpuSecondsOf(pid) {
  let total = 0;
  let seen = false;
  for (const p of family(pid)) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      total += (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
      seen = true;
    } catch {
      // gone
    }
  }
  return seen ? total : NaN;
}

/** CPU seconds every PostgreSQL server process on the machine has used so far (its backends for
 * every client included): what the database costs a load, read around it. */
export function postgresCpuSeconds() {
  let ticks = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (!st.includes('(postgres)')) continue;
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100;
}

const live = new Set();
process.on('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // gone
    }
  }
});

function track(child) {
  live.add(child);
  const state = { done: false, code: null, signal: null };
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      Object.assign(state, { done: true, code, signal });
      resolve(state);
    }),
  );
  return { state, exited };
}

async function stopChild(child, exited, ms = 10000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(t);
}

// ------------------------------------------------------------------ the bridge

/**
 * Starts the bridge as a child process with a JSON config. opts.cpuProfDir: run under
 * `node --cpu-prof`. Returns { url, pid, logs: outcome counts, memory(), stop() }.
 */
export async function startBridge(config, { dir, name = 'bridge', cpuProfDir, env = {}, root = ROOT } = {}) {
  const port = await freePort();
  // proxyProtocol: 'listen' adds a second listener that takes the PROXY protocol (for HAProxy:
  // proxyUrl); url stays a plain one (direct clients, warming).
  const proxyPort = config.proxyProtocol === 'listen' ? await freePort() : undefined;
  const proxied = proxyPort ? `ldap://127.0.0.1:${proxyPort}` : undefined;
  const cfg = { ...config, listen: [`ldap://127.0.0.1:${port}`, ...(proxied ? [proxied] : [])], ...(proxied ? { proxyProtocol: [proxied] } : {}) };
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  const args = [];
  if (cpuProfDir) args.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${name}.cpuprofile`);
  args.push(join(root, 'bin/django-ldap-bridge.js'), 'serve', '--config', file);
  // The log goes to a file (cheap for the bridge, nothing for us to parse while it runs).
  const logFile = join(dir, `${name}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  const { state, exited } = track(child);
  let errors = '';
  /** Counts of the log's bind outcomes and messages so far. */
  const outcomes = () => {
    const counts = {};
    for (const l of readFileSync(logFile, 'utf8').split('\n')) {
      if (!l) continue;
      try {
        const j = JSON.parse(l);
        const k = j.outcome ? `bind:${j.outcome}` : j.msg;
        counts[k] = (counts[k] ?? 0) + 1;
      } catch {
        // not JSON
      }
    }
    return counts;
  };
  child.stderr.on('data', (d) => (errors += d.toString('utf8')));
  try {
    await waitForPort(port, 120000, state);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not start: ${e.message}\n${errors}`);
  }
  return {
    name,
    url: `ldap://127.0.0.1:${port}`,
    proxyUrl: proxied,
    pid: child.pid,
    outcomes,
    logFile,
    stderr: () => errors,
    memory: () => memoryOf(child.pid),
    cpuSeconds: () => cpuSecondsOf(child.pid),
    async stop() {
      await stopChild(child, exited);
      return state;
    },
  };
}

// ------------------------------------------------------------------ slapd

const SCHEMA_DIR = '/etc/ldap/schema';

function ldapOsUser() {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'openldap'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'openldap'], { encoding: 'utf8' }).trim());
    return { name: 'openldap', uid, gid };
  } catch {
    return undefined;
  }
}

function chownTree(p, uid, gid) {
  chownSync(p, uid, gid);
  if (statSync(p).isDirectory()) for (const f of readdirSync(p)) chownTree(join(p, f), uid, gid);
}

/** slapd.conf for the benchmark directory: back-mdb, the indexes Apache's queries use, and
 * ACLs like the bridge's (passwords for auth only; the service account reads everything). */
export function slapdConf(dir) {
  return `# slapd for django-ldap-bridge's benchmark (bench/run.mjs)
include ${SCHEMA_DIR}/core.schema
include ${SCHEMA_DIR}/cosine.schema
include ${SCHEMA_DIR}/inetorgperson.schema
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
loglevel 0
sizelimit 100000

database mdb
maxsize 4294967296
suffix "${D.BASE}"
rootdn "cn=admin,${D.BASE}"
directory ${dir}/db
index objectClass eq
index uid eq
index cn eq
index member eq

access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by dn.exact="${D.SVC_DN}" read
  by self read
  by users search
  by * none
`;
}

/** Loads the LDIF with slapadd into a fresh directory and starts slapd on a free port. */
export async function startSlapd(dir, ldifPath) {
  mkdirSync(join(dir, 'db'), { recursive: true });
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, slapdConf(dir));
  execFileSync('/usr/sbin/slapadd', ['-q', '-f', conf, '-l', ldifPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  const osUser = ldapOsUser();
  const args = [];
  if (osUser) {
    chmodSync(dir, 0o755);
    chownTree(dir, osUser.uid, osUser.gid);
    args.push('-u', osUser.name, '-g', 'openldap');
  }
  const port = await freePort();
  // -d 0: stay in the foreground (our child, stopped by its pid) without debug output.
  const child = spawn('/usr/sbin/slapd', ['-h', `ldap://127.0.0.1:${port}/`, '-f', conf, '-d', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const { state, exited } = track(child);
  let errors = '';
  child.stderr.on('data', (d) => (errors += d.toString('utf8')));
  try {
    await waitForPort(port, 30000, state);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`slapd did not start: ${e.message}\n${errors}`);
  }
  return {
    name: 'slapd',
    url: `ldap://127.0.0.1:${port}`,
    pid: child.pid,
    runsAs: osUser ? osUser.name : process.env.USER,
    memory: () => memoryOf(child.pid),
    cpuSeconds: () => cpuSecondsOf(child.pid),
    async stop() {
      await stopChild(child, exited);
    },
  };
}

export function slapdVersion() {
  const r = spawnSync('/usr/sbin/slapd', ['-VV'], { encoding: 'utf8' });
  return /slapd (\d+\.\d+\.\d+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1];
}

// ------------------------------------------------------------------ Apache

export const APACHE_BIN = '/usr/sbin/apache2';
export const APACHE_MODULES = '/usr/lib/apache2/modules';

export function apacheUser() {
  if (process.getuid?.() !== 0) return undefined;
  try {
    execFileSync('id', ['-u', 'www-data'], { stdio: 'ignore' });
    return { user: 'www-data', group: 'www-data', uid: Number(execFileSync('id', ['-u', 'www-data'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'www-data'], { encoding: 'utf8' })) };
  } catch {
    return undefined;
  }
}

/**
 * A private Apache (event MPM, one child, `threads` threads: more than wrk has connections, or
 * the event MPM closes kept-alive connections when all are busy; keep-alive on) with the
 * LDAP caches off. body: the <Location> blocks. Returns { port, stop(), errorLog() }.
 */
export async function startApache(dir, { modules, body, env = {}, threads = 128, locations = ['bridge', 'slapd', 'wsgi'] }) {
  mkdirSync(join(dir, 'htdocs'), { recursive: true });
  mkdirSync(join(dir, 'run'), { recursive: true });
  chmodSync(dir, 0o755);
  const runAs = apacheUser();
  if (runAs) chownSync(join(dir, 'run'), runAs.uid, runAs.gid);
  for (const loc of locations) {
    mkdirSync(join(dir, 'htdocs', loc), { recursive: true });
    writeFileSync(join(dir, 'htdocs', loc, 'ok.txt'), 'ok\n');
  }
  const port = await freePort();
  const errorLog = join(dir, 'error.log');
  writeFileSync(errorLog, '');
  if (runAs) chownSync(errorLog, runAs.uid, runAs.gid);
  const conf = join(dir, 'httpd.conf');
  writeFileSync(
    conf,
    [
      `# Private Apache for django-ldap-bridge's benchmark (bench/run.mjs)`,
      `ServerRoot "${dir}"`,
      'ServerName 127.0.0.1',
      `Listen 127.0.0.1:${port}`,
      `PidFile "${join(dir, 'run', 'httpd.pid')}"`,
      `DefaultRuntimeDir "${join(dir, 'run')}"`,
      `ErrorLog "${errorLog}"`,
      'LogLevel warn',
      ...(runAs ? [`User ${runAs.user}`, `Group ${runAs.group}`] : []),
      ...modules.map((m) => `LoadModule ${m}_module "${join(APACHE_MODULES, `mod_${m}.so`)}"`),
      // One child: one mod_ldap connection pool, shared by all its threads.
      'StartServers 1',
      'ServerLimit 1',
      `ThreadsPerChild ${threads}`,
      `ThreadLimit ${threads}`,
      `MaxRequestWorkers ${threads}`,
      'MinSpareThreads 1',
      `MaxSpareThreads ${threads}`,
      'KeepAlive On',
      'MaxKeepAliveRequests 0',
      'Timeout 60',
      'GracefulShutdownTimeout 1',
      `DocumentRoot "${join(dir, 'htdocs')}"`,
      '# Apache LDAP caches off: every request reaches the LDAP server (the uncached workload).',
      'LDAPCacheEntries 0',
      'LDAPOpCacheEntries 0',
      'LDAPSharedCacheSize 0',
      '',
      body,
      '',
    ].join('\n'),
  );
  const child = spawn(APACHE_BIN, ['-f', conf, '-DFOREGROUND'], { env: { PATH: process.env.PATH, LANG: 'C', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const { state, exited } = track(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    await waitForPort(port, 15000, state);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`Apache did not start: ${e.message}\n${out}\n${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`);
  }
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    pid: child.pid,
    errorLog: () => readFileSync(errorLog, 'utf8'),
    async stop() {
      await stopChild(child, exited);
    },
  };
}
