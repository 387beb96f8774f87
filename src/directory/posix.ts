// How a Django user or group becomes a Unix identity (issue #15, docs/linux.md): the settings
// the entry builder, the filter planner and the store share. A model type, so that the LDAP
// attribute table and the config both read it without importing each other.

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
  /** Users and groups whose names equal another's ignoring case (frank / Frank): 'serve' them
   * as Unix users and groups like any other (right for SSSD's rfc2307 schema and nslcd, which
   * compare names exactly), or 'exclude' them (SSSD's rfc2307bis compares member DNs ignoring
   * case and fails a group holding either twin: docs/linux.md). */
  caseTwins: 'serve' | 'exclude';
}
