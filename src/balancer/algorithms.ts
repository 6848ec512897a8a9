/**
 * Kong's four balancing algorithms over a list of addresses. Each gets the addresses (weight > 0)
 * on every change and picks one, skipping unavailable addresses and, on retries, those already
 * tried while another is left.
 *
 * @module
 */
import { crc32 } from 'node:zlib'

/** What an algorithm needs to know of an address. */
export interface Peer {
  readonly key: string
  readonly ip: string
  readonly port: number
  readonly weight: number
  /** Requests in flight on this address (this worker). */
  active: number
  /** EWMA of response latency in ms (latency algorithm); 0 until measured. */
  ewma: number
  ewmaAt: number
}

export interface PickOptions {
  readonly available: (p: Peer) => boolean
  /** Addresses already tried by this request. */
  readonly tried: ReadonlySet<Peer> | null
  /** Hash of the request's hash input (consistent-hashing), when any. */
  readonly hash: number | null
}

export interface BalancingAlgorithm {
  rebuild(peers: readonly Peer[]): void
  pick(o: PickOptions): Peer | null
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/** Fisher–Yates with a seeded generator: the same addresses give the same wheel on every worker. */
function shuffle<T>(items: T[], seed: number): T[] {
  let s = seed >>> 0 || 1
  const rnd = (): number => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}

/**
 * Weighted round-robin (Kong 3.x `round_robin.lua`): a wheel where each address appears
 * weight/gcd(weights) times in a shuffled order, walked by a pointer; over one turn of the wheel
 * every address gets exactly its share.
 */
export class RoundRobin implements BalancingAlgorithm {
  #wheel: Peer[] = []
  #pointer = 0

  rebuild(peers: readonly Peer[]): void {
    const weights = peers.map((p) => p.weight).filter((w) => w > 0)
    const g = weights.reduce((a, b) => gcd(a, b), 0) || 1
    const wheel: Peer[] = []
    for (const p of peers) for (let i = 0; i < p.weight / g; i++) wheel.push(p)
    this.#wheel = shuffle(wheel, crc32(peers.map((p) => p.key).join(',')))
    this.#pointer = Math.floor(Math.random() * Math.max(1, wheel.length))
  }

  pick(o: PickOptions): Peer | null {
    const wheel = this.#wheel
    const n = wheel.length
    let fallback: Peer | null = null
    for (let i = 0; i < n; i++) {
      this.#pointer = (this.#pointer + 1) % n
      const p = wheel[this.#pointer] as Peer
      if (!o.available(p)) continue
      if (o.tried === null || !o.tried.has(p)) return p
      fallback ??= p
    }
    return fallback
  }
}

/**
 * Consistent hashing over a ring of at most `slots` points (Kong `consistent_hashing.lua`): each
 * address owns points in proportion to its weight; a request's hash picks a point and walks the ring to
 * the first available (and, on retries, untried) address. Adding or removing an address moves
 * only the keys of that address.
 */
const POINTS_PER_100 = 160

export class ConsistentHashing implements BalancingAlgorithm {
  readonly #slots: number
  #points: Uint32Array = new Uint32Array(0)
  #owners: Peer[] = []

  constructor(slots: number) {
    this.#slots = slots
  }

  rebuild(peers: readonly Peer[]): void {
    // 160 points per 100 of weight, independent of the other addresses (so adding or removing
    // one moves only its keys), scaled down when the ring would exceed `slots` points.
    const wanted = peers.reduce((a, p) => a + (p.weight / 100) * POINTS_PER_100, 0)
    const scale = wanted > this.#slots ? this.#slots / wanted : 1
    const entries: { point: number; peer: Peer }[] = []
    for (const p of peers) {
      const n = p.weight <= 0 ? 0 : Math.max(1, Math.floor((p.weight / 100) * POINTS_PER_100 * scale))
      for (let i = 0; i < n; i++) entries.push({ point: crc32(`${p.ip} ${p.port} ${i}`), peer: p })
    }
    entries.sort((a, b) => a.point - b.point || (a.peer.key < b.peer.key ? -1 : 1))
    this.#points = Uint32Array.from(entries.map((e) => e.point))
    this.#owners = entries.map((e) => e.peer)
  }

