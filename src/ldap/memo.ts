// Remembered results of pure functions of what clients send (DN strings, filter values): a
// Map that starts over once it holds `max` entries or `maxChars` characters of keys, so a
// client sending ever new strings only empties it and never grows it without bound.
//
// Memos of DNs also bound the characters they keep and keep no key longer than `maxKeyChars`:
// the DNs worth remembering (a service account's, Apache's users and groups) are short, long
// ones only come from clients probing the server, and V8 hashes a string of more than 16,383
// characters by its length alone, so many long keys of one length would all collide in a Map.
// (A filter's few assertion values are remembered whatever their length: a long one is
// checked against every entry of a search.)
export interface MemoBounds {
  /** Entries kept at most. */
  max: number;
  /** A longer key is not kept (default: no limit). */
  maxKeyChars?: number;
  /** Characters of all kept keys together (default: no limit); a value derived from its key
   * (a parsed or normalised DN) is about its size. */
  maxChars?: number;
}

export class BoundedMemo<K extends string, V> {
  private readonly map = new Map<K, V>();
  private readonly max: number;
  private readonly maxKeyChars: number;
  private readonly maxChars: number;
  private keyChars = 0;

  constructor(
    bounds: number | MemoBounds,
    private readonly make: (key: K) => V,
  ) {
    const b = typeof bounds === 'number' ? { max: bounds } : bounds;
    this.max = b.max;
    this.maxKeyChars = b.maxKeyChars ?? Infinity;
    this.maxChars = b.maxChars ?? Infinity;
  }

  /** The remembered value, or `make(key)` remembered (nothing is kept when it throws). */
  get(key: K): V {
    if (key.length > this.maxKeyChars) return this.make(key);
    let v = this.map.get(key);
    if (v === undefined && !this.map.has(key)) {
      v = this.make(key);
      if (this.map.size >= this.max || this.keyChars + key.length > this.maxChars) {
        this.map.clear();
        this.keyChars = 0;
      }
      this.map.set(key, v);
      this.keyChars += key.length;
    }
    return v as V;
  }

  /** Entries kept now. */
  get size(): number {
    return this.map.size;
  }

  /** Characters of the keys kept now. */
  get chars(): number {
    return this.keyChars;
  }
}
