// The defaults a setting takes when no layer sets it and the schema does not say: where the
// bridge listens, and Django's own auth tables (django.contrib.auth with its User model).
import type { DjangoMapping } from './types.js';
import { defaultGroupColumns, defaultUserColumns } from '../ldap/attributes.js';

export const DEFAULT_LISTEN: readonly string[] = Object.freeze(['ldap://127.0.0.1:3389']);

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Django's default auth schema (django.contrib.auth with its own User model). Frozen. */
export const DEFAULT_DJANGO_MAPPING: DjangoMapping = deepFreeze({
  // The user and group columns are the attribute tables' defaults (src/ldap/attributes.ts).
  users: { table: 'auth_user', ...defaultUserColumns() },
  userGroups: { table: 'auth_user_groups', userColumn: 'user_id', otherColumn: 'group_id' },
  userPermissions: { table: 'auth_user_user_permissions', userColumn: 'user_id', otherColumn: 'permission_id' },
  groups: {
    table: 'auth_group',
    ...defaultGroupColumns(),
    permissions: { table: 'auth_group_permissions', groupColumn: 'group_id', permissionColumn: 'permission_id' },
  },
  permissions: {
    table: 'auth_permission',
    id: 'id',
    codename: 'codename',
    name: 'name',
    contentType: 'content_type_id',
    contentTypeTable: 'django_content_type',
    contentTypeId: 'id',
    appLabel: 'app_label',
  },
});
