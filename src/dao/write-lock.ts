/**
 * A promise-chain mutex. The DAO runs every write under it, so a PATCH's read-merge-write
 * can never interleave with another write in this process and silently undo it (a lost
 * update). The store transaction still provides atomicity; the lock provides isolation for
 * stores whose transactions do not serialise async callers.
 *
 * @module
 */
export class WriteLock {
  #tail: Promise<void> = Promise.resolve()

  /** Runs `fn` after every previously queued write has settled. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn)
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }
}
