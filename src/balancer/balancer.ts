/**
 * One balancer per upstream, built with the configuration snapshot: its targets resolved to
 * addresses (IP targets at once, hostnames through the gateway's resolver, SRV answers bringing
 * their own ports and weights), an algorithm over the addresses with weight > 0, and the node's
 * health view deciding which addresses are available.
 *
 * A balancer whose upstream and targets did not change is carried over to the next snapshot (see
 * {@link BalancerRegistry}), so in-flight counts and latency averages survive configuration changes.
 *
 * @module
 */
import { isIP } from 'node:net'
import { splitTarget, type Target, targets as targetSchema, type Upstream } from '../entities/index.js'
import { orDefault } from '../schema/index.js'
import { type BalancingAlgorithm, createAlgorithm, type Peer, recordLatency } from './algorithms.js'
import { addressKey, passiveEnabled, resolveUpstream, type UpstreamConfig } from './config.js'
import type { Outcome } from './health-model.js'
import { type HashSource, requestHash } from './hash-input.js'

/** The resolver seam: the gateway's caching resolver (`src/proxy/resolver.ts`). */
export interface TargetResolver {
  resolve(host: string): unknown
}

/** One resolved address as DNS gives it: A/AAAA (no port) or SRV (port and weight). */
interface Answer {
  readonly address: string
  readonly port?: number
  readonly weight?: number
}

/** Reads a resolver answer: `{ ok, address }`, or `{ ok, addresses: [{ address|ip, port?, weight? }] }`. */
export function answersOf(r: unknown): { ok: true; answers: Answer[] } | { ok: false; message: string } {
  const x = r as { ok?: boolean; address?: unknown; addresses?: unknown; message?: unknown; records?: unknown }
  if (x?.ok !== true) return { ok: false, message: typeof x?.message === 'string' ? x.message : 'dns resolution failed' }
  const many = Array.isArray(x.addresses) ? x.addresses : Array.isArray(x.records) ? x.records : null
  if (many !== null) {
    const answers: Answer[] = []
    for (const a of many as unknown[]) {
      if (typeof a === 'string') answers.push({ address: a })
      else if (typeof a === 'object' && a !== null) {
        const o = a as { address?: unknown; ip?: unknown; port?: unknown; weight?: unknown }
        const address = typeof o.address === 'string' ? o.address : typeof o.ip === 'string' ? o.ip : null
        if (address === null) continue
        answers.push({
          address,
          ...(typeof o.port === 'number' ? { port: o.port } : {}),
          ...(typeof o.weight === 'number' ? { weight: o.weight } : {}),
        })
      }
    }
    if (answers.length > 0) return { ok: true, answers }
  }
  if (typeof x.address === 'string') {
    const y = r as { port?: unknown; weight?: unknown }
    return {
      ok: true,
      answers: [
        {
          address: x.address,
          ...(typeof y.port === 'number' ? { port: y.port } : {}),
          ...(typeof y.weight === 'number' ? { weight: y.weight } : {}),
        },
      ],
    }
  }
  return { ok: false, message: 'dns client error: 101 empty record received' }
}

type Rec = { address?: string; target?: string; port?: number; weight?: number }

/**
 * Every address of a hostname target: the DNS client's `lookup` (all A/AAAA records, or SRV
 * entries whose targets are resolved in turn) when the resolver has one, else `resolve`.
 * Synchronous when the cache answers and no SRV target needs a lookup.
 */
export function lookupAll(resolver: TargetResolver, host: string): unknown {
  const client = (resolver as { client?: { lookup?: (n: string) => unknown } }).client
  if (client === undefined || typeof client.lookup !== 'function') return resolver.resolve(host)
  const expand = (set: unknown): unknown => {
    const x = set as { ok?: boolean; records?: readonly Rec[] }
    if (x?.ok !== true || !Array.isArray(x.records)) return set
    const out: Answer[] = []
    const pending: Promise<void>[] = []
    for (const r of x.records) {
      const srv = { ...(typeof r.port === 'number' ? { port: r.port } : {}), ...(typeof r.weight === 'number' ? { weight: r.weight } : {}) }
      if (typeof r.address === 'string') out.push({ address: r.address, ...srv })
      else if (typeof r.target === 'string') {
        if (isIP(r.target) !== 0) out.push({ address: r.target, ...srv })
        else {
          const got = resolver.resolve(r.target)
          const add = (a: unknown): void => {
            const v = a as { ok?: boolean; address?: unknown }
            if (v?.ok === true && typeof v.address === 'string') out.push({ address: v.address, ...srv })
          }
          if (got instanceof Promise) pending.push(got.then(add, () => {}))
          else add(got)
        }
      }
    }
    const done = { ok: true, addresses: out }
    return pending.length === 0 ? done : Promise.all(pending).then(() => done)
  }
  const set = client.lookup.call(client, host)
  return set instanceof Promise ? set.then(expand) : expand(set)
}

