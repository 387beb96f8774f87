// Django's rules over a store: who is visible, who may log in, what permissions a user
// effectively holds (Django's ModelBackend: inactive users hold none, active superusers hold
// all, others hold their own plus their groups'). The LDAP edge asks here, never the store.
import type { DirectoryStore, MemberRef } from './store.js';
import type { Group, GroupPredicate, Permission, Role, User, UserPredicate } from './model.js';

export interface DirectoryOptions {
  caseInsensitiveUsernames: boolean;
  showInactiveUsers: boolean;
}

const BATCH = 500;
/** The largest page of users read at once when the caller says how many it wants. */
const MAX_BATCH = 2000;
const PERMISSION_CACHE_MS = 5000;
const GROUP_NAME_CACHE_MS = 5000;
/** Beyond this many remembered group names the cache starts over (memory stays bounded). */
const GROUP_NAME_CACHE_MAX = 200_000;
/** Up to this many remembered groups, all of them are ranked by name once (again only when the
 * cache has grown or started over); beyond it each batch ranks its own groups, so that a site
 * with very many groups does not re-sort them all whenever one more is read. */
const RANK_ALL_MAX = 20_000;
const byName = (a: Group, b: Group): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
/** How long the names with case twins (posix.caseTwins) are used before they are read again:
 * reading them scans the user table (about a second at a million users on PostgreSQL), and
 * twins are rare and long-lived, while SSSD keeps what it looked up far longer (90 minutes). */
export const CASE_TWINS_MS = 60_000;

/** Users and groups whose names equal another's ignoring case (posix.caseTwins). */
export interface CaseTwins {
  users: ReadonlySet<string>;
  groups: ReadonlySet<string>;
}

export class Directory {
  private permCache: { at: number; list: Permission[]; byId: Map<number, Permission>; rank: Map<number, number>; byName: Map<string, Permission> } | undefined;

  constructor(
    readonly store: DirectoryStore,
    readonly opts: DirectoryOptions,
  ) {}

  get hasGroups(): boolean {
    return this.store.hasGroups;
  }
  get hasPermissions(): boolean {
    return this.store.hasPermissions;
  }

  /** The one user a name stands for: its exact match first, else the single user equal to it
   * ignoring case; two or more such case-twins without an exact hit stand for nobody (as Django's
   * get(username__iexact=...) would raise). The same with users.caseInsensitive or without:
   * LDAP clients that normalise DNs (django-auth-ldap lower-cases the DN its search found) must
   * still reach the account, and the password checked is always that account's. */
  private pick(users: User[], username: string): User | undefined {
    const exact = users.find((u) => u.username === username);
    if (exact) return exact;
    return users.length === 1 ? users[0] : undefined;
  }

  /** The account a name (a bind DN's, a base DN's, a member DN's) stands for, active or not (the
   * bind decides what inactive means): see pick. Without users.caseInsensitive the exact lookup
   * runs first (one indexed query) and the case-insensitive one only when it misses. */
  async loginUser(username: string): Promise<User | undefined> {
    if (this.opts.caseInsensitiveUsernames) return this.pick(await this.store.usersByUsername(username, true), username);
    const exact = await this.store.usersByUsername(username, false);
    const hit = exact.find((u) => u.username === username);
    if (hit) return hit;
    return this.pick(await this.store.usersByUsername(username, true), username);
  }

  isVisible(u: User): boolean {
    return u.isActive || this.opts.showInactiveUsers;
  }

  /** A user as searches and memberships see them. */
  async user(username: string): Promise<User | undefined> {
    const u = await this.loginUser(username);
    return u && this.isVisible(u) ? u : undefined;
  }

  /** The visible user with this id: one primary-key lookup, whatever else the caller wants
   * of the row (a bound user's own entry; the caller checks the rest in memory). */
  async userById(id: number): Promise<User | undefined> {
    const users = await this.store.findUsers({ op: 'eq', field: 'id', value: id, ci: false }, { afterId: id - 1, limit: 1 }, !this.opts.showInactiveUsers);
    return users[0]?.id === id ? users[0] : undefined;
  }

