/**
 * `policy = local`: node-wide counters, exact across all worker processes (src/counters: leases
 * from the primary's authority, recalled before anyone is refused).
 *
 * @module
 */
import { counterClient, type CounterClient, type TakeResult } from '../../../counters/client.js'
import type { CounterItem } from '../../../counters/messages.js'

export class LocalPolicy {
  readonly #client: () => CounterClient

  constructor(client: () => CounterClient = counterClient) {
    this.#client = client
  }

  take(items: readonly CounterItem[]): TakeResult | Promise<TakeResult> {
    return this.#client().take(items)
  }
}
