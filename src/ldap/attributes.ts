// The attributes of a user, group, permission and role entry, one row each: the LDAP definition
// (names, OID, matching rule, syntax), where the values come from (a column of the Django
// table, a value derived from columns, or the memberships loaded beside the row), and whether a
// filter on it can run as SQL. Entry building (entries.ts), the filter planner (filter-plan.ts),
// cn=Subschema and schemas/django-ldap-bridge.schema (schema.ts), the column list of the config,
// `init`, `doctor` and the start-up schema check (django/mapping.ts), and the SQL store's
// column list all read these tables, so a column-backed attribute is added as one row here
// (plus its default in schemas/config.schema.json).
//
// It lives in src/ldap/ because what it names are LDAP attributes and their matching rules;
// the Django side (columns, config settings) is described in LDAP's terms, as the attribute it
// feeds. It imports nothing from the rest of the LDAP code but the shape of a type definition,
// so schema.ts, the entry builder and the planner can all build on it without an import cycle.
import type { Group, Permission, Role, User } from '../directory/model.js';
import type { PosixSettings } from '../directory/posix.js';
import { SYNTAX, type AttributeType } from './attribute-type.js';

/** The DNs an entry's memberships name (the tree, dit.ts, gives them). */
export interface MemberDns {
  userDn(username: string): string;
  groupDn(name: string): string;
  permissionDn(p: Permission): string;
  roleDn(r: Role): string;
}

// The bridge's own attributes live under a private arc. They describe Django facts that no
// standard schema has (is_staff, permissions, ...).
const ARC = '1.3.6.1.4.1.99999.1';

/** How a column's value becomes LDAP text: as it is (text), in decimal (int), TRUE/FALSE (bool),
 * GeneralizedTime (time). The password hash is read for binds and never served. */
export type ColumnKind = 'text' | 'int' | 'bool' | 'time' | 'hash';

/** A column of the Django user table that the bridge reads. */
export interface UserColumn {
  /** The User property it fills, which is also its key in the resolved config (django.users). */
  field: string;
  /** The setting that names it: users.columns.<field>, or users.usernameField. */
  setting: string;
  /** The column of Django's own User model (AbstractUser): the setting's default. null: Django's
   * User has no such field, so it is served only where the config names a column. */
  default: string | null;
  /** The model may lack it: the setting may be null, and the attribute is then not served. */
  optional: boolean;
  kind: ColumnKind;
  /** What it feeds, as `doctor` lists it; default: the attributes that serve it as it is. */
  serves?: string;
}

/** An optional column under users.columns (the attribute's own column, usually). The field and
 * whether it is optional keep their literal types, so the config's mapping type (config/types.ts)
 * is read off the table. */
function userColumn<const F extends string, const O extends boolean = true>(
  field: F,
  dflt: string | null,
  kind: ColumnKind,
  more: { optional?: O; serves?: string; setting?: string } = {},
): UserColumn & { field: F; optional: O } {
  return { field, setting: `users.columns.${field}`, default: dflt, optional: (more.optional ?? true) as O, kind, ...more };
}

/** The columns of Django's User, in the order the config file, `init` and `doctor` list them.
 * A column only one attribute reads may instead be declared in that attribute's row: it is then
 * listed after these (USER_COLUMNS). */
const C = {
  id: userColumn('id', 'id', 'int', { optional: false }),
  username: userColumn('username', 'username', 'text', { optional: false, setting: 'users.usernameField' }),
  password: userColumn('password', 'password', 'hash', { optional: false, serves: '(password: checked, never served)' }),
  isActive: userColumn('isActive', 'is_active', 'bool', { optional: false }),
  isStaff: userColumn('isStaff', 'is_staff', 'bool', { serves: 'djangoIsStaff, cn=staff' }),
  isSuperuser: userColumn('isSuperuser', 'is_superuser', 'bool', { serves: 'djangoIsSuperuser, cn=superusers' }),
  firstName: userColumn('firstName', 'first_name', 'text', { serves: 'givenName, cn' }),
  lastName: userColumn('lastName', 'last_name', 'text', { serves: 'sn, cn' }),
  email: userColumn('email', 'email', 'text'),
  dateJoined: userColumn('dateJoined', 'date_joined', 'time'),
  lastLogin: userColumn('lastLogin', 'last_login', 'time'),
};

