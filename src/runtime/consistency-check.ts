/**
 * The fallback of the change notifications between nodes (Kong polls its `cluster_events` every
 * `db_update_frequency` seconds; here notifications carry the changes and this check catches what
 * they missed): a NOTIFY is lost when the listening connection drops between a commit and its
 * delivery, and a tool that writes the tables with SQL sends none. Every `db_update_frequency`
 * seconds the node reads the database's change counters (one small query: a trigger bumps them in
 * the transaction of every write, pg-layout.ts) and, when they differ from the ones it last
 * applied, reads the entities they name again. A change no notification (nor this node's own
 * write) announced is logged, once per check that finds one.
 *
 * The counters a node applied are only moved forward after a successful reload that started after
 * they were read, so a failed reload (the database went away) is retried by the next check.
 *
 * @module
 */
import type { ErrorLog } from '../observability/error-log.js'

/** The longest a Node.js timer waits (a longer delay would fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1

/** `db_update_frequency = 0` checks back to back, as Kong polls; this far apart at least, not to spin on the database. */
const MIN_FREQUENCY_MS = 100

/** Most entity names remembered between two checks. */
const MAX_ANNOUNCED = 1000

/** The counter every change bumps (pg-layout.ts's ALL_CHANGES). */
const ALL = '*'

/** Seconds of a Kong duration setting as timer milliseconds: below 0 counts as 0 (as Kong's `max(v, 0)`). */
export function settingMs(seconds: number, floorMs = 0): number {
  const ms = Number.isFinite(seconds) ? Math.max(seconds, 0) * 1000 : MAX_TIMER_MS
  return Math.min(Math.max(Math.round(ms), floorMs), MAX_TIMER_MS)
}

export interface ConsistencyCheckOptions {
  /** Reads the change counters (entity → count, `*` → all). */
  readonly read: () => Promise<ReadonlyMap<string, string>>
  /** Reads these entities again; resolves true once the node serves them, false if that failed. */
  readonly reload: (entities: readonly string[]) => Promise<boolean>
  /** `db_update_frequency`, seconds. */
  readonly frequency: number
  /** `db_update_propagation`, seconds: a change found waits this long before it is applied. */
  readonly propagation: number
  readonly log: Pick<ErrorLog, 'warn'>
}

export class ConsistencyCheck {
  readonly #o: ConsistencyCheckOptions
  readonly #everyMs: number
  readonly #delayMs: number
  /** The counters the node's configuration includes; null until first read. */
  #applied: ReadonlyMap<string, string> | null = null
  /** Entities a notification or this node's write announced since the last check. */
  #announced = new Set<string>()
  #announcedAll = false
  #timer: NodeJS.Timeout | null = null
  #wait: { timer: NodeJS.Timeout; resolve: () => void } | null = null
  #closed = false

  constructor(options: ConsistencyCheckOptions) {
    this.#o = options
    this.#everyMs = settingMs(options.frequency, MIN_FREQUENCY_MS)
    this.#delayMs = settingMs(options.propagation)
  }

  /** Reads the counters the coming first load includes (call before it); a failure leaves the first check to reload everything. */
  async baseline(): Promise<void> {
    try {
      this.#applied = await this.#o.read()
    } catch {
      this.#applied = null
    }
  }

  /** A notification, or this node's own write, announced a change of `entity`. */
  announced(entity: string): void {
    // Entity names are few; a flood of made-up ones (NOTIFY is open to any client) stays bounded.
    if (this.#announced.size < MAX_ANNOUNCED) this.#announced.add(entity)
  }

  /** Everything is being read again (the change channel came back). */
  announcedAll(): void {
    this.#announcedAll = true
  }

  /** Checks every `db_update_frequency` seconds until closed. */
  start(): void {
    if (this.#closed || this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      void this.check().finally(() => this.start())
    }, this.#everyMs)
    this.#timer.unref()
  }

  /** One check: resolves once any change found is applied (or the check failed; the next one retries). */
  async check(): Promise<void> {
    // What was announced before the counters are read was committed before: they include it.
    // What is announced from now on may belong to a change they include (a notification arrives
    // a moment after its commit) or to a later one: it explains this check's changes and stays
    // for the next check's.
    const earlier = this.#announced
    const earlierAll = this.#announcedAll
    this.#announced = new Set()
    this.#announcedAll = false
    let counters: ReadonlyMap<string, string>
    try {
      counters = await this.#o.read()
    } catch {
      // The database is away: the store's reachability says so (and logs it); the next check retries.
      this.#keep(earlier, earlierAll)
      return
    }
    const applied = this.#applied
    if (applied !== null && applied.get(ALL) === counters.get(ALL)) return
    const changed = [...counters.keys()].filter((e) => e !== ALL && (applied === null || applied.get(e) !== counters.get(e)))
    if (this.#delayMs > 0) await this.#sleep(this.#delayMs)
    if (this.#closed) return
    if (changed.length > 0 && !(await this.#o.reload(changed))) {
      this.#keep(earlier, earlierAll)
      return
    }
    this.#applied = counters
    if (applied === null || earlierAll || this.#announcedAll) return
    const silent = changed.filter((e) => !earlier.has(e) && !this.#announced.has(e))
    if (silent.length > 0) {
      this.#o.log.warn(
        `a change of ${silent.join(', ')} reached the database without a notification to this node (a lost notification, or a write made with SQL): found by the check every ${this.#everyMs / 1000}s (db_update_frequency), applied now`,
      )
    }
  }

  /** Announcements a check could not use (it failed): the next one does. */
  #keep(earlier: ReadonlySet<string>, all: boolean): void {
    for (const e of earlier) this.announced(e)
    this.#announcedAll ||= all
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wait = null
        resolve()
      }, ms)
      timer.unref()
      this.#wait = { timer, resolve }
    })
  }

  close(): void {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    if (this.#wait !== null) {
      clearTimeout(this.#wait.timer)
      this.#wait.resolve()
      this.#wait = null
    }
  }
}
