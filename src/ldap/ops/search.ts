// Search (RFC 4511 §4.5). The base DN says which part of the tree is in scope; users and
// groups come from the store page by page through a predicate planned from the filter, and
// each candidate is checked against the exact filter before it is sent.
import { ScanTimeLimitError } from '../../directory/store.js';
import { InvalidDnError } from '../dn.js';
import { CONTAINERS, ROLES, type Container, type Target } from '../dit.js';
import { baseEntry, containerEntry, Entry, privateGroupEntry, rootDseEntry, Selection, subschemaEntry, permissionEntry, roleEntry, USER_CLASSES, GROUPISH_CLASSES, POSIX_USER_CLASSES, POSIX_GROUP_CLASSES } from '../entries.js';
import { evaluate, evaluateWithout, FALSE, TRUE, type Filter } from '../filter.js';
import { filterAttributes, planGroups, planUsers } from '../filter-plan.js';
import type { BridgeContext, Session } from '../context.js';
import { PAGED_RESULTS, readAhead, type Paging, type Position, type ReadAhead, type Resume, type UserBatch } from '../paging.js';
import { ResultCode, type RequestOf, type Result } from '../protocol.js';
import type { GroupPredicate } from '../../directory/model.js';
import { attributeKey, normalizeValue } from '../schema.js';
import { SSH_KEY_CLASS } from '../attributes.js';
import { containerOf, groupWithExtras, leafEntry, needsFor, needsOf, permissionWithMembers, roleWithMembers, usersWithExtras, type Needs } from './read-entries.js';
import { groupsOfNamed, MEMBER_KEYS, namedHolders, onGroup, onPermission, onRole, permissionsOfNamed, type NamedHolders } from './named-members.js';

type SearchRequest = RequestOf<'search'>;

import { supportedExtensions } from './extended.js';
export const SUPPORTED_CONTROLS: string[] = [PAGED_RESULTS];

/** Not an LDAP result code: the search was abandoned, and an abandoned operation gets no
 * answer (RFC 4511 §4.11). */
export const ABANDONED = -1;

export interface SearchOutcome extends Result {
  /** Set when a page is full and more entries follow (Simple Paged Results). */
  resume?: Resume;
}

const UNPAGED_BATCH = 500;
const READ_AHEAD_PAGE_MAX = 2000;

/** objectClass tests decided without touching the database, for one kind of entry. */
export function staticMatcher(classes: string[], unknown: string[] = []) {
  const oids = new Set(classes.map((c) => normalizeValue('objectIdentifier', c)));
  const open = new Set(unknown.map((c) => normalizeValue('objectIdentifier', c)));
  return (f: Filter): boolean | undefined => {
    if (f.type === 'present' && attributeKey(f.attr) === 'objectclass') return true;
    if (f.type === 'eq' && attributeKey(f.attr) === 'objectclass') {
      const oid = normalizeValue('objectIdentifier', f.value);
      return open.has(oid) ? undefined : oids.has(oid);
    }
    return undefined;
  };
}

/** At most this many names in one filter are resolved (each costs a lookup); the rest are
 * matched as written. */
const MAX_RESOLVED_NAMES = 64;

/**
 * A filter whose user names mean what a bind with them means (Directory.loginUser: the exact
 * user, else the single one equal ignoring case, never a case-twin). A member DN naming a user in
 * another case (django-auth-ldap searches `(member=<the DN lower-cased>)`) becomes that user's DN;
 * with users.caseInsensitive, `(uid=x)` becomes `(&(uid=x)(djangoId=<that user's id>))`, or
 * matches nobody when x names twins and none exactly, so search-then-bind clients find the one
 * account the bind will check.
 */
async function resolveNames(ctx: BridgeContext, f: Filter): Promise<Filter> {
  const ci = ctx.config.caseInsensitiveUsernames;
  const seen = new Map<string, Promise<import('../../directory/model.js').User | undefined>>();
  const lookup = (name: string) => {
    let p = seen.get(name);
    if (!p && seen.size < MAX_RESOLVED_NAMES) seen.set(name, (p = ctx.directory.loginUser(name)));
    return p;
  };
  const walk = async (x: Filter): Promise<Filter> => {
    switch (x.type) {
      case 'and':
      case 'or':
        return { type: x.type, filters: await Promise.all(x.filters.map(walk)) };
      case 'not':
        return { type: 'not', filter: await walk(x.filter) };
      case 'eq': {
        const key = attributeKey(x.attr);
        if (key === 'member') {
          let t: Target;
          try {
            t = ctx.dit.classify(x.value);
          } catch {
            return x;
          }
          if (t.kind !== 'user') return x;
          const u = await lookup(t.username);
          return u && u.username !== t.username ? { ...x, value: ctx.dit.userDn(u.username) } : x;
        }
        if (key === 'uid' && ci && x.value !== '') {
          const found = lookup(x.value);
          if (!found) return x;
          const u = await found;
          return u ? { type: 'and', filters: [x, { type: 'eq', attr: 'djangoId', value: String(u.id) }] } : { type: 'or', filters: [] };
        }
        return x;
      }
      default:
        return x;
    }
  };
  return walk(f);
}