type DjangoUserColumn = (typeof C)[keyof typeof C];
/** The mapping of the user table's columns that the table implies (config's django.users without
 * `table`): each of Django's User fields by its property name, a column name where the model
 * must have it and a name or null where it may lack it; a column a row declares (beyond
 * Django's User) goes by its field name, with a name or null. */
export type UserColumnMapping = { [c in DjangoUserColumn as c['field']]: c['optional'] extends false ? string : string | null } & { readonly [field: string]: string | null };

/** What a search loaded beside a user's row (undefined: not loaded, so not served). */
export interface UserExtras {
  /** Build only the attributes whose key this accepts (objectClass always); default all. */
  only?: (key: string) => boolean;
  groups?: Group[];
  permissions?: Permission[];
  roles?: Role[];
  /** The POSIX settings when they are on (posix.enabled): posixAccount attributes are served. */
  posix?: PosixSettings;
  /** The user's shell from posix.loginShells, when a listed group holds them. */
  posixShell?: string;
  /** The user's SSH public keys (posix.sshKeys), when loaded. */
  sshKeys?: string[];
}

/** What a search loaded beside a group's row. */
export interface GroupExtras {
  members?: string[];
  permissions?: Permission[];
  /** As UserExtras.posix: a Django group is then a posixGroup. */
  posix?: PosixSettings;
}

/** An attribute's values for one entry; null, undefined and '' are dropped (LDAP has no empty
 * value), and undefined as a whole means "not loaded": no attribute. */
export type Values = readonly (string | null | undefined)[] | undefined;

/** Where an attribute's values come from, for entries made from rows of type T with extras X. */
export type Source<T, X, Col> =
  /** The same values on every entry (objectClass). */
  | { fixed: readonly string[] }
  /** One column's value, formatted by its kind; `trim` serves it without surrounding spaces. */
  | { column: Col; trim?: boolean }
  /** A value computed from the row's columns (cn from the first and last names). */
  | { derived: (row: T) => string | null }
  /** Values from what was loaded beside the row (memberships); undefined when not loaded.
   * `loads`: what a request selecting or filtering on it must load (read-entries.ts). */
  | { related: (row: T, x: X, dns: MemberDns) => Values; loads: readonly Load[] };

/** What a search may load beside the rows: a user's groups and roles (memberOf), a user's or a
 * group's permissions, a group's (permission's, role's) members. */
export type Load = 'memberOf' | 'permissions' | 'members';

export interface AttributeRow<S> {
  /** The LDAP definition, served in cn=Subschema. Its equality rule decides the others a filter
   * may use (filter.ts): substrings under caseIgnore and caseExact, ordering under all but dn,
   * boolean and objectIdentifier. `operational` ones are sent only when asked for. */
  type: AttributeType;
  from: S;
  /** Filters on it are planned as SQL on its column (filter-plan.ts): text compared exactly, or
   * case-insensitively under caseIgnore; integers and booleans by value; times by ordering,
   * with a margin (filter-plan.ts). Not the password hash. */
  sql?: boolean;
  /** Its equality follows users.caseInsensitive (usernames), whatever `type` says. */
  usernameCase?: boolean;
  /** A POSIX number computed as a base setting plus the row's id: a filter on it is planned as
   * SQL on the id (value minus the base), never a scan. Served and planned only with posix on. */
  idNumber?: (p: PosixSettings) => number | undefined;
}

export type UserAttribute = AttributeRow<Source<User, UserExtras, UserColumn>>;

/** The group table's columns a group entry reads (config's django.groups has one setting each). */
export type GroupColumnField = 'id' | 'name';

