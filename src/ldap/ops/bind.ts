// Simple bind (RFC 4511 §4.2, RFC 4513 §5). Who may become whom:
//   ""  + ""         -> anonymous
//   DN  + ""         -> unauthenticated bind: refused with 49, never anonymous success
//   service DN + pw  -> checked against the config's Django-format hash
//   uid=<user> + pw  -> checked against the user's Django hash; inactive or unusable = 49
// Every failure costs the same password work (a dummy check when there is no real hash), so
// the answer's timing does not say whether the account exists.
import { dummyVerify, hashCost, verifyPassword } from '../../django/hashers.js';
import { StoreUnavailableError } from '../../db/store.js';
import { InvalidDnError } from '../dn.js';
import type { BridgeContext, Session } from '../context.js';
import { ResultCode, type Request, type Result } from '../protocol.js';

type BindRequest = Extract<Request, { op: 'bind' }>;

/** Why a bind failed, for the log only: the client always just sees 49. */
export type BindOutcome = 'anonymous' | 'success' | 'unauthenticated' | 'wrong-password' | 'unknown-user' | 'inactive' | 'unusable-password' | 'bad-hash' | 'unavailable' | 'invalid-dn' | 'sasl' | 'bad-version';

export interface BindResult extends Result {
  outcome: BindOutcome;
}

const INVALID = (outcome: BindOutcome): BindResult => ({ code: ResultCode.invalidCredentials, outcome });

export async function bind(ctx: BridgeContext, session: Session, req: BindRequest): Promise<BindResult> {
  // A bind always resets the connection to anonymous first (RFC 4511 §4.2.1).
  session.identity = { kind: 'anonymous' };
  if (req.version !== 3) return { code: ResultCode.protocolError, message: 'only LDAPv3 is supported', outcome: 'bad-version' };
  if (!req.simple) return { code: ResultCode.authMethodNotSupported, message: 'only simple bind is supported', outcome: 'sasl' };

  const password = req.password.toString('utf8');
  // Bytes that are not UTF-8 would decode to U+FFFD and could collide; Django hashes text.
  const validUtf8 = Buffer.byteLength(password, 'utf8') === req.password.length && Buffer.from(password, 'utf8').equals(req.password);
  if (req.name === '' && password === '') return { code: ResultCode.success, outcome: 'anonymous' };
  if (password === '') return { ...INVALID('unauthenticated'), message: 'unauthenticated bind (DN with no password) is not allowed' };

  if (!validUtf8) {
    await dummyVerify('x', ctx.sampleHash);
    return INVALID('wrong-password');
  }
  let target;
  let key;
  try {
    target = ctx.dit.classify(req.name);
    key = ctx.dit.key(req.name);
  } catch (e) {
    if (!(e instanceof InvalidDnError)) throw e;
    await dummyVerify(password, ctx.sampleHash);
    return INVALID('invalid-dn');
  }

  const svc = ctx.serviceAccount(key);
  if (svc) {
    const r = await verifyPassword(password, svc.password);
    if (!r.ok) return INVALID(r.problem ? 'bad-hash' : 'wrong-password');
    session.identity = { kind: 'service', dn: svc.dn };
    return { code: ResultCode.success, outcome: 'success' };
  }

  if (target.kind !== 'user') {
    await dummyVerify(password, ctx.sampleHash);
    return INVALID('unknown-user');
  }

  let user;
  try {
    user = await ctx.directory.loginUser(target.username);
  } catch (e) {
    if (e instanceof StoreUnavailableError) return { code: ResultCode.unavailable, message: 'the user database is unavailable', outcome: 'unavailable' };
    throw e;
  }
  if (!user) {
    await dummyVerify(password, ctx.sampleHash);
    return INVALID('unknown-user');
  }
  const r = await verifyPassword(password, user.password);
  if (r.problem === 'unusable') {
    await dummyVerify(password, ctx.sampleHash);
    return INVALID('unusable-password');
  }
  if (r.problem) {
    ctx.log.warn({ userId: user.id, hasher: r.hasher, problem: r.problem }, 'stored password hash cannot be checked');
    await dummyVerify(password, ctx.sampleHash);
    return INVALID('bad-hash');
  }
  // Keep the dummy check's cost in line with the hashes this site really stores.
  if (hashCost(user.password)) ctx.sampleHash = user.password;
  if (!r.ok) return INVALID('wrong-password');
  if (!user.isActive) return INVALID('inactive');
  session.identity = { kind: 'user', dn: ctx.dit.userDn(user.username), userId: user.id, username: user.username };
  return { code: ResultCode.success, outcome: 'success' };
}
