/**
 * `policy = cluster`: counters in the node's database (Kong's `ratelimiting_metrics` rows, keyed
 * by identifier, period, period start, the instance's service and route), shared by every node on
 * it. The worker sends each request's hit to the primary, which runs it on the database
 * (src/runtime/cluster-counters.ts): exact across nodes, one hit on every period or none.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { NodeCounters, TakeResult } from '../../../counters/client.js'
import type { CounterItem } from '../../../counters/messages.js'
import type { Period } from '../../../counters/window.js'

/** Longer identifiers (a header's value) are stored as a prefix and a digest: index keys are bounded. */
export const MAX_IDENTIFIER = 256

/** The identifier as stored: itself, or (longer than {@link MAX_IDENTIFIER}) a prefix and its SHA-256. */
export function storedIdentifier(identifier: string): string {
  if (identifier.length <= MAX_IDENTIFIER) return identifier
  return `${identifier.slice(0, 64)}…sha256:${createHash('sha256').update(identifier).digest('hex')}`
}

export class ClusterPolicy {
  readonly #counters: () => NodeCounters
  readonly #serviceId: string
  readonly #routeId: string
  readonly #periods: readonly Period[]

  /** `periods[i]` is the period of the i-th item each request takes. */
  constructor(counters: () => NodeCounters, scope: { serviceId: string; routeId: string }, periods: readonly Period[]) {
    this.#counters = counters
    this.#serviceId = scope.serviceId
    this.#routeId = scope.routeId
    this.#periods = periods
  }

  take(items: readonly CounterItem[], identifier: string): Promise<TakeResult> {
    return this.#counters().clusterTake({
      identifier: storedIdentifier(identifier),
      serviceId: this.#serviceId,
      routeId: this.#routeId,
      periods: items.map((it, i) => {
        const period = this.#periods[i] as Period
        // Kong's period_date: the window's start in whole seconds. The row lives as long as its
        // window (Kong: one EXPIRATION, 30 days for every month, which drops a 31-day month's
        // count on its last day).
        return { period, date: Math.floor(it.start / 1000), limit: it.limit, ttl: Math.ceil((it.end - it.start) / 1000) }
      }),
    })
  }
}
