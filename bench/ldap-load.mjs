#!/usr/bin/env node
// LDAP load generator: many connections, raw sockets, hand-encoded BER (lib/ber.mjs), every
// answer checked against the benchmark's directory formulas (lib/data.mjs). A fast wrong answer
// is a failure, never a transaction.
//
//   node bench/ldap-load.mjs --url ldap://127.0.0.1:3389 --mix apache:8 --duration 5
//   node bench/ldap-load.mjs --url ... --mix bind:8,search:4:4 --users 1000 --hot 16 --json
//
// --mix is a comma list of streams name:connections[:depth]; depth > 1 pipelines requests on
// each connection (search, compare, unknown and bigcompare only: binds are never pipelined,
// RFC 4511 §4.2.1). Each stream reports its own transactions/s and latency.
//
// Mixes (what Apache's mod_authnz_ldap sends, ../shared/reference/apache-ldap-ops.md):
//   apache     one uncached `Require ldap-group` request on a connection bound as the service
//              account: SRCH (&(objectclass=*)(uid=U)) base ou=users sub attrs [uid] -> 1 entry,
//              BIND U -> 0, BIND svc -> 0, CMP G member=U -> 6 (member) or 5 (half each)
//   bind       BIND U -> 0 (pure user binds, the hot users 1..--hot)
//   search     SRCH by uid as svc -> exactly the user's entry (random users 1..--users)
//   compare    CMP member as svc -> 6 or 5 as the formula says
//   bigcompare CMP member on the 100,000-member group
//   unknown    SRCH for a uid that does not exist -> 0 entries, result 0
//   wrongpw    Apache's wrong-password path on a NEW connection: BIND svc, SRCH -> 1 entry,
//              BIND U wrong -> 49, UNBIND, close (the victims are --victims users)
// What SSSD and nslcd send (a bridge with posix.enabled and the default uidBase 2000000):
//   posixuid   SRCH (&(uidNumber=2000000+i)(objectclass=posixAccount)) from the base -> user i
//   initgroups SRCH (&(memberUid=U)(objectClass=posixGroup)) -> U's 20 groups (+ big)
//   initgroupsbis  SRCH (&(member=<U's DN>)(objectClass=groupOfNames)(gidNumber=*)) -> the same
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
// CPU seconds of a process and its live descendants (a bridge with --workers).
import { cpuSecondsOf } from './lib/servers.mjs';
import { bindRequest, compareRequest, decodeResponse, fAnd, fEq, fPresent, FrameReader, searchRequest, unbindRequest } from './lib/ber.mjs';
import { BASE, BIG_ID, BIG_MAX, GROUPS_PER_USER, groupDn, groupOf, isMember, nonGroupOf, rng, SVC_DN, SVC_PW, USER_PW, userDn, username, USERS_BASE, WRONG_PW } from './lib/data.mjs';

// ------------------------------------------------------------------ one client connection

export class Conn {
  constructor(socket) {
    this.socket = socket;
    this.reader = new FrameReader();
    this.pending = new Map();
    this.nextId = 1;
    this.closed = false;
    this.error = undefined;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      for (const f of this.reader.push(chunk)) this.onFrame(f);
    });
    const fail = (e) => {
      if (this.closed) return;
      this.closed = true;
      this.error = e ?? new Error('connection closed');
      for (const p of this.pending.values()) p.reject(this.error);
      this.pending.clear();
    };
    socket.on('error', (e) => fail(e));
    socket.on('close', () => fail(new Error('connection closed by server')));
  }

  static open(host, port, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error('connect timeout'));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(new Conn(s));
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  onFrame(frame) {
    let r;
    try {
      r = decodeResponse(frame);
    } catch (e) {
      this.socket.destroy(new Error(`undecodable response: ${e.message}`));
      return;
    }
    if (r.id === 0) {
      this.socket.destroy(new Error(`notice of disconnection (code ${r.code})`));
      return;
    }
    const p = this.pending.get(r.id);
    if (!p) return;
    if (r.tag === 0x64) {
      p.entries++;
      if (p.dn === undefined) p.dn = r.dn;
      return;
    }
    if (r.tag === 0x73) return;
    this.pending.delete(r.id);
    p.resolve({ code: r.code, tag: r.tag, entries: p.entries, dn: p.dn, cookie: r.cookie });
  }

  /** Sends one request (build(id) -> Buffer); resolves { code, entries, dn }. */
  request(build) {
    if (this.closed) return Promise.reject(this.error);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, entries: 0, dn: undefined });
      this.socket.write(build(id));
    });
  }

  unbindAndClose() {
    if (this.closed) return;
    this.closed = true;
    this.socket.end(unbindRequest(this.nextId++));
  }

  destroy() {
    this.closed = true;
    this.socket.destroy();
  }
}