/** A column of the Django group table. */
export interface GroupColumn {
  field: GroupColumnField;
  setting: string;
  default: string;
  kind: ColumnKind;
}
const G = {
  id: { field: 'id', setting: 'groups.id', default: 'id', kind: 'int' },
  name: { field: 'name', setting: 'groups.name', default: 'name', kind: 'text' },
} satisfies Record<string, GroupColumn>;

export type GroupAttribute = AttributeRow<Source<Group, GroupExtras, GroupColumn>>;

// Definitions several kinds of entry share.
const OBJECT_CLASS: AttributeType = { oid: '2.5.4.0', names: ['objectClass'], equality: 'objectIdentifier', syntax: SYNTAX.oid };
const CN: AttributeType = { oid: '2.5.4.3', names: ['cn', 'commonName'], equality: 'caseIgnore', syntax: SYNTAX.dirString };
const DJANGO_ID: AttributeType = { oid: `${ARC}.1`, names: ['djangoId'], equality: 'integer', syntax: SYNTAX.integer, singleValue: true, description: 'Primary key of the Django row' };
/** Shared with the tree's entries (schema.ts lists it among the others' types). */
export const DESCRIPTION: AttributeType = { oid: '2.5.4.13', names: ['description'], equality: 'caseIgnore', syntax: SYNTAX.dirString };
const MEMBER: AttributeType = { oid: '2.5.4.31', names: ['member'], equality: 'dn', syntax: SYNTAX.dn };
const MEMBER_UID: AttributeType = { oid: '1.3.6.1.1.1.1.12', names: ['memberUid'], equality: 'caseExact', syntax: SYNTAX.ia5 };
const UID_NUMBER: AttributeType = { oid: '1.3.6.1.1.1.1.0', names: ['uidNumber'], equality: 'integer', syntax: SYNTAX.integer, singleValue: true };
const GID_NUMBER: AttributeType = { oid: '1.3.6.1.1.1.1.1', names: ['gidNumber'], equality: 'integer', syntax: SYNTAX.integer, singleValue: true };
const DJANGO_PERMISSION: AttributeType = { oid: `${ARC}.7`, names: ['djangoPermission'], equality: 'caseExact', syntax: SYNTAX.dirString, description: 'An effective Django permission, app_label.codename' };

/** objectClass values of each kind of entry. */
export const USER_CLASSES = ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'djangoAccount'];
export const GROUP_CLASSES = ['top', 'groupOfNames', 'djangoGroup'];
/** The classes added with posix on (RFC 2307 / rfc2307bis: both auxiliary here). */
export const POSIX_USER_CLASSES = [...USER_CLASSES, 'posixAccount'];
/** A Unix user with SSH keys (posix.sshKeys) is also an openssh-lpk ldapPublicKey. */
export const SSH_KEY_CLASS = 'ldapPublicKey';
export const POSIX_SSH_USER_CLASSES = [...POSIX_USER_CLASSES, SSH_KEY_CLASS];
export const POSIX_GROUP_CLASSES = [...GROUP_CLASSES, 'posixGroup'];

// RFC 2307 numbers: a base plus the Django id, so they never change on a rename.
const uidNumber = (u: User, p: PosixSettings): number => p.uidBase + u.id;
const IA5_EXACT = { equality: 'caseExact', syntax: SYNTAX.ia5, singleValue: true } as const;
const NIS = '1.3.6.1.1.1.1';
/** The homeDirectory template filled in: {uid} the username, {id} the Django id. */
export const homeDirectory = (template: string, u: Pick<User, 'id' | 'username'>): string => template.replace(/\{(uid|id)\}/g, (_m, k: string) => (k === 'uid' ? u.username : String(u.id)));

// Names are served trimmed; an empty one is not served (LDAP has no empty values).
const first = (u: User): string => u.firstName?.trim() ?? '';
const last = (u: User): string => u.lastName?.trim() ?? '';
const fullName = (u: User): string => `${first(u)} ${last(u)}`.trim() || u.username;
/** app_label.codename of each permission, made once per permission object (the directory keeps
 * them for seconds; an export names each in thousands of entries). */
