/**
 * Serialises transactions of one store handle. A transaction body is async, so without a gate
 * a second transaction (or a plain write on the main handle) could run between two awaits of the
 * first and leak into it. `exclusive()` queues transactions one after another; `idle()` lets
 * a main-handle operation wait until no transaction is open.
 *
 * @module
 */
export class TxGate {
  #tail: Promise<void> = Promise.resolve()
  #open = 0

  /** Is a transaction currently open or queued? */
  get busy(): boolean {
    return this.#open > 0
  }

  /** Runs `fn` once every earlier transaction has settled; later ones wait for it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.#open++
    const run = this.#tail.then(fn)
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    )
    return run.finally(() => {
      this.#open--
    })
  }

  /**
   * Resolves when no transaction is open or queued. Callers must run their (synchronous)
   * operation right after it resolves, without awaiting anything else in between.
   */
  async idle(): Promise<void> {
    while (this.#open > 0) await this.#tail
  }
}
