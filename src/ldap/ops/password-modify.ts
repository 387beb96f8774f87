// Password Modify extended operation (RFC 3062; `ldappasswd`), when writes.passwordModify is on:
//   a bound user          -> their own password, the old one required (checked like a bind:
//                            locked out, counted, cached the same way)
//   a service account with passwordAdministrator -> any user's (userIdentity required)
// userIdentity is a DN (or an authzId "dn:<DN>" / "u:<username>"); absent, the bound user. No
// newPasswd: the bridge generates one and returns it (genPasswd). A new password must pass
// the site's rules (constraintViolation, 19, naming each rule broken); the hash is made with
// the site's hasher and written through the write connection only (src/auth/writes.ts). Needs
// TLS where binds do. Neither password is ever logged: the log line has the OID, the result,
// and whose password it was.
import { BerError, BerReader, octets, sequence } from '../ber.js';
import type { BridgeContext, Session } from '../context.js';
import { InvalidDnError } from '../dn.js';
import { ResultCode, type RequestOf } from '../protocol.js';
import { BusyError } from '../../auth/hash-gate.js';
import { generatePassword } from '../../django/hash-policy.js';
import type { User } from '../../directory/model.js';
import { StoreUnavailableError } from '../../directory/store.js';
import { countedAddress } from './bind.js';
import { PASSWORD_MODIFY, type ExtendedResult } from './extended.js';

export { PASSWORD_MODIFY };

interface PasswdModifyRequest {
  userIdentity?: string;
  oldPasswd?: Buffer;
  newPasswd?: Buffer;
}

/** PasswdModifyRequestValue ::= SEQUENCE { userIdentity [0], oldPasswd [1], newPasswd [2] }, each an optional OCTET STRING. */
export function parsePasswdModify(value: Buffer | undefined): PasswdModifyRequest {
  const out: PasswdModifyRequest = {};
  if (value === undefined || value.length === 0) return out;
  const outer = new BerReader(value);
  const seq = outer.sequence(0x30);
  if (!outer.done) throw new BerError('data after the request value');
  let last = -1;
  while (!seq.done) {
    const { tag, body } = seq.any();
    const n = tag - 0x80;
    if (n < 0 || n > 2 || n <= last) throw new BerError(`unexpected element 0x${tag.toString(16)}`);
    last = n;
    const bytes = body.rest();
    if (n === 0) out.userIdentity = bytes.toString('utf8');
    else if (n === 1) out.oldPasswd = bytes;
    else out.newPasswd = bytes;
  }
  return out;
}

/** PasswdModifyResponseValue ::= SEQUENCE { genPasswd [0] OCTET STRING OPTIONAL }. */
export function encodePasswdModifyResponse(genPasswd: string): Buffer {
  return sequence([octets(genPasswd, 0x80)]);
}

/** Text a Django password can be: UTF-8 that decodes and re-encodes to the same bytes. */
function text(b: Buffer): string | undefined {
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : undefined;
}

const fail = (code: number, message: string, target?: string): ExtendedResult & { target?: string } => ({ code, message, ...(target === undefined ? {} : { target }) });

/** The username a userIdentity names, or undefined when it names no user of this tree. */
function usernameOf(ctx: BridgeContext, identity: string): string | undefined {
  if (identity.startsWith('u:')) return identity.slice(2);
  const dn = identity.startsWith('dn:') ? identity.slice(3) : identity;
  try {
    const t = ctx.dit.classify(dn);
    return t.kind === 'user' ? t.username : undefined;
  } catch (e) {
    if (e instanceof InvalidDnError) return undefined;
    throw e;
  }
}

/** Usernames as binds match them (users.caseInsensitive). */
function sameUsername(ctx: BridgeContext, a: string | undefined, b: string): boolean {
  return a !== undefined && (ctx.config.caseInsensitiveUsernames ? a.toLowerCase() === b.toLowerCase() : a === b);
}

