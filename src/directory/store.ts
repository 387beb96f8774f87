// The directory's port to its data: the one interface every database answers (as slapd's
// backends answer one table of operations). The model owns it and the stores in src/db/
// implement it, so the LDAP edge and the directory model never see SQL or a driver.
import type { Group, GroupPredicate, Permission, TotpDeviceRow, User, UserPredicate } from './model.js';

export interface Page {
  /** Keyset pagination: only rows with id greater than this. */
  afterId: number;
  limit: number;
  /** When the caller gives up (Date.now() milliseconds): a store that reads a client-shaped
   * scan in bounded windows (SQLite) stops between windows and throws ScanTimeLimitError. */
  deadline?: number;
}

export interface MemberRef {
  id: number;
  username: string;
}

export interface DirectoryStore {
  /** What the mapped user model has: without them the bridge serves users only. */
  readonly hasGroups: boolean;
  readonly hasPermissions: boolean;
  readonly kind: string;

  /** Checks every mapped table and column; throws SchemaError naming the setting to fix. */
  verifySchema(): Promise<void>;
  close(): Promise<void>;
  /** One trivial query: does the database answer? (/readyz) */
  ping(): Promise<void>;
  /** Told of every query's duration (metrics). */
  onQuery: ((seconds: number, ok: boolean) => void) | undefined;
  /** Told once when the database stops answering (the cause) and once when it answers again
   * (undefined): an outage is logged once, not once per operation. */
  onOutage?: ((cause: string | undefined) => void) | undefined;
  /** Connection pool occupancy, where the store has a pool. */
  poolStats?(): { total: number; idle: number; waiting: number };

  /** Users whose username matches exactly, or case-insensitively (at most a few rows). */
  usersByUsername(username: string, caseInsensitive: boolean): Promise<User[]>;
  /** Users matching a predicate, a page in id order. Their stored password hashes are read
   * only with `withHashes` (sampling the hashers in use): a search never needs them. */
  findUsers(pred: UserPredicate, page: Page, activeOnly: boolean, withHashes?: boolean): Promise<User[]>;
  /** SSH public keys of a batch of users (posix.sshKeys), active ones only. */
  sshKeysOfUsers?(userIds: number[]): Promise<Map<number, string[]>>;
  /** A user's django-otp TOTP devices (mfa.devicesTable), confirmed or not, in id order;
   * absent or empty when none is mapped. Read only: the bridge never writes last_t or drift. */
  totpDevicesOfUser?(userId: number): Promise<TotpDeviceRow[]>;
  /** How many users have at least one confirmed TOTP device (doctor). */
  usersWithConfirmedTotp?(): Promise<number>;
  /** Group memberships of a batch of users, as group ids. */
  groupIdsOfUsers(userIds: number[]): Promise<Map<number, number[]>>;
  /** The groups with these ids (those that exist). */
  groupsByIds(ids: number[]): Promise<Group[]>;
  /** Permission ids held directly or through a group, for a batch of users (not superuser rules). */
  permissionIdsOfUsers(userIds: number[]): Promise<Map<number, number[]>>;

  findGroups(pred: GroupPredicate, page: Page): Promise<Group[]>;
  groupsByName(name: string, caseInsensitive: boolean): Promise<Group[]>;
  groupMembers(groupId: number, page: Page, activeOnly: boolean): Promise<MemberRef[]>;
  isGroupMember(groupId: number, userId: number): Promise<boolean>;
  groupPermissionIds(groupIds: number[]): Promise<Map<number, number[]>>;
  /** In one query: does a group of exactly this name exist, and is the user of exactly this
   * username (active, when asked) a member? Apache's `Require ldap-group` hot path. */
  groupMembership(groupName: string, username: string, activeOnly: boolean): Promise<{ group: boolean; member: boolean }>;
  /** In one query: does the user of exactly this username hold the permission as Django's
   * has_perm says (active, and superuser or direct or through a group)? */
  usernameHasPermission(username: string, permissionId: number): Promise<boolean>;

  allPermissions(): Promise<Permission[]>;
  /** Active users holding a permission directly, through a group, or as superuser. */
  permissionHolders(permissionId: number, page: Page, activeOnly: boolean): Promise<MemberRef[]>;
  /** Direct or group permission (superuser and is_active are the directory's business). */
  userHasPermission(userId: number, permissionId: number): Promise<boolean>;
  /** Every username, and every group name, equal to another of its kind under the store's
   * lower() (frank and Frank): posix.caseTwins. A scan of the user table (about a second at a
   * million users on PostgreSQL): the directory asks once a minute at most. */
  caseTwinNames(): Promise<{ users: string[]; groups: string[] }>;
}

/** A mapped table or column does not exist, or the database refused the schema probe. */
export class SchemaError extends Error {}

/** The database could not be reached or failed mid-query: callers answer `unavailable`. */
export class StoreUnavailableError extends Error {}

/** A mapped database, table or column is gone while the bridge runs (dropped, renamed,
 * restored under another name): unavailable until it is back. At start (verifySchema) the
 * same errors are a SchemaError naming the setting to fix. */
export class SchemaGoneError extends StoreUnavailableError {}

/** A windowed scan passed its Page.deadline: callers answer `timeLimitExceeded`. */
export class ScanTimeLimitError extends Error {}

/** A column as the database catalogue describes it. */
export interface ColumnInfo {
  name: string;
  /** Part of the table's primary key. */
  primaryKey: boolean;
}

/** An index as the database catalogue describes it; a null column is an expression. */
export interface IndexInfo {
  name: string;
  unique: boolean;
  /** A partial index (WHERE ...) guarantees nothing about the whole table. */
  partial: boolean;
  columns: Array<string | null>;
}

/**
 * Read-only questions about the database itself, for `doctor` and `init` (the SQL stores answer
 * them). Table names are identifiers from the config or the catalogue, quoted or bound.
 */
export interface StoreInspector {
  /** Tables and views visible to the connection (PostgreSQL: the schemas on the search path). */
  listTables(): Promise<string[]>;
  /** A table's columns, or null when there is no such table. */
  tableColumns(table: string): Promise<ColumnInfo[] | null>;
  tableIndexes(table: string): Promise<IndexInfo[]>;
  /** Rows of a table (groups, permissions). */
  countRows(table: string): Promise<number>;
  /** The lowest and highest value of an integer column (a primary key: POSIX number ranges),
   * or null when the table is empty. */
  idRange(table: string, column: string): Promise<{ min: number; max: number } | null>;
  /** Users of the mapped user model, and how many of them are active. */
  userCounts(): Promise<{ total: number; active: number }>;
  /** Usernames that are equal under the store's case-insensitive matching (lower()), in groups
   * of two or more, at most `limit` groups. */
  caseInsensitiveDuplicates(limit: number): Promise<string[][]>;
  /** Names of Django groups equal (exactly, as usernames compare) to an active user's username,
   * in name order, at most `limit` (posix private user groups take usernames as names). */
  groupsNamedLikeUsers(limit: number): Promise<string[]>;
  /** django_migrations as app -> migration names, or null when the table does not exist. */
  appliedMigrations(): Promise<Map<string, string[]> | null>;
}

/** The store's inspector, when it has one (every SQL store does). */
export function inspectorOf(store: DirectoryStore): (DirectoryStore & StoreInspector) | undefined {
  const s = store as DirectoryStore & Partial<StoreInspector>;
  return typeof s.tableColumns === 'function' && typeof s.tableIndexes === 'function' ? (s as DirectoryStore & StoreInspector) : undefined;
}
