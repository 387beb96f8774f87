// The directory's port for its few, opt-in writes (writes.* in the config): a user's password
// hash and last_login, nothing else. The stores in src/db/ implement it on a connection of
// their own (its own database URL and role), so the read path keeps its read-only sessions and
// nothing can be written while every write setting is off (no writer is opened then).
//
// A store that cannot answer throws StoreUnavailableError (the operation answers 52); each
// method is one statement or one transaction, so a failure leaves nothing half-written.

export interface LastLogin {
  userId: number;
  at: Date;
}

export interface DirectoryWriter {
  readonly kind: string;
  /** Replaces the user's stored hash, only if it is still `expected` (what the caller checked
   * the password against): false when it changed meanwhile or the user is gone. */
  setPassword(userId: number, hash: string, expected: string): Promise<boolean>;
  /** Sets last_login of each user, all in one transaction. */
  setLastLogins(logins: readonly LastLogin[]): Promise<void>;
  close(): Promise<void>;
}
