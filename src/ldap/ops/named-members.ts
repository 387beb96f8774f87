// A search whose filter names members — `(member=uid=alice,ou=users,…)`, `(memberUid=alice)` —
// over the permissions and roles. Their holders are a query over the whole user table each
// (superusers hold every permission, and is_superuser has no index), so reading every entry's
// holders to test one user against them cost one full scan per permission at 300,000 users
// (issue #14). Instead the named user is looked up once, with what they hold (their own and
// their groups' permissions, all of them for an active superuser; the roles their flags give),
// and each equality test naming them is decided from that: TRUE on an entry they hold, FALSE
// elsewhere. The filter is then evaluated with the other member tests unknown
// (evaluateWithout); only an entry it still cannot decide, or one matched whose members the
// client asked to see, has its holders read.
//
// What this takes for granted: a holder matches the assertion only when its username is the
// named user's, i.e. no two usernames are equal under the attribute's matching rule. That holds
// with exact usernames (users.caseInsensitive off; with it on the rule ignores case, several
// accounts may match one name, and this path is not taken), save for usernames differing only
// in what LDAP string preparation drops (insignificant spaces, soft hyphens), which Django's
// username rules and its NFKC normalisation do not produce.
import type { Group, Permission, Role, User } from '../../directory/model.js';
import type { BridgeContext } from '../context.js';
import { evaluateWithout, type EvalEntry, type Filter, type Tri } from '../filter.js';
import { attributeKey, normalizeValue } from '../schema.js';

/** The attributes a permission or role entry takes from its holders. */
export const MEMBER_KEYS: ReadonlySet<string> = new Set(['member', 'memberuid']);

/** At most this many distinct names in one filter are looked up (one query each, and one for
 * their permissions); past that the filter is evaluated the old way. */
const MAX_NAMES = 16;

/** Always true, always false (RFC 4526's absolute filters). */
const TRUE_FILTER: Filter = Object.freeze({ type: 'and', filters: [] }) as Filter;
const FALSE_FILTER: Filter = Object.freeze({ type: 'or', filters: [] }) as Filter;

/** What the users a filter names hold. */
export interface NamedHolders {
  /** The filter's member tests, each with the user it names (undefined: names nobody, so it
   * is FALSE on every permission and role). */
  readonly leaves: ReadonlyMap<Filter, User | undefined>;
  /** The named users who hold their test's value, by id. */
  readonly users: ReadonlyMap<number, User>;
}

/** The member equality tests of `filter`, resolved; undefined when it has none, too many names,
 * or usernames are case-insensitive. */
export async function namedHolders(ctx: BridgeContext, filter: Filter): Promise<NamedHolders | undefined> {
  if (ctx.config.caseInsensitiveUsernames) return undefined;
  const tests: Array<{ leaf: Filter; username: string; key: string; assertion: string }> = [];
  const walk = (f: Filter): void => {
    if (f.type === 'and' || f.type === 'or') f.filters.forEach(walk);
    else if (f.type === 'not') walk(f.filter);
    else if (f.type === 'eq') {
      const key = attributeKey(f.attr);
      if (!MEMBER_KEYS.has(key)) return;
      // The value as the entry's values are compared with it; an invalid one stays Undefined.
      const assertion = normalizeValue(ctx.equalityOf(key), f.value, ctx.caseExactDnTypes);
      if (assertion === undefined) return;
      let username = f.value;
      if (key === 'member') {
        try {
          const t = ctx.dit.classify(f.value);
          if (t.kind !== 'user') return; // another kind of DN: left to the holders
          username = t.username;
        } catch {
          return;
        }
      }
      tests.push({ leaf: f, username, key, assertion });
    }
  };
  walk(filter);
  const names = [...new Set(tests.map((t) => t.username))];
  if (names.length === 0 || names.length > MAX_NAMES) return undefined;

  const found = new Map(await Promise.all(names.map(async (n) => [n, await ctx.directory.loginUser(n)] as const)));
  const leaves = new Map<Filter, User | undefined>();
  const users = new Map<number, User>();
  for (const t of tests) {
    const u = found.get(t.username);
    // The user's own value must be what the test asserts (memberUid=Alice finds alice by a
    // bind's rules, but alice's memberUid is not Alice): otherwise no holder has that value.
    const value = u === undefined ? undefined : t.key === 'member' ? ctx.dit.userDn(u.username) : u.username;
    const holds = value !== undefined && normalizeValue(ctx.equalityOf(t.key), value, ctx.caseExactDnTypes) === t.assertion;
    leaves.set(t.leaf, holds ? u : undefined);
    if (holds) users.set(u!.id, u!);
  }
  return { leaves, users };
}