// ------------------------------------------------------------------ checks

class Mismatch extends Error {}
const sameDn = (a, b) => a !== undefined && a.toLowerCase().replace(/\s+/g, '') === b.toLowerCase().replace(/\s+/g, '');

function expectCode(what, r, code) {
  if (r.code !== code) throw new Mismatch(`${what}: result ${r.code}, expected ${code}`);
}
function expectOneEntry(what, r, dn) {
  expectCode(what, r, 0);
  if (r.entries !== 1) throw new Mismatch(`${what}: ${r.entries} entries, expected 1`);
  if (!sameDn(r.dn, dn)) throw new Mismatch(`${what}: entry ${r.dn}, expected ${dn}`);
}

function expectEntries(what, r, n) {
  expectCode(what, r, 0);
  if (r.entries !== n) throw new Mismatch(`${what}: ${r.entries} entries, expected ${n}`);
}
const UID_BASE = 2000000; // posix.uidBase's default
const baseSearch = (filter, attributes) => (id) => searchRequest(id, { base: BASE, scope: 2, deref: 0, sizeLimit: 0, timeLimit: 60, filter, attributes });
/** How many posixGroups list user i: its 20 groups, and big for the first 100,000. */
const groupCount = (i, users) => GROUPS_PER_USER + (i <= Math.min(users, BIG_MAX) ? 1 : 0);

const userSearch = (uid) => (id) => searchRequest(id, { base: USERS_BASE, scope: 2, deref: 3, sizeLimit: 0, timeLimit: 60, filter: fAnd([fPresent('objectclass'), fEq('uid', uid)]), attributes: ['uid'] });

// ------------------------------------------------------------------ mixes

/** Each mix: { pipeline: may depth > 1, svc: bind the connection as the service account first,
 * perConnection: a fresh connection per transaction, tx(conn, ctx) }. */
