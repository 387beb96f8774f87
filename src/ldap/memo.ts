// Remembered results of pure functions of what clients send (DN strings, filter values): a
// Map that starts over once it holds `max` entries, so a client sending ever new strings
// only empties it and never grows it without bound.
export class BoundedMemo<K, V> {
  private readonly map = new Map<K, V>();
  constructor(
    private readonly max: number,
    private readonly make: (key: K) => V,
  ) {}

  /** The remembered value, or `make(key)` remembered (nothing is kept when it throws). */
  get(key: K): V {
    let v = this.map.get(key);
    if (v === undefined && !this.map.has(key)) {
      v = this.make(key);
      if (this.map.size >= this.max) this.map.clear();
      this.map.set(key, v);
    }
    return v as V;
  }
}
