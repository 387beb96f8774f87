// The bridge's resolved configuration: what every other module reads. The loader
// (src/config/load.ts, resolving in resolve.ts) fills every default, so nothing downstream has to guess.

/** A column name in the Django database, or null when the model has no such field. */
export type Column = string | null;

export interface UserModelMapping {
  /** Table of AUTH_USER_MODEL (default `auth_user`). */
  table: string;
  /** Primary key column (default `id`). */
  id: string;
  /** Column of USERNAME_FIELD: the login name that becomes `uid` (default `username`). */
  username: string;
  /** Required by the bridge: Django's `password` and `is_active`. */
  password: string;
  isActive: string;
  /** Optional fields: null when the custom model lacks them. */
  isStaff: Column;
  isSuperuser: Column;
  firstName: Column;
  lastName: Column;
  email: Column;
  dateJoined: Column;
  lastLogin: Column;
}

export interface M2MMapping {
  /** The join table, e.g. `auth_user_groups`. */
  table: string;
  /** Column pointing at the user (`user_id`). */
  userColumn: string;
  /** Column pointing at the other side (`group_id` / `permission_id`). */
  otherColumn: string;
}

export interface GroupModelMapping {
  table: string; // auth_group
  id: string; // id
  name: string; // name
  /** auth_group_permissions: group_id, permission_id; null when not mapped. */
  permissions: { table: string; groupColumn: string; permissionColumn: string } | null;
}

export interface PermissionModelMapping {
  table: string; // auth_permission
  id: string; // id
  codename: string; // codename
  name: string; // name
  contentType: string; // content_type_id
  contentTypeTable: string; // django_content_type
  contentTypeId: string; // id
  appLabel: string; // app_label
}

export interface DjangoMapping {
  users: UserModelMapping;
  /** The user model's `groups` M2M; null when the model has none (users-only mode). */
  userGroups: M2MMapping | null;
  /** The user model's `user_permissions` M2M; null when the model has none. */
  userPermissions: M2MMapping | null;
  groups: GroupModelMapping | null;
  permissions: PermissionModelMapping | null;
  /** The site's table of SSH public keys (posix.sshKeys), served as sshPublicKey; absent: none. */
  sshKeys?: { table: string; userColumn: string; keyColumn: string; activeColumn: string | null } | null;
}

export interface TreeLayout {
  baseDn: string;
  usersOu: string; // "users"  -> ou=users,<base>
  groupsOu: string; // "groups"
  permissionsOu: string; // "permissions"
  rolesOu: string; // "roles"
  servicesOu: string; // "services" (only a place for service-account DNs; not required)
}

export interface ServiceAccount {
  dn: string;
  /** A Django-format hash (`pbkdf2_sha256$...`), never plaintext. */
  password: string;
}

/** POSIX accounts and groups for Linux clients (SSSD, nslcd): issue #15, docs/linux.md. */
export interface PosixSettings {
  /** uidNumber = uidBase + the Django user id. */
  uidBase: number;
  /** gidNumber of a Django group = gidBase + the group id. */
  gidBase: number;
  /** A user's gidNumber: 'private' (a per-user group numbered like the uid), or a fixed gid. */
  primaryGroup: 'private' | number;
  /** homeDirectory template: {uid} is the username, {id} the Django id. */
  homeDirectory: string;
  loginShell: string;
  /** Per-group login shells, [Django group name, shell] in the order configured: a user gets the
   * shell of the first listed group they belong to, else loginShell. */
  loginShells: Array<[string, string]>;
  /** Which active users are Unix users (posixAccounts): all of them, the members of a Django
   * group (by exact name), or the holders of a permission (as Django's has_perm, superusers
   * included). Inactive users never are. */
  unixUsers: { kind: 'all' } | { kind: 'group'; name: string } | { kind: 'permission'; appLabel: string; codename: string };
}

export interface BridgeConfig {
  /** Database URL: sqlite:///abs, sqlite://./rel, postgres://..., postgresql://..., mysql://..., mariadb://... */
  database: string;
  /** ldap://host:port URLs to listen on. */
  listen: string[];
  /** The listen URLs that expect a PROXY protocol header first. */
  proxyProtocol: string[];
  tree: TreeLayout;
  serviceAccounts: ServiceAccount[];
  anonymous: { search: boolean };
  /** Username matching: false (Django's exact, case-sensitive) by default. */
  caseInsensitiveUsernames: boolean;
  /** Serve inactive users in searches and memberships (they can never bind). */
  showInactiveUsers: boolean;
  /** POSIX attributes (posixAccount, posixGroup); null: off, the entries are as without it. */
  posix: PosixSettings | null;
  django: DjangoMapping;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'; format: 'json' | 'pretty' | 'auto' };
  limits: {
    /** Server-side cap on entries returned by one search (sizeLimitExceeded past it). */
    maxSearchEntries: number;
    /** Server-side cap on a search's duration, seconds. */
    maxSearchSeconds: number;
    maxMessageBytes: number;
    filterMaxDepth: number;
    filterMaxElements: number;
    maxRequestedAttributes: number;
    maxConnections: number;
    maxConnectionsPerAddress: number;
    idleTimeoutSeconds: number;
    messageTimeoutSeconds: number;
    /** A TLS handshake (ldaps://, StartTLS) or a PROXY header must be done within this. */
    handshakeTimeoutSeconds: number;
    maxOutstandingPerConnection: number;
    anonymousSearchEntries: number;
  };
  security: {
    /** Concurrent password hashes; resolved (never 0) to the CPU count by default. */
    hashConcurrency: number;
    hashQueue: number;
    /** Queue places only binds for existing names may take (resolved: half of hashQueue by default). */
    hashQueueReserved: number;
    credentialCacheSeconds: number;
    credentialCacheEntries: number;
    requireTls: 'auto' | 'always' | 'never';
    redis: string | null;
    /** One Redis command's deadline; past it the counters are kept locally. */
    redisTimeoutSeconds: number;
    bruteForce: {
      enabled: boolean;
      userFailures: number;
      userWindowSeconds: number;
      addressFailures: number;
      addressWindowSeconds: number;
      lockoutSeconds: number;
      maxLockoutSeconds: number;
      /** Addresses counted per user only (Apache hosts). */
      trustedAddresses: string[];
    };
  };
  tls: { cert: string; key: string } | null;
  /** Worker processes (resolved: at least 1). */
  workers: number;
  /** host:port of the metrics/health HTTP listener, or null. */
  metrics: { listen: string | null };
  db: { poolSize: number; statementTimeoutSeconds: number; startupRetrySeconds: number };
}