/**
 * Runs a search its caller may run (searchAccess in access.ts says who may; the dispatch asks it first),
 * sending each matching entry. A store that cannot answer throws StoreUnavailableError, which
 * the dispatch answers.
 */
export async function search(
  ctx: BridgeContext,
  session: Session,
  req: SearchRequest,
  send: (e: Entry, sel: Selection) => void,
  isAbandoned: () => boolean,
  paging?: Paging,
  /** Resolves when the client has read what was sent: a big search waits for a slow reader
   * between pages instead of buffering the whole result. */
  drained: () => Promise<void> = async () => {},
): Promise<SearchOutcome> {
  const sel = new Selection(req.attributes);
  let target: Target;
  try {
    target = ctx.dit.classify(req.base);
  } catch (e) {
    if (e instanceof InvalidDnError) return { code: ResultCode.invalidDNSyntax, message: `invalid base DN: ${e.message}` };
    throw e;
  }

  const id = session.identity;
  if (target.kind === 'root' || target.kind === 'subschema') {
    if (req.scope !== 0) return { code: ResultCode.noSuchObject, message: target.kind === 'root' ? 'search the naming context ' + ctx.dit.baseDn : '' };
    const e = target.kind === 'root' ? rootDseEntry(ctx.dit, ctx.version, supportedExtensions(ctx.writes?.settings.passwordModify === true), SUPPORTED_CONTROLS) : subschemaEntry();
    // RFC 4512 §5.1: the root DSE answers a base search with (objectClass=*).
    if (evaluate(req.filter, e, ctx) === TRUE) send(e, sel.allUser && req.attributes.length === 0 && target.kind === 'root' ? new Selection(['+']) : sel);
    return { code: ResultCode.success };
  }
  if (target.kind === 'none') return { code: ResultCode.noSuchObject, matchedDN: target.matched };

  // A bound user sees only their own entry below the containers (searchAccess refused them
  // anyone else's by name).
  const selfOnly = id.kind === 'user' ? id : undefined;

  const serverCap = id.kind === 'anonymous' ? Math.min(ctx.config.limits.anonymousSearchEntries, ctx.config.limits.maxSearchEntries) : ctx.config.limits.maxSearchEntries;
  const sizeLimit = req.sizeLimit > 0 ? Math.min(req.sizeLimit, serverCap) : serverCap;
  const seconds = req.timeLimit > 0 ? Math.min(req.timeLimit, ctx.config.limits.maxSearchSeconds) : ctx.config.limits.maxSearchSeconds;
  const deadline = Date.now() + seconds * 1000;
  const filter = await resolveNames(ctx, req.filter);
  const needs = needsOf(sel, withKeysForClass(ctx, sel, filter, filterAttributes(filter)));
  // Whether the client sees members (not only filters on them): a permission or role the
  // filter matches without its holders is then sent without reading them.
  const showMembers = needsOf(sel, new Set()).members;
  // The users the filter's member tests name, looked up once for the permissions and roles.
  let named: Promise<NamedHolders | undefined> | undefined;
  const holdersNamed = () => (named ??= namedHolders(ctx, filter));

  // The search as a list of phases; a position (phase, after) says where to resume, which is
  // what a Simple Paged Results cookie stands for.
  const self = req.scope === 0 || req.scope === 2;
  const kids = req.scope === 1 || req.scope === 2;
  const phases: Phase[] = [];
  switch (target.kind) {
    case 'base':
      if (self) phases.push({ kind: 'static', entry: () => baseEntry(ctx.dit) });
      for (const c of CONTAINERS) {
        if (!containerServed(ctx, c)) continue;
        if (kids) phases.push({ kind: 'static', entry: () => containerEntry(ctx.dit, c) });
        if (req.scope === 2) phases.push({ kind: 'container', c });
      }
      break;
    case 'ou':
      if (!containerServed(ctx, target.ou)) return { code: ResultCode.noSuchObject, matchedDN: ctx.dit.baseDn };
      if (self) phases.push({ kind: 'static', entry: () => containerEntry(ctx.dit, target.ou) });
      if (kids) phases.push({ kind: 'container', c: target.ou });
      break;
    default: {
      const found = await leafEntry(ctx, target, needs, selfOnly?.userId);
      if (!found) return { code: ResultCode.noSuchObject, matchedDN: ctx.dit.containerDn[containerOf(target)] };
      if (self) phases.push({ kind: 'static', entry: () => found });
    }
  }

  const page = paging?.size;
  let pos: Position = paging?.resume?.pos ?? { phase: 0, after: -1 };
  let total = paging?.resume?.count ?? 0; // entries sent by the whole (paged) search
  let inPage = 0;
  /** `matched`: the filter is known to match `e` (decided before its holders were read). */
  const emit = (e: Entry, before: Position, matched = false) => {
    if (isAbandoned()) throw new Stop(ABANDONED);
    if (!matched && evaluate(filter, e, ctx) !== TRUE) return;
    if (total >= sizeLimit) throw new Stop(ResultCode.sizeLimitExceeded);
    if (page !== undefined && inPage >= page) throw new Stop(ResultCode.success, before);
    total++;
    inPage++;
    send(e, sel);
  };
  /** How many more entries this search (page) can send, plus one to learn that more exist;
   * an unpaged search reads in pages of UNPAGED_BATCH (memory stays flat however long it runs). */
  const wanted = () => Math.min(page !== undefined ? page - inPage : UNPAGED_BATCH, sizeLimit - total) + 1;
  /** The same for the next page of a paged search, when it is worth reading ahead. */
  const nextPage = () => (page !== undefined && page <= READ_AHEAD_PAGE_MAX && total < sizeLimit ? Math.min(page, sizeLimit - total) + 1 : undefined);
  const ahead = paging?.resume?.ahead;
  const checkTime = async () => {
    await drained();
    if (Date.now() > deadline) throw new Stop(ResultCode.timeLimitExceeded);
    if (isAbandoned()) throw new Stop(ABANDONED);
  };

  try {
    for (; pos.phase < phases.length; pos = { phase: pos.phase + 1, after: -1 }) {
      const ph = phases[pos.phase];
      if (ph.kind === 'static') {
        if (pos.after < 0) emit(ph.entry(), { phase: pos.phase, after: -1 });
        continue;
      }
      await searchContainer(ctx, ph.c, filter, needs, showMembers, holdersNamed, selfOnly, pos.phase, pos.after, emit, checkTime, wanted, nextPage, ahead, deadline);
    }
  } catch (e) {
    // A store scanning in bounded windows (SQLite) gave up at the deadline between windows.
    if (e instanceof ScanTimeLimitError) return { code: ResultCode.timeLimitExceeded };
    if (!(e instanceof Stop)) throw e;
    if (e.resume) return { code: ResultCode.success, resume: { pos: e.resume, count: total, ahead: e.ahead } };
    return { code: e.code };
  }
  return { code: ResultCode.success };
}