  pick(o: PickOptions): Peer | null {
    const n = this.#points.length
    if (n === 0) return null
    const h = (o.hash ?? Math.floor(Math.random() * 4294967296)) >>> 0
    // First point >= h (binary search), wrapping around.
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.#points[mid] as number) < h) lo = mid + 1
      else hi = mid
    }
    let fallback: Peer | null = null
    const seen = new Set<Peer>()
    for (let i = 0; i < n; i++) {
      const p = this.#owners[(lo + i) % n] as Peer
      if (seen.has(p)) continue
      seen.add(p)
      if (o.available(p)) {
        if (o.tried === null || !o.tried.has(p)) return p
        fallback ??= p
      }
      if (seen.size === this.#owners.length) break
    }
    return fallback
  }
}

/**
 * Least-connections and latency share their pick: the available address with the lowest score
 * wins, one already tried by this request only when no other is left.
 */
class LowestScore implements BalancingAlgorithm {
  readonly #score: (p: Peer) => number
  #peers: readonly Peer[] = []
  #start = 0

  constructor(score: (p: Peer) => number) {
    this.#score = score
  }

  rebuild(peers: readonly Peer[]): void {
    this.#peers = peers
  }

  pick(o: PickOptions): Peer | null {
    let best: Peer | null = null
    let bestScore = Infinity
    let fallback: Peer | null = null
    const n = this.#peers.length
    // Rotate the starting point so ties are spread instead of always going to the first address.
    this.#start = (this.#start + 1) % Math.max(1, n)
    for (let i = 0; i < n; i++) {
      const p = this.#peers[(this.#start + i) % n] as Peer
      if (!o.available(p)) continue
      if (o.tried !== null && o.tried.has(p)) {
        fallback ??= p
        continue
      }
      const score = this.#score(p)
      if (score < bestScore) {
        best = p
        bestScore = score
      }
    }
    return best ?? fallback
  }
}

/** Least-connections (Kong `least_connections.lua`): the lowest (in-flight + 1) / weight wins. */
export class LeastConnections extends LowestScore {
  constructor() {
    super((p) => (p.active + 1) / p.weight)
  }
}

/** Decay time of the latency EWMA (Kong `ewma.lua`: 10 s). */
const DECAY_MS = 10_000

/**
 * Latency (Kong 3.2+ `latency.lua`): an exponentially weighted moving average of each address's
 * response latency; the lowest EWMA × (in-flight + 1) wins, addresses never measured first.
 */
export class Latency extends LowestScore {
  constructor() {
    super((p) => currentEwma(p) * (p.active + 1))
  }
}

/** The EWMA decayed to now (an idle address slowly loses its bad score). */
function currentEwma(p: Peer): number {
  if (p.ewmaAt === 0) return 0
  const elapsed = Math.max(0, Date.now() - p.ewmaAt)
  return p.ewma * Math.exp(-elapsed / DECAY_MS)
}

/** Records one latency sample into an address's EWMA. */
export function recordLatency(p: Peer, ms: number): void {
  const now = Date.now()
  if (p.ewmaAt === 0) {
    p.ewma = ms
  } else {
    const w = Math.exp(-Math.max(0, now - p.ewmaAt) / DECAY_MS)
    p.ewma = p.ewma * w + ms * (1 - w)
  }
  p.ewmaAt = now
}

export function createAlgorithm(name: string, slots: number): BalancingAlgorithm {
  switch (name) {
    case 'consistent-hashing':
      return new ConsistentHashing(slots)
    case 'least-connections':
      return new LeastConnections()
    case 'latency':
      return new Latency()
    default:
      return new RoundRobin()
  }
}
