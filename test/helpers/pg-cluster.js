// A PRIVATE PostgreSQL cluster for one test file: its own data directory, port and socket
// directory, so a test may stop, start and lock it without touching the machine's shared
// server on 5432. PostgreSQL refuses to run as root, so initdb/pg_ctl run as the `postgres`
// OS user (runuser) in a temporary directory owned by it.
//
//   const avail = pgClusterAvailable();          // { ok, reason?, bin?, version? }
//   const c = await createCluster();              // initdb + start, trust auth on 127.0.0.1:<port>
//   await c.createDatabase('mydb');               // c.url('mydb') -> postgres://postgres@127.0.0.1:<port>/mydb
//   await c.stop(); await c.start(); await c.restart();
//   c.freeze(); c.thaw();                         // SIGSTOP / SIGCONT the server (a hung database)
//   await c.destroy();                            // stop (fast) + rm -rf
//
// A cluster left running when the process exits is stopped (immediate) and removed then.
import { freePort } from './apache.js';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, appendFileSync, chownSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const PG_ROOT = '/usr/lib/postgresql';
const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));
const OS_USER = 'postgres';
// The parent of the cluster's directory must be traversable by the postgres user: not $TMPDIR
// (it may be under /root), but /tmp unless told otherwise.
const TMP_PARENT = process.env.DLB_PG_CLUSTER_TMP || '/tmp';

/** The newest /usr/lib/postgresql/<ver>/bin holding initdb, pg_ctl and postgres. */
function findBin() {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => parseFloat(b) - parseFloat(a));
  for (const v of versions) {
    const bin = join(PG_ROOT, v, 'bin');
    if (['initdb', 'pg_ctl', 'postgres'].every((t) => existsSync(join(bin, t)))) return { bin, version: v };
  }
  return undefined;
}

function osUser(name) {
  const u = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (u.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

let availability;
/** Can this machine run a private cluster? @returns {{ ok: boolean, reason?: string, bin?: string, version?: string }} */
export function pgClusterAvailable() {
  if (availability) return availability;
  const found = findBin();
  if (!found) availability = { ok: false, reason: `no ${PG_ROOT}/<version>/bin with initdb, pg_ctl and postgres (Debian: apt-get install -y postgresql)` };
  else if (!RUNUSER) availability = { ok: false, reason: 'runuser not found (util-linux): PostgreSQL refuses to run as root' };
  else if (!osUser(OS_USER)) availability = { ok: false, reason: `no "${OS_USER}" OS user to run PostgreSQL as` };
  else if (process.getuid?.() !== 0) availability = { ok: false, reason: 'must run as root to start PostgreSQL as the postgres OS user (runuser)' };
  else availability = { ok: true, ...found };
  return availability;
}


/** Runs a PostgreSQL tool as the postgres OS user; resolves stdout, rejects with stderr. */
function asPostgres(bin, tool, args, timeout = 60_000) {
  return new Promise((resolve, reject) => {
    execFile(RUNUSER, ['-u', OS_USER, '--', join(bin, tool), ...args], { timeout, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${tool} ${args.join(' ')} failed: ${(stderr || stdout || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

const live = new Set();
process.on('exit', () => {
  for (const c of live) {
    c.thaw?.();
    spawnSync(RUNUSER, ['-u', OS_USER, '--', join(c.bin, 'pg_ctl'), '-D', c.dataDir, '-m', 'immediate', '-w', '-t', '10', 'stop'], { stdio: 'ignore' });
    rmSync(c.dir, { recursive: true, force: true });
  }
});

/**
 * initdb a private cluster (trust auth, superuser `postgres`, 127.0.0.1 only, its own socket
 * directory, fsync off) on a free port, and start it.
 */
export async function createCluster({ start = true } = {}) {
  const avail = pgClusterAvailable();
  if (!avail.ok) throw new Error(`private PostgreSQL cluster unavailable: ${avail.reason}`);
  const { bin } = avail;
  const { uid, gid } = osUser(OS_USER);
  const dir = mkdtempSync(join(TMP_PARENT, 'dlb-pgcluster-'));
  chownSync(dir, uid, gid);
  const dataDir = join(dir, 'data');
  const socketDir = dir;
  const logFile = join(dir, 'postgres.log');
  const port = await freePort();
  const state = { bin, dir, dataDir };
  live.add(state);

  try {
    await asPostgres(bin, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions']);
  } catch (e) {
    live.delete(state);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  appendFileSync(join(dataDir, 'postgresql.conf'), [
    '',
    '# dlb test cluster',
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${socketDir}'`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'max_connections = 100',
    "log_min_messages = 'warning'",
    '',
  ].join('\n'));

  let running = false;
  let frozen = [];
  const cluster = {
    host: '127.0.0.1',
    port,
    dir,
    dataDir,
    socketDir,
    logFile,
    version: avail.version,
    get running() {
      return running;
    },
    url: (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`,
    async start() {
      await asPostgres(bin, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '30', 'start']);
      running = true;
    },
    /** pg_ctl stop -m fast: backends are terminated (57P01), new connections refused. */
    async stop(mode = 'fast') {
      await asPostgres(bin, 'pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
      running = false;
    },
    /** SIGSTOPs the postmaster and every backend (a server that hangs: connections stay open,
     * nothing answers, no RST). Returns the pids; thaw() SIGCONTs them. */
    freeze() {
      const pm = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const kids = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pm)], { encoding: 'utf8' }).stdout.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
      frozen = [pm, ...kids];
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      return frozen;
    },
    thaw() {
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // gone already
        }
      }
      frozen = [];
    },
    async restart() {
      await this.stop();
      await this.start();
    },
    /** A pg.Client connected to db as postgres (the caller ends it). */
    async connect(db = 'postgres') {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: db, connectionTimeoutMillis: 5000 });
      c.on('error', () => {});
      await c.connect();
      return c;
    },
    async query(db, sql, params) {
      const c = await this.connect(db);
      try {
        return await c.query(sql, params);
      } finally {
        await c.end().catch(() => {});
      }
    },
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name ${name}`);
      await this.query('postgres', `CREATE DATABASE "${name}"`);
      return this.url(name);
    },
    log() {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    async destroy() {
      this.thaw();
      if (running) await this.stop().catch(() => {});
      // A stop that failed must not leave a postmaster behind.
      if (existsSync(join(dataDir, 'postmaster.pid'))) {
        await asPostgres(bin, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      }
      running = false;
      rmSync(dir, { recursive: true, force: true });
      live.delete(state);
    },
  };
  state.thaw = () => cluster.thaw();
  if (start) await cluster.start();
  return cluster;
}