const permissionName = (() => {
  const names = new WeakMap<Permission, string>();
  return (p: Permission): string => {
    let n = names.get(p);
    if (n === undefined) names.set(p, (n = `${p.appLabel}.${p.codename}`));
    return n;
  };
})();
const permissionNames = (ps: Permission[] | undefined): string[] | undefined => ps?.map(permissionName);

/** A user entry's attributes, in the order an entry lists them. */
export const USER_ATTRIBUTES: readonly UserAttribute[] = [
  { type: OBJECT_CLASS, from: { fixed: USER_CLASSES } },
  // uid follows Django's username rule; the server swaps in caseIgnore when configured so.
  { type: { oid: '0.9.2342.19200300.100.1.1', names: ['uid', 'userid'], equality: 'caseExact', syntax: SYNTAX.dirString }, from: { column: C.username }, sql: true, usernameCase: true },
  { type: CN, from: { derived: fullName } },
  { type: { oid: '2.5.4.4', names: ['sn', 'surname'], equality: 'caseIgnore', syntax: SYNTAX.dirString }, from: { derived: (u) => last(u) || u.username } },
  { type: { oid: '2.5.4.42', names: ['givenName', 'gn'], equality: 'caseIgnore', syntax: SYNTAX.dirString }, from: { column: C.firstName, trim: true }, sql: true },
  { type: { oid: '2.16.840.1.113730.3.1.241', names: ['displayName'], equality: 'caseIgnore', syntax: SYNTAX.dirString, singleValue: true }, from: { derived: fullName } },
  { type: { oid: '0.9.2342.19200300.100.1.3', names: ['mail', 'rfc822Mailbox'], equality: 'caseIgnore', syntax: SYNTAX.ia5 }, from: { column: C.email }, sql: true },
  { type: DJANGO_ID, from: { column: C.id }, sql: true },
  { type: { oid: `${ARC}.2`, names: ['djangoIsActive'], equality: 'boolean', syntax: SYNTAX.boolean, singleValue: true, description: 'Django is_active' }, from: { column: C.isActive }, sql: true },
  { type: { oid: `${ARC}.3`, names: ['djangoIsStaff'], equality: 'boolean', syntax: SYNTAX.boolean, singleValue: true, description: 'Django is_staff' }, from: { column: C.isStaff }, sql: true },
  { type: { oid: `${ARC}.4`, names: ['djangoIsSuperuser'], equality: 'boolean', syntax: SYNTAX.boolean, singleValue: true, description: 'Django is_superuser' }, from: { column: C.isSuperuser }, sql: true },
  { type: { oid: `${ARC}.5`, names: ['djangoDateJoined'], equality: 'generalizedTime', syntax: SYNTAX.time, singleValue: true, description: 'Django date_joined' }, from: { column: C.dateJoined }, sql: true },
  { type: { oid: `${ARC}.6`, names: ['djangoLastLogin'], equality: 'generalizedTime', syntax: SYNTAX.time, singleValue: true, description: 'Django last_login' }, from: { column: C.lastLogin }, sql: true },
  { type: { oid: '2.5.18.1', names: ['createTimestamp'], equality: 'generalizedTime', syntax: SYNTAX.time, singleValue: true, operational: true }, from: { column: C.dateJoined }, sql: true },
  {
    type: { oid: '1.2.840.113556.1.2.102', names: ['memberOf'], equality: 'dn', syntax: SYNTAX.dn, operational: false },
    from: {
      loads: ['memberOf', 'permissions'],
      related: (_u, x, dns) => {
        if (!x.groups && !x.permissions && !x.roles) return undefined;
        const memberOf: string[] = [];
        if (x.groups) for (const g of x.groups) memberOf.push(dns.groupDn(g.name));
        if (x.permissions) for (const p of x.permissions) memberOf.push(dns.permissionDn(p));
        if (x.roles) for (const r of x.roles) memberOf.push(dns.roleDn(r));
        return memberOf;
      },
    },
  },
  { type: DJANGO_PERMISSION, from: { related: (_u, x) => permissionNames(x.permissions), loads: ['permissions'] } },
  // posixAccount (RFC 2307), with posix on.
  { type: UID_NUMBER, from: { related: (u, x) => (x.posix ? [String(uidNumber(u, x.posix))] : undefined), loads: [] }, idNumber: (p) => p.uidBase },
  {
    type: GID_NUMBER,
    from: { related: (u, x) => (x.posix ? [String(x.posix.primaryGroup === 'private' ? uidNumber(u, x.posix) : x.posix.primaryGroup)] : undefined), loads: [] },
    idNumber: (p) => (p.primaryGroup === 'private' ? p.uidBase : undefined),
  },
  { type: { oid: `${NIS}.3`, names: ['homeDirectory'], ...IA5_EXACT }, from: { related: (u, x) => (x.posix ? [homeDirectory(x.posix.homeDirectory, u)] : undefined), loads: [] } },
  { type: { oid: `${NIS}.4`, names: ['loginShell'], ...IA5_EXACT }, from: { related: (_u, x) => (x.posix ? [x.posixShell ?? x.posix.loginShell] : undefined), loads: [] } },
  // openssh-lpk's sshPublicKey, for sss_ssh_authorizedkeys: only on Unix users.
  {
    type: { oid: '1.3.6.1.4.1.24552.500.1.1.1.13', names: ['sshPublicKey'], equality: 'caseExact', syntax: '1.3.6.1.4.1.1466.115.121.1.40', description: 'An OpenSSH public key (posix.sshKeys)' },
    from: { related: (_u, x) => (x.posix && x.sshKeys ? x.sshKeys : undefined), loads: [] },
  },
  { type: { oid: `${NIS}.2`, names: ['gecos'], equality: 'caseIgnore', syntax: SYNTAX.ia5, singleValue: true }, from: { related: (u, x) => (x.posix ? [fullName(u)] : undefined), loads: [] } },
];