  /** One page of users matching a predicate, in id order after `afterId`: at most `limit`
   * (capped), and whether more may follow. Past `deadline` a windowed store throws
   * ScanTimeLimitError. */
  async userPage(pred: UserPredicate, afterId: number, limit: number, deadline?: number): Promise<{ users: User[]; more: boolean }> {
    const n = Math.max(1, Math.min(MAX_BATCH, limit));
    const users = await this.store.findUsers(pred, { afterId, limit: n, deadline }, !this.opts.showInactiveUsers);
    return { users, more: users.length >= n };
  }

  /** Every user matching a predicate, in id order, a page at a time. */
  async *users(pred: UserPredicate): AsyncGenerator<User[]> {
    for (let afterId = 0; ; ) {
      const { users, more } = await this.userPage(pred, afterId, BATCH);
      if (users.length) yield users;
      if (!more) return;
      afterId = users[users.length - 1].id;
    }
  }

  /** Each user's groups, by name. Memberships are read live; the names of groups by id are
   * remembered for GROUP_NAME_CACHE_MS (as the permission list is), so a page of a thousand
   * users sharing the same groups reads their names once, and a renamed group shows its new
   * name within that time. A deleted group takes its memberships with it, so it never
   * lingers in anyone's list. */
  async groupsOf(users: User[]): Promise<Map<number, Group[]>> {
    const out = new Map<number, Group[]>();
    if (!this.store.hasGroups || users.length === 0) return out;
    const ids = await this.store.groupIdsOfUsers(users.map((u) => u.id));
    const names = await this.groupNames(ids.values());
    // Groups sorted by name once, then each user's list as integer ranks in that order: a page
    // of a thousand users sorts twenty thousand memberships without a string comparison or a
    // lookup per comparison. The remembered groups are ranked together and the ranking kept
    // while the cache stays as it is (an export's later pages rank nothing: this was ~13 µs per
    // entry at a million users); past RANK_ALL_MAX, only this batch's groups.
    let sorted: Group[];
    let rank: Map<number, number>;
    if (names.size <= RANK_ALL_MAX) {
      const r = this.ranking;
      if (!r || r.of !== names || r.size !== names.size) {
        const all = [...names.values()].sort(byName);
        this.ranking = { of: names, size: names.size, sorted: all, rank: new Map(all.map((g, i) => [g.id, i])) };
      }
      ({ sorted, rank } = this.ranking!);
    } else {
      const distinct = new Map<number, Group>();
      for (const gids of ids.values()) {
        for (const id of gids) {
          const g = distinct.has(id) ? undefined : names.get(id);
          if (g) distinct.set(id, g);
        }
      }
      sorted = [...distinct.values()].sort(byName);
      rank = new Map(sorted.map((g, i) => [g.id, i]));
    }
    for (const [uid, gids] of ids) {
      const ranks: number[] = [];
      for (const id of gids) {
        const r = rank.get(id);
        if (r !== undefined) ranks.push(r);
      }
      ranks.sort((a, b) => a - b);
      const list: Group[] = new Array(ranks.length);
      for (let i = 0; i < ranks.length; i++) list[i] = sorted[ranks[i]];
      out.set(uid, list);
    }
    return out;
  }

  /** SSH public keys of a batch of users (posix.sshKeys); empty when none is mapped. */
  async sshKeysOf(users: User[]): Promise<Map<number, string[]>> {
    if (!this.store.sshKeysOfUsers || users.length === 0) return new Map();
    return this.store.sshKeysOfUsers(users.map((u) => u.id));
  }

  private groupCache: { at: number; byId: Map<number, Group> } | undefined;
  /** The remembered groups ranked by name (groupsOf), for one state of the cache's map. */
  private ranking: { of: Map<number, Group>; size: number; sorted: Group[]; rank: Map<number, number> } | undefined;