type Phase = { kind: 'static'; entry: () => Entry } | { kind: 'container'; c: Container };

/** Ends a search early: a limit (code), an abandon (ABANDONED), or a full page (resume position). */
class Stop extends Error {
  /** The next page's users, when they are being read ahead. */
  ahead?: ReadAhead;
  constructor(
    readonly code: number,
    readonly resume?: Position,
  ) {
    super('stop');
  }
}


/** The user entries' objectClass tests: posixAccount is every served user's class only when
 * every served user is a Unix user (unixUsers all, inactive users not shown); otherwise it is
 * checked on each entry. */
function userClassMatcher(ctx: BridgeContext) {
  const posix = ctx.config.posix;
  if (!posix) return staticMatcher(USER_CLASSES);
  // ldapPublicKey: on the Unix users that have keys, when a key table is set; else on nobody.
  const keyed = ctx.config.django.sshKeys ? [SSH_KEY_CLASS] : [];
  if (posix.unixUsers.kind === 'all' && !ctx.config.showInactiveUsers && posix.caseTwins === 'serve') return staticMatcher(POSIX_USER_CLASSES, keyed);
  return staticMatcher(USER_CLASSES, ['posixAccount', ...keyed]);
}

/** A user's ldapPublicKey class depends on their SSH keys: they are read when the client asks
 * for objectClass by name or tests that class, not for every search that filters on
 * objectClass (Apache's `(&(objectClass=*)(uid=...))` reads no keys). */
