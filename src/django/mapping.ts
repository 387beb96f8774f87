// Which tables and columns of the Django database a mapping uses, and which setting names each.
// The user and group columns, with what they feed, come from the attribute tables.
import type { Column, DjangoMapping, UserModelMapping } from '../config/types.js';
import { columnServes, GROUP_ATTRIBUTES, GROUP_COLUMNS, USER_ATTRIBUTES, USER_COLUMNS, type UserColumn } from '../ldap/attributes.js';

/** The configured column of a user column (null: the model has none). A column a table row adds
 * is unmapped until the config knows its setting. */
export function userColumnName(u: UserModelMapping, c: UserColumn): Column {
  return (u[c.field] as Column | undefined) ?? null;
}

export interface MappedColumn {
  /** What it serves (an LDAP attribute, or a role in a join). */
  attribute: string;
  setting: string;
  /** null: the model has no such field. */
  column: Column;
}

export interface MappedTable {
  role: string;
  setting: string;
  table: string;
  columns: MappedColumn[];
}

/** Every table and column a mapping names, with the setting that names it and the LDAP
 * attribute it feeds: the schema check at start and `doctor` read the same list. */
export function mappedTables(m: DjangoMapping): MappedTable[] {
  const u = m.users;
  const out: MappedTable[] = [
    {
      role: 'users',
      setting: 'users.table',
      table: u.table,
      columns: USER_COLUMNS.map((c) => ({ attribute: columnServes(c, USER_ATTRIBUTES), setting: c.setting, column: userColumnName(u, c) })),
    },
  ];
  if (m.userGroups && m.groups) {
    out.push({
      role: 'user groups',
      setting: 'users.groups.table',
      table: m.userGroups.table,
      columns: [
        { attribute: 'the user', setting: 'users.groups.userColumn', column: m.userGroups.userColumn },
        { attribute: 'the group', setting: 'users.groups.groupColumn', column: m.userGroups.otherColumn },
      ],
    });
  }
  if (m.sshKeys) {
    const k = m.sshKeys;
    out.push({
      role: 'SSH keys',
      setting: 'posix.sshKeys.table',
      table: k.table,
      columns: [
        { attribute: 'the user', setting: 'posix.sshKeys.userColumn', column: k.userColumn },
        { attribute: 'sshPublicKey', setting: 'posix.sshKeys.keyColumn', column: k.keyColumn },
        ...(k.activeColumn ? [{ attribute: 'served when true', setting: 'posix.sshKeys.activeColumn', column: k.activeColumn }] : []),
      ],
    });
  }
  if (m.totpDevices) {
    // django-otp's own column names: the model is django-otp's, not the site's.
    const col = (column: string, attribute: string): MappedColumn => ({ attribute, setting: 'mfa.devicesTable', column });
    out.push({
      role: 'TOTP devices',
      setting: 'mfa.devicesTable',
      table: m.totpDevices.table,
      columns: [col('id', 'the device'), col('user_id', 'the user'), col('key', 'the secret'), col('step', 'the step'), col('t0', 't0'), col('digits', 'digits'), col('tolerance', 'tolerance'), col('drift', 'drift'), col('confirmed', 'confirmed'), col('last_t', 'last_t')],
    });
  }
  const groups = m.groups;
  if (groups) {
    out.push({
      role: 'groups',
      setting: 'groups.table',
      table: groups.table,
      columns: GROUP_COLUMNS.map((c) => ({ attribute: columnServes(c, GROUP_ATTRIBUTES), setting: c.setting, column: groups[c.field] })),
    });
    if (groups.permissions && m.permissions) {
      const gp = groups.permissions;
      out.push({
        role: 'group permissions',
        setting: 'groups.permissions.table',
        table: gp.table,
        columns: [
          { attribute: 'the group', setting: 'groups.permissions.groupColumn', column: gp.groupColumn },
          { attribute: 'the permission', setting: 'groups.permissions.permissionColumn', column: gp.permissionColumn },
        ],
      });
    }
  }
  if (m.permissions) {
    const p = m.permissions;
    out.push({
      role: 'permissions',
      setting: 'permissions.table',
      table: p.table,
      columns: [
        { attribute: 'djangoId', setting: 'permissions.id', column: p.id },
        { attribute: 'cn (codename part)', setting: 'permissions.codename', column: p.codename },
        { attribute: 'description', setting: 'permissions.name', column: p.name },
        { attribute: 'the content type', setting: 'permissions.contentType', column: p.contentType },
      ],
    });
    out.push({
      role: 'content types',
      setting: 'permissions.contentTypeTable',
      table: p.contentTypeTable,
      columns: [
        { attribute: 'the content type', setting: 'permissions.contentTypeId', column: p.contentTypeId },
        { attribute: 'cn (app_label part)', setting: 'permissions.appLabel', column: p.appLabel },
      ],
    });
    if (m.userPermissions) {
      out.push({
        role: 'user permissions',
        setting: 'users.permissions.table',
        table: m.userPermissions.table,
        columns: [
          { attribute: 'the user', setting: 'users.permissions.userColumn', column: m.userPermissions.userColumn },
          { attribute: 'the permission', setting: 'users.permissions.permissionColumn', column: m.userPermissions.otherColumn },
        ],
      });
    }
  }
  return out;
}

