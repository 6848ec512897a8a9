/**
 * The node-wide counter authority (runs in the primary): the one place where rate-limiting hits
 * of all workers are counted, so that `policy = local` is exact across worker processes.
 *
 * To stay fast, workers do not ask for every hit: the authority hands out **leases** — a batch of
 * hits a worker may use without asking — sized `remaining / (2 × workers)`, at most
 * {@link MAX_LEASE}, so they shrink to a single hit as the limit nears. A leased hit counts as used
 * here from the moment it is granted, so the authority never lets more than `limit` hits through.
 * When a request would be refused while other workers still hold unused leased hits for that
 * counter, the authority first **recalls** them (each worker gives back what it has not used) and
 * decides again: a request is refused only when every hit of the window was really used.
 *
 * The authority is transport-agnostic: `send` delivers a message to a worker (cluster IPC in the
 * primary, a direct call in a single process).
 *
 * @module
 */
import type { CounterItem, CounterToPrimary, CounterToWorker } from './messages.js'
import { allowance } from './window.js'

/** Largest lease: bounds what a crashed worker can take with it. */
export const MAX_LEASE = 256
/** How long a recall waits for a worker's answer before counting its lease as used. */
export const RECALL_TIMEOUT_MS = 1000
/** Safety bound on decide/recall passes for one acquire. */
const MAX_PASSES = 10_000

/** Rough V8 sizes of a counter record (object, lease map, window) and of one lease entry. */
const COUNTER_RECORD_BYTES = 160
const LEASE_ENTRY_BYTES = 32

interface Counter {
  /** Hits used or leased out. */
  used: number
  /** Per worker: leased hits that may still be unused. */
  readonly leases: Map<number, number>
  readonly start: number
  readonly end: number
}

export interface AcquireResult {
  readonly ok: boolean
  readonly granted: number[]
  readonly remaining: number[]
}

interface Recall {
  readonly keys: readonly string[]
  readonly waiting: Set<number>
  readonly done: () => void
}

function leaseSize(remaining: number, workers: number): number {
  if (remaining < 1) return 0
  return Math.max(1, Math.min(MAX_LEASE, Math.floor(remaining / (2 * Math.max(1, workers)))))
}

function outstanding(c: Counter | undefined): number {
  if (c === undefined) return 0
  let n = 0
  for (const v of c.leases.values()) n += v
  return n
}

export class CounterAuthority {
  readonly #counters = new Map<string, Counter>()
  readonly #recalls = new Map<number, Recall>()
  /** Keys with a recall in flight: acquires on them wait for it. */
  readonly #recalling = new Map<string, Promise<void>>()
  #recallId = 0
  readonly #send: (workerId: number, msg: CounterToWorker) => void
  readonly #workers: () => number
  readonly #now: () => number

  constructor(send: (workerId: number, msg: CounterToWorker) => void, workers: () => number, now: () => number = Date.now) {
    this.#send = send
    this.#workers = workers
    this.#now = now
  }

  /** Number of live counters (for tests and stats). */
  get size(): number {
    return this.#counters.size
  }