function withKeysForClass(ctx: BridgeContext, sel: Selection, filter: Filter, keys: Set<string>): Set<string> {
  if (!ctx.config.posix || !ctx.config.django.sshKeys) return keys;
  const want = normalizeValue('objectIdentifier', SSH_KEY_CLASS);
  const tests = (f: Filter): boolean =>
    f.type === 'and' || f.type === 'or' ? f.filters.some(tests) : f.type === 'not' ? tests(f.filter) : f.type === 'eq' && attributeKey(f.attr) === 'objectclass' && normalizeValue('objectIdentifier', f.value) === want;
  if (sel.wants('objectclass') || tests(filter)) keys.add('sshpublickey');
  return keys;
}

/** The group entries' objectClass tests: with posix on every group is a posixGroup, but for
 * the case twins posix.caseTwins leaves out (checked on each entry). */
function groupClassMatcher(ctx: BridgeContext) {
  const posix = ctx.config.posix;
  if (!posix) return staticMatcher(GROUPISH_CLASSES);
  return posix.caseTwins === 'serve' ? staticMatcher(POSIX_GROUP_CLASSES) : staticMatcher(GROUPISH_CLASSES, ['posixGroup']);
}

/** Attributes no user entry has (a group's, permission's or role's members). */
const NOT_ON_USERS: ReadonlySet<string> = new Set(['member', 'memberuid', 'uniquemember']);

/** What the users' plan decides without the database: their objectClass tests, and tests of an
 * attribute no user has, never TRUE on a user (FALSE, or Undefined for an assertion the rule
 * cannot take), so no user is read for them: `(member=<alice>)` from the base would otherwise
 * read every user to send none. The plan stays a superset under NOT (NOT FALSE plans every
 * row), and each entry sent is still checked against the whole filter. */
function usersStaticMatcher(ctx: BridgeContext) {
  const classes = userClassMatcher(ctx);
  return (f: Filter): boolean | undefined => {
    if ((f.type === 'eq' || f.type === 'approx' || f.type === 'present' || f.type === 'substr') && NOT_ON_USERS.has(attributeKey(f.attr))) return false;
    return classes(f);
  };
}

/**
 * Initgroups (SSSD, nslcd): `(&(memberUid=alice)(objectClass=posixGroup))` or the rfc2307bis
 * `member=<alice's DN>` form. When the filter requires such a membership, the groups are the
 * user's groups (one lookup by name, one by id), not every group with its members loaded; the
 * filter is still checked on each. undefined: the filter requires no single member (or
 * usernames are case-insensitive, where one name may be several users).
 */
function groupsOfMember(ctx: BridgeContext, filter: Filter, named: NamedHolders | undefined, theirGroups: ReadonlyMap<number, ReadonlySet<number>> | undefined): GroupPredicate | undefined {
  if (ctx.config.caseInsensitiveUsernames || !ctx.directory.hasGroups) return undefined;
  const parts = filter.type === 'and' ? filter.filters : [filter];
  for (const f of parts) {
    if (f.type !== 'eq') continue;
    const k = attributeKey(f.attr);
    if (k !== 'memberuid' && k !== 'member') continue;
    if (k === 'member') {
      try {
        if (ctx.dit.classify(f.value).kind !== 'user') return { op: 'none' };
      } catch {
        return undefined; // not a DN: the in-memory check says Undefined for every group
      }
    }
    // The user the test names, as named-members.ts resolved it (once for the whole search).
    if (!named || !theirGroups || !named.leaves.has(f)) return undefined;
    const u = named.leaves.get(f);
    const ids = u ? theirGroups.get(u.id) : undefined;
    if (!ids || !ids.size) return { op: 'none' };
    return { op: 'or', items: [...ids].map((id) => ({ op: 'eq', field: 'id', value: id, ci: false })) };
  }
  return undefined;
}

function containerServed(ctx: BridgeContext, c: Container): boolean {
  if (c === 'groups') return ctx.directory.hasGroups;
  if (c === 'permissions') return ctx.directory.hasPermissions;
  if (c === 'usergroups') return ctx.config.posix?.primaryGroup === 'private';
  return true;
}


