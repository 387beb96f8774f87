// Starts a real bridge (the compiled dist/ code) in-process on a free loopback port, against a
// database made by real Django, and offers the real OpenLDAP clients and an ldapjs client.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { recordLog, recordSecrets } from './secrets.js';
import ldapjs from 'ldapjs';
import { loadConfig } from '../../dist/config/load.js';
import { startBridge } from '../../dist/bridge.js';
import { createLogger } from '../../dist/log.js';
import { makePassword } from '../../dist/django/hashers/index.js';

export const BASE = 'dc=example,dc=com';
export const SERVICE_DN = 'cn=apache,ou=services,dc=example,dc=com';
export const SERVICE_PW = 'svc-Secret!';
recordSecrets([SERVICE_PW]);

/** Every log line the test bridges wrote, to check that no secret ever reaches the log. */
export const allLogs = [];

export async function startTestBridge({ url, custom = false, config = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-bridge-'));
  const file = join(dir, 'bridge.json');
  const doc = {
    database: url,
    baseDn: BASE,
    listen: ['ldap://127.0.0.1:0'],
    serviceAccounts: [{ dn: SERVICE_DN, password: await makePassword(SERVICE_PW, { iterations: 1000 }) }],
    log: { level: 'info', format: 'json' },
    ...config,
  };
  if (custom) {
    doc.users = {
      table: 'accounts_user',
      usernameField: 'email',
      columns: { firstName: null, lastName: null, email: 'email', isSuperuser: 'is_superuser', lastLogin: 'last_login' },
      groups: { table: 'accounts_user_groups', userColumn: 'user_id', groupColumn: 'group_id' },
      permissions: { table: 'accounts_user_user_permissions', userColumn: 'user_id', permissionColumn: 'permission_id' },
      ...(config.users ?? {}),
    };
  }
  writeFileSync(file, JSON.stringify(doc));
  const cfg = loadConfig({ flags: { config: file }, env: {}, cwd: dir });
  const lines = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      const s = chunk.toString();
      lines.push(s);
      recordLog(s);
      allLogs.push(s);
      cb();
    },
  });
  const bridge = await startBridge(cfg, createLogger({ level: cfg.log.level, format: 'json' }, sink));
  return { url: bridge.urls[0], bridge, logs: lines, close: () => bridge.close() };
}

// The OpenLDAP clients read a password file with -y (never -w: that would show it in `ps`).
// /dev/stdin does not work when stdin is a socket pair, so the password goes to a private file.
const pwDir = mkdtempSync(join(tmpdir(), 'dlb-pw-'));
let pwCount = 0;
function passwordFile(password) {
  const f = join(pwDir, `pw${pwCount++}`);
  writeFileSync(f, password, { mode: 0o600 });
  return f;
}

/** Runs an OpenLDAP client; resolves { code, stdout, stderr } (code = exit status).
 * `password`, when given, replaces the argument '/dev/stdin' after -y with a password file. */
export function ldapTool(tool, args, password) {
  if (password !== undefined) args = args.map((a) => (a === '/dev/stdin' ? passwordFile(password) : a));
  return new Promise((resolve) => {
    execFile(tool, args, { env: { ...process.env, LDAPTLS_REQCERT: 'never', LDAPCONF: '/dev/null', LDAPRC: '/dev/null' }, timeout: 20000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** ldapsearch -LLL, parsed into [{dn, attrs: {name: [values]}}]. Base64 values are decoded. */
export async function ldapsearch(url, { bindDn = SERVICE_DN, password = SERVICE_PW, base = BASE, scope = 'sub', filter = '(objectClass=*)', attrs = [], extra = [] } = {}) {
  const args = ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', url, '-s', scope, '-b', base];
  if (bindDn !== null) args.push('-D', bindDn, '-y', '/dev/stdin');
  args.push(...extra, filter, ...attrs);
  const r = await ldapTool('ldapsearch', args, bindDn !== null ? password : undefined);
  return { ...r, entries: parseLdif(r.stdout) };
}

export function parseLdif(text) {
  const entries = [];
  for (const block of text.split(/\n\n+/)) {
    const lines = block.split('\n').filter((l) => l && !l.startsWith('#'));
    if (!lines.length) continue;
    let dn;
    const attrs = {};
    for (const l of lines) {
      const m = /^([^:]+)(::?) ?(.*)$/.exec(l);
      if (!m) continue;
      const v = m[2] === '::' ? Buffer.from(m[3], 'base64').toString('utf8') : m[3];
      if (m[1] === 'dn') dn = v;
      else (attrs[m[1]] ??= []).push(v);
    }
    entries.push({ dn, attrs });
  }
  return entries;
}

/** An ldapjs client; every call returns a promise. */
export function client(url) {
  const c = ldapjs.createClient({ url, timeout: 10000, connectTimeout: 5000 });
  c.on('error', () => {});
  const p = (fn) => new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
  return {
    raw: c,
    bind: (dn, pw) => p((cb) => c.bind(dn, pw, cb)),
    compare: (dn, attr, value) => p((cb) => c.compare(dn, attr, value, cb)),
    add: (dn, entry) => p((cb) => c.add(dn, entry, cb)),
    del: (dn) => p((cb) => c.del(dn, cb)),
    search: (base, opts) =>
      new Promise((resolve, reject) => {
        c.search(base, opts, (err, res) => {
          if (err) return reject(err);
          const entries = [];
          res.on('searchEntry', (e) => entries.push({ dn: e.pojo.objectName, attrs: Object.fromEntries(e.pojo.attributes.map((a) => [a.type, a.values])) }));
          res.on('error', reject);
          res.on('end', (r) => resolve({ entries, status: r.status }));
        });
      }),
    close: () => new Promise((resolve) => c.unbind(() => resolve())),
  };
}
