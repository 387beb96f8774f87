// Search (RFC 4511 §4.5). The base DN says which part of the tree is in scope; users and
// groups come from the store page by page through a predicate planned from the filter, and
// each candidate is checked against the exact filter before it is sent.
import { StoreUnavailableError } from '../../directory/store.js';
import type { Group, Permission, Role, User } from '../../directory/model.js';
import { InvalidDnError } from '../dn.js';
import { CONTAINERS, ROLES, type Container, type Target } from '../dit.js';
import { baseEntry, containerEntry, Entry, groupEntry, permissionEntry, roleEntry, rootDseEntry, Selection, subschemaEntry, userEntry, USER_CLASSES, GROUPISH_CLASSES } from '../entries.js';
import { evaluate, TRUE, type Filter } from '../filter.js';
import { filterAttributes, planGroups, planUsers } from '../filter-plan.js';
import type { BridgeContext, Session } from '../context.js';
import { ResultCode, type Request, type Result } from '../protocol.js';
import { attributeKey, normalizeValue } from '../schema.js';

type SearchRequest = Extract<Request, { op: 'search' }>;

export const SUPPORTED_EXTENSIONS = ['1.3.6.1.4.1.4203.1.11.3'];
export const PAGED_RESULTS = '1.2.840.113556.1.4.319';
export const SUPPORTED_CONTROLS: string[] = [PAGED_RESULTS];

/** Where a paged search goes on: the position, the entries sent so far by all its pages,
 * and maybe the next page's users, already being read. */
export interface Resume {
  pos: Position;
  count: number;
  ahead?: ReadAhead;
}

export interface SearchOutcome extends Result {
  entries: number;
  /** Set when a page is full and more entries follow (Simple Paged Results). */
  resume?: Resume;
}

/** RFC 2696 paging for this request: the page size, and where the previous page stopped. */
export interface Paging {
  size: number;
  resume?: Resume;
}

/** A page of users with their entries built. */
interface UserBatch {
  users: User[];
  entries: Entry[];
  more: boolean;
}

/** The next page of a paged export, read while the client takes in the current one: without
 * it the database and the bridge would take turns being idle at every page. At most a few
 * are held at once (each is a page of built entries), and one not claimed within
 * READ_AHEAD_MS is dropped. Its data is read one client round trip early; a page was never
 * a snapshot anyway. */
interface ReadAhead {
  phase: number;
  after: number;
  take(): Promise<UserBatch> | undefined;
}
const READ_AHEAD_MAX = 8;
const UNPAGED_BATCH = 500;
const READ_AHEAD_PAGE_MAX = 2000;
const READ_AHEAD_MS = 2_000;
let readAheadsHeld = 0;

function readAhead(phase: number, after: number, load: () => Promise<UserBatch>): ReadAhead | undefined {
  if (readAheadsHeld >= READ_AHEAD_MAX) return undefined;
  readAheadsHeld++;
  let batch: Promise<UserBatch> | undefined = load();
  batch.catch(() => {}); // a failure is reported to the page that claims it, if any does
  const release = () => {
    if (!batch) return undefined;
    clearTimeout(timer);
    readAheadsHeld--;
    const b = batch;
    batch = undefined;
    return b;
  };
  const timer = setTimeout(release, READ_AHEAD_MS);
  timer.unref();
  return { phase, after, take: release };
}

/** What one search needs beyond the base columns, from its attribute list and filter. */
interface Needs {
  memberOf: boolean;
  permissions: boolean;
  members: boolean;
  /** The user attributes to build (by key); undefined: all of them. Apache's search asks for
   * [uid] and filters on objectClass and uid: no names, mail, flags or dates to format. */
  userAttrs?: (key: string) => boolean;
}

function needsOf(sel: Selection, filterKeys: Set<string>): Needs {
  const all = filterKeys.has('*');
  const wants = (k: string) => sel.wants(k) || filterKeys.has(k) || all;
  return {
    memberOf: wants('memberof'),
    permissions: wants('djangopermission') || wants('memberof'),
    members: wants('member') || wants('memberuid'),
    userAttrs: sel.allUser || all ? undefined : wants,
  };
}

