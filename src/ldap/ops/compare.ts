// Compare (RFC 4511 §4.10). What Apache's Require ldap-group / ldap-user / ldap-attribute
// send. Membership compares are one indexed query; objectClass compares answer from the kind
// of entry alone, so Apache's sub-group walk over thousands of members stays cheap.
import type { User } from '../../directory/model.js';
import { InvalidDnError } from '../dn.js';
import type { Target } from '../dit.js';
import { GROUPISH_CLASSES, POSIX_GROUP_CLASSES, POSIX_USER_CLASSES, USER_CLASSES } from '../entries.js';
import type { BridgeContext } from '../context.js';
import { ResultCode, type RequestOf, type Result } from '../protocol.js';
import { attributeKey, attributeType, normalizeValue } from '../schema.js';
import { containerOf, leafEntry, needsFor, type LeafTarget } from './read-entries.js';

type CompareRequest = RequestOf<'compare'>;

const r = (code: number, message?: string): Result => ({ code, message });

/** Runs a compare its caller may run (compareAccess in access.ts says who may; the dispatch asks it first).
 * A store that cannot answer throws StoreUnavailableError, which the dispatch answers. */
export async function compare(ctx: BridgeContext, req: CompareRequest): Promise<Result> {
  let target: Target;
  try {
    target = ctx.dit.classify(req.entry);
  } catch (e) {
    if (e instanceof InvalidDnError) return r(ResultCode.invalidDNSyntax, `invalid DN: ${e.message}`);
    throw e;
  }
  const key = attributeKey(req.attribute);
  if (!attributeType(key)) return r(ResultCode.undefinedAttributeType, `unknown attribute ${req.attribute}`);

  if (target.kind === 'none') return { code: ResultCode.noSuchObject, matchedDN: target.matched };
  if (target.kind === 'root' || target.kind === 'subschema' || target.kind === 'base' || target.kind === 'ou') {
    return r(ResultCode.unwillingToPerform, 'compare is served on users and groups');
  }
  // posixAccount depends on the user (posix.unixUsers, posix.caseTwins), posixGroup on the
  // group (posix.caseTwins): read from the entry below.
  const perEntry = target.kind === 'privateGroup' || (ctx.config.posix && (target.kind === 'user' || (target.kind === 'group' && ctx.config.posix.caseTwins === 'exclude')));
  if (key === 'objectclass' && !perEntry) {
    if (!(await exists(ctx, target))) return noSuchEntry(ctx, target);
    const posix = ctx.config.posix !== null;
    const classes = target.kind === 'user' ? (posix ? POSIX_USER_CLASSES : USER_CLASSES) : target.kind === 'group' && posix ? POSIX_GROUP_CLASSES : GROUPISH_CLASSES;
    const want = normalizeValue('objectIdentifier', req.value);
    return r(classes.some((c) => normalizeValue('objectIdentifier', c) === want) ? ResultCode.compareTrue : ResultCode.compareFalse);
  }
  if (target.kind !== 'user' && target.kind !== 'privateGroup' && (key === 'member' || key === 'memberuid' || key === 'uniquemember')) {
    return membership(ctx, target, key, req.value);
  }
  // Everything else: build the entry with what the attribute needs and compare values.
  // A user's ldapPublicKey class depends on their SSH keys.
  const e = await leafEntry(ctx, target, needsFor(key === 'objectclass' ? [key, 'sshpublickey'] : [key]));
  if (!e) return noSuchEntry(ctx, target);
  const values = e.get(key);
  if (!values) return r(ResultCode.noSuchAttribute);
  const eq = ctx.equalityOf(key);
  const want = normalizeValue(eq, req.value, ctx.caseExactDnTypes);
  if (want === undefined) return r(ResultCode.compareFalse);
  return r(values.some((v) => normalizeValue(eq, v, ctx.caseExactDnTypes) === want) ? ResultCode.compareTrue : ResultCode.compareFalse);
}

/** A leaf that does not exist: its container is the entry that does (RFC 4511 §4.1.9). */
function noSuchEntry(ctx: BridgeContext, t: LeafTarget): Result {
  return { code: ResultCode.noSuchObject, matchedDN: ctx.dit.containerDn[containerOf(t)] };
}

async function exists(ctx: BridgeContext, t: LeafTarget): Promise<boolean> {
  switch (t.kind) {
    case 'user':
      return !!(await ctx.directory.user(t.username));
    case 'group':
      return !!(await ctx.directory.group(t.name));
    case 'permission':
      return !!(await ctx.directory.permission(t.appLabel, t.codename));
    case 'role':
      return true;
    case 'privateGroup':
      return !!(await leafEntry(ctx, t, needsFor([])));
  }
}

/** member / memberUid / uniqueMember against a group, permission or role. */
async function membership(ctx: BridgeContext, t: Extract<LeafTarget, { kind: 'group' | 'permission' | 'role' }>, key: string, value: string): Promise<Result> {
  // Our groups are groupOfNames: they have no uniqueMember (as slapd answers for such a group).
  if (key === 'uniquemember') {
    if (!(await exists(ctx, t))) return noSuchEntry(ctx, t);
    return r(ResultCode.noSuchAttribute);
  }
  let username: string | undefined;
  if (key === 'member') {
    let v: Target;
    try {
      v = ctx.dit.classify(value);
    } catch {
      v = { kind: 'none', matched: '' };
    }
    if (v.kind === 'user') username = v.username;
  } else {
    username = value;
  }
  // The hot path: one indexed query with exact names.
  if (username !== undefined && t.kind === 'group') {
    // A false from it stands only when the name is a user's exact one: a member DN may name its
    // user in another case (django-auth-ldap lower-cases DNs), which the slower rules resolve.
    const fast = await ctx.directory.groupMembershipFast(t.name, username);
    if (fast === true) return r(ResultCode.compareTrue);
    if (fast === false && (await ctx.directory.user(username))?.username === username) return r(ResultCode.compareFalse);
  }
  if (username !== undefined && t.kind === 'permission') {
    const p = await ctx.directory.permission(t.appLabel, t.codename);
    if (!p) return noSuchEntry(ctx, t);
    const fast = await ctx.directory.hasPermissionFast(username, p);
    if (fast === true) return r(ResultCode.compareTrue);
    if (fast === false && (await ctx.directory.user(username))?.username === username) return r(ResultCode.compareFalse);
  }
  const user: User | undefined = username === undefined ? undefined : await ctx.directory.user(username);
  switch (t.kind) {
    case 'group': {
      const g = await ctx.directory.group(t.name);
      if (!g) return noSuchEntry(ctx, t);
      return r(user && (await ctx.directory.isGroupMember(g, user)) ? ResultCode.compareTrue : ResultCode.compareFalse);
    }
    case 'permission': {
      const p = await ctx.directory.permission(t.appLabel, t.codename);
      if (!p) return noSuchEntry(ctx, t);
      return r(user && (await ctx.directory.hasPermission(user, p)) ? ResultCode.compareTrue : ResultCode.compareFalse);
    }
    case 'role':
      return r(user && ctx.directory.roleHolds(t.role, user) ? ResultCode.compareTrue : ResultCode.compareFalse);
  }
}