const MIXES = {
  apache: {
    svc: true,
    async tx(c, x) {
      const i = x.hotUser();
      const dn = userDn(i);
      expectOneEntry('search', await c.request(userSearch(username(i))), dn);
      expectCode('bind user', await c.request((id) => bindRequest(id, dn, USER_PW)), 0);
      expectCode('rebind svc', await c.request((id) => bindRequest(id, SVC_DN, SVC_PW)), 0);
      const member = x.r() < 0.5;
      const g = member ? groupOf(i, Math.floor(x.r() * 20)) : nonGroupOf(i, x.r(), x.r());
      expectCode(`compare ${groupDn(g)} member ${dn}`, await c.request((id) => compareRequest(id, groupDn(g), 'member', dn)), member ? 6 : 5);
      return 4;
    },
  },
  bind: {
    async tx(c, x) {
      const i = x.hotUser();
      expectCode('bind user', await c.request((id) => bindRequest(id, userDn(i), USER_PW)), 0);
      return 1;
    },
  },
  svcbind: {
    async tx(c) {
      expectCode('bind svc', await c.request((id) => bindRequest(id, SVC_DN, SVC_PW)), 0);
      return 1;
    },
  },
  search: {
    svc: true,
    pipeline: true,
    async tx(c, x) {
      const i = x.anyUser();
      expectOneEntry('search', await c.request(userSearch(username(i))), userDn(i));
      return 1;
    },
  },
  compare: {
    svc: true,
    pipeline: true,
    async tx(c, x) {
      const i = x.anyUser();
      const member = x.r() < 0.5;
      const g = member ? groupOf(i, Math.floor(x.r() * 20)) : nonGroupOf(i, x.r(), x.r());
      if (isMember(i, g, x.users) !== member) throw new Error('bench bug: membership formula');
      expectCode(`compare ${groupDn(g)} member ${userDn(i)}`, await c.request((id) => compareRequest(id, groupDn(g), 'member', userDn(i))), member ? 6 : 5);
      return 1;
    },
  },
  bigcompare: {
    svc: true,
    pipeline: true,
    async tx(c, x) {
      const i = x.anyUser();
      const member = isMember(i, BIG_ID, x.users);
      expectCode(`compare big member ${userDn(i)}`, await c.request((id) => compareRequest(id, groupDn(BIG_ID), 'member', userDn(i))), member ? 6 : 5);
      return 1;
    },
  },
  unknown: {
    svc: true,
    pipeline: true,
    async tx(c, x) {
      const r = await c.request(userSearch(`nobody${Math.floor(x.r() * 1e9)}`));
      expectCode('search unknown', r, 0);
      if (r.entries !== 0) throw new Mismatch(`search unknown: ${r.entries} entries, expected 0`);
      return 1;
    },
  },
  posixuid: {
    svc: true,
    pipeline: true,
    async tx(c, x) {
      const i = x.anyUser();
      const f = fAnd([fEq('uidNumber', String(UID_BASE + i)), fEq('objectclass', 'posixAccount')]);
      expectOneEntry('search uidNumber', await c.request(baseSearch(f, ['uid', 'uidNumber', 'gidNumber', 'homeDirectory', 'loginShell', 'gecos'])), userDn(i));
      return 1;
    },
  },
  initgroups: {
    svc: true,
    pipeline: true,
    async tx(c, x) {
      const i = x.anyUser();
      const f = fAnd([fEq('memberUid', username(i)), fEq('objectClass', 'posixGroup')]);
      expectEntries(`initgroups ${username(i)}`, await c.request(baseSearch(f, ['cn', 'gidNumber'])), groupCount(i, x.users));
      return 1;
    },
  },
  initgroupsbis: {
    svc: true,
    pipeline: true,
    async tx(c, x) {
      const i = x.anyUser();
      const f = fAnd([fEq('member', userDn(i)), fEq('objectClass', 'groupOfNames'), fPresent('gidNumber')]);
      expectEntries(`initgroups (rfc2307bis) ${username(i)}`, await c.request(baseSearch(f, ['cn', 'gidNumber'])), groupCount(i, x.users));
      return 1;
    },
  },
  wrongpw: {
    perConnection: true,
    async tx(_c, x) {
      const c = await Conn.open(x.host, x.port);
      try {
        const i = x.victim();
        const dn = userDn(i);
        expectCode('bind svc', await c.request((id) => bindRequest(id, SVC_DN, SVC_PW)), 0);
        expectOneEntry('search', await c.request(userSearch(username(i))), dn);
        expectCode('bind wrong password', await c.request((id) => bindRequest(id, dn, WRONG_PW)), 49);
        c.unbindAndClose();
      } finally {
        c.destroy();
      }
      return 3;
    },
  },
};

// ------------------------------------------------------------------ the run

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function parseMix(spec) {
  return spec.split(',').map((s) => {
    const [name, conc = '1', depth = '1'] = s.trim().split(':');
    if (!MIXES[name]) throw new Error(`unknown mix ${name} (one of ${Object.keys(MIXES).join(', ')})`);
    if (+depth > 1 && !MIXES[name].pipeline) throw new Error(`mix ${name} cannot be pipelined (binds wait for their answer)`);
    return { name, conc: +conc, depth: +depth };
  });
}

/**
 * Runs the streams against url for `duration` seconds after `warmup` seconds (answers in the
 * warm-up are checked but not counted). Returns { streams: [...], idle, genCpuPct }.
 */