async function searchContainer(
  ctx: BridgeContext,
  c: Container,
  filter: Filter,
  needs: Needs,
  showMembers: boolean,
  holdersNamed: () => Promise<NamedHolders | undefined>,
  selfOnly: { userId: number } | undefined,
  phase: number,
  after: number,
  emit: (e: Entry, before: Position, matched?: boolean) => void,
  checkTime: () => Promise<void>,
  wanted: () => number,
  nextPage: () => number | undefined,
  ahead: ReadAhead | undefined,
  deadline: number,
): Promise<void> {
  if (c === 'users') {
    const pred = planUsers(filter, ctx.config.caseInsensitiveUsernames, usersStaticMatcher(ctx), ctx.config.posix);
    if (pred.op === 'none') return;
    if (selfOnly) {
      // A bound user sees only their own entry: read it by its primary key and check the
      // filter in memory (emit). Never `WHERE <filter> AND id >= self LIMIT 1`: a filter that
      // misses their own row would have the database scan every later user for it.
      if (Math.max(after, 0) >= selfOnly.userId) return;
      const mine = await ctx.directory.userById(selfOnly.userId);
      if (!mine) return;
      await checkTime();
      const [entry] = await usersWithExtras(ctx, [mine], needs);
      emit(entry, { phase, after: mine.id - 1 });
      return;
    }
    const load = async (afterId: number, limit: number): Promise<UserBatch> => {
      const { users, more } = await ctx.directory.userPage(pred, afterId, limit, deadline);
      return { users, more, entries: await usersWithExtras(ctx, users, needs) };
    };
    let afterId = Math.max(after, 0);
    let pending = ahead && ahead.phase === phase && ahead.after === after ? ahead.take() : undefined;
    for (;;) {
      await checkTime();
      const b = await (pending ?? load(afterId, wanted()));
      pending = undefined;
      for (let i = 0; i < b.users.length; i++) {
        const before = { phase, after: b.users[i].id - 1 };
        try {
          emit(b.entries[i], before);
        } catch (e) {
          // The page is full: start reading the next one while the client takes this one.
          const limit = e instanceof Stop && e.resume ? nextPage() : undefined;
          if (limit !== undefined) (e as Stop).ahead = readAhead(phase, before.after, () => load(Math.max(before.after, 0), limit));
          throw e;
        }
      }
      if (!b.more) return;
      afterId = b.users[b.users.length - 1].id;
    }
  }
  if (selfOnly) return; // users do not list groups, permissions or roles
  if (c === 'usergroups') return searchPrivateGroups(ctx, filter, phase, after, emit, checkTime, deadline);
  if (c === 'groups') {
    const planned = planGroups(filter, groupClassMatcher(ctx), ctx.config.posix);
    if (planned.op === 'none') return;
    // A filter naming a member (initgroups) is decided from the named users' own groups, as for
    // permissions: only their groups are read, and a group's members only when the client
    // shows them, or for a group the filter cannot decide without them.
    const named = needs.members ? await holdersNamed() : undefined;
    const theirGroups = named ? await groupsOfNamed(ctx, named) : undefined;
    const of = groupsOfMember(ctx, filter, named, theirGroups);
    if (of && of.op === 'none') return;
    const pred: GroupPredicate = of ? { op: 'and', items: [planned, of] } : planned;
    const decide = !showMembers && named && theirGroups;
    const bareNeeds = { ...needs, members: false };
    for await (const page of ctx.directory.groups(pred, Math.max(after, 0), deadline)) {
      await checkTime();
      if (decide) {
        const bare = await groupWithExtras(ctx, page, bareNeeds);
        for (let i = 0; i < page.length; i++) {
          const v = onGroup(ctx, filter, named, theirGroups, page[i], bare[i]);
          if (v === FALSE) continue;
          const before = { phase, after: page[i].id - 1 };
          if (v === TRUE) emit(bare[i], before, true);
          else emit((await groupWithExtras(ctx, [page[i]], needs))[0], before);
        }
        continue;
      }
      const entries = await groupWithExtras(ctx, page, needs);
      for (let i = 0; i < page.length; i++) emit(entries[i], { phase, after: page[i].id - 1 });
    }
    return;
  }
  // A permission's or role's holders are a query over the whole user table (superusers hold
  // every permission, and is_superuser has no index): read them only for an entry the filter
  // can still match, and whose members the client sees or the filter cannot do without.
  // `(uid=alice)` over the whole tree then reads no holders at all, and `(member=<alice>)` only
  // alice's own permissions and roles (named-members.ts).
  const named = needs.members ? await holdersNamed() : undefined;
  if (c === 'permissions') {
    const perms = await ctx.directory.permissions();
    const theirPermissions = named ? await permissionsOfNamed(ctx, named) : undefined;
    for (let i = after + 1; i < perms.length; i++) {
      await checkTime();
      const before = { phase, after: i - 1 };
      if (needs.members) {
        const bare = permissionEntry(ctx.dit, perms[i], undefined);
        const v = named && theirPermissions ? onPermission(ctx, filter, named, theirPermissions, perms[i], bare) : evaluateWithout(filter, bare, ctx, MEMBER_KEYS);
        if (v === FALSE) continue;
        if (v === TRUE && !showMembers) {
          emit(bare, before, true);
          continue;
        }
      }
      emit(await permissionWithMembers(ctx, perms[i], needs), before);
    }
    return;
  }
  for (let i = after + 1; i < ROLES.length; i++) {
    const before = { phase, after: i - 1 };
    if (needs.members) {
      const bare = roleEntry(ctx.dit, ROLES[i], undefined);
      const v = named ? onRole(ctx, filter, named, ROLES[i], bare) : evaluateWithout(filter, bare, ctx, MEMBER_KEYS);
      if (v === FALSE) continue;
      if (v === TRUE && !showMembers) {
        emit(bare, before, true);
        continue;
      }
    }
    emit(await roleWithMembers(ctx, ROLES[i], needs), before);
  }
}