/** objectClass tests decided without touching the database, for one kind of entry. */
export function staticMatcher(classes: string[]) {
  const oids = new Set(classes.map((c) => normalizeValue('objectIdentifier', c)));
  return (f: Filter): boolean | undefined => {
    if (f.type === 'present' && attributeKey(f.attr) === 'objectclass') return true;
    if (f.type === 'eq' && attributeKey(f.attr) === 'objectclass') return oids.has(normalizeValue('objectIdentifier', f.value));
    return undefined;
  };
}

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
    if (e instanceof InvalidDnError) return { code: ResultCode.invalidDNSyntax, message: `invalid base DN: ${e.message}`, entries: 0 };
    throw e;
  }

  const id = session.identity;
  // Anyone may read the root DSE and the schema (clients discover the server with them).
  if (target.kind === 'root' || target.kind === 'subschema') {
    if (req.scope !== 0) return { code: ResultCode.noSuchObject, message: target.kind === 'root' ? 'search the naming context ' + ctx.dit.baseDn : '', entries: 0 };
    const e = target.kind === 'root' ? rootDseEntry(ctx.dit, ctx.version, SUPPORTED_EXTENSIONS, SUPPORTED_CONTROLS) : subschemaEntry();
    // RFC 4512 §5.1: the root DSE answers a base search with (objectClass=*).
    if (evaluate(req.filter, e, ctx) === TRUE) send(e, sel.allUser && req.attributes.length === 0 && target.kind === 'root' ? new Selection(['+']) : sel);
    return { code: ResultCode.success, entries: 1 };
  }
  if (id.kind === 'anonymous' && !ctx.config.anonymous.search) {
    return { code: ResultCode.insufficientAccessRights, message: 'anonymous search is not allowed; bind first', entries: 0 };
  }
  if (target.kind === 'none') return { code: ResultCode.noSuchObject, matchedDN: target.matched, entries: 0 };

  // A bound user reads the containers and their own entry; a service account reads all.
  const selfOnly = id.kind === 'user' ? id : undefined;
  if (selfOnly && req.scope === 0 && target.kind !== 'base' && target.kind !== 'ou' && !(target.kind === 'user' && ctx.dit.key(ctx.dit.userDn(target.username)) === ctx.dit.key(selfOnly.dn))) {
    return { code: ResultCode.insufficientAccessRights, message: 'a user may read only their own entry', entries: 0 };
  }

  const serverCap = id.kind === 'anonymous' ? Math.min(ctx.config.limits.anonymousSearchEntries, ctx.config.limits.maxSearchEntries) : ctx.config.limits.maxSearchEntries;
  const sizeLimit = req.sizeLimit > 0 ? Math.min(req.sizeLimit, serverCap) : serverCap;
  const seconds = req.timeLimit > 0 ? Math.min(req.timeLimit, ctx.config.limits.maxSearchSeconds) : ctx.config.limits.maxSearchSeconds;
  const deadline = Date.now() + seconds * 1000;
  const needs = needsOf(sel, filterAttributes(req.filter));

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
      if (!containerServed(ctx, target.ou)) return { code: ResultCode.noSuchObject, matchedDN: ctx.dit.baseDn, entries: 0 };
      if (self) phases.push({ kind: 'static', entry: () => containerEntry(ctx.dit, target.ou) });
      if (kids) phases.push({ kind: 'container', c: target.ou });
      break;
    default: {
      let e: Entry | undefined;
      try {
        e = await leafEntry(ctx, target, needs, selfOnly?.userId);
      } catch (err) {
        if (err instanceof StoreUnavailableError) return { code: ResultCode.unavailable, message: 'the user database is unavailable', entries: 0 };
        throw err;
      }
      if (!e) return { code: ResultCode.noSuchObject, matchedDN: ctx.dit.containerDn[containerOf(target)], entries: 0 };
      const found = e;
      if (self) phases.push({ kind: 'static', entry: () => found });
    }
  }

  const page = paging?.size;
  let pos: Position = paging?.resume?.pos ?? { phase: 0, after: -1 };
  let total = paging?.resume?.count ?? 0; // entries sent by the whole (paged) search
  let inPage = 0;
  let count = 0;
  const emit = (e: Entry, before: Position) => {
    if (isAbandoned()) throw new Stop(-1);
    if (evaluate(req.filter, e, ctx) !== TRUE) return;
    if (total >= sizeLimit) throw new Stop(ResultCode.sizeLimitExceeded);
    if (page !== undefined && inPage >= page) throw new Stop(ResultCode.success, before);
    total++;
    inPage++;
    count++;
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
    if (isAbandoned()) throw new Stop(-1);
  };

  try {
    for (; pos.phase < phases.length; pos = { phase: pos.phase + 1, after: -1 }) {
      const ph = phases[pos.phase];
      if (ph.kind === 'static') {
        if (pos.after < 0) emit(ph.entry(), { phase: pos.phase, after: -1 });
        continue;
      }
      await searchContainer(ctx, ph.c, req.filter, needs, selfOnly, pos.phase, pos.after, emit, checkTime, wanted, nextPage, ahead);
    }
  } catch (e) {
    if (e instanceof Stop) {
      if (e.code === -1) return { code: -1, entries: count };
      if (e.resume) return { code: ResultCode.success, entries: count, resume: { pos: e.resume, count: total, ahead: e.ahead } };
      return { code: e.code, entries: count };
    }
    if (e instanceof StoreUnavailableError) return { code: ResultCode.unavailable, message: 'the user database is unavailable', entries: count };
    throw e;
  }
  return { code: ResultCode.success, entries: count };
}