/** A group entry's attributes, in the order an entry lists them. */
export const GROUP_ATTRIBUTES: readonly GroupAttribute[] = [
  { type: OBJECT_CLASS, from: { fixed: GROUP_CLASSES } },
  { type: CN, from: { column: G.name }, sql: true },
  { type: DJANGO_ID, from: { column: G.id }, sql: true },
  { type: MEMBER, from: { related: (_g, x, dns) => x.members?.map((m) => dns.userDn(m)), loads: ['members'] } },
  { type: MEMBER_UID, from: { related: (_g, x) => x.members, loads: ['members'] }, usernameCase: true },
  { type: DJANGO_PERMISSION, from: { related: (_g, x) => permissionNames(x.permissions), loads: ['permissions'] } },
  { type: GID_NUMBER, from: { related: (g, x) => (x.posix ? [String(x.posix.gidBase + g.id)] : undefined), loads: [] }, idNumber: (p) => p.gidBase },
];

/** What a search loaded beside a permission or a role: the usernames of its holders. */
export interface HolderExtras {
  members?: string[];
}

export type PermissionAttribute = AttributeRow<Source<Permission, HolderExtras, never>>;
export type RoleAttribute = AttributeRow<Source<Role, HolderExtras, never>>;

const ROLE_DESCRIPTION: Record<Role, string> = {
  staff: 'Active Django users with is_staff',
  superusers: 'Active Django users with is_superuser',
};
const holders = {
  member: { type: MEMBER, from: { related: (_r: unknown, x: HolderExtras, dns: MemberDns) => x.members?.map((m) => dns.userDn(m)), loads: ['members'] } },
  memberUid: { type: MEMBER_UID, from: { related: (_r: unknown, x: HolderExtras) => x.members, loads: ['members'] }, usernameCase: true },
} as const;

/** A permission entry's attributes (served as a group of its holders: cn=app_label.codename). */
export const PERMISSION_ATTRIBUTES: readonly PermissionAttribute[] = [
  { type: OBJECT_CLASS, from: { fixed: GROUP_CLASSES } },
  { type: CN, from: { derived: permissionName } },
  { type: DESCRIPTION, from: { derived: (p) => p.name } },
  { type: DJANGO_ID, from: { derived: (p) => String(p.id) } },
  { type: DJANGO_PERMISSION, from: { derived: permissionName } },
  holders.member,
  holders.memberUid,
];

