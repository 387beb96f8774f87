// The bridge's resolved configuration: what every other module reads. The loader
// (src/config/load.ts, resolving in resolve.ts) fills every default, so nothing downstream has to guess.
import type { GroupColumnField, UserColumnMapping } from '../ldap/attributes.js';
import type { PosixSettings } from '../directory/posix.js';

/** A column name in the Django database, or null when the model has no such field. */
export type Column = string | null;

/** The user model (AUTH_USER_MODEL): its table (default `auth_user`) and the column of each
 * field the bridge reads, keyed by the field's name in the attribute table (src/ldap/attributes.ts,
 * USER_COLUMNS): `id`, `username` (USERNAME_FIELD, served as `uid`), `password` and `isActive`
 * always name a column; the others are null when the model lacks the field. */
export type UserModelMapping = { table: string } & UserColumnMapping;

export interface M2MMapping {
  /** The join table, e.g. `auth_user_groups`. */
  table: string;
  /** Column pointing at the user (`user_id`). */
  userColumn: string;
  /** Column pointing at the other side (`group_id` / `permission_id`). */
  otherColumn: string;
}

/** Django's Group: its table (auth_group) and the column of each group column of the attribute
 * table (GROUP_COLUMNS: id, name). */
export type GroupModelMapping = { [f in GroupColumnField]: string } & {
  table: string;
  /** auth_group_permissions: group_id, permission_id; null when not mapped. */
  permissions: { table: string; groupColumn: string; permissionColumn: string } | null;
};

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
  /** django-otp's TOTP device table (mfa.devicesTable) when mfa.require is not off; absent: none. */
  totpDevices?: { table: string } | null;
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
  /** May set any user's password with Password Modify (writes.passwordModify); absent: no. */
  passwordAdministrator?: boolean;
}

/** Opt-in writes (all off by default): what they do, and the connection they use. */
export interface WritesConfig {
  /** The write connection's URL; null: SQLite's database file opened read-write (required elsewhere). */
  database: string | null;
  passwordModify: boolean;
  lastLogin: boolean;
  lastLoginIntervalSeconds: number;
  upgradeHashes: boolean;
  hasher: 'pbkdf2_sha256';
  iterations: number;
  generatedLength: number;
  passwordRules: {
    minLength: number;
    /** null: the similarity rule is off. */
    maxSimilarity: number | null;
    /** Absolute path of the common-passwords list; null: the rule is off. */
    commonPasswords: string | null;
    numeric: boolean;
  };
}

/** Who must give a one-time code at bind (mfa.require). */
export type MfaRequire = { kind: 'off' } | { kind: 'confirmed-device' } | { kind: 'group'; name: string } | { kind: 'permission'; appLabel: string; codename: string };

export interface MfaConfig {
  require: MfaRequire;
  /** Between the password and the code; null: the code is the last `digits` characters. */
  separator: string | null;
  /** How long a password+code that bound is accepted again from the same address (seconds). */
  credentialCacheSeconds: number;
}

export type { PosixSettings } from '../directory/posix.js';

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
  db: { poolSize: number; statementTimeoutSeconds: number; startupRetrySeconds: number; preparedStatements: boolean };
  writes: WritesConfig;
  mfa: MfaConfig;
}
