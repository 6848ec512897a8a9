/**
 * `policy = cluster`: counters in the node's database (Kong's `ratelimiting_metrics` rows, keyed
 * by identifier, period, period start, the instance's service and route), shared by every node on
 * it. The worker sends each request's hit to the primary, which runs it on the database
 * (src/runtime/cluster-counters.ts): exact across nodes, one hit on every period or none.
 *
 * @module
 */
import type { NodeCounters, TakeResult } from '../../../counters/client.js'
import type { CounterItem } from '../../../counters/messages.js'
import { EXPIRATION, type Period } from '../../../counters/window.js'

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
      identifier,
      serviceId: this.#serviceId,
      routeId: this.#routeId,
      periods: items.map((it, i) => {
        const period = this.#periods[i] as Period
        // Kong's period_date: the window's start in whole seconds; its rows live one period.
        return { period, date: Math.floor(it.start / 1000), limit: it.limit, ttl: EXPIRATION[period] }
      }),
    })
  }
}
