/**
 * `policy = local`: node-wide counters, exact across all worker processes (src/counters: leases
 * from the primary's authority, recalled before anyone is refused). The counters are the node's,
 * handed to the plugin by its init context.
 *
 * @module
 */
import type { NodeCounters, TakeResult } from '../../../counters/client.js'
import type { CounterItem } from '../../../counters/messages.js'

export class LocalPolicy {
  readonly #counters: () => NodeCounters

  /** `counters` gives the node's counters at the time of each request. */
  constructor(counters: () => NodeCounters) {
    this.#counters = counters
  }

  take(items: readonly CounterItem[]): TakeResult | Promise<TakeResult> {
    return this.#counters().take(items)
  }
}
