// A bridge over the demo database (built by the bridge itself, no Python needed), with any
// config override: for tests of limits, TLS and brute-force protection.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { recordLog, recordSecrets } from './secrets.js';
import net from 'node:net';
import { loadConfig } from '../../dist/config/load.js';
import { startBridge } from '../../dist/bridge.js';
import { createLogger } from '../../dist/log.js';
import { makePassword } from '../../dist/django/hashers/index.js';
import { createDemoDatabase, DEMO_USERS, DEMO_SERVICE } from '../../dist/demo.js';

export { DEMO_USERS, DEMO_SERVICE };
recordSecrets([DEMO_SERVICE.password, ...DEMO_USERS.map((u) => u.password)]);
export const BASE = 'dc=example,dc=com';
export const userDn = (u) => `uid=${u},ou=users,${BASE}`;
export const password = (u) => DEMO_USERS.find((x) => x.username === u).password;

/** Builds a demo database once per test file (iterations: the users' PBKDF2 cost). */
export async function demoDatabase(iterations = 2000) {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-demo-'));
  const path = join(dir, 'db.sqlite3');
  await createDemoDatabase(path, { iterations });
  return { path, url: `sqlite://${path}`, dir };
}

export async function startDemoBridge(dbUrl, overrides = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-cfg-'));
  const file = join(dir, 'bridge.json');
  const doc = {
    database: dbUrl,
    baseDn: BASE,
    listen: ['ldap://127.0.0.1:0'],
    serviceAccounts: [{ dn: DEMO_SERVICE.dn, password: await makePassword(DEMO_SERVICE.password, { iterations: 1000 }) }],
    log: { level: 'info', format: 'json' },
    ...overrides,
  };
  writeFileSync(file, JSON.stringify(doc));
  const cfg = loadConfig({ flags: { config: file }, env: {}, cwd: dir });
  const lines = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      lines.push(chunk.toString());
      recordLog(chunk.toString());
      cb();
    },
  });
  const bridge = await startBridge(cfg, createLogger({ level: 'debug', format: 'json' }, sink));
  const { host, port } = bridge.addresses[0];
  return { bridge, url: bridge.urls[0], urls: bridge.urls, host, port, logs: lines, close: () => bridge.close() };
}

// ---- raw LDAP over a socket, for limits and protocol tests ----

const tlv = (tag, body) => {
  const len = body.length;
  const l = len < 0x80 ? Buffer.from([len]) : len < 0x100 ? Buffer.from([0x81, len]) : len < 0x10000 ? Buffer.from([0x82, len >> 8, len & 0xff]) : Buffer.from([0x83, len >> 16, (len >> 8) & 0xff, len & 0xff]);
  return Buffer.concat([Buffer.from([tag]), l, body]);
};
const str = (s, tag = 0x04) => tlv(tag, Buffer.from(s, 'utf8'));
const int = (n, tag = 0x02) => tlv(tag, Buffer.from([n]));
export const ber = { tlv, str, int };

export function bindRequest(id, dn, pw) {
  return tlv(0x30, Buffer.concat([int(id), tlv(0x60, Buffer.concat([int(3), str(dn), str(pw, 0x80)]))]));
}
export function searchRequest(id, base, { attrs = [], filter = tlv(0x87, Buffer.from('objectClass')) } = {}) {
  const body = Buffer.concat([str(base), int(2, 0x0a), int(0, 0x0a), int(0), int(0), tlv(0x01, Buffer.from([0])), filter, tlv(0x30, Buffer.concat(attrs.map((a) => str(a))))]);
  return tlv(0x30, Buffer.concat([int(id), tlv(0x63, body)]));
}

/** Opens a raw socket; `read()` resolves with what arrived until quiet or close. */
export function rawConnect(port, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    const chunks = [];
    let closed = false;
    s.on('data', (d) => chunks.push(d));
    s.on('close', () => (closed = true));
    s.on('error', () => {});
    s.once('connect', () =>
      resolve({
        socket: s,
        write: (b) => s.write(b),
        get closed() {
          return closed;
        },
        data: () => Buffer.concat(chunks),
        waitClosed: (ms) =>
          new Promise((r) => {
            if (closed) return r(true);
            const t = setTimeout(() => r(false), ms);
            s.once('close', () => {
              clearTimeout(t);
              r(true);
            });
          }),
        /** Resolves with the result codes once `n` results arrived (or the connection
         * closed, or `ms` passed): what a test asserts on, instead of a guessed pause. */
        waitResults: async (n, ms = 10_000) => {
          const end = Date.now() + ms;
          while (resultCodes(Buffer.concat(chunks)).length < n && !closed && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
          return resultCodes(Buffer.concat(chunks));
        },
        end: () => s.destroy(),
      }),
    );
    s.once('error', reject);
  });
}

/** Result codes of every LDAPResult-bearing response in a byte stream (in order). */
export function resultCodes(buf) {
  const codes = [];
  let i = 0;
  while (i + 2 <= buf.length) {
    const start = i;
    if (buf[i] !== 0x30) break;
    let len = buf[i + 1];
    let p = i + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + buf[p++];
    }
    const end = p + len;
    // messageID
    const idLen = buf[p + 1];
    p += 2 + idLen;
    const opTag = buf[p];
    let q = p + 1;
    let l = buf[q++];
    if (l & 0x80) q += l & 0x7f;
    if (opTag !== 0x64 && opTag !== 0x73) {
      // resultCode ENUMERATED is the first element of every LDAPResult
      if (buf[q] === 0x0a) codes.push(buf[q + 2]);
    }
    i = end;
    if (end <= start) break;
  }
  return codes;
}
