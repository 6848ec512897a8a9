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