/** A balancer address: one IP:port of a target. */
export class Address implements Peer {
  readonly key: string
  active = 0
  ewma = 0
  ewmaAt = 0
  readonly ip: string
  readonly port: number
  readonly weight: number
  readonly target: BalancerTarget
  constructor(ip: string, port: number, weight: number, target: BalancerTarget) {
    this.ip = ip
    this.port = port
    this.weight = weight
    this.target = target
    this.key = addressKey(ip, port, target.host)
  }
}

/** A target of the balancer (one `targets` row). */
export class BalancerTarget {
  readonly host: string
  readonly port: number
  readonly weight: number
  readonly isIp: boolean
  addresses: Address[] = []
  /** `A`, `AAAA`, `SRV`, or the DNS error for a name that does not resolve. */
  dns = 'A'
  resolvedAt = 0
  pending: Promise<void> | null = null

  readonly row: Target
  constructor(row: Target) {
    this.row = row
    const { host, port } = splitTarget(row.target)
    this.host = host
    this.port = port
    this.weight = orDefault(row.weight, targetSchema.fields.weight)
    this.isIp = isIP(host) !== 0
    this.dns = isIP(host) === 6 ? 'AAAA' : 'A'
  }

  /** Replaces the addresses from a DNS answer; returns whether anything changed. */
  setAnswers(answers: readonly Answer[] | null, error: string | null): boolean {
    const next: Address[] = []
    if (answers !== null) {
      const srv = answers.some((a) => a.port !== undefined && a.port !== 0)
      this.dns = srv ? 'SRV' : answers.some((a) => isIP(a.address) === 6) ? 'AAAA' : 'A'
      for (const a of answers) {
        // SRV: the record's port and weight (weight 0 → 1, as Kong), else the target's.
        const port = a.port !== undefined && a.port !== 0 ? a.port : this.port
        const weight = a.weight !== undefined ? (a.weight === 0 ? 1 : a.weight) : this.weight
        if (next.some((x) => x.ip === a.address && x.port === port)) continue
        const old = this.addresses.find((x) => x.ip === a.address && x.port === port && x.weight === weight)
        next.push(old ?? new Address(a.address, port, weight, this))
      }
    } else if (error !== null) this.dns = error
    const changed = next.length !== this.addresses.length || next.some((a, i) => a !== this.addresses[i])
    this.addresses = next
    return changed
  }
}

/** The node's health view, as pushed by the primary: unhealthy address keys by upstream id. */
export class HealthView {
  #unhealthy = new Map<string, ReadonlySet<string>>()
  version = 0

  set(state: Readonly<Record<string, readonly string[]>>): void {
    const m = new Map<string, ReadonlySet<string>>()
    for (const [id, keys] of Object.entries(state)) if (keys.length > 0) m.set(id, new Set(keys))
    this.#unhealthy = m
    this.version++
  }

  healthy(upstreamId: string, key: string): boolean {
    const set = this.#unhealthy.get(upstreamId)
    return set === undefined || !set.has(key)
  }
}

/** Why no address could be picked (Kong's balancer errors). */
export type PickFailure = 'No peers are available' | 'Balancer is unhealthy'

export type PickResult = { readonly ok: true; readonly address: Address } | { readonly ok: false; readonly reason: PickFailure }

/** Reports a proxied outcome of an address to the node's health checker (the primary). */
export type PassiveReporter = (upstreamId: string, address: Address, outcome: Outcome) => void

export interface BalancerDeps {
  readonly resolver: TargetResolver | null
  readonly health: HealthView
  readonly report: PassiveReporter | null
  /** Seconds between re-resolutions of hostname targets. */
  readonly refreshSeconds?: number
}

export class Balancer {
  readonly upstream: UpstreamConfig
  readonly targets: BalancerTarget[]
  readonly #algorithm: BalancingAlgorithm
  readonly #deps: BalancerDeps
  readonly #passive: boolean
  #peers: Address[] = []
  readonly #available: (p: Peer) => boolean

  constructor(upstreamRow: Upstream, targetRows: readonly Target[], deps: BalancerDeps) {
    this.upstream = resolveUpstream(upstreamRow)
    this.#deps = deps
    this.#passive = passiveEnabled(this.upstream.healthchecks)
    this.#algorithm = createAlgorithm(this.upstream.algorithm, this.upstream.slots)
    // Kong: targets with weight 0 are disabled (never picked, not health checked).
    this.targets = targetRows.map((r) => new BalancerTarget(r))
    const id = this.upstream.id
    this.#available = (p) => deps.health.healthy(id, p.key)
    for (const t of this.targets) {
      if (t.isIp) t.setAnswers([{ address: t.host }], null)
      else this.#resolve(t)
    }
    this.#rebuild()
  }

