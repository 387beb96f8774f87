// Reading directory objects as LDAP entries with what a request needs: a user's groups,
// permissions and roles, a group's members and permissions, a permission's or a role's
// holders, each read only when the request selects (or filters on) the attribute that shows
// it. Search and compare both read entries this way.
import type { Group, Permission, Role, User } from '../../directory/model.js';
import { ROLES, type Container, type Target } from '../dit.js';
import { Entry, groupEntry, permissionEntry, privateGroupEntry, roleEntry, Selection, userEntry } from '../entries.js';
import type { BridgeContext } from '../context.js';
import { LOADS, type Load } from '../attributes.js';

/** A DN naming one user, group, permission or role. */
export type LeafTarget = Extract<Target, { kind: 'user' | 'group' | 'permission' | 'role' | 'privateGroup' }>;

/** What one request needs beyond the base columns, from its attribute list and filter: each
 * Load of the attribute table (attributes.ts) it selects or filters on. */
export interface Needs extends Record<Load, boolean> {
  /** The user attributes to build (by key); undefined: all of them. Apache's search asks for
   * [uid] and filters on objectClass and uid: no names, mail, flags or dates to format. */
  userAttrs?: (key: string) => boolean;
}

export function needsOf(sel: Selection, filterKeys: Set<string>): Needs {
  const all = filterKeys.has('*');
  const wants = (k: string) => sel.wants(k) || filterKeys.has(k) || all;
  const needs: Needs = { memberOf: false, permissions: false, members: false, userAttrs: sel.allUser || all ? undefined : wants };
  for (const [k, loads] of LOADS) if (wants(k)) for (const l of loads) needs[l] = true;
  return needs;
}

/** The entry a leaf DN names, or undefined when it does not exist (or is hidden). */
export async function leafEntry(ctx: BridgeContext, t: LeafTarget, needs: Needs, onlyUserId?: number): Promise<Entry | undefined> {
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
    case 'privateGroup': {
      // Only a Unix user (posix.unixUsers, posix.caseTwins) has one: uidNumber says so.
      const posix = ctx.config.posix;
      if (!posix || posix.primaryGroup !== 'private' || onlyUserId !== undefined) return undefined;
      const u = await ctx.directory.user(t.username);
      if (!u) return undefined;
      const [e] = await usersWithExtras(ctx, [u], needsFor(['uidNumber']));
      return e.has('uidnumber') ? privateGroupEntry(ctx.dit, u, posix) : undefined;
    }
  }
}

/** What reading the given attributes needs (a compare reads one). */
export function needsFor(attrKeys: string[]): Needs {
  return needsOf(new Selection(attrKeys), new Set());
}

/** The container a leaf lives in (its matchedDN when the leaf does not exist). */
export function containerOf(t: LeafTarget): Container {
  return t.kind === 'user' ? 'users' : t.kind === 'group' ? 'groups' : t.kind === 'permission' ? 'permissions' : t.kind === 'privateGroup' ? 'usergroups' : 'roles';
}

async function collect<T>(gen: AsyncGenerator<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of gen) out.push(...page);
  return out;
}

/** Which of these users are Unix users (posix.unixUsers) and their shells from
 * posix.loginShells, or undefined with posix off. Reads the memberships the settings name for
 * the batch, one query each. */
