/**
 * The worker side of the node-wide counters: takes hits from local leases when it can (no IPC,
 * synchronous), asks the primary's {@link CounterAuthority} otherwise, and answers its recalls.
 *
 * A proxy worker makes one client, sends its messages to the primary and gives it the primary's
 * (src/runtime/worker.ts); plugins get it through their init context. In a process without a
 * primary (unit tests, embedding), {@link inProcessCounters} pairs a client with its own authority.
 *
 * @module
 */
import { CounterAuthority } from './authority.js'
import type { ClusterHit, ClusterToPrimary, ClusterToWorker, CounterItem, CounterToPrimary, CounterToWorker } from './messages.js'

/** The outcome of a take: allowed or not, and per item what remains after it (Kong's headers). */
export interface TakeResult {
  readonly ok: boolean
  readonly remaining: readonly number[]
}

interface Lease {
  /** Leased hits not used yet. */
  tokens: number
  /** What the authority had left for others at the last grant. */
  remainingAfter: number
  readonly end: number
}

/**
 * What plugins use of the counters: one hit on every item, or none (`take`, node-wide), and the
 * same on the database's rows shared by every node (`clusterTake`, rate-limiting's `cluster`).
 */
export type NodeCounters = Pick<CounterClient, 'take' | 'clusterTake'>

/** How often ended windows' unused leases are given back. */
const SWEEP_MS = 1000

export class CounterClient {
  readonly #leases = new Map<string, Lease>()
  readonly #pending = new Map<number, (m: Extract<CounterToWorker, { type: 'counter:grant' }>) => void>()
  readonly #clusterPending = new Map<number, { resolve: (r: TakeResult) => void; reject: (e: Error) => void }>()
  #nextId = 0
  readonly #send: (msg: CounterToPrimary | ClusterToPrimary) => void
  readonly #now: () => number

  constructor(send: (msg: CounterToPrimary | ClusterToPrimary) => void, now: () => number = Date.now) {
    this.#send = send
    this.#now = now
    const t = setInterval(() => this.sweep(), SWEEP_MS)
    t.unref?.()
  }

  /** Unused leased hits held for a key (tests). */
  leased(key: string): number {
    return this.#leases.get(key)?.tokens ?? 0
  }

  onMessage(msg: CounterToWorker | ClusterToWorker): void {
    if (msg.type === 'counter:cluster-result') {
      const waiting = this.#clusterPending.get(msg.id)
      if (waiting === undefined) return
      this.#clusterPending.delete(msg.id)
      if (msg.error !== null) waiting.reject(new Error(msg.error))
      else waiting.resolve({ ok: msg.ok, remaining: msg.remaining })
    } else if (msg.type === 'counter:grant') {
      const resolve = this.#pending.get(msg.id)
      if (resolve === undefined) return
      this.#pending.delete(msg.id)
      resolve(msg)
    } else {
      const returns: [string, number][] = []
      for (const key of msg.keys) {
        const lease = this.#leases.get(key)
        returns.push([key, lease?.tokens ?? 0])
        if (lease !== undefined) lease.tokens = 0
      }
      this.#send({ type: 'counter:returned', rid: msg.rid, returns })
    }
  }

  /**
   * One hit on every item, or none. Synchronous when local leases cover all items (the common
   * case); otherwise one round trip to the authority.
   */
  take(items: readonly CounterItem[]): TakeResult | Promise<TakeResult> {
    const leases = items.map((it) => this.#leases.get(it.key))
    if (leases.every((l) => l !== undefined && l.tokens >= 1)) {
      const held = leases as Lease[]
      for (const l of held) l.tokens--
      return { ok: true, remaining: held.map((l) => l.remainingAfter + l.tokens) }
    }
    // Some window has no leased hit left: ask for all of them (this also refreshes what the others
    // report as remaining).
    const id = ++this.#nextId
    return new Promise<TakeResult>((resolve) => {
      this.#pending.set(id, (grant) => {
        const remaining = items.map((it, i) => {
          if (!grant.ok) return (grant.remaining[i] ?? 0) + (this.#leases.get(it.key)?.tokens ?? 0)
          let lease = this.#leases.get(it.key)
          if (lease === undefined) {
            lease = { tokens: 0, remainingAfter: 0, end: it.end }
            this.#leases.set(it.key, lease)
          }
          lease.tokens += (grant.granted[i] ?? 1) - 1
          lease.remainingAfter = grant.remaining[i] ?? 0
          return lease.remainingAfter + lease.tokens
        })
        resolve({ ok: grant.ok, remaining })
      })
      this.#send({ type: 'counter:acquire', id, items })
    })
  }

  /**
   * One hit on every period of the database's rows (rate-limiting's `cluster` policy), or none:
   * the primary runs it. Rejects when the database could not be asked.
   */
  clusterTake(hit: ClusterHit): Promise<TakeResult> {
    const id = ++this.#nextId
    return new Promise<TakeResult>((resolve, reject) => {
      this.#clusterPending.set(id, { resolve, reject })
      this.#send({ type: 'counter:cluster', id, hit })
    })
  }

  /** Gives back the unused leases of windows that are over. */
  sweep(now: number = this.#now()): void {
    const returns: [string, number, boolean][] = []
    for (const [key, lease] of this.#leases) {
      if (lease.end > now) continue
      if (lease.tokens > 0) returns.push([key, lease.tokens, true])
      this.#leases.delete(key)
    }
    if (returns.length > 0) this.#send({ type: 'counter:return', returns })
  }
}

/** A client and authority in one process (no primary): messages are delivered asynchronously. */
export function inProcessCounters(now: () => number = Date.now): { client: CounterClient; authority: CounterAuthority } {
  let client: CounterClient | null = null
  const authority = new CounterAuthority(
    (_w, msg) => queueMicrotask(() => client?.onMessage(msg)),
    () => 1,
    now,
  )
  client = new CounterClient(
    (msg) =>
      queueMicrotask(() => {
        // No database in this process: the `cluster` policy's hits fail (fault_tolerant decides).
        if (msg.type === 'counter:cluster')
          client?.onMessage({ type: 'counter:cluster-result', id: msg.id, ok: false, remaining: [], error: 'no database in this process' })
        else authority.handle(0, msg)
      }),
    now,
  )
  return { client, authority }
}
