/**
 * Kong 3.9's plugin queue (`kong/tools/queue.lua`) for logging plugins: entries wait in a bounded
 * in-memory queue and a consumer sends them in batches, off the request path.
 *
 * - `max_entries`: when full, the oldest entry is dropped (one warning until a batch goes out).
 * - `max_batch_size` / `max_coalescing_delay`: a batch goes out when it is full, or that many
 *   seconds after its first entry arrived.
 * - a failed batch is retried after `initial_retry_delay` doubling up to `max_retry_delay`, until
 *   `max_retry_time` seconds have passed since its first try; then it is dropped (logged).
 * - `concurrency_limit`: 1 (one batch in flight) or -1 (no queue: every entry is sent at once on
 *   its own).
 * - `max_bytes`: bounds the queued entries' total size (their JSON length here; Kong only counts
 *   string entries).
 *
 * @module
 */

export interface QueueConfig {
  readonly max_batch_size: number
  readonly max_coalescing_delay: number
  readonly max_entries: number
  readonly max_bytes?: number | null
  readonly max_retry_time: number
  readonly initial_retry_delay: number
  readonly max_retry_delay: number
  readonly concurrency_limit: number
}

export interface QueueLog {
  warn(message: string): void
  err(message: string): void
  debug?(message: string): void
}

/** Sends one batch; resolves true when done, or to an error message (retried). */
export type BatchHandler<T> = (batch: readonly T[]) => Promise<true | string>

/** Kong's `capacity_warning_threshold`. */
const CAPACITY_WARNING = 0.8

export class Queue<T> {
  readonly name: string
  readonly #conf: QueueConfig
  readonly #handler: BatchHandler<T>
  readonly #log: QueueLog
  readonly #sizeOf: (entry: T) => number
  #entries: { entry: T; size: number; at: number }[] = []
  #bytes = 0
  #running = false
  #warnedFull = false
  #warnedCapacity = false
  #wake: (() => void) | null = null
  #closed = false
  /** Entries dropped because the queue was full or retries ran out (tests, diagnostics). */
  dropped = 0

  constructor(
    name: string,
    conf: QueueConfig,
    handler: BatchHandler<T>,
    log: QueueLog,
    sizeOf: (entry: T) => number = (e) => JSON.stringify(e).length,
  ) {
    this.name = name
    this.#conf = conf
    this.#handler = handler
    this.#log = log
    this.#sizeOf = sizeOf
  }

  get length(): number {
    return this.#entries.length
  }

  /** Adds an entry; never waits. */
  enqueue(entry: T): void {
    if (this.#closed) return
    if (this.#conf.concurrency_limit === -1) {
      void this.#send([entry])
      return
    }
    const size = this.#conf.max_bytes != null ? this.#sizeOf(entry) : 0
    if (this.#conf.max_bytes != null && size > this.#conf.max_bytes) {
      this.#log.err(
        `queue ${this.name}: string to be queued is longer (${size} bytes) than the queue's max_bytes (${this.#conf.max_bytes} bytes)`,
      )
      this.dropped++
      return
    }
    while (
      this.#entries.length >= this.#conf.max_entries ||
      (this.#conf.max_bytes != null && this.#bytes + size > this.#conf.max_bytes && this.#entries.length > 0)
    ) {
      if (!this.#warnedFull) {
        this.#log.warn(`queue ${this.name}: queue full, dropping old entries until processing is successful again`)
        this.#warnedFull = true
      }
      const old = this.#entries.shift()
      if (old !== undefined) this.#bytes -= old.size
      this.dropped++
    }
    this.#entries.push({ entry, size, at: Date.now() })
    this.#bytes += size
    if (!this.#warnedCapacity && this.#entries.length >= this.#conf.max_entries * CAPACITY_WARNING && this.#conf.max_entries >= 5) {
      this.#warnedCapacity = true
      this.#log.warn(`queue ${this.name}: queue at ${Math.floor(CAPACITY_WARNING * 100)}% capacity`)
    }
    if (this.#running) {
      this.#wake?.()
      return
    }
    this.#running = true
    void this.#consume()
  }

  /** Stops taking entries; what is queued is dropped. */
  close(): void {
    this.#closed = true
    this.#entries = []
    this.#wake?.()
  }

  #sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (wakeable) this.#wake = null
        resolve()
      }, ms)
      timer.unref()
      if (wakeable) {
        this.#wake = () => {
          // Woken early only when the batch is full.
          if (this.#entries.length >= this.#conf.max_batch_size || this.#closed) {
            clearTimeout(timer)
            this.#wake = null
            resolve()
          }
        }
      }
    })
  }

  async #consume(): Promise<void> {
    try {
      while (this.#entries.length > 0 && !this.#closed) {
        const first = this.#entries[0] as { at: number }
        const waitMs = first.at + this.#conf.max_coalescing_delay * 1000 - Date.now()
        if (this.#entries.length < this.#conf.max_batch_size && waitMs > 0) await this.#sleep(waitMs, true)
        const taken = this.#entries.splice(0, this.#conf.max_batch_size)
        for (const t of taken) this.#bytes -= t.size
        if (this.#entries.length < this.#conf.max_entries * CAPACITY_WARNING) this.#warnedCapacity = false
        if (taken.length === 0) continue
        await this.#send(taken.map((t) => t.entry))
      }
    } finally {
      this.#running = false
      if (this.#entries.length > 0 && !this.#closed) {
        this.#running = true
        void this.#consume()
      }
    }
  }

  async #send(batch: T[]): Promise<void> {
    const started = Date.now()
    for (let attempt = 0; ; attempt++) {
      let result: true | string
      try {
        result = await this.#handler(batch)
      } catch (err) {
        result = err instanceof Error ? err.message : String(err)
      }
      if (result === true) {
        this.#warnedFull = false
        return
      }
      this.#log.warn(`queue ${this.name}: handler could not process entries: ${result}`)
      if (Date.now() - started > this.#conf.max_retry_time * 1000 || this.#closed) {
        this.#log.err(`queue ${this.name}: could not send entries due to max_retry_time exceeded. ${batch.length} queue entries were lost`)
        this.dropped += batch.length
        return
      }
      await this.#sleep(Math.min(this.#conf.max_retry_delay, 2 ** attempt * this.#conf.initial_retry_delay) * 1000, false)
    }
  }
}
