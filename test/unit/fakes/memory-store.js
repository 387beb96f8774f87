// A DirectoryStore (src/directory/store.ts) held in memory, for unit tests of what sits above
// the port: the directory, the LDAP operations. Hand-written because no real database is
// wanted there; the SQL stores are tested against real databases elsewhere. It answers the
// predicates exactly (the role lists take them as they come), and `down = true` makes every
// query throw StoreUnavailableError, as a store does when its database is gone.
import { StoreUnavailableError } from '../../../dist/directory/store.js';

/** A user row with Django's defaults; `password` is a Django hash (or '!' for unusable). */
export function user(id, username, fields = {}) {
  return {
    id,
    username,
    password: '!',
    isActive: true,
    isStaff: false,
    isSuperuser: false,
    firstName: null,
    lastName: null,
    email: null,
    dateJoined: null,
    lastLogin: null,
    ...fields,
  };
}

const text = (v, ci) => (ci ? String(v).toLowerCase() : String(v));

function matches(pred, row) {
  switch (pred.op) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'and':
      return pred.items.every((p) => matches(p, row));
    case 'or':
      return pred.items.some((p) => matches(p, row));
    case 'not':
      return !matches(pred.item, row);
    case 'present': {
      const v = row[pred.field];
      return v !== null && v !== undefined && v !== '';
    }
    case 'eq': {
      const v = row[pred.field];
      if (v === null || v === undefined) return false;
      return typeof v === 'string' ? text(v, pred.ci) === text(pred.value, pred.ci) : String(v) === String(pred.value);
    }
    case 'like': {
      const v = row[pred.field];
      if (v === null || v === undefined) return false;
      let s = text(v, pred.ci);
      if (pred.initial !== undefined) {
        if (!s.startsWith(text(pred.initial, pred.ci))) return false;
        s = s.slice(pred.initial.length);
      }
      for (const part of pred.any) {
        const at = s.indexOf(text(part, pred.ci));
        if (at < 0) return false;
        s = s.slice(at + part.length);
      }
      return pred.final === undefined || s.endsWith(text(pred.final, pred.ci));
    }
    case 'cmp': {
      const v = row[pred.field];
      if (v === null || v === undefined) return false;
      // A time column holds a Date and is compared with one (filter-plan.ts).
      const a = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : text(v, pred.ci);
      const b = v instanceof Date ? pred.value.getTime() : typeof v === 'number' ? Number(pred.value) : text(pred.value, pred.ci);
      return pred.dir === 'ge' ? a >= b : a <= b;
    }
    default:
      throw new Error(`memory store: unknown predicate ${pred.op}`);
  }
}

const page = (rows, { afterId, limit }) => rows.filter((r) => r.id > afterId).sort((a, b) => a.id - b.id).slice(0, limit);

export class MemoryStore {
  kind = 'memory';
  onQuery = undefined;
  /** Every query throws StoreUnavailableError while true. */
  down = false;

  /**
   * users: rows from user(); groups: [{ id, name }]; permissions: [{ id, appLabel, codename, name }];
   * memberships: [[userId, groupId]]; userPermissions: [[userId, permissionId]];
   * groupPermissions: [[groupId, permissionId]]. hasGroups / hasPermissions default to true.
   */
  constructor({ users = [], groups = [], permissions = [], memberships = [], userPermissions = [], groupPermissions = [], hasGroups = true, hasPermissions = true } = {}) {
    Object.assign(this, { users, groups, permissions, memberships, userPermissions, groupPermissions, hasGroups, hasPermissions });
  }

  async query(fn) {
    if (this.down) throw new StoreUnavailableError('memory store: the database is down');
    return fn();
  }

  /** Permission ids a user holds directly or through a group. */
  heldBy(userId) {
    const groups = this.memberships.filter(([u]) => u === userId).map(([, g]) => g);
    return new Set([...this.userPermissions.filter(([u]) => u === userId).map(([, p]) => p), ...this.groupPermissions.filter(([g]) => groups.includes(g)).map(([, p]) => p)]);
  }

  verifySchema() {
    return this.query(() => undefined);
  }
  async close() {}
  ping() {
    return this.query(() => undefined);
  }

  usersByUsername(username, caseInsensitive) {
    return this.query(() => this.users.filter((u) => text(u.username, caseInsensitive) === text(username, caseInsensitive)));
  }
  findUsers(pred, p, activeOnly) {
    return this.query(() => page(this.users.filter((u) => (!activeOnly || u.isActive) && matches(pred, u)), p));
  }
  groupIdsOfUsers(userIds) {
    return this.query(() => new Map(userIds.map((id) => [id, this.memberships.filter(([u]) => u === id).map(([, g]) => g)])));
  }
  groupsByIds(ids) {
    return this.query(() => this.groups.filter((g) => ids.includes(g.id)));
  }
  permissionIdsOfUsers(userIds) {
    return this.query(() => new Map(userIds.map((id) => [id, [...this.heldBy(id)]])));
  }
  findGroups(pred, p) {
    return this.query(() => page(this.groups.filter((g) => matches(pred, g)), p));
  }
  groupsByName(name, caseInsensitive) {
    return this.query(() => this.groups.filter((g) => text(g.name, caseInsensitive) === text(name, caseInsensitive)));
  }
  groupMembers(groupId, p, activeOnly) {
    return this.query(() => page(this.users.filter((u) => (!activeOnly || u.isActive) && this.memberships.some(([m, g]) => m === u.id && g === groupId)), p).map((u) => ({ id: u.id, username: u.username })));
  }
  isGroupMember(groupId, userId) {
    return this.query(() => this.memberships.some(([u, g]) => u === userId && g === groupId));
  }
  groupPermissionIds(groupIds) {
    return this.query(() => new Map(groupIds.map((id) => [id, this.groupPermissions.filter(([g]) => g === id).map(([, p]) => p)])));
  }
  groupMembership(groupName, username, activeOnly) {
    return this.query(() => {
      const g = this.groups.find((x) => x.name === groupName);
      const u = this.users.find((x) => x.username === username && (!activeOnly || x.isActive));
      return { group: !!g, member: !!(g && u && this.memberships.some(([m, gid]) => m === u.id && gid === g.id)) };
    });
  }
  usernameHasPermission(username, permissionId) {
    return this.query(() => {
      const u = this.users.find((x) => x.username === username && x.isActive);
      return !!u && (u.isSuperuser === true || this.heldBy(u.id).has(permissionId));
    });
  }
  allPermissions() {
    return this.query(() => [...this.permissions]);
  }
  permissionHolders(permissionId, p, activeOnly) {
    return this.query(() => page(this.users.filter((u) => (!activeOnly || u.isActive) && (u.isSuperuser === true || this.heldBy(u.id).has(permissionId))), p).map((u) => ({ id: u.id, username: u.username })));
  }
  userHasPermission(userId, permissionId) {
    return this.query(() => this.heldBy(userId).has(permissionId));
  }
  caseTwinNames() {
    const twins = (names) => names.filter((n) => names.filter((m) => m.toLowerCase() === n.toLowerCase()).length > 1);
    return this.query(() => ({ users: twins(this.users.map((u) => u.username)), groups: this.hasGroups ? twins(this.groups.map((g) => g.name)) : [] }));
  }
}