async function posixOf(
  ctx: BridgeContext,
  users: User[],
  groups: Map<number, Group[]> | undefined,
  perms: Map<number, Permission[]> | undefined,
): Promise<{ unix: Set<number>; shells: Map<number, string> } | undefined> {
  const posix = ctx.config.posix;
  if (!posix) return undefined;
  const active = users.filter((u) => u.isActive);
  const rule = posix.unixUsers;
  const needGroups = rule.kind === 'group' || posix.loginShells.length > 0;
  const gs = needGroups && active.length ? (groups ?? (await ctx.directory.groupsOf(active))) : new Map<number, Group[]>();
  let unix: User[] = active;
  if (rule.kind === 'group') unix = active.filter((u) => (gs.get(u.id) ?? []).some((g) => g.name === rule.name));
  else if (rule.kind === 'permission') {
    const ps = perms ?? (active.length ? await ctx.directory.permissionsOf(active) : new Map<number, Permission[]>());
    unix = active.filter((u) => (ps.get(u.id) ?? []).some((p) => p.appLabel === rule.appLabel && p.codename === rule.codename));
  }
  if (posix.caseTwins === 'exclude' && unix.length) {
    const twins = (await ctx.directory.caseTwins()).users;
    if (twins.size) unix = unix.filter((u) => !twins.has(u.username));
  }
  const shells = new Map<number, string>();
  if (posix.loginShells.length) {
    for (const u of unix) {
      const mine = new Set((gs.get(u.id) ?? []).map((g) => g.name));
      const hit = posix.loginShells.find(([g]) => mine.has(g));
      if (hit) shells.set(u.id, hit[1]);
    }
  }
  return { unix: new Set(unix.map((u) => u.id)), shells };
}

export async function usersWithExtras(ctx: BridgeContext, users: User[], needs: Needs): Promise<Entry[]> {
  // Independent reads: on a pooled database they run side by side.
  const [groups, perms] = await Promise.all([needs.memberOf ? ctx.directory.groupsOf(users) : undefined, needs.permissions ? ctx.directory.permissionsOf(users) : undefined]);
  const px = await posixOf(ctx, users, groups, perms);
  const wantKeys = px && px.unix.size > 0 && ctx.config.django.sshKeys && (!needs.userAttrs || needs.userAttrs('sshpublickey'));
  const keys = wantKeys ? await ctx.directory.sshKeysOf(users.filter((u) => px.unix.has(u.id))) : undefined;
  return users.map((u) => {
    const roles: Role[] | undefined = needs.memberOf ? ROLES.filter((r) => ctx.directory.roleHolds(r, u)) : undefined;
    return userEntry(ctx.dit, u, {
      only: needs.userAttrs,
      groups: groups ? (groups.get(u.id) ?? []) : undefined,
      permissions: perms ? (perms.get(u.id) ?? []) : undefined,
      roles,
      posix: px?.unix.has(u.id) ? ctx.config.posix! : undefined,
      posixShell: px?.shells.get(u.id),
      sshKeys: keys ? (keys.get(u.id) ?? []) : undefined,
    });
  });
}

export async function groupWithExtras(ctx: BridgeContext, gs: Group[], needs: Needs): Promise<Entry[]> {
  const perms = needs.permissions ? await ctx.directory.groupPermissions(gs) : undefined;
  const posix = ctx.config.posix ?? undefined;
  // posix.caseTwins exclude: a group named like another ignoring case is no posixGroup.
  const twins = posix?.caseTwins === 'exclude' && gs.length ? (await ctx.directory.caseTwins()).groups : undefined;
  const out: Entry[] = [];
  for (const g of gs) {
    const members = needs.members ? (await collect(ctx.directory.groupMembers(g))).map((m) => m.username) : undefined;
    out.push(groupEntry(ctx.dit, g, members, perms ? (perms.get(g.id) ?? []) : undefined, twins?.has(g.name) ? undefined : posix));
  }
  return out;
}

export async function permissionWithMembers(ctx: BridgeContext, p: Permission, needs: Needs): Promise<Entry> {
  const members = needs.members ? (await collect(ctx.directory.permissionHolders(p))).map((m) => m.username) : undefined;
  return permissionEntry(ctx.dit, p, members);
}

export async function roleWithMembers(ctx: BridgeContext, role: Role, needs: Needs): Promise<Entry> {
  const members = needs.members ? (await collect(ctx.directory.roleMembers(role))).map((u) => u.username) : undefined;
  return roleEntry(ctx.dit, role, members);
}
