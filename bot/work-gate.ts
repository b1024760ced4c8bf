/**
 * Counts work that is scheduled or in flight (timers, deliveries) so callers can wait until none is
 * left: tests, a Lambda invocation before it returns, a clean shutdown.
 */
export class WorkGate {
  #outstanding = 0;
  #waiters: Array<() => void> = [];

  /** One more unit of work (a timer set); pair with `release`. */
  hold(): void {
    this.#outstanding++;
  }

  release(): void {
    this.#outstanding--;
    if (this.#outstanding === 0) for (const resolve of this.#waiters.splice(0)) resolve();
  }

  /** Holds for as long as `promise` runs. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.hold();
    return promise.finally(() => this.release());
  }

  idle(): Promise<void> {
    if (this.#outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
