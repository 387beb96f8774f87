// A budget for password hashing. A PBKDF2 at a million iterations costs half a CPU-second: at
// most `concurrency` run at once and at most `queue` wait; past that a bind is answered busy
// (51) at once, so a password-spraying client cannot make valid users wait behind it forever.

export class BusyError extends Error {
  constructor() {
    super('password checks are saturated');
  }
}

export class HashGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly queue: number,
  ) {}

  /** How many checks are running and waiting (for metrics and tests). */
  get depth(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw new BusyError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
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