/** Where a search resumes: the phase, and the last id (or index) already done in it. */
export interface Position {
  phase: number;
  after: number;
}

type Phase = { kind: 'static'; entry: () => Entry } | { kind: 'container'; c: Container };

/** Ends a search early: a limit (code), an abandon (-1), or a full page (resume position). */
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

function containerOf(t: Target): Container {
  return t.kind === 'user' ? 'users' : t.kind === 'group' ? 'groups' : t.kind === 'permission' ? 'permissions' : 'roles';
}

function containerServed(ctx: BridgeContext, c: Container): boolean {
  if (c === 'groups') return ctx.directory.hasGroups;
  if (c === 'permissions') return ctx.directory.hasPermissions;
  return true;
}

async function collect<T>(gen: AsyncGenerator<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of gen) out.push(...page);
  return out;
}

async function usersWithExtras(ctx: BridgeContext, users: User[], needs: Needs): Promise<Entry[]> {
  // Independent reads: on a pooled database they run side by side.
  const [groups, perms] = await Promise.all([needs.memberOf ? ctx.directory.groupsOf(users) : undefined, needs.permissions ? ctx.directory.permissionsOf(users) : undefined]);
  return users.map((u) => {
    const roles: Role[] | undefined = needs.memberOf ? ROLES.filter((r) => ctx.directory.roleHolds(r, u)) : undefined;
    return userEntry(ctx.dit, u, {
      only: needs.userAttrs,
      groups: groups ? (groups.get(u.id) ?? []) : undefined,
      permissions: perms ? (perms.get(u.id) ?? []) : undefined,
      roles,
    });
  });
}

async function groupWithExtras(ctx: BridgeContext, gs: Group[], needs: Needs): Promise<Entry[]> {
  const perms = needs.permissions ? await ctx.directory.groupPermissions(gs) : undefined;
  const out: Entry[] = [];
  for (const g of gs) {
    const members = needs.members ? (await collect(ctx.directory.groupMembers(g))).map((m) => m.username) : undefined;
    out.push(groupEntry(ctx.dit, g, members, perms ? (perms.get(g.id) ?? []) : undefined));
  }
  return out;
}

