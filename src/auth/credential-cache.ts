// Remembers successful binds for a short time so a busy Apache does not re-run a
// million-iteration PBKDF2 per request. The key is a SHA-256 of a random per-process secret
// followed by the user id, the stored hash and the password: no password is kept, a changed
// password hash misses at once, and the caller re-reads is_active from the database on every
// bind. Why not an HMAC: the key only ever answers "the same three values as a bind that
// succeeded?" inside this process and is never shown to anyone, so HMAC's protection against
// length extension buys nothing here, while createHmac costs ~2 µs a bind (an object per call)
// against ~0.5 µs for the one-shot crypto.hash: two binds per Apache request made it 5% of
// the bridge's CPU. The 256-bit secret prefix keeps a memory dump of the map from being
// searched offline for passwords without also taking the secret.
//
// A service account's credential is pinned instead: kept, with no expiry, for as long as its
// configured hash stays the same (it lives in the config, not the database: nothing but a new
// hash revokes it), with the client addresses it was proven from. That is what lets Apache in
// while a stranger keeps the account locked out from Apache's own address; from any other
// address a locked-out bind gets no shortcut, so the lock still caps guessing there.
import { hash, randomBytes } from 'node:crypto';

export class CredentialCache {
  /** The per-process secret, as text: it goes first into every key's hashed input. */
  private readonly secret = randomBytes(32).toString('base64');
  private readonly entries = new Map<string, number>(); // key -> expiry (ms)
  /** Service accounts' verified credentials: configured hash -> key and the addresses that proved it. */
  private readonly pins = new Map<string, { key: string; from: Set<string> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0 && this.maxEntries > 0;
  }

  /** `account`: a user id, or any other string naming who is checked (0 for service accounts). */
  key(account: number | string, password: string, storedHash: string): string {
    return hash('sha256', `${this.secret}\0${account}\0${storedHash}\0${password}`, 'base64');
  }

  has(key: string, now = Date.now()): boolean {
    const exp = this.entries.get(key);
    if (exp === undefined) return false;
    if (exp <= now) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  add(key: string, now = Date.now()): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    this.entries.set(key, now + this.ttlMs);
    // Map keeps insertion order: the first key is the oldest.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Remembers a service account's verified credential for as long as its hash is configured,
   * and the address it was proven from (none for an exempt connection). */
  pin(storedHash: string, key: string, address: string | undefined): void {
    if (!this.enabled) return;
    let p = this.pins.get(storedHash);
    if (p?.key !== key) {
      // One per configured hash; a reload that changes it leaves the old one behind, so bound them.
      if (this.pins.size >= 256) this.pins.clear();
      this.pins.set(storedHash, (p = { key, from: new Set() }));
    }
    if (address === undefined) return;
    // Only clients that know the password add addresses; bound them all the same.
    if (p.from.size >= 1024) p.from.clear();
    p.from.add(address);
  }

  /** The addresses a pinned credential was proven from, when `key` is that credential. */
  pinned(storedHash: string, key: string): ReadonlySet<string> | undefined {
    const p = this.pins.get(storedHash);
    return p !== undefined && p.key === key ? p.from : undefined;
  }

  clear(): void {
    this.entries.clear();
    this.pins.clear();
  }
}
