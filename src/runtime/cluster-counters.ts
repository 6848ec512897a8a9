/**
 * The primary's side of rate-limiting's `cluster` policy: the proxy workers send each request's
 * hit over IPC (`counter:cluster`), the primary runs it on the node's database (Kong's
 * `ratelimiting_metrics`, one statement on PostgreSQL: src/store/postgres/pg-ratelimiting.ts) and
 * answers. Workers never open the database.
 *
 * What stays off the database:
 * - a window found full is remembered until it ends (counters only grow within a window, and a
 *   refused request is not counted), so a client hammering past its limit costs no query;
 * - while the database is known to be unreachable (the change channel is lost, or a hit failed
 *   less than a second ago) hits fail at once instead of each waiting for `pg_timeout`: the
 *   plugin's `fault_tolerant` lets the request through or answers 500, as Kong does;
 * - at most {@link MAX_IN_FLIGHT} hits wait for the database; more fail at once.
 *
 * Expired rows (Kong's `ttl` column) are deleted once a minute, a bounded batch at a time.
 *
 * @module
 */
import type { ClusterHit, ClusterToPrimary, ClusterToWorker } from '../counters/messages.js'
import type { ErrorLog } from '../observability/error-log.js'
import type { MetricsOutcome, RateLimitMetrics } from '../store/index.js'

/** Most hits waiting for the database at once. */
export const MAX_IN_FLIGHT = 512
/** After a failed hit, how long further hits fail without asking (ms). */
const BACKOFF_MS = 1000
/** Most windows remembered as full. */
const MAX_FULL = 10_000
const PURGE_EVERY_MS = 60_000
const PURGE_BATCH = 10_000

export interface ClusterCounterOptions {
  /** The database's counters; null without one (DB-less: every hit fails). */
  readonly metrics: RateLimitMetrics | null
  readonly log: ErrorLog
  /** Why the database is known to be unreachable now, or null. */
  readonly down?: () => Error | null
  /** Answers the worker that asked. */
  readonly reply: (workerId: number, msg: ClusterToWorker) => void
  readonly now?: () => number
}

/** A full window: the request's answer until the window ends. */
interface Full {
  readonly until: number
  readonly remaining: readonly number[]
}

/**
 * The key of a hit's row set and limits: a limit raised by a configuration change mid-window is
 * a new key, so the window remembered full under the old limit does not refuse the request.
 */
function hitKey(h: ClusterHit): string {
  let k = `${h.routeId}:${h.serviceId}:${h.identifier}`
  for (const p of h.periods) k += `:${p.period}@${p.date}/${p.limit}`
  return k
}

export class ClusterCounterService {
  readonly #o: ClusterCounterOptions
  readonly #now: () => number
  readonly #full = new Map<string, Full>()
  #inFlight = 0
  #failedAt = -Infinity
  #lastError: Error | null = null
  #purge: NodeJS.Timeout | null = null
  /** Hits answered from the database and from memory (tests, `/status` later). */
  readonly stats = { queried: 0, fromMemory: 0, failed: 0 }

  constructor(options: ClusterCounterOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
    if (options.metrics !== null) {
      this.#purge = setInterval(() => void this.purge(), PURGE_EVERY_MS)
      this.#purge.unref()
    }
  }

  /** A `counter:cluster` message from a worker. */
  handle(workerId: number, msg: ClusterToPrimary): void {
    void this.hit(msg.hit).then(
      (r) => this.#o.reply(workerId, { type: 'counter:cluster-result', id: msg.id, ok: r.ok, remaining: r.remaining, error: null }),
      (err: Error) => {
        this.stats.failed++
        this.#o.reply(workerId, { type: 'counter:cluster-result', id: msg.id, ok: false, remaining: [], error: err.message })
      },
    )
  }

  /** One hit; rejects when the database cannot be asked. */
  async hit(h: ClusterHit): Promise<MetricsOutcome> {
    const metrics = this.#o.metrics
    if (metrics === null) throw new Error('the cluster policy has no database on this node (database = off)')
    if (!checkHit(h)) throw new Error('malformed cluster counter request')
    const now = this.#now()
    const key = hitKey(h)
    const full = this.#full.get(key)
    if (full !== undefined) {
      if (full.until > now) {
        this.stats.fromMemory++
        return { ok: false, remaining: full.remaining }
      }
      this.#full.delete(key)
    }
    const down = this.#o.down?.() ?? null
    if (down !== null) throw new Error(`the database cannot be reached: ${down.message}`)
    if (now - this.#failedAt < BACKOFF_MS) throw new Error(`the database cannot be reached: ${this.#lastError?.message ?? 'failed'}`)
    if (this.#inFlight >= MAX_IN_FLIGHT)
      throw new Error(`too many rate-limiting counter queries waiting for the database (${MAX_IN_FLIGHT})`)
    this.#inFlight++
    let r: MetricsOutcome
    try {
      r = await metrics.hit(h)
      this.stats.queried++
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err))
      if (this.#lastError === null) this.#o.log.error(`rate-limiting cluster policy: could not count in the database (${e.message})`)
      this.#lastError = e
      this.#failedAt = this.#now()
      throw e
    } finally {
      this.#inFlight--
    }
    if (this.#lastError !== null) {
      this.#lastError = null
      this.#o.log.notice('rate-limiting cluster policy: counting in the database again')
    }
    // One period only: a row at its limit stays there until its window ends (a request refused by
    // one of several periods briefly holds another's slot, so only single-period answers are kept).
    if (!r.ok && h.periods.length === 1) this.#remember(key, h, r, now)
    return r
  }

  #remember(key: string, h: ClusterHit, r: MetricsOutcome, now: number): void {
    const p = h.periods[0]
    if (p === undefined) return
    if (this.#full.size >= MAX_FULL) {
      for (const [k, f] of this.#full) if (f.until <= now) this.#full.delete(k)
      if (this.#full.size >= MAX_FULL) return
    }
    // The window ends when its row expires: the plugin gives each row its window's length.
    this.#full.set(key, { until: (p.date + p.ttl) * 1000, remaining: r.remaining })
  }

  /** Deletes a bounded batch of expired rows (logged when it fails: the next run tries again). */
  async purge(): Promise<void> {
    try {
      await this.#o.metrics?.purgeExpired(PURGE_BATCH)
    } catch (err) {
      this.#o.log.debug(`rate-limiting cluster policy: expired counters not purged: ${(err as Error).message}`)
    }
  }

  close(): void {
    if (this.#purge !== null) clearInterval(this.#purge)
  }
}

const PERIOD_NAMES = new Set(['second', 'minute', 'hour', 'day', 'month', 'year'])
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A hit as a worker built it: bounded, one entry per known period, finite numbers. */
function checkHit(h: ClusterHit): boolean {
  if (typeof h !== 'object' || h === null || !Array.isArray(h.periods) || h.periods.length === 0 || h.periods.length > 6) return false
  if (typeof h.identifier !== 'string' || typeof h.serviceId !== 'string' || typeof h.routeId !== 'string') return false
  if (h.identifier.length > 1024 || !UUID.test(h.serviceId) || !UUID.test(h.routeId)) return false
  const seen = new Set<string>()
  for (const p of h.periods) {
    if (!PERIOD_NAMES.has(p.period) || seen.has(p.period)) return false
    seen.add(p.period)
    if (![p.date, p.limit, p.ttl].every((n) => typeof n === 'number' && Number.isFinite(n))) return false
  }
  return true
}