/** Each named user's permission ids (read only where permissions are searched: initgroups
 * over the groups needs none). */
export async function permissionsOfNamed(ctx: BridgeContext, named: NamedHolders): Promise<Map<number, ReadonlySet<number>>> {
  const perms = ctx.directory.hasPermissions && named.users.size ? await ctx.directory.permissionsOf([...named.users.values()]) : new Map<number, Permission[]>();
  const out = new Map<number, ReadonlySet<number>>();
  for (const id of named.users.keys()) out.set(id, new Set((perms.get(id) ?? []).map((p) => p.id)));
  return out;
}

/** `filter` with each named member test replaced by its value on an entry: TRUE where
 * `holds(user)`, FALSE otherwise. */
function decided(f: Filter, named: NamedHolders, holds: (u: User) => boolean): Filter {
  switch (f.type) {
    case 'and':
    case 'or':
      return { type: f.type, filters: f.filters.map((s) => decided(s, named, holds)) };
    case 'not':
      return { type: 'not', filter: decided(f.filter, named, holds) };
    default: {
      if (!named.leaves.has(f)) return f;
      const u = named.leaves.get(f);
      return u !== undefined && holds(u) ? TRUE_FILTER : FALSE_FILTER;
    }
  }
}

/** The ids of the groups each named user is a listed member of (a group's member and
 * memberUid list its visible members: an inactive user is in none unless users.showInactive). */
export async function groupsOfNamed(ctx: BridgeContext, named: NamedHolders): Promise<Map<number, ReadonlySet<number>>> {
  const users = new Map<number, User>();
  for (const u of named.users.values()) if (ctx.directory.isVisible(u)) users.set(u.id, u);
  const groups = users.size ? await ctx.directory.groupsOf([...users.values()]) : new Map<number, Group[]>();
  const out = new Map<number, ReadonlySet<number>>();
  for (const id of users.keys()) out.set(id, new Set((groups.get(id) ?? []).map((g) => g.id)));
  return out;
}

/** The filter's value on a group entry read without its members, from the named users'
 * groups (Undefined: read them). Initgroups at a million users: a group's member list may be
 * a hundred thousand names, and SSSD only asks which groups hold one user. */
export function onGroup(ctx: BridgeContext, filter: Filter, named: NamedHolders, theirGroups: ReadonlyMap<number, ReadonlySet<number>>, g: Group, entry: EvalEntry): Tri {
  return evaluateWithout(decided(filter, named, (u) => theirGroups.get(u.id)?.has(g.id) === true), entry, ctx, MEMBER_KEYS);
}

/** The filter's value on a permission entry read without its holders (Undefined: read them). */
export function onPermission(ctx: BridgeContext, filter: Filter, named: NamedHolders, theirPermissions: ReadonlyMap<number, ReadonlySet<number>>, p: Permission, entry: EvalEntry): Tri {
  return evaluateWithout(decided(filter, named, (u) => theirPermissions.get(u.id)?.has(p.id) === true), entry, ctx, MEMBER_KEYS);
}

/** The filter's value on a role entry read without its holders (Undefined: read them). */
export function onRole(ctx: BridgeContext, filter: Filter, named: NamedHolders, role: Role, entry: EvalEntry): Tri {
  return evaluateWithout(decided(filter, named, (u) => ctx.directory.roleHolds(role, u)), entry, ctx, MEMBER_KEYS);
}
