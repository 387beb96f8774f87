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
//
// A check nobody waits for any more (its client hung up, or unbound) is dropped rather than
// hashed: it leaves the queue the moment its `gone` signal fires, and one that arrives already
// gone never takes a place. A sprayer who queues binds and hangs up costs no hash for them.

export class BusyError extends Error {
  constructor() {
    super('password checks are saturated');
  }
}

/** The check was dropped before it was hashed: whoever asked for it is gone. */
export class DroppedError extends Error {
  constructor() {
    super('password check dropped: its connection is gone');
  }
}

export class HashGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Checks dropped unhashed because their `gone` signal fired (for metrics and tests). */
  private dropped = 0;
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
  get depth(): { running: number; waiting: number; computed: number; dropped: number } {
    return { running: this.running, waiting: this.waiting.length, computed: this.started, dropped: this.dropped };
  }

  /** Runs `work` within the budget, or throws BusyError at once when there is no place for it.
   * `knownName`: the bind names an existing account, which may use the reserved places.
   * `gone`: fires when nobody waits for the answer any more; the work is then not run
   * (DroppedError), whether it was waiting or had not arrived yet. Work already running ends. */
  async run<T>(work: () => Promise<T>, knownName = true, gone?: AbortSignal): Promise<T> {
    if (gone?.aborted) {
      this.dropped++;
      throw new DroppedError();
    }
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw new BusyError();
      if (!knownName && this.waitingUnknown >= this.queue - this.reservedQueue) throw new BusyError();
      await this.wait(knownName, gone);
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

  /** Waits for a place to be handed over; leaves the queue (DroppedError) when `gone` fires first. */
  private wait(knownName: boolean, gone: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (!knownName) this.waitingUnknown++;
      const leave = () => {
        if (!knownName) this.waitingUnknown--;
        gone?.removeEventListener('abort', onGone);
      };
      const turn = () => {
        leave();
        resolve();
      };
      const onGone = () => {
        const i = this.waiting.indexOf(turn);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        leave();
        this.dropped++;
        reject(new DroppedError());
      };
      gone?.addEventListener('abort', onGone, { once: true });
      this.waiting.push(turn);
    });
  }
}