  private async groupNames(idLists: Iterable<number[]>): Promise<Map<number, Group>> {
    const now = Date.now();
    if (!this.groupCache || now - this.groupCache.at > GROUP_NAME_CACHE_MS || this.groupCache.byId.size > GROUP_NAME_CACHE_MAX) this.groupCache = { at: now, byId: new Map() };
    const byId = this.groupCache.byId;
    const missing = new Set<number>();
    for (const list of idLists) for (const id of list) if (!byId.has(id)) missing.add(id);
    const want = [...missing];
    for (let i = 0; i < want.length; i += MAX_BATCH) {
      for (const g of await this.store.groupsByIds(want.slice(i, i + MAX_BATCH))) byId.set(g.id, g);
    }
    return byId;
  }

  private twins: { at: number; value: CaseTwins; next?: Promise<void> } | undefined;
  private twinsFirst: Promise<CaseTwins> | undefined;

  /** The usernames and group names that have a case twin (frank / Frank). Read at first need,
   * then again in the background when older than CASE_TWINS_MS (the answer in hand serves
   * meanwhile, and stays if the re-read fails: the database being down fails the operations
   * that read it anyway). */
  async caseTwins(): Promise<CaseTwins> {
    const read = async (): Promise<CaseTwins> => {
      const { users, groups } = await this.store.caseTwinNames();
      return { users: new Set(users), groups: new Set(groups) };
    };
    const t = this.twins;
    if (!t) {
      this.twinsFirst ??= read().then(
        (value) => ((this.twins = { at: Date.now(), value }), value),
        (e) => {
          this.twinsFirst = undefined;
          throw e;
        },
      );
      return this.twinsFirst;
    }
    if (Date.now() - t.at > CASE_TWINS_MS && !t.next) {
      t.next = read().then(
        (value) => void (this.twins = { at: Date.now(), value }),
        () => void (t.next = undefined),
      );
    }
    return t.value;
  }

  /** Effective permissions as Django's ModelBackend computes them. */
  async permissionsOf(users: User[]): Promise<Map<number, Permission[]>> {
    const out = new Map<number, Permission[]>();
    if (!this.store.hasPermissions || users.length === 0) return out;
    const cache = await this.permissionIndex();
    const ordinary = users.filter((u) => u.isActive && !u.isSuperuser);
    const ids = ordinary.length ? await this.store.permissionIdsOfUsers(ordinary.map((u) => u.id)) : new Map<number, number[]>();
    for (const u of users) {
      if (!u.isActive) out.set(u.id, []);
      else if (u.isSuperuser) out.set(u.id, cache.list);
      else {
        // Look the user's few ids up (not a scan of every permission per user), in the
        // list's app_label.codename order.
        // Sorted as ranks (small integers), not as objects looked up in a map per comparison.
        const ranks: number[] = [];
        for (const id of ids.get(u.id) ?? []) {
          const r = cache.rank.get(id);
          if (r !== undefined) ranks.push(r);
        }
        ranks.sort((a, b) => a - b);
        const mine: Permission[] = [];
        for (let i = 0; i < ranks.length; i++) if (i === 0 || ranks[i] !== ranks[i - 1]) mine.push(cache.list[ranks[i]]);
        out.set(u.id, mine);
      }
    }
    return out;
  }

  private async permissionIndex() {
    const now = Date.now();
    if (!this.permCache || now - this.permCache.at > PERMISSION_CACHE_MS) {
      const list = (await this.store.allPermissions()).sort((a, b) => {
        const x = `${a.appLabel}.${a.codename}`;
        const y = `${b.appLabel}.${b.codename}`;
        return x < y ? -1 : x > y ? 1 : 0;
      });
      this.permCache = {
        at: now,
        list,
        byId: new Map(list.map((p) => [p.id, p])),
        rank: new Map(list.map((p, i) => [p.id, i])),
        byName: new Map(list.map((p) => [`${p.appLabel}.${p.codename}`, p])),
      };
    }
    return this.permCache;
  }

  async permissions(): Promise<Permission[]> {
    return (await this.permissionIndex()).list;
  }

  async permission(appLabel: string, codename: string): Promise<Permission | undefined> {
    return (await this.permissionIndex()).byName.get(`${appLabel}.${codename}`);
  }

