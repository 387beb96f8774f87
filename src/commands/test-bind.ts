// `test-bind <username>`: would this user's bind succeed? The password comes from a prompt
// without echo (on a terminal) or from the first line of stdin, never from an argument. The
// answer is the bridge's own: the same Authenticator (fresh read of the user, Django's hasher,
// is_active), with brute-force counting off so a diagnostic never locks anybody out. Neither
// the password nor the stored hash is ever printed. A user who must give a one-time code
// (mfa.require) types the password followed by the code, as a client sends it; the code is not
// spent on the running bridges (test-bind keeps its spent steps to itself).
import type { ConfigFlags } from '../config/load.js';
import type { User } from '../directory/model.js';
import { hashCost, identifyHasher } from '../django/hashers/index.js';
import { ROLES } from '../ldap/dit.js';
import { parseDn } from '../ldap/dn.js';
import type { BridgeContext, ServiceAccountEntry } from '../ldap/context.js';
import { CommandError, commandContext, commandLogger, describeCost, loadCommandConfig, openCheckedStore } from './common.js';

export interface TestBindOptions extends ConfigFlags {
  json?: boolean;
}

/** Reads a password: a no-echo prompt on a terminal, else the first line of stdin. */
export async function readPassword(prompt: string): Promise<Buffer> {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    return new Promise((resolve, reject) => {
      const bytes: number[] = [];
      const finish = () => {
        stdin.off('data', onData);
        stdin.setRawMode(false);
        stdin.pause();
        process.stderr.write('\n');
      };
      const onData = (chunk: Buffer) => {
        for (const b of chunk) {
          if (b === 0x0d || b === 0x0a || b === 0x04) {
            finish();
            resolve(Buffer.from(bytes));
            return;
          }
          if (b === 0x03) {
            finish();
            reject(new CommandError('cancelled', 130));
            return;
          }
          if (b === 0x7f || b === 0x08) {
            // Backspace removes one character (all the bytes of a UTF-8 sequence).
            while (bytes.length && (bytes[bytes.length - 1]! & 0xc0) === 0x80) bytes.pop();
            bytes.pop();
            continue;
          }
          bytes.push(b);
        }
      };
      stdin.on('data', onData);
    });
  }
  // Not a terminal: the first line (without its line ending), or everything when no newline.
  const chunks: Buffer[] = [];
  for await (const c of stdin) {
    chunks.push(c as Buffer);
    if ((c as Buffer).includes(0x0a)) break;
  }
  stdin.pause();
  const all = Buffer.concat(chunks);
  const nl = all.indexOf(0x0a);
  let line = nl >= 0 ? all.subarray(0, nl) : all;
  if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
  return Buffer.from(line);
}

export interface TestBindReport {
  username: string;
  dn: string;
  found: boolean;
  active?: boolean;
  hasher?: string;
  cost?: Record<string, string | number>;
  /** Django's check_password on the stored hash (whatever is_active says). */
  passwordCorrect?: boolean;
  /** A one-time code (mfa.require): not asked of this user, right, wrong (or spent), or asked
   * with no confirmed device to give it. */
  code?: 'not required' | 'right' | 'wrong' | 'no confirmed device';
  /** What the bridge answers the bind: success, or invalidCredentials (49). */
  bind: 'success' | 'invalidCredentials';
  outcome: string;
  reason: string;
  ms: number;
  groups?: Array<{ name: string; dn: string }>;
  permissions?: string[];
  roles?: Array<{ role: string; dn: string }>;
}

const REASONS: Record<string, string> = {
  success: 'the password is right and the user is active',
  'wrong-password': 'wrong password',
  'wrong-code': 'the password is right, the one-time code is wrong (or was already used): type the password followed by the code shown now',
  'no-device': 'the password is right, but mfa.require asks this user for a one-time code and the user has no confirmed TOTP device (django-otp)',
  'unknown-user': 'no such user',
  inactive: 'the password is right, but the user is inactive (is_active false)',
  'unusable-password': 'the user has an unusable password (set_unusable_password): no password matches',
  'bad-hash': 'the stored hash cannot be checked (unknown hasher or malformed): no password matches',
  'locked-out': 'locked out',
  busy: 'too many password checks in progress',
  empty: 'empty password: a DN with no password is an unauthenticated bind, always refused',
  'not-utf8': 'the password is not valid UTF-8: refused, as Django hashes text',
};