export async function runLoad({ url, mix, duration = 5, warmup = 1, users = 1000, hot = 16, hotList, victims = [1, 1], idle = 0, seed = 1, graceMs = 30000, serverPids = [] }) {
  const u = new URL(url);
  const host = u.hostname;
  const port = Number(u.port || 389);
  const streams = typeof mix === 'string' ? parseMix(mix) : mix;
  const r = rng(seed);
  const [vFrom, vTo] = victims;
  const x = {
    host,
    port,
    users,
    r,
    anyUser: () => 1 + Math.floor(r() * users),
    hotUser: hotList ? () => hotList[Math.floor(r() * hotList.length)] : () => 1 + Math.floor(r() * hot),
    victim: () => vFrom + Math.floor(r() * (vTo - vFrom + 1)),
  };

  // Idle connections first (each bound as the service account, like an Apache pool), held
  // through the run; any the server drops counts as a failure.
  const idleConns = [];
  let idleOpenFailures = 0;
  if (idle > 0) {
    const batch = 250;
    for (let k = 0; k < idle; k += batch) {
      const got = await Promise.all(
        Array.from({ length: Math.min(batch, idle - k) }, async () => {
          try {
            const c = await Conn.open(host, port, 30000);
            const b = await c.request((id) => bindRequest(id, SVC_DN, SVC_PW));
            if (b.code !== 0) throw new Error(`idle bind ${b.code}`);
            return c;
          } catch {
            idleOpenFailures++;
            return undefined;
          }
        }),
      );
      for (const c of got) if (c) idleConns.push(c);
    }
  }

  let phase = 'warmup'; // -> 'measure' -> 'stop'
  const stats = streams.map((s) => ({ ...s, tx: 0, ops: 0, lat: [], failures: 0, samples: [], warmupTx: 0 }));
  const fail = (st, e) => {
    if (phase === 'stop') return;
    st.failures++;
    if (st.samples.length < 5) st.samples.push(e.message);
  };

  const workers = [];
  const conns = [];
  for (const st of stats) {
    const m = MIXES[st.name];
    for (let k = 0; k < st.conc; k++) {
      workers.push(
        (async () => {
          let c;
          const connect = async () => {
            for (;;) {
              try {
                const cc = await Conn.open(host, port);
                conns.push(cc);
                if (m.svc) expectCode('bind svc', await cc.request((id) => bindRequest(id, SVC_DN, SVC_PW)), 0);
                return cc;
              } catch (e) {
                fail(st, e);
                if (phase === 'stop') return undefined;
                await new Promise((res) => setTimeout(res, 20));
              }
            }
          };
          if (!m.perConnection) c = await connect();
          const loop = async () => {
            while (phase !== 'stop') {
              if (!m.perConnection && (!c || c.closed)) {
                c = await connect();
                if (!c) return;
              }
              const t0 = performance.now();
              try {
                const ops = await m.tx(c, x);
                const t1 = performance.now();
                if (phase === 'measure') {
                  st.tx++;
                  st.ops += ops;
                  st.lat.push(t1 - t0);
                } else if (phase === 'warmup') st.warmupTx++;
              } catch (e) {
                fail(st, e);
                // A failed step can leave the connection bound as someone else: start afresh
                // (pipelined mixes never change the binding, so a wrong answer keeps them).
                if ((!(e instanceof Mismatch) || !m.pipeline) && c && !c.closed && !m.perConnection) c.destroy();
                if (!(e instanceof Mismatch)) await new Promise((res) => setTimeout(res, 5));
              }
            }
          };
          await Promise.all(Array.from({ length: st.depth }, loop));
        })(),
      );
    }
  }

  await new Promise((res) => setTimeout(res, warmup * 1000));
  phase = 'measure';
  const srv0 = serverPids.map(cpuSecondsOf);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((res) => setTimeout(res, duration * 1000));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const srv1 = serverPids.map(cpuSecondsOf);
  phase = 'stop';
  // Let in-flight transactions finish (they are not counted), then close everything.
  const grace = setTimeout(() => {
    for (const c of conns) c.destroy();
  }, graceMs);
  await Promise.all(workers);
  clearTimeout(grace);
  for (const c of conns) c.unbindAndClose();

  const idleStillOpen = idleConns.filter((c) => !c.closed).length;
  for (const c of idleConns) c.unbindAndClose();

  return {
    url,
    duration: elapsed,
    genCpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / elapsed) * 100),
    /** CPU the server processes used during the measured window, in cores (1 = one core busy). */
    serverCores: serverPids.length ? serverPids.reduce((a, _, k) => a + (srv1[k] - srv0[k]), 0) / elapsed : undefined,
    idle: idle > 0 ? { requested: idle, opened: idleConns.length, openFailures: idleOpenFailures, stillOpen: idleStillOpen } : undefined,
    streams: stats.map((st) => {
      const lat = Float64Array.from(st.lat).sort();
      return {
        mix: st.name,
        conc: st.conc,
        depth: st.depth,
        tx: st.tx,
        tps: st.tx / elapsed,
        opsPerSec: st.ops / elapsed,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        max: lat.length ? lat[lat.length - 1] : NaN,
        failures: st.failures,
        failureSamples: st.samples,
      };
    }),
  };
}

