// Which tables and columns of the Django database a mapping uses, and which setting names each.
import type { Column, DjangoMapping } from '../config/types.js';

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
      columns: [
        { attribute: 'djangoId', setting: 'users.columns.id', column: u.id },
        { attribute: 'uid', setting: 'users.usernameField', column: u.username },
        { attribute: '(password: checked, never served)', setting: 'users.columns.password', column: u.password },
        { attribute: 'djangoIsActive', setting: 'users.columns.isActive', column: u.isActive },
        { attribute: 'djangoIsStaff, cn=staff', setting: 'users.columns.isStaff', column: u.isStaff },
        { attribute: 'djangoIsSuperuser, cn=superusers', setting: 'users.columns.isSuperuser', column: u.isSuperuser },
        { attribute: 'givenName, cn', setting: 'users.columns.firstName', column: u.firstName },
        { attribute: 'sn, cn', setting: 'users.columns.lastName', column: u.lastName },
        { attribute: 'mail', setting: 'users.columns.email', column: u.email },
        { attribute: 'djangoDateJoined', setting: 'users.columns.dateJoined', column: u.dateJoined },
        { attribute: 'djangoLastLogin', setting: 'users.columns.lastLogin', column: u.lastLogin },
      ],
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
  if (m.groups) {
    out.push({
      role: 'groups',
      setting: 'groups.table',
      table: m.groups.table,
      columns: [
        { attribute: 'djangoId', setting: 'groups.id', column: m.groups.id },
        { attribute: 'cn', setting: 'groups.name', column: m.groups.name },
      ],
    });
    if (m.groups.permissions && m.permissions) {
      const gp = m.groups.permissions;
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

