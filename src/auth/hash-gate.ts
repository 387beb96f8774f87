// A budget for password hashing. A PBKDF2 at a million iterations costs half a CPU-second: at
// most `concurrency` run at once and at most `queue` wait; past that a bind is answered busy
// (51) at once, so a password-spraying client cannot make valid users wait behind it forever.
//
// Binds for names that do not exist may fill only part of the queue: `reservedQueue` places are
// kept for names that do (users and service accounts), so a spray of made-up names cannot turn
// real users away. The queue stays first come, first served for everyone: putting real names
// ahead would make their failures answer sooner than made-up ones whenever anything waits, and
// tell an attacker which names exist. What is left to see is that, while made-up names fill
// their share, one more made-up name is answered busy where a real one waits; a sender has to
// keep that share full to see it, and every busy answer counts against its address.

export class BusyError extends Error {
  constructor() {
    super('password checks are saturated');
  }
}

export class HashGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Waiters for names that do not exist (they may hold queue - reservedQueue places). */
  private waitingUnknown = 0;
  /** Checks started since the process began (for metrics and tests). */
  private started = 0;

  constructor(
    readonly concurrency: number,
    readonly queue: number,
    /** Queue places only binds for existing names may take: half the queue unless given. */
    readonly reservedQueue: number = Math.floor(queue / 2),
  ) {}

  /** How many checks are running and waiting, and how many ever started (for metrics and tests). */
  get depth(): { running: number; waiting: number; computed: number } {
    return { running: this.running, waiting: this.waiting.length, computed: this.started };
  }

  /** Runs `work` within the budget, or throws BusyError at once when there is no place for it.
   * `knownName`: the bind names an existing account, which may use the reserved places. */
  async run<T>(work: () => Promise<T>, knownName = true): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw new BusyError();
      if (knownName) {
        await new Promise<void>((resolve) => this.waiting.push(resolve));
      } else {
        if (this.waitingUnknown >= this.queue - this.reservedQueue) throw new BusyError();
        this.waitingUnknown++;
        await new Promise<void>((resolve) =>
          this.waiting.push(() => {
            this.waitingUnknown--;
            resolve();
          }),
        );
      }
    } else {
      this.running++;
    }
    this.started++;
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