/**
 * Binds the service account once, then every given user once (`parallel` at a time), so a
 * server's credential cache is warm before a measured run. Returns the seconds it took.
 */
export async function warmCredentials(url, userIds, parallel = 2) {
  const u = new URL(url);
  const t0 = performance.now();
  const c = await Conn.open(u.hostname, Number(u.port));
  expectCode('warm bind svc', await c.request((id) => bindRequest(id, SVC_DN, SVC_PW)), 0);
  c.unbindAndClose();
  const queue = [...userIds];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      const cc = await Conn.open(u.hostname, Number(u.port));
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) expectCode(`warm bind ${username(i)}`, await cc.request((id) => bindRequest(id, userDn(i), USER_PW)), 0);
      cc.unbindAndClose();
    }),
  );
  return (performance.now() - t0) / 1000;
}

/**
 * Opens n connections, then sends the service account's bind on all of them at once (what an
 * Apache child does when it starts with a cold pool). Resolves { n, p50, max, failures } (ms).
 */
export async function simultaneousBinds(url, n) {
  const u = new URL(url);
  const conns = await Promise.all(Array.from({ length: n }, () => Conn.open(u.hostname, Number(u.port))));
  const t0 = performance.now();
  const times = await Promise.all(conns.map(async (c) => ((await c.request((id) => bindRequest(id, SVC_DN, SVC_PW))).code === 0 ? performance.now() - t0 : NaN)));
  for (const c of conns) c.unbindAndClose();
  const ok = Float64Array.from(times.filter(Number.isFinite)).sort();
  return { n, p50: percentile(ok, 50), max: ok[ok.length - 1], failures: n - ok.length };
}

// ------------------------------------------------------------------ CLI

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const [k, v] = a.slice(2).split('=');
    o[k] = v ?? (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : 'true');
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = parseArgs(process.argv.slice(2));
  if (a.help || !a.url || !a.mix) {
    process.stderr.write('usage: node bench/ldap-load.mjs --url ldap://host:port --mix apache:8[,search:4:4] [--duration 5] [--warmup 1] [--users 1000] [--hot 16 | --hot-list 1,500000] [--warm] [--victims 993-1000] [--idle 0] [--seed 1] [--server-pids PID,...] [--json]\n');
    process.exit(a.help ? 0 : 2);
  }
  const victims = (a.victims ?? '1-1').split('-').map(Number);
  const hotList = a['hot-list'] ? a['hot-list'].split(',').map(Number) : undefined;
  if (a.warm) process.stderr.write(`warmed credentials in ${(await warmCredentials(a.url, hotList ?? Array.from({ length: Number(a.hot ?? 16) }, (_, k) => k + 1))).toFixed(1)} s\n`);
  const res = await runLoad({
    hotList,
    url: a.url,
    mix: a.mix,
    duration: Number(a.duration ?? 5),
    warmup: Number(a.warmup ?? 1),
    users: Number(a.users ?? 1000),
    hot: Number(a.hot ?? 16),
    victims,
    idle: Number(a.idle ?? 0),
    seed: Number(a.seed ?? 1),
    serverPids: a['server-pids'] ? a['server-pids'].split(',').map(Number) : [],
  });
  if (a.json) process.stdout.write(JSON.stringify(res) + '\n');
  else {
    for (const s of res.streams) {
      process.stdout.write(`${s.mix} c=${s.conc} depth=${s.depth}: ${s.tps.toFixed(1)} tx/s (${s.opsPerSec.toFixed(0)} ops/s), p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, ${s.tx} tx, ${s.failures} failures${s.failures ? ` e.g. ${s.failureSamples[0]}` : ''}\n`);
    }
    if (res.idle) process.stdout.write(`idle: ${JSON.stringify(res.idle)}\n`);
    process.stdout.write(`generator CPU ${res.genCpuPct}% of one core${res.serverCores !== undefined ? `, server ${(res.serverCores * 100).toFixed(0)}%` : ''}\n`);
  }
  process.exit(res.streams.some((s) => s.failures > 0) || (res.idle && res.idle.stillOpen < res.idle.requested) ? 1 : 0);
}