export async function runTestBind(username: string, opts: TestBindOptions): Promise<number> {
  const config = loadCommandConfig(opts);
  const store = await openCheckedStore(config);
  try {
    const log = commandLogger(config);
    const ctx = await commandContext(config, store, log);
    // A user's DN is accepted too (uid=alice,ou=users,...), and a service account's DN.
    let name = username;
    let service: ServiceAccountEntry | undefined;
    try {
      if (parseDn(username).length > 1) {
        service = ctx.serviceAccount(ctx.dit.key(username));
        const t = ctx.dit.classify(username);
        if (t.kind === 'user') name = t.username;
      }
    } catch {
      // not a DN: a username
    }
    if (service) return await serviceBind(ctx, service, opts);
    const dn = ctx.dit.userDn(name);
    const bytes = await readPassword(`Password for ${dn}: `);
    const password = bytes.toString('utf8');
    const user: User | undefined = await ctx.directory.loginUser(name);

    const report: TestBindReport = { username: name, dn, found: !!user, bind: 'invalidCredentials', outcome: '', reason: '', ms: 0 };
    if (user) {
      report.active = user.isActive;
      report.hasher = identifyHasher(user.password);
      report.cost = hashCost(user.password);
    }
    const started = process.hrtime.bigint();
    let outcome: string;
    if (password === '') outcome = 'empty';
    else if (!Buffer.from(password, 'utf8').equals(bytes)) outcome = 'not-utf8';
    else outcome = (await ctx.auth.user({ name, password, address: undefined })).outcome;
    // Whether this user gives a code at all: the same rule the bind just applied.
    if (user && ctx.auth.mfa?.enabled) {
      const need = await ctx.auth.mfa.needed(user);
      report.code = !need ? 'not required' : outcome === 'success' ? 'right' : need.devices.length === 0 ? 'no confirmed device' : outcome === 'wrong-code' ? 'wrong' : undefined;
    }
    report.ms = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
    report.outcome = outcome;
    report.reason = REASONS[outcome] ?? outcome;
    report.bind = outcome === 'success' ? 'success' : 'invalidCredentials';
    if (user && (outcome === 'success' || outcome === 'inactive' || outcome === 'wrong-code' || outcome === 'no-device')) report.passwordCorrect = true;
    else if (user && outcome === 'wrong-password') report.passwordCorrect = false;
    if (!user) {
      const twins = await store.usersByUsername(name, true);
      if (twins.length > 1) report.reason = `no such user: ${twins.map((t) => t.username).join(', ')} match ignoring case and none exactly`;
    }
    if (user) {
      const groups = (await ctx.directory.groupsOf([user])).get(user.id) ?? [];
      report.groups = groups.map((g) => ({ name: g.name, dn: ctx.dit.groupDn(g.name) }));
      report.permissions = ((await ctx.directory.permissionsOf([user])).get(user.id) ?? []).map((p) => `${p.appLabel}.${p.codename}`);
      report.roles = ROLES.filter((r) => (r === 'staff' ? user.isStaff === true : user.isSuperuser === true) && user.isActive).map((r) => ({ role: r, dn: ctx.dit.roleDn(r) }));
    }

    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : render(report));
    return report.bind === 'success' ? 0 : 1;
  } finally {
    await store.close().catch(() => {});
  }
}

/** A service account's bind (serviceAccounts[].password, a Django-format hash in the config). */
async function serviceBind(ctx: BridgeContext, service: ServiceAccountEntry, opts: TestBindOptions): Promise<number> {
  const bytes = await readPassword(`Password for ${service.dn}: `);
  const password = bytes.toString('utf8');
  const started = process.hrtime.bigint();
  let outcome: string;
  if (password === '') outcome = 'empty';
  else if (!Buffer.from(password, 'utf8').equals(bytes)) outcome = 'not-utf8';
  else outcome = (await ctx.auth.service({ name: service.key, password, address: undefined }, service.password)).outcome;
  const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
  const reason = outcome === 'success' ? 'the password matches the service account\'s hash' : (REASONS[outcome] ?? outcome);
  const report = {
    serviceAccount: true,
    dn: service.dn,
    bind: outcome === 'success' ? 'success' : 'invalidCredentials',
    outcome,
    reason,
    hasher: identifyHasher(service.password),
    cost: hashCost(service.password),
    ms,
  };
  if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else {
    const cost = describeCost(report.cost);
    process.stdout.write(
      [
        `bind:        ${outcome === 'success' ? 'would SUCCEED (0 success)' : 'would FAIL (49 invalidCredentials)'}: ${reason}`,
        `dn:          ${service.dn} (a service account: searches and compares everything)`,
        `hasher:      ${report.hasher}${cost ? ` (${cost})` : ''}`,
        `check took:  ${ms} ms`,
      ].join('\n') + '\n',
    );
  }
  return outcome === 'success' ? 0 : 1;
}

function render(r: TestBindReport): string {
  const out: string[] = [];
  out.push(`bind:        ${r.bind === 'success' ? 'would SUCCEED (0 success)' : 'would FAIL (49 invalidCredentials)'}: ${r.reason}`);
  out.push(`dn:          ${r.dn}`);
  if (!r.found) {
    out.push('user:        not found');
  } else {
    out.push(`password:    ${r.passwordCorrect === true ? 'right' : r.passwordCorrect === false ? 'wrong' : 'not checked'}`);
    if (r.code) out.push(`code:        ${r.code === 'right' ? 'right (one-time code, mfa.require)' : r.code}`);
    out.push(`active:      ${r.active ? 'yes' : 'no (is_active false: can never bind)'}`);
    const cost = describeCost(r.cost);
    out.push(`hasher:      ${r.hasher}${cost ? ` (${cost})` : ''}`);
  }
  out.push(`check took:  ${r.ms} ms`);
  if (r.found) {
    out.push(`groups:      ${r.groups?.length || 'none'}`);
    for (const g of r.groups ?? []) out.push(`  ${g.name}  (${g.dn})`);
    out.push(`permissions: ${r.permissions?.length || (r.active ? 'none' : 'none (inactive users hold no permissions)')}`);
    for (const p of r.permissions ?? []) out.push(`  ${p}`);
    if (r.roles?.length) out.push(`roles:       ${r.roles.map((x) => x.dn).join(', ')}`);
  }
  return out.join('\n') + '\n';
}
