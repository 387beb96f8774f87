// Databases that fail. A PRIVATE PostgreSQL cluster (test/helpers/pg-cluster.js, never the
// machine's shared server) holds a real Django schema and data; the bridge runs against it
// while the cluster is stopped and started under load, is started while the cluster is down,
// meets a table lock longer than its statement timeout, and is shown to hold read-only sessions.
// The rules: never a wrong answer (49 for a right password, compareFalse for a member, an
// empty search for a user who exists), never a crash, and recovery without help.
import { freePort } from '../helpers/apache.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { need } from '../helpers/require.js';
import { djangoAvailable, PYTHON, DJANGO_DIR } from '../helpers/django.js';
import { startTestBridge, client, allLogs, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { pgClusterAvailable, createCluster } from '../helpers/pg-cluster.js';
import { StartupError } from '../../dist/bridge.js';

const USERS = `ou=users,${BASE}`;
const ALICE_DN = `uid=alice,${USERS}`;
const GROUP_DN = `cn=secret-agents,ou=groups,${BASE}`;
const DB = 'dlb_outage';

// Crash guard: the bridge runs in this process, so anything it throws uncaught lands here.
const crashes = [];
process.on('uncaughtException', (e) => crashes.push(`uncaughtException: ${e?.stack ?? e}`));
process.on('unhandledRejection', (e) => crashes.push(`unhandledRejection: ${e?.stack ?? e}`));
const noCrash = () => assert.deepEqual(crashes, [], 'the bridge process threw something uncaught');

const django = djangoAvailable({ engine: 'postgres' });
const cluster = pgClusterAvailable();
const skip =
  need('Django 3.2 with psycopg2 (python3-django, python3-psycopg2, python3-argon2, python3-bcrypt)', django.ok, django.reason) ||
  need('a private PostgreSQL cluster (initdb, pg_ctl, runuser)', cluster.ok, cluster.reason);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs the Django test project's Python against env; resolves stdout. */
function python(args, env) {
  return new Promise((resolve, reject) => {
    const clean = { ...process.env };
    for (const k of Object.keys(clean)) if (k.startsWith('DLB_') || k === 'DJANGO_SETTINGS_MODULE' || k.startsWith('PYTHON')) delete clean[k];
    const child = spawn(PYTHON, args, { env: { ...clean, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${args.join(' ')} failed (${code}): ${Buffer.concat(err).toString('utf8')}`));
    });
  });
}

/** Classifies an ldapjs failure: an LDAP result code, a client-side connection error, or a timeout. */
function failure(e) {
  if (e?.name === 'TimeoutError') return { kind: 'timeout', detail: e.message };
  if (e?.name === 'ConnectionError' || e?.name === 'AbandonedError' || typeof e?.code !== 'number') return { kind: 'conn', detail: `${e?.name}: ${e?.code ?? ''} ${e?.message}` };
  return { kind: 'ldap', code: e.code, detail: `${e.name} ${e.message}` };
}

/** Binds and resolves the LDAP result code (0 on success) or throws a non-LDAP failure. */
async function bindCode(c, dn, pw) {
  try {
    await c.bind(dn, pw);
    return 0;
  } catch (e) {
    const f = failure(e);
    if (f.kind !== 'ldap') throw e;
    return f.code;
  }
}


function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe('databases that fail (private PostgreSQL cluster)', { skip, timeout: 120_000 }, () => {
  let pgc;
  let url;
  let alice;
  const t0 = performance.now();

  before(async () => {
    let t = performance.now();
    pgc = await createCluster();
    await pgc.createDatabase(DB);
    const env = { DLB_DB_ENGINE: 'postgres', DLB_DB_NAME: DB, DLB_DB_HOST: '127.0.0.1', DLB_DB_PORT: String(pgc.port), DLB_DB_USER: 'postgres', DLB_CUSTOM_USER: '0' };
    const clusterMs = Math.round(performance.now() - t);
    t = performance.now();
    await python([join(DJANGO_DIR, 'manage.py'), 'migrate', '--no-input', '-v', '0'], env);
    const expected = JSON.parse(await python([join(DJANGO_DIR, 'populate.py')], env));
    alice = expected.users.find((u) => u.username === 'alice');
    assert.ok(alice?.authenticates && alice.groups.includes('secret-agents'), 'populate.py: alice authenticates and is in secret-agents');
    url = pgc.url(DB);
    console.log(`# private PostgreSQL ${pgc.version} on 127.0.0.1:${pgc.port} (initdb+start ${clusterMs} ms), Django migrate+populate ${Math.round(performance.now() - t)} ms`);
  });

  after(async () => {
    await pgc?.destroy();
    noCrash();
    console.log(`# outage suite ran ${Math.round(performance.now() - t0)} ms`);
  });

  test('under load, a 3 s outage gives no wrong answer, no crash, and the bridge recovers by itself', async () => {
    const br = await startTestBridge({ url, config: { db: { statementTimeoutSeconds: 2 }, security: { credentialCacheSeconds: 0 } } });
    const ops = [];
    let stop = false;
    let phase = 'before';
    const counts = { before: {}, outage: {}, after: {} };
    const wrong = [];
    const unexpected = [];
    const note = (kind, tStart, outcome, detail) => {
      const tEnd = performance.now();
      ops.push({ kind, tStart, tEnd, outcome, phase });
      const key = `${kind}:${outcome}`;
      counts[phase][key] = (counts[phase][key] ?? 0) + 1;
      if (outcome === 'WRONG') wrong.push(`${phase} ${kind}: ${detail}`);
      if (outcome === 'UNEXPECTED') unexpected.push(`${phase} ${kind}: ${detail}`);
    };
    // One answer's outcome: ok, unavailable (52), busy (51), conn (client-side, the connection
    // went away), WRONG (a false answer) or UNEXPECTED (any other code, a timeout).
    const fromFailure = (kind, t, e) => {
      const f = failure(e);
      if (f.kind === 'conn') note(kind, t, 'conn', f.detail);
      else if (f.kind === 'timeout') note(kind, t, 'UNEXPECTED', `client timeout (a hang): ${f.detail}`);
      else if (f.code === 52) note(kind, t, 'unavailable');
      else if (f.code === 51) note(kind, t, 'busy');
      else if (f.code === 49) note(kind, t, 'WRONG', `49 invalidCredentials for the right password (${f.detail})`);
      else note(kind, t, 'UNEXPECTED', `code ${f.code} ${f.detail}`);
      return f.kind;
    };

    async function worker() {
      while (!stop) {
        const c = client(br.url);
        try {
          while (!stop) {
            let t = performance.now();
            try {
              await c.bind(ALICE_DN, alice.password);
              note('bind', t, 'ok');
            } catch (e) {
              if (fromFailure('bind', t, e) === 'conn') break;
            }
            t = performance.now();
            try {
              await c.bind(SERVICE_DN, SERVICE_PW);
            } catch (e) {
              if (fromFailure('serviceBind', t, e) === 'conn') break;
              continue;
            }
            t = performance.now();
            try {
              const r = await c.search(USERS, { scope: 'sub', filter: '(uid=alice)', attributes: ['uid', 'memberOf'] });
              if (r.entries.length === 1 && r.entries[0].dn.toLowerCase() === ALICE_DN) note('search', t, 'ok');
              else note('search', t, 'WRONG', `success with ${r.entries.length} entries: ${JSON.stringify(r.entries.map((x) => x.dn))}`);
            } catch (e) {
              if (fromFailure('search', t, e) === 'conn') break;
            }
            t = performance.now();
            try {
              const yes = await c.compare(GROUP_DN, 'member', ALICE_DN);
              if (yes) note('compare', t, 'ok');
              else note('compare', t, 'WRONG', 'compareFalse (5) for a member');
            } catch (e) {
              if (fromFailure('compare', t, e) === 'conn') break;
            }
          }
        } finally {
          c.raw.destroy();
        }
      }
    }

    const WORKERS = 4;
    const workers = Array.from({ length: WORKERS }, () => worker());
    try {
      await sleep(2000);
      phase = 'outage';
      const tDown = performance.now();
      await pgc.stop('fast');
      const stoppedMs = Math.round(performance.now() - tDown);
      await sleep(3000);
      await pgc.start();
      const tUp = performance.now();
      phase = 'after';
      await sleep(4000);
      stop = true;
      await Promise.all(workers);

      // Recovery: the last failure among answers asked after PostgreSQL was back, then the
      // first correct answer of each kind asked after that.
      const kinds = ['bind', 'search', 'compare'];
      const badAfterUp = ops.filter((o) => o.tStart >= tUp && o.outcome !== 'ok');
      const settled = badAfterUp.reduce((m, o) => Math.max(m, o.tEnd), tUp);
      const firstOk = kinds.map((k) => ops.filter((o) => o.kind === k && o.outcome === 'ok' && o.tStart >= settled).reduce((m, o) => Math.min(m, o.tEnd), Infinity));
      const recoveryMs = Math.round(Math.max(...firstOk) - tUp);
      const during = ops.filter((o) => o.tStart >= tDown && o.tStart < tUp);
      const maxOutageLatency = Math.round(during.reduce((m, o) => Math.max(m, o.tEnd - o.tStart), 0));
      const tally = (p) => Object.entries(counts[p]).sort().map(([k, v]) => `${k}=${v}`).join(' ');
      console.log(`# load: ${WORKERS} client loops, ${ops.length} answers; PostgreSQL stopped in ${stoppedMs} ms, down ~3 s`);
      console.log(`#   before: ${tally('before')}`);
      console.log(`#   outage: ${tally('outage')} (slowest answer ${maxOutageLatency} ms)`);
      console.log(`#   after:  ${tally('after')}`);
      console.log(`# wrong answers: ${wrong.length}; unexpected: ${unexpected.length}; crashes: ${crashes.length}; failures after PostgreSQL was back: ${badAfterUp.length}`);
      console.log(`# recovery: correct bind, search and compare ${recoveryMs} ms after PostgreSQL accepted connections again`);

      assert.deepEqual(wrong, [], 'no wrong answer, ever');
      assert.deepEqual(unexpected.slice(0, 10), [], 'only success, 51/52 or a dropped connection');
      noCrash();
      for (const k of kinds) assert.ok(ops.some((o) => o.kind === k && o.phase === 'before' && o.outcome === 'ok'), `${k} worked before the outage`);
      assert.ok(during.some((o) => o.outcome === 'unavailable'), 'the outage was seen (52 answers while PostgreSQL was down)');
      assert.ok(Number.isFinite(recoveryMs) && recoveryMs < 10_000, `recovered within 10 s (took ${recoveryMs} ms)`);
      // The last two seconds: every answer correct.
      const tail = ops.filter((o) => o.tStart >= tUp + 2000);
      assert.ok(tail.length > 0 && tail.every((o) => o.outcome === 'ok'), 'all answers correct once recovered');
      assert.equal(br.logs.filter((l) => l.includes('"operation failed"')).length, 0, 'no operation failed with an internal error');
    } finally {
      stop = true;
      await Promise.allSettled(workers);
      if (!pgc.running) await pgc.start();
      await br.close();
    }
  });

  test('start-up with the database down: retries, listens only once PostgreSQL is up, then answers', async () => {
    await pgc.stop('fast');
    const port = await freePort();
    const logStart = allLogs.length;
    const t = performance.now();
    let settled = false;
    let tListening;
    const starting = startTestBridge({ url, config: { listen: [`ldap://127.0.0.1:${port}`], db: { startupRetrySeconds: 20 } } }).then(
      (b) => {
        settled = true;
        tListening = performance.now();
        return b;
      },
      (e) => {
        settled = true;
        throw e;
      },
    );
    let br;
    try {
      await sleep(2000);
      const retries = allLogs.slice(logStart).filter((l) => l.includes('database unavailable at start; retrying'));
      assert.equal(settled, false, 'the bridge did not give up (nor start) while the database was down');
      assert.ok(retries.length >= 1, 'retry lines were logged');
      assert.equal(await portOpen(port), false, 'not listening while the database is down');
      const line = JSON.parse(retries[0]);
      assert.ok(line.database.includes(`127.0.0.1:${pgc.port}/${DB}`), line.database);
      await pgc.start();
      const tUp = performance.now();
      br = await starting;
      const upMs = Math.round(tListening - tUp);
      assert.equal(br.url, `ldap://127.0.0.1:${port}`);
      const c = client(br.url);
      try {
        assert.equal(await bindCode(c, ALICE_DN, alice.password), 0, 'alice binds once the bridge is up');
        await c.bind(SERVICE_DN, SERVICE_PW);
        const r = await c.search(USERS, { scope: 'sub', filter: '(uid=alice)' });
        assert.equal(r.entries.length, 1);
        assert.equal(await c.compare(GROUP_DN, 'member', ALICE_DN), true);
      } finally {
        c.raw.destroy();
      }
      console.log(`# start-up while down: ${retries.length} retry line(s) in the first 2 s, listening ${upMs} ms after PostgreSQL came up (${Math.round(tListening - t)} ms after the start call)`);
      assert.ok(upMs < 10_000, `listening within 10 s of PostgreSQL coming up (${upMs} ms)`);
      noCrash();
    } finally {
      if (!pgc.running) await pgc.start();
      await (br ?? (await starting.catch(() => undefined)))?.close();
    }
  });

  test('start-up with the database down and startupRetrySeconds 0 fails at once, naming the database, password masked', async () => {
    await pgc.stop('fast');
    try {
      const secret = 'Outage-S3cret-pw';
      const withPw = `postgres://postgres:${secret}@127.0.0.1:${pgc.port}/${DB}`;
      const logStart = allLogs.length;
      const t = performance.now();
      const err = await startTestBridge({ url: withPw, config: { db: { startupRetrySeconds: 0 } } }).then(
        (b) => {
          b.close();
          return undefined;
        },
        (e) => e,
      );
      const ms = Math.round(performance.now() - t);
      assert.ok(err instanceof StartupError, `a StartupError (got ${err?.name}: ${err?.message})`);
      assert.match(err.message, new RegExp(`cannot use the database postgres://postgres:[^@]*@127\\.0\\.0\\.1:${pgc.port}/${DB}`));
      assert.ok(!err.message.includes(secret), `password masked: ${err.message}`);
      assert.ok(!allLogs.slice(logStart).some((l) => l.includes(secret)), 'password in no log line');
      assert.equal(allLogs.slice(logStart).filter((l) => l.includes('retrying')).length, 0, 'no retry');
      assert.ok(ms < 3000, `failed at once (${ms} ms)`);
      console.log(`# startupRetrySeconds 0: StartupError after ${ms} ms: ${JSON.stringify(err.message.split('\n')[0])}`);
    } finally {
      await pgc.start();
    }
  });

  test('a table lock longer than statement_timeout answers 52 in about that time, never 49 nor a hang; then 0', async () => {
    const br = await startTestBridge({ url, config: { db: { statementTimeoutSeconds: 1 }, security: { credentialCacheSeconds: 0 } } });
    const locker = await pgc.connect(DB);
    const c = client(br.url);
    try {
      // Warm: the pool has a connection and alice binds.
      assert.equal(await bindCode(c, ALICE_DN, alice.password), 0);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE auth_user IN ACCESS EXCLUSIVE MODE');
      let t = performance.now();
      const code = await bindCode(c, ALICE_DN, alice.password);
      const bindMs = Math.round(performance.now() - t);
      assert.equal(code, 52, `bind under the lock answers unavailable (52), got ${code}`);
      assert.ok(bindMs >= 800 && bindMs < 3000, `answered in about statementTimeoutSeconds=1 (${bindMs} ms)`);
      // The same for search and compare, as the service account.
      await c.bind(SERVICE_DN, SERVICE_PW);
      t = performance.now();
      const s = await c.search(USERS, { scope: 'sub', filter: '(uid=alice)' }).then(
        (r) => ({ code: 0, n: r.entries.length }),
        (e) => ({ code: failure(e).code }),
      );
      const searchMs = Math.round(performance.now() - t);
      assert.ok(s.code === 52 || (s.code === 0 && s.n === 1), `search under the lock: ${JSON.stringify(s)}`);
      t = performance.now();
      const cmp = await c.compare(GROUP_DN, 'member', ALICE_DN).then(
        (yes) => (yes ? 6 : 5),
        (e) => failure(e).code,
      );
      const compareMs = Math.round(performance.now() - t);
      assert.ok(cmp === 52 || cmp === 6, `compare under the lock: ${cmp}`);
      assert.ok(searchMs < 3000 && compareMs < 3000, 'no hang');
      await locker.query('ROLLBACK');
      t = performance.now();
      assert.equal(await bindCode(c, ALICE_DN, alice.password), 0, 'after the lock is released alice binds');
      console.log(`# lock: bind 52 after ${bindMs} ms, search ${s.code} after ${searchMs} ms, compare ${cmp} after ${compareMs} ms; after release bind 0 in ${Math.round(performance.now() - t)} ms`);
      noCrash();
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end().catch(() => {});
      c.raw.destroy();
      await br.close();
    }
  });

  // A server that hangs (SIGSTOP: the TCP connection stays up, nothing answers, as behind a
  // dead network path) is not covered by statement_timeout, which the server enforces itself.
  // The client-side query_timeout in src/db/postgres.ts (statement timeout + 2 s) covers it.
  test('a hung server (SIGSTOP) answers 52 within statementTimeoutSeconds + 3 s, not a hang', async () => {
    const br = await startTestBridge({ url, config: { db: { statementTimeoutSeconds: 1 }, security: { credentialCacheSeconds: 0 } } });
    const c = client(br.url);
    let timer;
    try {
      assert.equal(await bindCode(c, ALICE_DN, alice.password), 0);
      pgc.freeze();
      const t = performance.now();
      const LIMIT = 6000;
      const code = await Promise.race([
        bindCode(c, ALICE_DN, alice.password).catch((e) => `client error ${e.name}`),
        new Promise((r) => (timer = setTimeout(() => r('no answer'), LIMIT))),
      ]);
      const ms = Math.round(performance.now() - t);
      pgc.thaw();
      console.log(`# hung server: bind answered ${code} after ${ms} ms (statementTimeoutSeconds 1)`);
      assert.equal(code, 52, `bind against a hung server answers 52, got ${code} after ${ms} ms`);
      assert.ok(ms < 4000, `within statementTimeoutSeconds + 3 s (${ms} ms)`);
      // Recovery once the server runs again.
      const t2 = performance.now();
      let again;
      while ((again = await bindCode(c, ALICE_DN, alice.password)) !== 0 && performance.now() - t2 < 10_000) await sleep(100);
      assert.equal(again, 0, 'alice binds again after the server resumes');
      noCrash();
    } finally {
      clearTimeout(timer);
      pgc.thaw();
      c.raw.destroy();
      await br.close();
    }
  });

  test("the bridge's PostgreSQL sessions are read-only", async () => {
    const br = await startTestBridge({ url });
    try {
      const store = br.bridge.store;
      const [s] = await store['query']("SELECT current_setting('default_transaction_read_only') AS ro, current_setting('application_name') AS app, pg_backend_pid() AS pid", []);
      assert.equal(s.ro, 'on');
      assert.equal(s.app, 'django-ldap-bridge');
      const seen = await pgc.query(DB, "SELECT pid FROM pg_stat_activity WHERE application_name = 'django-ldap-bridge' AND datname = $1", [DB]);
      assert.ok(seen.rows.some((r) => r.pid === s.pid), "the bridge's backend shows in pg_stat_activity");
      const before = (await pgc.query(DB, 'SELECT count(*)::int AS n FROM auth_group')).rows[0].n;
      await assert.rejects(store['query']('INSERT INTO auth_group (name) VALUES ($1)', ['dlb-outage-written']), (e) => {
        assert.equal(e.code, '25006', `read_only_sql_transaction, got ${e.code}: ${e.message}`);
        return true;
      });
      await assert.rejects(store['query']('UPDATE auth_user SET is_active = false', []), (e) => e.code === '25006');
      const afterN = (await pgc.query(DB, 'SELECT count(*)::int AS n FROM auth_group')).rows[0].n;
      assert.equal(afterN, before, 'auth_group unchanged');
      console.log(`# read-only: backend ${s.pid} default_transaction_read_only=${s.ro}; INSERT/UPDATE rejected with 25006; auth_group rows ${before} -> ${afterN}`);
      noCrash();
    } finally {
      await br.close();
    }
  });
});