  async permissionsById(): Promise<Map<number, Permission>> {
    return (await this.permissionIndex()).byId;
  }

  /** Django group names are case-sensitive and unique; LDAP cn is not. Exact name first. */
  async group(name: string): Promise<Group | undefined> {
    if (!this.store.hasGroups) return undefined;
    const exact = await this.store.groupsByName(name, false);
    if (exact.length) return exact[0];
    const ci = await this.store.groupsByName(name, true);
    return ci.length === 1 ? ci[0] : undefined;
  }

  async *groups(pred: GroupPredicate, startAfterId = 0, deadline?: number): AsyncGenerator<Group[]> {
    let afterId = startAfterId;
    for (;;) {
      const page = await this.store.findGroups(pred, { afterId, limit: BATCH, deadline });
      if (page.length) yield page;
      if (page.length < BATCH) return;
      afterId = page[page.length - 1].id;
    }
  }

  async groupPermissions(groups: Group[]): Promise<Map<number, Permission[]>> {
    const out = new Map<number, Permission[]>();
    if (!this.store.hasPermissions || groups.length === 0) return out;
    const byId = await this.permissionsById();
    const ids = await this.store.groupPermissionIds(groups.map((g) => g.id));
    for (const g of groups) {
      out.set(
        g.id,
        (ids.get(g.id) ?? []).map((id) => byId.get(id)).filter((p): p is Permission => !!p).sort((a, b) => (`${a.appLabel}.${a.codename}` < `${b.appLabel}.${b.codename}` ? -1 : 1)),
      );
    }
    return out;
  }

  async *groupMembers(group: Group): AsyncGenerator<MemberRef[]> {
    let afterId = 0;
    for (;;) {
      const page = await this.store.groupMembers(group.id, { afterId, limit: BATCH }, !this.opts.showInactiveUsers);
      if (page.length) yield page;
      if (page.length < BATCH) return;
      afterId = page[page.length - 1].id;
    }
  }

  /** Membership by names, in one query when names are exact (Apache's group check): undefined
   * when there is no group of exactly that name, so the caller can try the slower rules. */
  async groupMembershipFast(groupName: string, username: string): Promise<boolean | undefined> {
    if (!this.store.hasGroups || this.opts.caseInsensitiveUsernames) return undefined;
    const r = await this.store.groupMembership(groupName, username, !this.opts.showInactiveUsers);
    return r.group ? r.member : undefined;
  }

  /** has_perm by username in one query (exact usernames only; undefined otherwise). */
  async hasPermissionFast(username: string, p: Permission): Promise<boolean | undefined> {
    if (this.opts.caseInsensitiveUsernames) return undefined;
    return this.store.usernameHasPermission(username, p.id);
  }

  async isGroupMember(group: Group, user: User): Promise<boolean> {
    if (!this.isVisible(user)) return false;
    return this.store.isGroupMember(group.id, user.id);
  }

  /** Members of a permission's virtual group: active users holding it (Django's has_perm). */
  async *permissionHolders(p: Permission): AsyncGenerator<MemberRef[]> {
    let afterId = 0;
    for (;;) {
      const page = await this.store.permissionHolders(p.id, { afterId, limit: BATCH }, true);
      if (page.length) yield page;
      if (page.length < BATCH) return;
      afterId = page[page.length - 1].id;
    }
  }

  /** Django's user.has_perm for a model permission. */
  async hasPermission(user: User, p: Permission): Promise<boolean> {
    if (!user.isActive) return false;
    if (user.isSuperuser) return true;
    return this.store.userHasPermission(user.id, p.id);
  }

  roleHolds(role: Role, u: User): boolean {
    if (!this.isVisible(u)) return false;
    return role === 'staff' ? u.isStaff === true : u.isSuperuser === true;
  }

  async *roleMembers(role: Role): AsyncGenerator<User[]> {
    const field = role === 'staff' ? 'isStaff' : 'isSuperuser';
    yield* this.users({ op: 'eq', field, value: true, ci: false });
  }
}