/** A role entry's attributes (cn=staff, cn=superusers: the users with that flag). */
export const ROLE_ATTRIBUTES: readonly RoleAttribute[] = [
  { type: OBJECT_CLASS, from: { fixed: GROUP_CLASSES } },
  { type: CN, from: { derived: (r) => r } },
  { type: DESCRIPTION, from: { derived: (r) => ROLE_DESCRIPTION[r] } },
  holders.member,
  holders.memberUid,
];

/** The lower-case key filters and selections use for a row (schema.ts attributeKey). */
export const keyOf = (row: { type: AttributeType }): string => row.type.names[0].toLowerCase();

/** Every row of every table: users', groups', permissions', roles'. */
function allRows(): Array<AttributeRow<{ related: unknown; loads: readonly Load[] } | object>> {
  return [...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES, ...PERMISSION_ATTRIBUTES, ...ROLE_ATTRIBUTES];
}

/** The attributes (by key) whose equality follows users.caseInsensitive: usernames. */
export const USERNAME_CASE_KEYS: ReadonlySet<string> = new Set(allRows().filter((r) => r.usernameCase).map(keyOf));

/** What selecting or filtering on an attribute (by key) makes a search load, for the attributes
 * that show memberships; the others come with the row. */
export const LOADS: ReadonlyMap<string, readonly Load[]> = (() => {
  const out = new Map<string, Load[]>();
  for (const r of allRows()) {
    if (!('related' in r.from)) continue;
    const loads = out.get(keyOf(r)) ?? [];
    for (const l of r.from.loads) if (!loads.includes(l)) loads.push(l);
    out.set(keyOf(r), loads);
  }
  return out;
})();

/** Every user column the bridge reads, in config order: Django's, then those a row declares. */
export const USER_COLUMNS: readonly UserColumn[] = (() => {
  const out: UserColumn[] = Object.values(C);
  for (const r of USER_ATTRIBUTES) if ('column' in r.from && !out.includes(r.from.column)) out.push(r.from.column);
  return out;
})();

/** The columns beyond Django's own User fields (declared in a row): the User model has no named
 * property for them, so the store fills them by name. */
export const EXTRA_USER_COLUMNS: readonly UserColumn[] = USER_COLUMNS.filter((c) => !(Object.values(C) as UserColumn[]).includes(c));

export const GROUP_COLUMNS: readonly GroupColumn[] = Object.values(G);

/** The default column of each user column, keyed like the resolved config (django.users). */
export function defaultUserColumns(): UserColumnMapping {
  return Object.fromEntries(USER_COLUMNS.map((c) => [c.field, c.default])) as UserColumnMapping;
}

/** The default column of each group column, keyed like the resolved config (django.groups). */
export function defaultGroupColumns(): Record<GroupColumnField, string> {
  return Object.fromEntries(GROUP_COLUMNS.map((c) => [c.field, c.default])) as Record<GroupColumnField, string>;
}

/** What `doctor` says a column feeds: its own label, or the attributes served straight from it. */
export function columnServes(c: UserColumn | GroupColumn, rows: readonly (UserAttribute | GroupAttribute)[]): string {
  if ('serves' in c && c.serves) return c.serves;
  return rows
    .filter((r) => 'column' in r.from && r.from.column === c)
    .map((r) => r.type.names[0])
    .join(', ');
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
/** RFC 4517 GeneralizedTime in UTC, to the second: YYYYMMDDHHMMSSZ. */
export const GENERALIZED_TIME = (d: Date): string =>
  `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;

/** A column's value as LDAP text; null: no value. */
export function formatColumn(kind: ColumnKind, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'text':
      return v as string;
    case 'int':
      return String(v);
    case 'bool':
      return v ? 'TRUE' : 'FALSE';
    case 'time':
      return GENERALIZED_TIME(v as Date);
    case 'hash':
      return null;
  }
}