const NOTHING: Filter = { type: 'or', filters: [] };

/**
 * The private groups' filter as a filter on their users, for the users' planner: cn is the
 * username (compared as usernames are: exactly, unless users.caseInsensitive, so case twins
 * keep one private group each), gidNumber the uidNumber (a number lookup stays a primary-key
 * lookup), member tests match nothing (no members are listed). null: every Unix user may match
 * (the planner cannot narrow it). Each group entry is still checked against the real filter.
 */
function privateGroupUserFilter(f: Filter): Filter | null {
  switch (f.type) {
    case 'and': {
      const parts = f.filters.map(privateGroupUserFilter).filter((x): x is Filter => x !== null);
      return parts.length ? { type: 'and', filters: parts } : null;
    }
    case 'or': {
      const parts = f.filters.map(privateGroupUserFilter);
      return parts.every((x): x is Filter => x !== null) ? { type: 'or', filters: parts } : null;
    }
    case 'not':
    case 'ext':
      return null; // not narrowed: a translated NOT would not be a superset
    default: {
      const k = attributeKey(f.attr);
      if (k === 'objectclass') {
        if (f.type === 'present') return null;
        if (f.type !== 'eq') return null;
        const oid = normalizeValue('objectIdentifier', f.value);
        return PRIVATE_GROUP_OIDS.has(oid) ? null : NOTHING;
      }
      if (k === 'cn') return { ...f, attr: 'uid' };
      if (k === 'gidnumber') return { ...f, attr: 'uidNumber' };
      if (NOT_ON_USERS.has(k)) return f.type === 'present' || f.type === 'eq' || f.type === 'approx' || f.type === 'substr' ? NOTHING : null;
      return null;
    }
  }
}
const PRIVATE_GROUP_OIDS = new Set(['top', 'posixGroup'].map((c) => normalizeValue('objectIdentifier', c)));

/** ou=usergroups: one posixGroup per Unix user, read through the users' planner. */
async function searchPrivateGroups(
  ctx: BridgeContext,
  filter: Filter,
  phase: number,
  after: number,
  emit: (e: Entry, before: Position, matched?: boolean) => void,
  checkTime: () => Promise<void>,
  deadline: number,
): Promise<void> {
  const posix = ctx.config.posix!;
  const userFilter = privateGroupUserFilter(filter) ?? { type: 'present', attr: 'objectClass' };
  const pred = planUsers(userFilter, ctx.config.caseInsensitiveUsernames, usersStaticMatcher(ctx), posix);
  if (pred.op === 'none') return;
  // Only whether each is a Unix user is needed (posixOf in read-entries.ts): uidNumber says so.
  const needs = needsFor(['uidNumber']);
  let afterId = Math.max(after, 0);
  for (;;) {
    await checkTime();
    const { users, more } = await ctx.directory.userPage(pred, afterId, UNPAGED_BATCH, deadline);
    const entries = await usersWithExtras(ctx, users, needs);
    for (let i = 0; i < users.length; i++) {
      if (!entries[i].has('uidnumber')) continue;
      emit(privateGroupEntry(ctx.dit, users[i], posix), { phase, after: users[i].id - 1 });
    }
    if (!more || !users.length) return;
    afterId = users[users.length - 1].id;
  }
}