  #rebuild(): void {
    this.#peers = this.targets
      .filter((t) => t.weight > 0)
      .flatMap((t) => t.addresses)
      .filter((a) => a.weight > 0)
    this.#algorithm.rebuild(this.#peers)
  }

  #resolve(t: BalancerTarget): void {
    const resolver = this.#deps.resolver
    if (resolver === null || t.pending !== null) return
    t.resolvedAt = Date.now()
    let r: unknown
    try {
      r = lookupAll(resolver, t.host)
    } catch (err) {
      r = { ok: false, message: (err as Error).message }
    }
    const apply = (res: unknown): void => {
      const a = answersOf(res)
      const changed = a.ok ? t.setAnswers(a.answers, null) : t.setAnswers(t.addresses.length > 0 ? null : [], a.message)
      if (!a.ok && t.addresses.length === 0) t.dns = a.message
      if (changed) this.#rebuild()
    }
    if (r instanceof Promise) {
      t.pending = r
        .then(apply, (err: unknown) => apply({ ok: false, message: String(err) }))
        .finally(() => {
          t.pending = null
        })
    } else apply(r)
  }

  /** Resolves hostname targets again when due; a promise when some have no address yet. */
  refresh(): Promise<void> | null {
    const every = (this.#deps.refreshSeconds ?? 1) * 1000
    const now = Date.now()
    let waiting: Promise<void>[] | null = null
    for (const t of this.targets) {
      if (t.isIp || t.weight === 0) continue
      if (t.pending === null && now - t.resolvedAt >= every) this.#resolve(t)
      if (t.pending !== null && t.addresses.length === 0) (waiting ??= []).push(t.pending)
    }
    return waiting === null ? null : Promise.all(waiting).then(() => undefined)
  }

  /** Every address with weight > 0. */
  get peers(): readonly Address[] {
    return this.#peers
  }

  /** Kong's balancer health: the available share of the weight above `threshold` percent. */
  healthy(): boolean {
    let total = 0
    let available = 0
    for (const p of this.#peers) {
      total += p.weight
      if (this.#available(p)) available += p.weight
    }
    if (total === 0) return false
    return (available / total) * 100 > this.upstream.healthchecks.threshold
  }

  /** The hash input of a request (consistent-hashing), and the cookie to set when made up. */
  hashFor(source: HashSource): ReturnType<typeof requestHash> {
    return requestHash(this.upstream, source)
  }

  pick(hash: number | null, tried: ReadonlySet<Address> | null): PickResult {
    if (!this.healthy()) return { ok: false, reason: 'Balancer is unhealthy' }
    const p = this.#algorithm.pick({ available: this.#available, tried, hash }) as Address | null
    if (p === null) return { ok: false, reason: 'No peers are available' }
    p.active++
    return { ok: true, address: p }
  }

  /** The attempt on `address` is over; `latencyMs` when a response came. */
  release(address: Address, latencyMs: number | null): void {
    if (address.active > 0) address.active--
    if (latencyMs !== null) recordLatency(address, latencyMs)
  }

  /**
   * A proxied outcome: sent to the node's health checker only when passive checks count it
   * (failures of healthy addresses, successes of unhealthy ones), so normal traffic costs nothing.
   */
  report(address: Address, outcome: Outcome): void {
    const report = this.#deps.report
    if (!this.#passive || report === null) return
    const healthy = this.#available(address)
    const p = this.upstream.healthchecks.passive
    if (outcome.kind === 'success') {
      if (!healthy && p.healthy.successes > 0) report(this.upstream.id, address, outcome)
      return
    }
    if (!healthy) return
    const limit =
      outcome.kind === 'tcp_failure'
        ? p.unhealthy.tcp_failures
        : outcome.kind === 'timeout'
          ? p.unhealthy.timeouts
          : p.unhealthy.http_failures
    if (limit > 0) report(this.upstream.id, address, outcome)
  }

  /** Passive HTTP outcome of a proxied response status. */
  reportStatus(address: Address, status: number): void {
    if (!this.#passive) return
    const p = this.upstream.healthchecks.passive
    if (p.unhealthy.http_statuses.includes(status)) this.report(address, { kind: 'http', status })
    else if (p.healthy.http_statuses.includes(status)) this.report(address, { kind: 'success', status })
  }
}

/**
 * Builds the balancers of a snapshot, reusing the previous balancer of an upstream whose row and
 * targets are unchanged (state carried across configuration changes).
 */
export class BalancerRegistry {
  readonly deps: BalancerDeps
  #byId = new Map<string, { sig: string; balancer: Balancer }>()

  constructor(deps: BalancerDeps) {
    this.deps = deps
  }

  /** Upstream name (lower-case) → balancer. */
  build(upstreams: readonly Upstream[], targets: readonly Target[]): Map<string, Balancer> {
    const byUpstream = new Map<string, Target[]>()
    for (const t of targets) {
      const id = t.upstream.id
      const list = byUpstream.get(id)
      if (list === undefined) byUpstream.set(id, [t])
      else list.push(t)
    }
    const next = new Map<string, { sig: string; balancer: Balancer }>()
    const out = new Map<string, Balancer>()
    for (const u of upstreams) {
      const id = u.id
      const rows = (byUpstream.get(id) ?? []).slice().sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id))
      const sig = JSON.stringify([u, rows.map((r) => [r.id, r.target, r.weight])])
      const prev = this.#byId.get(id)
      const balancer = prev !== undefined && prev.sig === sig ? prev.balancer : new Balancer(u, rows, this.deps)
      next.set(id, { sig, balancer })
      out.set(balancer.upstream.name, balancer)
    }
    this.#byId = next
    return out
  }
}
