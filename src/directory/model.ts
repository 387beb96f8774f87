// The directory model: Django's users, groups and permissions as the bridge understands them.
// Nothing here knows LDAP or SQL; the LDAP edge asks questions in these terms and the stores
// in src/db/ answer them.

export interface User {
  id: number;
  username: string;
  /** The stored Django hash. Never logged, never served. */
  password: string;
  isActive: boolean;
  isStaff: boolean | null; // null: the user model has no such field
  isSuperuser: boolean | null;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  dateJoined: Date | null;
  lastLogin: Date | null;
}

export interface Group {
  id: number;
  name: string;
}

export interface Permission {
  id: number;
  appLabel: string;
  codename: string;
  name: string;
}

export type Role = 'staff' | 'superusers';

/** A django-otp TOTP device (otp_totp_totpdevice) as stored: read, never written. */
export interface TotpDeviceRow {
  id: number;
  /** Hex-encoded secret (the `key` column). */
  key: string;
  step: number;
  t0: number;
  digits: number;
  tolerance: number;
  drift: number;
  confirmed: boolean;
  /** The last time step django-otp accepted; -1 for a device never used. */
  lastT: number;
}

/** A column of the user table by its User property name: the fields above, and any column an
 * attribute row adds (src/ldap/attributes.ts lists them all, as USER_COLUMNS). */
export type UserField = string;
export type GroupField = 'id' | 'name';

/**
 * A row predicate the stores turn into a WHERE clause. It may be looser than what the caller
 * wants (a superset): the LDAP edge re-checks every candidate with the exact filter.
 */
export type Predicate<F extends string> =
  | { op: 'all' }
  | { op: 'none' }
  | { op: 'and' | 'or'; items: Predicate<F>[] }
  | { op: 'not'; item: Predicate<F> }
  /** Equality; `ci` compares case-insensitively (ASCII values only; see filter-plan). */
  | { op: 'eq'; field: F; value: string | number | boolean; ci: boolean }
  | { op: 'like'; field: F; initial?: string; any: string[]; final?: string; ci: boolean }
  /** Ordering; a Date only on a time column (the store binds it as the database's timestamp text). */
  | { op: 'cmp'; field: F; dir: 'ge' | 'le'; value: string | number | Date; ci: boolean }
  /** The field holds a non-empty value. */
  | { op: 'present'; field: F };

export type UserPredicate = Predicate<UserField>;
export type GroupPredicate = Predicate<GroupField>;

export const ALL = { op: 'all' } as const;
export const NONE = { op: 'none' } as const;
