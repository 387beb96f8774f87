// Remembers successful binds for a short time so a busy Apache does not re-run a
// million-iteration PBKDF2 per request. The key is an HMAC (with a random per-process key) of
// the user id, the password and the stored hash: no password is kept, a changed password hash
// misses at once, and the caller re-reads is_active from the database on every bind.
//
// A service account's credential is pinned instead: kept, with no expiry, for as long as its
// configured hash stays the same. Its hash lives in the config, not the database, so nothing but
// a new hash can revoke it, and a pinned credential is what lets Apache in while a stranger
// keeps that account locked out from Apache's own address.
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';

export class CredentialCache {
  // A KeyObject, not a Buffer: createHmac then skips importing the key on every bind.
  private readonly secret = createSecretKey(randomBytes(32));
  private readonly entries = new Map<string, number>(); // key -> expiry (ms)
  /** Service accounts' verified credentials: configured hash -> key. */
  private readonly pins = new Map<string, string>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0 && this.maxEntries > 0;
  }

  /** `account`: a user id, or any other string naming who is checked (0 for service accounts). */
  key(account: number | string, password: string, storedHash: string): string {
    return createHmac('sha256', this.secret).update(`${account}\0${storedHash}\0${password}`, 'utf8').digest('base64');
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

  /** Remembers a service account's verified credential for as long as its hash is configured. */
  pin(storedHash: string, key: string): void {
    if (!this.enabled) return;
    // One per configured hash; a reload that changes it leaves the old one behind, so bound them.
    if (this.pins.size >= 256 && !this.pins.has(storedHash)) this.pins.clear();
    this.pins.set(storedHash, key);
  }

  pinned(storedHash: string, key: string): boolean {
    return this.pins.get(storedHash) === key;
  }

  clear(): void {
    this.entries.clear();
    this.pins.clear();
  }
}
