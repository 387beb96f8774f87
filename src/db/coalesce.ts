// Lookups of one kind that arrive in the same event-loop turn, answered by one statement.
//
// Why: on a networked database (PostgreSQL) each statement costs the bridge a pooled client,
// a round trip and a wake-up of a database backend, whatever it reads: at 64 busy connections
// that cost more of the bridge's CPU than the LDAP work (BENCHMARKS.md, "Session 8").
// Requests that arrive together (one turn of the event loop reads every socket that is ready)
// ask for the same kinds of rows: one user by name, one membership test. Gathered, they cost
// one statement per kind per turn.
//
// Freshness is unchanged: the statement is sent after every gathered request arrived, so each
// one sees at least what a statement of its own would have seen (a password change,
// deactivation or membership change committed before the request is read by it).
//
// Lookups are gathered only while `busy()` says the store is crowded (the store decides: more
// lookups on their way than its pool has connections) or a gathered statement is still
// running; otherwise each runs at once, as before: gathering a lightly loaded bridge's lookups
// only delays them (8 connections of the Apache mix ran at 0.7 x with every lookup gathered).
// A gathered turn with one lookup runs its own single-key statement.

interface Waiter<V> {
  resolve(v: V): void;
  reject(e: unknown): void;
}

export class Coalescer<K, V> {
  private pending: Map<K, Array<Waiter<V>>> | undefined;
  /** Gathered statements sent and not yet answered: while one runs, the load that started
   * gathering is still there, so lookups go on being gathered. */
  private gathering = 0;

  /**
   * @param one   the answer for one key (the single-key statement)
   * @param many  the answers for several distinct keys (one statement); a key it leaves out
   *              gets `missing()`
   * @param missing the answer for a key `many` has no answer for
   * @param busy  whether a statement sent now would wait (then lookups are gathered)
   */
  constructor(
    private readonly one: (k: K) => Promise<V>,
    private readonly many: (ks: K[]) => Promise<Map<K, V>>,
    private readonly missing: () => V,
    private readonly busy: () => boolean,
  ) {}

  get(k: K): Promise<V> {
    let p = this.pending;
    if (!p) {
      if (this.gathering === 0 && !this.busy()) return this.one(k);
      p = this.pending = new Map();
      // After the poll phase: every request read in this turn has asked by then.
      setImmediate(this.flush);
    }
    return new Promise<V>((resolve, reject) => {
      const list = p.get(k);
      if (list) list.push({ resolve, reject });
      else p.set(k, [{ resolve, reject }]);
    });
  }

  private readonly flush = (): void => {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    this.gathering++;
    // One key: its own statement, answered as a map of one.
    const keys = [...p.keys()];
    const answered = keys.length === 1 ? this.one(keys[0]).then((v) => new Map([[keys[0], v]])) : this.many(keys);
    answered.then(
      (answers) => {
        this.gathering--;
        for (const [k, waiters] of p) {
          const v = answers.has(k) ? (answers.get(k) as V) : this.missing();
          for (const w of waiters) w.resolve(v);
        }
      },
      (e) => {
        this.gathering--;
        for (const waiters of p.values()) for (const w of waiters) w.reject(e);
      },
    );
  };
}
