// Simple bind (RFC 4511 §4.2, RFC 4513 §5). Who may become whom:
//   ""  + ""         -> anonymous
//   DN  + ""         -> unauthenticated bind: refused with 49, never anonymous success
//   service DN + pw  -> checked against the config's Django-format hash
//   uid=<user> + pw  -> checked against the user's Django hash; inactive or unusable = 49
// The checks themselves (lockout, cache, hashing budget, equal timing) are the
// Authenticator's; this file maps names and outcomes to LDAP.
import type { AuthOutcome, AuthResult } from '../../auth/authenticator.js';
import { InvalidDnError } from '../dn.js';
import type { BridgeContext, Session } from '../context.js';
import { ResultCode, type RequestOf, type Result } from '../protocol.js';

type BindRequest = RequestOf<'bind'>;

/** Why a bind ended as it did, for the log only: a failed client always just sees 49. */
export type BindOutcome = AuthOutcome | 'anonymous' | 'unauthenticated' | 'unavailable' | 'invalid-dn' | 'sasl' | 'bad-version' | 'tls-required';

export interface BindResult extends Result {
  outcome: BindOutcome;
  cached?: boolean;
}

function answer(r: AuthResult): BindResult {
  if (r.outcome === 'success') return { code: ResultCode.success, outcome: 'success', cached: r.cached };
  if (r.outcome === 'busy') return { code: ResultCode.busy, message: 'too many password checks in progress; try again', outcome: 'busy' };
  // Never a hint: wrong password, unknown user, inactive and locked out all look the same. (A
  // dropped check's answer is never sent: its connection is gone.)
  return { code: ResultCode.invalidCredentials, outcome: r.outcome };
}

/** Binds, or fails to. A store that cannot answer throws StoreUnavailableError, which the
 * dispatch answers (outcome `unavailable`); the connection stays anonymous. */
export async function bind(ctx: BridgeContext, session: Session, req: BindRequest): Promise<BindResult> {
  // A bind always resets the connection to anonymous first (RFC 4511 §4.2.1).
  session.identity = { kind: 'anonymous' };
  if (req.version !== 3) return { code: ResultCode.protocolError, message: 'only LDAPv3 is supported', outcome: 'bad-version' };
  if (!req.simple) return { code: ResultCode.authMethodNotSupported, message: 'only simple bind is supported', outcome: 'sasl' };

  const password = req.password.toString('utf8');
  if (req.name === '' && password === '') return { code: ResultCode.success, outcome: 'anonymous' };
  if (password === '') return { code: ResultCode.invalidCredentials, message: 'unauthenticated bind (DN with no password) is not allowed', outcome: 'unauthenticated' };
  if (session.tlsRequired && !session.tls) {
    return { code: ResultCode.confidentialityRequired, message: 'a bind with a password needs TLS on this listener (StartTLS or ldaps://)', outcome: 'tls-required' };
  }
  const address = countedAddress(ctx, session);
  const auth = ctx.auth;
  // A bind whose client hung up (or unbound) while it queued is still counted, but not hashed.
  const gone = session.gone;

  // Bytes that are not UTF-8 would decode to U+FFFD and could collide; Django hashes text.
  if (!Buffer.from(password, 'utf8').equals(req.password)) return answer(await auth.nobody({ name: req.name, password: 'x', address, gone }));

  let target;
  let key;
  try {
    target = ctx.dit.classify(req.name);
    key = ctx.dit.key(req.name);
  } catch (e) {
    if (!(e instanceof InvalidDnError)) throw e;
    const r = answer(await auth.nobody({ name: req.name, password, address, gone }));
    return r.outcome === 'unknown-user' ? { ...r, outcome: 'invalid-dn' } : r;
  }

  const svc = ctx.serviceAccount(key);
  if (svc) {
    const r = answer(await auth.service({ name: key, password, address, gone }, svc.password));
    if (r.outcome === 'success') {
      session.identity = { kind: 'service', dn: svc.dn };
      session.trusted = true;
      session.service = svc;
    }
    return r;
  }
  if (target.kind !== 'user') return answer(await auth.nobody({ name: key, password, address, gone }));

  const r = await auth.user({ name: target.username, password, address, origin: session.address, gone });
  if (r.outcome === 'success' && r.user) {
    session.identity = { kind: 'user', dn: ctx.dit.userDn(r.user.username), userId: r.user.id, username: r.user.username };
    // The password without its one-time code: last_login and hash upgrades want the password.
    ctx.writes?.loggedIn(r.user, r.password ?? password);
  }
  return answer(r);
}

/** The address a password check on this connection counts against: none for connections that
 * bound as a service account (Apache's, whose user binds come from many people behind one
 * address) or come from a trusted address. */
export function countedAddress(ctx: BridgeContext, session: Session): string | undefined {
  const trustedAddress = ctx.config.security.bruteForce.trustedAddresses.includes(session.address.replace(/^::ffff:/, ''));
  return session.trusted || trustedAddress ? undefined : session.address;
}
