/**
 * The node-wide counter protocol between proxy workers and the primary (see
 * {@link ./authority.ts}). Keys name one window of one counter (`…:<window start>:<period>`).
 *
 * @module
 */

/** One counter a request needs a hit on. */
export interface CounterItem {
  /** The counter of the current window. */
  readonly key: string
  /** The counter of the previous window (sliding windows), else null. */
  readonly prevKey: string | null
  readonly limit: number
  /** The current window, epoch ms. */
  readonly start: number
  readonly end: number
}

export type CounterToPrimary =
  /** A worker has no lease left for some of a request's counters: take one hit on each, or none. */
  | { readonly type: 'counter:acquire'; readonly id: number; readonly items: readonly CounterItem[] }
  /** Answer to a recall: the unused leased hits given back, per key. */
  | { readonly type: 'counter:returned'; readonly rid: number; readonly returns: readonly (readonly [string, number])[] }
  /** Hits given back unasked (`leased`: from a lease whose window is over). */
  | { readonly type: 'counter:return'; readonly returns: readonly (readonly [string, number, boolean])[] }

export type CounterToWorker =
  /**
   * Answer to an acquire. `ok`: each item got `granted[i]` ≥ 1 hits (one is this request's, the
   * rest a lease); `remaining[i]` is what is left for others after the grant. Refused: nothing was
   * taken; `remaining[i]` is what each counter still allows (0 for the exhausted ones).
   */
  | {
      readonly type: 'counter:grant'
      readonly id: number
      readonly ok: boolean
      readonly granted: readonly number[]
      readonly remaining: readonly number[]
    }
  /** Give back the unused hits leased for these keys. */
  | { readonly type: 'counter:recall'; readonly rid: number; readonly keys: readonly string[] }

/**
 * rate-limiting's `cluster` policy: one request's hit on the rows of Kong's `ratelimiting_metrics`
 * (the primary runs it on the node's database; src/runtime/cluster-counters.ts).
 */
export interface ClusterHit {
  readonly identifier: string
  readonly serviceId: string
  readonly routeId: string
  /** Per configured period: its window start (epoch seconds), limit and row lifetime (seconds). */
  readonly periods: readonly { readonly period: string; readonly date: number; readonly limit: number; readonly ttl: number }[]
}

/** A worker asks the primary for a `cluster` hit. */
export type ClusterToPrimary = { readonly type: 'counter:cluster'; readonly id: number; readonly hit: ClusterHit }

/**
 * The primary's answer: taken or not, with what each period still allows (as `counter:grant`);
 * `error` when the database could not be asked (the plugin's `fault_tolerant` decides).
 */
export type ClusterToWorker = {
  readonly type: 'counter:cluster-result'
  readonly id: number
  readonly ok: boolean
  readonly remaining: readonly number[]
  readonly error: string | null
}