  /**
   * Memory the counters take, estimated from their keys and leases (a key's UTF-16 text, a fixed
   * record, and an entry per lease): `GET /status` reports it as Kong's `kong` shared dict.
   */
  approxBytes(): number {
    let bytes = 0
    for (const [key, c] of this.#counters) bytes += key.length * 2 + COUNTER_RECORD_BYTES + c.leases.size * LEASE_ENTRY_BYTES
    return bytes
  }

  /** Hits used (or leased) in a counter. */
  used(key: string): number {
    return this.#counters.get(key)?.used ?? 0
  }

  handle(workerId: number, msg: CounterToPrimary): void {
    switch (msg.type) {
      case 'counter:acquire':
        // The grant must leave in the same tick as the decision: a recall issued right after must
        // reach the worker after the lease it takes back.
        void this.acquire(workerId, msg.items, (r) => this.#send(workerId, { type: 'counter:grant', id: msg.id, ...r }))
        break
      case 'counter:returned':
        this.#onReturned(workerId, msg.rid, msg.returns)
        break
      case 'counter:return':
        for (const [key, n, leased] of msg.returns) {
          const c = this.#counters.get(key)
          if (c === undefined) continue
          c.used = Math.max(0, c.used - n)
          if (leased) c.leases.set(workerId, Math.max(0, (c.leases.get(workerId) ?? 0) - n))
        }
        break
    }
  }

  /** One hit on every item for `workerId`, or none (see {@link CounterToWorker}). */
  async acquire(workerId: number, items: readonly CounterItem[], reply?: (r: AcquireResult) => void): Promise<AcquireResult> {
    const r = await this.#decide(workerId, items, reply)
    return r
  }

  async #decide(workerId: number, items: readonly CounterItem[], reply: ((r: AcquireResult) => void) | undefined): Promise<AcquireResult> {
    const answer = (r: AcquireResult): AcquireResult => {
      reply?.(r)
      return r
    }
    for (let attempt = 0; ; attempt++) {
      const busy: Promise<void>[] = []
      for (const it of items) {
        const a = this.#recalling.get(it.key)
        if (a !== undefined) busy.push(a)
        const b = it.prevKey === null ? undefined : this.#recalling.get(it.prevKey)
        if (b !== undefined) busy.push(b)
      }
      if (busy.length > 0) {
        await Promise.all(busy)
        continue
      }
      // Sliding windows weigh the previous window's real use: take back its unused leases first.
      const stalePrev = items.flatMap((it) => (it.prevKey !== null && outstanding(this.#counters.get(it.prevKey)) > 0 ? [it.prevKey] : []))
      if (stalePrev.length > 0 && attempt < 4) {
        await this.#recall(stalePrev)
        continue
      }
      const now = this.#now()
      const allowed = items.map((it) => {
        const cur = this.#counters.get(it.key)?.used ?? 0
        if (it.prevKey === null) return allowance(it.limit, cur, null, 0)
        const prev = this.#counters.get(it.prevKey)?.used ?? 0
        const size = it.end - it.start
        const weight = (size - Math.min(Math.max(now - it.start, 0), size)) / size
        return allowance(it.limit, cur, prev, weight)
      })
      const blocked = items.filter((_, i) => (allowed[i] ?? 0) < 1)
      if (blocked.length === 0) {
        const workers = this.#workers()
        const granted = allowed.map((r) => leaseSize(r, workers))
        items.forEach((it, i) => {
          const g = granted[i] ?? 1
          const c = this.#counter(it)
          c.used += g
          // One hit is this request's; the rest is leased.
          if (g > 1) c.leases.set(workerId, (c.leases.get(workerId) ?? 0) + g - 1)
        })
        return answer({ ok: true, granted, remaining: allowed.map((r, i) => r - (granted[i] ?? 1)) })
      }
      const recallable = blocked.map((it) => it.key).filter((k) => outstanding(this.#counters.get(k)) > 0)
      // Each recall either frees hits (someone is granted: bounded by the limit) or empties the
      // leases (the next pass decides): this ends. The cap only guards against a broken worker.
      if (recallable.length === 0 || attempt >= MAX_PASSES) {
        return answer({ ok: false, granted: items.map(() => 0), remaining: allowed.map((r) => Math.max(0, r)) })
      }
      await this.#recall(recallable)
    }
  }

  #counter(it: CounterItem): Counter {
    let c = this.#counters.get(it.key)
    if (c === undefined) {
      c = { used: 0, leases: new Map(), start: it.start, end: it.end }
      this.#counters.set(it.key, c)
    }
    return c
  }

  #recall(keys: readonly string[]): Promise<void> {
    const holders = new Set<number>()
    for (const k of keys) {
      for (const [w, n] of this.#counters.get(k)?.leases ?? []) if (n > 0) holders.add(w)
    }
    if (holders.size === 0) return Promise.resolve()
    const rid = ++this.#recallId
    const promise = new Promise<void>((resolve) => {
      const timer = setTimeout(() => finish(), RECALL_TIMEOUT_MS)
      timer.unref?.()
      const finish = (): void => {
        clearTimeout(timer)
        if (!this.#recalls.delete(rid)) return
        for (const k of keys) if (this.#recalling.get(k) === promise) this.#recalling.delete(k)
        resolve()
      }
      this.#recalls.set(rid, { keys, waiting: holders, done: finish })
    })
    for (const k of keys) this.#recalling.set(k, promise)
    for (const w of holders) this.#send(w, { type: 'counter:recall', rid, keys })
    return promise
  }

  #onReturned(workerId: number, rid: number, returns: readonly (readonly [string, number])[]): void {
    const recall = this.#recalls.get(rid)
    for (const [key, unused] of returns) {
      const c = this.#counters.get(key)
      if (c === undefined) continue
      c.used = Math.max(0, c.used - unused)
      // In time, nothing was granted to this worker meanwhile (acquires wait for the recall): its
      // lease is empty now. Late (after the timeout): only what it gave back is gone.
      if (recall !== undefined) c.leases.delete(workerId)
      else c.leases.set(workerId, Math.max(0, (c.leases.get(workerId) ?? 0) - unused))
    }
    if (recall !== undefined) {
      recall.waiting.delete(workerId)
      if (recall.waiting.size === 0) recall.done()
    }
  }

  /** A worker died: its leased hits count as used; recalls stop waiting for it. */
  workerGone(workerId: number): void {
    for (const c of this.#counters.values()) c.leases.delete(workerId)
    for (const r of [...this.#recalls.values()]) {
      r.waiting.delete(workerId)
      if (r.waiting.size === 0) r.done()
    }
  }

  /** Forgets counters whose window ended more than one window ago (sliding needs the previous one). */
  sweep(now: number = this.#now()): void {
    for (const [k, c] of this.#counters) if (c.end + (c.end - c.start) < now) this.#counters.delete(k)
  }
}
