// Who may run which operation: the access rules of the operations table (dispatch.ts), in one
// place. A rule judges a request it can understand; a DN that does not parse or an unknown
// attribute is the operation's to answer (34, 17), so a rule lets those through.
import type { BridgeContext, Identity, Session } from '../context.js';
import type { Target } from '../dit.js';
import { ResultCode, type RequestOf, type Result } from '../protocol.js';
import { attributeKey, attributeType } from '../schema.js';

const ANONYMOUS_SEARCH: Result = Object.freeze({ code: ResultCode.insufficientAccessRights, message: 'anonymous search is not allowed; bind first' });
const ANONYMOUS_COMPARE: Result = Object.freeze({ code: ResultCode.insufficientAccessRights, message: 'anonymous compare is not allowed; bind first' });
const NOT_OWN_ENTRY_READ: Result = Object.freeze({ code: ResultCode.insufficientAccessRights, message: 'a user may read only their own entry' });
const NOT_OWN_ENTRY_COMPARE: Result = Object.freeze({ code: ResultCode.insufficientAccessRights, message: 'a user may compare only their own entry and group memberships' });

/** Bind, extended operations and the (refused) writes: anyone. */
export function anyone(): undefined {
  return undefined;
}

/**
 * Search: anyone the root DSE and the schema (clients discover the server with them);
 * anonymous clients the rest only when anonymous.search is on; a bound user the containers
 * and their own entry (a subtree search shows them their own entry only); a service account
 * everything.
 */
export function searchAccess(ctx: BridgeContext, session: Session, req: RequestOf<'search'>): Result | undefined {
  const id = session.identity;
  if (id.kind === 'service') return undefined;
  const target = understood(ctx, req.base);
  if (!target || target.kind === 'root' || target.kind === 'subschema') return undefined;
  if (id.kind === 'anonymous') return ctx.config.anonymous.search ? undefined : ANONYMOUS_SEARCH;
  const leaf = target.kind === 'user' || target.kind === 'group' || target.kind === 'permission' || target.kind === 'role' || target.kind === 'privateGroup';
  return req.scope === 0 && leaf && !isOwnEntry(ctx, target, id) ? NOT_OWN_ENTRY_READ : undefined;
}

/**
 * Compare: a service account anything; anonymous clients only when anonymous.search is on;
 * a bound user any attribute of their own entry, and a group's, permission's or role's
 * member / memberUid / uniqueMember asserting themselves (what Apache's AuthLDAPCompareAsUser
 * sends for `Require ldap-group`). Anything else is refused before the store is asked, so the
 * answer (50) is the same whether the target exists or not: no compare tells a user who else
 * exists, is active, or is in cn=superusers.
 */
export function compareAccess(ctx: BridgeContext, session: Session, req: RequestOf<'compare'>): Result | undefined {
  const id = session.identity;
  if (id.kind === 'service') return undefined;
  const target = understood(ctx, req.entry);
  const key = attributeKey(req.attribute);
  if (!target || !attributeType(key)) return undefined;
  if (id.kind === 'anonymous') return ctx.config.anonymous.search ? undefined : ANONYMOUS_COMPARE;
  if (isOwnEntry(ctx, target, id)) return undefined;
  const groupish = target.kind === 'group' || target.kind === 'permission' || target.kind === 'role';
  return groupish && assertsOwnMembership(ctx, key, req.value, id) ? undefined : NOT_OWN_ENTRY_COMPARE;
}

/** A membership attribute whose asserted value names the bound user: their DN (member,
 * uniqueMember) or their username (memberUid). */
function assertsOwnMembership(ctx: BridgeContext, key: string, value: string, id: Extract<Identity, { kind: 'user' }>): boolean {
  try {
    if (key === 'member' || key === 'uniquemember') return ctx.dit.key(value) === ctx.dit.key(id.dn);
    if (key === 'memberuid') return ctx.dit.key(ctx.dit.userDn(value)) === ctx.dit.key(id.dn);
  } catch {
    // An asserted DN that does not parse names nobody, the user included.
  }
  return false;
}

/** What a DN names, or undefined when it does not parse. */
function understood(ctx: BridgeContext, dn: string): Target | undefined {
  try {
    return ctx.dit.classify(dn);
  } catch {
    return undefined;
  }
}

function isOwnEntry(ctx: BridgeContext, target: Target, id: Extract<Identity, { kind: 'user' }>): boolean {
  return target.kind === 'user' && ctx.dit.key(ctx.dit.userDn(target.username)) === ctx.dit.key(id.dn);
}