export async function passwordModify(ctx: BridgeContext, session: Session, req: RequestOf<'extended'>): Promise<ExtendedResult & { target?: string }> {
  const writes = ctx.writes;
  if (!writes?.settings.passwordModify) return fail(ResultCode.unwillingToPerform, 'password changes over LDAP are off on this server (writes.passwordModify); change the password in Django');
  if (session.tlsRequired && !session.tls) return fail(ResultCode.confidentialityRequired, 'a password change needs TLS on this listener (StartTLS or ldaps://)');
  let r: PasswdModifyRequest;
  try {
    r = parsePasswdModify(req.value);
  } catch (e) {
    if (!(e instanceof BerError)) throw e;
    return fail(ResultCode.protocolError, 'malformed Password Modify request value');
  }
  const id = session.identity;
  if (id.kind === 'anonymous') return fail(ResultCode.insufficientAccessRights, 'bind first: a password change needs a bound user (or a password administrator)');

  const old = r.oldPasswd === undefined ? undefined : text(r.oldPasswd);
  const address = countedAddress(ctx, session);
  let user: User | undefined;
  if (id.kind === 'user') {
    if (r.userIdentity !== undefined && !sameUsername(ctx, usernameOf(ctx, r.userIdentity), id.username)) return fail(ResultCode.insufficientAccessRights, 'a user may change only their own password');
    if (r.oldPasswd === undefined) return fail(ResultCode.unwillingToPerform, 'the old password is required (ldappasswd -a or -A)');
    if (old === undefined || old === '') return fail(ResultCode.invalidCredentials, 'the old password is wrong', id.username);
    const a = await ctx.auth.user({ name: id.username, password: old, address });
    if (a.outcome === 'busy') return fail(ResultCode.busy, 'too many password checks in progress; try again', id.username);
    if (a.outcome !== 'success' || a.user?.id !== id.userId) return fail(ResultCode.invalidCredentials, 'the old password is wrong', id.username);
    user = a.user;
  } else {
    const svc = ctx.serviceAccount(ctx.dit.key(id.dn));
    if (!svc?.passwordAdministrator) return fail(ResultCode.insufficientAccessRights, 'this service account may not set passwords (serviceAccounts[].passwordAdministrator)');
    if (r.userIdentity === undefined) return fail(ResultCode.unwillingToPerform, 'a password administrator must name the user (userIdentity)');
    const username = usernameOf(ctx, r.userIdentity);
    if (username === undefined) return fail(ResultCode.noSuchObject, 'userIdentity names no user of this directory');
    if (old !== undefined) {
      // An administrator who sends the old password has it checked, as a bind would.
      const a = await ctx.auth.user({ name: username, password: old, address });
      if (a.outcome === 'busy') return fail(ResultCode.busy, 'too many password checks in progress; try again', username);
      if (a.outcome !== 'success') return fail(ResultCode.invalidCredentials, 'the old password is wrong', username);
      user = a.user;
    } else {
      user = await ctx.directory.loginUser(username);
    }
    if (!user) return fail(ResultCode.noSuchObject, 'userIdentity names no user of this directory');
  }

  const generated = r.newPasswd === undefined ? generatePassword(writes.settings.generatedLength) : undefined;
  const next = generated ?? text(r.newPasswd!);
  if (next === undefined) return fail(ResultCode.constraintViolation, 'the new password is not valid UTF-8', user.username);
  const refusals = writes.refusals(user, next);
  if (refusals.length) return fail(ResultCode.constraintViolation, refusals.map((x) => `${x.rule}: ${x.message}`).join(' '), user.username);
  try {
    if (!(await writes.setPassword(user, next))) return fail(ResultCode.other, "the user's password changed while this request ran; nothing was written, try again", user.username);
  } catch (e) {
    if (e instanceof BusyError) return fail(ResultCode.busy, 'too many password checks in progress; try again', user.username);
    if (e instanceof StoreUnavailableError) throw e; // unavailable (52), as every operation
    // The write role refused (no UPDATE grant, a read-only file...): one statement, so nothing
    // was written. The driver's message names no value (every value is a bound parameter).
    ctx.log.error({ target: user.username, err: (e as Error).message }, 'password change refused by the write connection (writes.database)');
    return fail(ResultCode.other, 'the password could not be written (check writes.database and its grants); nothing was changed', user.username);
  }
  return { code: ResultCode.success, ...(generated === undefined ? {} : { value: encodePasswdModifyResponse(generated) }), target: user.username };
}