async function permissionWithMembers(ctx: BridgeContext, p: Permission, needs: Needs): Promise<Entry> {
  const members = needs.members ? (await collect(ctx.directory.permissionHolders(p))).map((m) => m.username) : undefined;
  return permissionEntry(ctx.dit, p, members);
}

async function roleWithMembers(ctx: BridgeContext, role: Role, needs: Needs): Promise<Entry> {
  const members = needs.members ? (await collect(ctx.directory.roleMembers(role))).map((u) => u.username) : undefined;
  return roleEntry(ctx.dit, role, members);
}

async function searchContainer(
  ctx: BridgeContext,
  c: Container,
  filter: Filter,
  needs: Needs,
  selfOnly: { userId: number } | undefined,
  phase: number,
  after: number,
  emit: (e: Entry, before: Position) => void,
  checkTime: () => Promise<void>,
  wanted: () => number,
  nextPage: () => number | undefined,
  ahead: ReadAhead | undefined,
): Promise<void> {
  if (c === 'users') {
    const pred = planUsers(filter, ctx.config.caseInsensitiveUsernames, staticMatcher(USER_CLASSES));
    if (pred.op === 'none') return;
    if (selfOnly) {
      // A bound user sees only their own entry: one row at most.
      if (Math.max(after, 0) >= selfOnly.userId) return;
      const { users } = await ctx.directory.userPage(pred, selfOnly.userId - 1, 1);
      const mine = users.filter((u) => u.id === selfOnly.userId);
      await checkTime();
      const entries = await usersWithExtras(ctx, mine, needs);
      for (let i = 0; i < mine.length; i++) emit(entries[i], { phase, after: mine[i].id - 1 });
      return;
    }
    const load = async (afterId: number, limit: number): Promise<UserBatch> => {
      const { users, more } = await ctx.directory.userPage(pred, afterId, limit);
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
  if (c === 'groups') {
    const pred = planGroups(filter, staticMatcher(GROUPISH_CLASSES));
    if (pred.op === 'none') return;
    for await (const page of ctx.directory.groups(pred, Math.max(after, 0))) {
      await checkTime();
      const entries = await groupWithExtras(ctx, page, needs);
      for (let i = 0; i < page.length; i++) emit(entries[i], { phase, after: page[i].id - 1 });
    }
    return;
  }
  if (c === 'permissions') {
    const perms = await ctx.directory.permissions();
    for (let i = after + 1; i < perms.length; i++) {
      await checkTime();
      emit(await permissionWithMembers(ctx, perms[i], needs), { phase, after: i - 1 });
    }
    return;
  }
  for (let i = after + 1; i < ROLES.length; i++) emit(await roleWithMembers(ctx, ROLES[i], needs), { phase, after: i - 1 });
}

/** The entry a leaf DN names, or undefined when it does not exist (or is hidden). */
export async function leafEntry(ctx: BridgeContext, t: Target, needs: Needs, onlyUserId?: number): Promise<Entry | undefined> {
  switch (t.kind) {
    case 'user': {
      const u = await ctx.directory.user(t.username);
      if (!u || (onlyUserId !== undefined && u.id !== onlyUserId)) return undefined;
      return (await usersWithExtras(ctx, [u], needs))[0];
    }
    case 'group': {
      if (onlyUserId !== undefined) return undefined;
      const g = await ctx.directory.group(t.name);
      return g ? (await groupWithExtras(ctx, [g], needs))[0] : undefined;
    }
    case 'permission': {
      if (onlyUserId !== undefined) return undefined;
      const p = await ctx.directory.permission(t.appLabel, t.codename);
      return p ? permissionWithMembers(ctx, p, needs) : undefined;
    }
    case 'role':
      if (onlyUserId !== undefined) return undefined;
      return roleWithMembers(ctx, t.role, needs);
    default:
      return undefined;
  }
}

export const ALL_NEEDS: Needs = { memberOf: true, permissions: true, members: true };
export function needsFor(attrKeys: string[]): Needs {
  return needsOf(new Selection(attrKeys), new Set());
}
