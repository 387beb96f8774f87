// Remembers successful binds for a short time so a busy Apache does not re-run a
// million-iteration PBKDF2 per request. The key is an HMAC (with a random per-process key) of
// the user id, the password and the stored hash: no password is kept, a changed password hash
// misses at once, and the caller re-reads is_active from the database on every bind.
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';

export class CredentialCache {
  // A KeyObject, not a Buffer: createHmac then skips importing the key on every bind.
  private readonly secret = createSecretKey(randomBytes(32));
  private readonly entries = new Map<string, number>(); // key -> expiry (ms)

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0 && this.maxEntries > 0;
  }

  key(userId: number, password: string, storedHash: string): string {
    return createHmac('sha256', this.secret).update(`${userId}\0${storedHash}\0${password}`, 'utf8').digest('base64');
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

  clear(): void {
    this.entries.clear();
  }
}
