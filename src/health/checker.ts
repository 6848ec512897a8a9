/**
 * The node's health checker, run once per node in the primary process: it keeps the health of
 * every balancer address (lua-resty-healthcheck semantics, see `balancer/health-model.ts`), runs
 * the active probes, takes the passive outcomes the workers report, and pushes the resulting view
 * (the unhealthy addresses) to every worker, so all workers share one view.
 *
 * @module
 */
import { type Address, type Balancer, BalancerRegistry, HealthView, type TargetResolver } from '../balancer/balancer.js'
import { addressKey, usingHealthchecks } from '../balancer/config.js'
import {
  type AddressHealth,
  type Applied,
  applyOutcome,
  type CheckMode,
  counterLabel,
  freshHealth,
  type HealthLabel,
  type Outcome,
  type UpstreamHealthProvider,
} from '../balancer/health-model.js'
import type { ConfigPayload } from '../snapshot/snapshot.js'
import type { UpstreamTrust } from '../snapshot/upstream-tls.js'
import { probe, type ProbeTls } from './probe.js'

/** Unhealthy address keys by upstream id: what workers receive. */
export type HealthState = Record<string, string[]>

export interface HealthLog {
  warn(message: string): void
  info?(message: string): void
}

interface Tracked {
  balancer: Balancer
  timers: NodeJS.Timeout[]
  sig: string
  /** What https probes present and trust (Kong's healthchecker: the upstream's `client_certificate`). */
  tls: ProbeTls
}

/** The PEM text of a certificate row's `cert` and `key`, if the row has both. */
function certificatePair(rows: readonly Record<string, unknown>[], ref: unknown): { cert: string; key: string } | null {
  const id = ref !== null && typeof ref === 'object' ? (ref as { id?: unknown }).id : undefined
  if (typeof id !== 'string') return null
  const row = rows.find((r) => r['id'] === id)
  const cert = row?.['cert']
  const key = row?.['key']
  return typeof cert === 'string' && typeof key === 'string' ? { cert, key } : null
}

export interface HealthCheckerOptions {
  readonly resolver: TargetResolver | null
  readonly log: HealthLog
  /** Called with the new view whenever an address changes health. */
  readonly onChange: (state: HealthState) => void
  readonly nodeId: string
}

export class HealthChecker implements UpstreamHealthProvider {
  readonly nodeId: string
  readonly #opts: HealthCheckerOptions
  readonly #view = new HealthView()
  readonly #registry: BalancerRegistry
  readonly #tracked = new Map<string, Tracked>()
  /** upstream id → address key → health. */
  readonly #health = new Map<string, Map<string, AddressHealth>>()
  /** `upstream id|address key` → what last flipped the address (for `turnpike doctor`). */
  readonly #lastFlip = new Map<string, string>()
  #balancerHealthy = new Map<string, boolean>()
  #ready: () => Promise<void> = async () => {}
  /** `lua_ssl_trusted_certificate` and `lua_ssl_verify_depth`: how verifying probes trust, as Kong's cosockets. */
  #trust: UpstreamTrust | undefined = undefined
  /** Active probes run so far (all upstreams), for tests and `/status`-like introspection. */
  probes = 0

  constructor(opts: HealthCheckerOptions) {
    this.#opts = opts
    this.nodeId = opts.nodeId
    this.#registry = new BalancerRegistry({ resolver: opts.resolver, health: this.#view, report: null })
  }

  setReadyWait(fn: () => Promise<void>): void {
    this.#ready = fn
  }

  ready(): Promise<void> {
    return this.#ready()
  }

  /** What https probes that verify trust (`lua_ssl_trusted_certificate`, `lua_ssl_verify_depth`); node's own until set. */
  setTrust(trust: UpstreamTrust): void {
    this.#trust = trust
  }

  /** Takes a new configuration: balancers rebuilt (unchanged ones kept), probes restarted where needed. */
  configure(payload: ConfigPayload): void {
    const upstreams = payload.entities?.['upstreams'] ?? []
    const targets = payload.entities?.['targets'] ?? []
    const certificates = payload.entities?.['certificates'] ?? []
    const byName = this.#registry.build(upstreams, targets)
    const seen = new Set<string>()
    for (const b of byName.values()) {
      const id = b.upstream.id
      seen.add(id)
      const prev = this.#tracked.get(id)
      const pair = certificatePair(certificates, b.upstream.row.client_certificate)
      const trust = this.#trust
      // Kong's healthchecker: the upstream's client_certificate, else client_ssl's.
      const client = pair ?? trust?.client ?? null
      const tls: ProbeTls = { ...(trust !== undefined ? { ca: trust.ca, verifyDepth: trust.verifyDepth } : {}), ...(client ?? {}) }
      if (prev !== undefined && prev.balancer === b) {
        // The certificate itself may have changed: probes present the current one.
        if (prev.tls.cert !== tls.cert || prev.tls.key !== tls.key) prev.tls = tls
        continue
      }
      if (prev !== undefined) for (const t of prev.timers) clearInterval(t)
      const tracked: Tracked = { balancer: b, timers: [], sig: '', tls }
      this.#tracked.set(id, tracked)
      this.#startActive(tracked)
    }
    for (const [id, t] of this.#tracked) {
      if (seen.has(id)) continue
      for (const timer of t.timers) clearInterval(timer)
      this.#tracked.delete(id)
      this.#health.delete(id)
      this.#balancerHealthy.delete(id)
    }
    this.#prune()
  }

  /** Forget the health of addresses that are gone (a target removed, a name that resolves elsewhere). */
  #prune(): void {
    let changed = false
    for (const [id, m] of this.#health) {
      const b = this.#tracked.get(id)?.balancer
      const keys = new Set((b?.targets ?? []).flatMap((t) => t.addresses.map((a) => a.key)))
      for (const k of m.keys()) {
        if (keys.has(k)) continue
        if (m.get(k)?.healthy === false) changed = true
        m.delete(k)
      }
    }
    if (changed) this.#publish()
  }

  #startActive(t: Tracked): void {
    const hc = t.balancer.upstream.healthchecks
    const a = hc.active
    if (a.type === 'tcp' || a.type === 'http' || a.type === 'https' || a.type === 'grpc' || a.type === 'grpcs') {
      if (a.healthy.interval > 0) {
        const timer = setInterval(() => void this.#probeAll(t, true), a.healthy.interval * 1000)
        timer.unref()
        t.timers.push(timer)
      }
      if (a.unhealthy.interval > 0) {
        const timer = setInterval(() => void this.#probeAll(t, false), a.unhealthy.interval * 1000)
        timer.unref()
        t.timers.push(timer)
      }
    }
  }

  /** Probes the addresses currently healthy (or unhealthy), `concurrency` at a time. */
  async #probeAll(t: Tracked, healthy: boolean): Promise<void> {
    const b = t.balancer
    void b.refresh()
    const id = b.upstream.id
    const list = b.peers.filter((p) => this.#view.healthy(id, p.key) === healthy)
    const hc = b.upstream.healthchecks
    const concurrency = Math.max(1, hc.active.concurrency)
    for (let i = 0; i < list.length; i += concurrency) {
      await Promise.all(
        list.slice(i, i + concurrency).map(async (p) => {
          this.probes++
          const r = await probe({ ip: p.ip, port: p.port, hostname: p.target.host, hostHeader: b.upstream.host_header }, hc, t.tls)
          if (this.#tracked.get(id) !== t) return // configuration changed meanwhile
          if (r.outcome !== null) this.#apply(b, p, 'active', r.outcome, `active ${hc.active.type} probe: ${r.detail}`)
        }),
      )
    }
  }

  /** A proxied outcome reported by a worker. */
  passive(upstreamId: string, ip: string, port: number, hostname: string, outcome: Outcome): void {
    const b = this.#tracked.get(upstreamId)?.balancer
    if (b === undefined) return
    const key = addressKey(ip, port, hostname)
    const p = b.peers.find((x) => x.key === key)
    if (p === undefined) return
    this.#apply(
      b,
      p,
      'passive',
      outcome,
      `passive check (proxied traffic)${outcome.detail !== undefined ? `: ${outcome.detail}` : outcome.kind === 'http' || outcome.kind === 'success' ? `: upstream answered ${outcome.status ?? ''}` : ''}`,
    )
  }

  #state(upstreamId: string, key: string): AddressHealth {
    let m = this.#health.get(upstreamId)
    if (m === undefined) this.#health.set(upstreamId, (m = new Map()))
    let s = m.get(key)
    if (s === undefined) m.set(key, (s = freshHealth()))
    return s
  }

  #apply(b: Balancer, p: Address, mode: CheckMode, outcome: Outcome, cause: string): void {
    const st = this.#state(b.upstream.id, p.key)
    const r: Applied = applyOutcome(st, b.upstream.healthchecks, mode, outcome)
    if (!r.counted || r.counter === undefined) return
    const who = `'${p.target.host}(${p.ip}:${p.port})'`
    this.#opts.log.warn(
      `[healthcheck] (${b.upstream.name}) ${r.counter === 'successes' ? 'healthy' : 'unhealthy'} ${counterLabel(r.counter)} increment (${r.count ?? 0}/${r.limit ?? 0}) for ${who}`,
    )
    if (!r.changed) return
    this.#flipped(b, p, st.healthy, `${mode} ${r.counter} ${r.count ?? 0}/${r.limit ?? 0} (${cause})`)
  }

  #flipped(b: Balancer, p: Address, healthy: boolean, cause: string): void {
    if (this.#lastFlip.size >= 10_000) this.#lastFlip.clear()
    this.#lastFlip.set(`${b.upstream.id}|${p.key}`, `${healthy ? 'healthy' : 'unhealthy'} by ${cause}`)
    this.#opts.log.warn(
      `[healthchecks] balancer ${b.upstream.name} reported health status changed to ${healthy ? 'HEALTHY' : 'UNHEALTHY'} for target ${p.target.host}:${p.target.port} (${p.ip}:${p.port}), caused by ${cause}`,
    )
    this.#publish()
    const id = b.upstream.id
    const was = this.#balancerHealthy.get(id) ?? true
    const now = b.healthy()
    if (was !== now)
      this.#opts.log.warn(`[healthchecks] balancer ${b.upstream.name} reported health status changed to ${now ? 'HEALTHY' : 'UNHEALTHY'}`)
    this.#balancerHealthy.set(id, now)
  }

  /**
   * Why an address has its health: its counters (since the last flip) and what last flipped it
   * (`unhealthy by passive tcp_failures 3/3 (...)`), null when it never flipped.
   */
  explain(upstreamId: string, ip: string, port: number, host: string): { counters: AddressHealth; lastChange: string | null } | null {
    const key = addressKey(ip, port, host)
    const st = this.#health.get(upstreamId)?.get(key)
    if (st === undefined) return null
    return { counters: { ...st }, lastChange: this.#lastFlip.get(`${upstreamId}|${key}`) ?? null }
  }

  /** The view workers apply: unhealthy keys per upstream. */
  state(): HealthState {
    const out: HealthState = {}
    for (const [id, m] of this.#health) {
      const keys = [...m].filter(([, s]) => !s.healthy).map(([k]) => k)
      if (keys.length > 0) out[id] = keys
    }
    return out
  }

  #publish(): void {
    const state = this.state()
    this.#view.set(state)
    this.#opts.onChange(state)
  }

  async #balancer(upstreamId: string): Promise<Balancer | null> {
    await this.ready()
    const b = this.#tracked.get(upstreamId)?.balancer
    if (b === undefined) return null
    const waiting = b.refresh()
    if (waiting !== null) await Promise.race([waiting, new Promise((r) => setTimeout(r, 2000).unref())])
    return b
  }

  async targetsHealth(upstreamId: string): Promise<Map<string, { health: HealthLabel; data: Record<string, unknown> }> | null> {
    const b = await this.#balancer(upstreamId)
    if (b === null) return null
    const using = usingHealthchecks(b.upstream.healthchecks)
    const out = new Map<string, { health: HealthLabel; data: Record<string, unknown> }>()
    for (const t of b.targets) {
      let total = 0
      let unavailable = 0
      const addresses = t.addresses.map((a) => {
        const ok = this.#view.healthy(upstreamId, a.key)
        total += a.weight
        if (!ok) unavailable += a.weight
        return {
          ip: a.ip,
          port: a.port,
          weight: a.weight,
          health: using && t.weight > 0 ? (ok ? 'HEALTHY' : 'UNHEALTHY') : 'HEALTHCHECKS_OFF',
        }
      })
      let health: HealthLabel
      if (t.addresses.length === 0 && t.weight > 0) health = 'DNS_ERROR'
      else if (!using || t.weight === 0) health = 'HEALTHCHECKS_OFF'
      else health = addresses.some((a) => a.health === 'HEALTHY') ? 'HEALTHY' : 'UNHEALTHY'
      out.set(t.row.id, {
        health,
        data: {
          host: t.host,
          port: t.port,
          dns: t.dns,
          nodeWeight: t.weight,
          weight: { total, unavailable, available: total - unavailable },
          addresses,
        },
      })
    }
    return out
  }

  async balancerHealth(upstreamId: string): Promise<Record<string, unknown> | null> {
    const b = await this.#balancer(upstreamId)
    if (b === null) return null
    const targets = await this.targetsHealth(upstreamId)
    let total = 0
    let unavailable = 0
    for (const p of b.peers) {
      total += p.weight
      if (!this.#view.healthy(upstreamId, p.key)) unavailable += p.weight
    }
    const healthy = b.healthy()
    const balancerHealth = healthy ? 'HEALTHY' : 'UNHEALTHY'
    return {
      health: usingHealthchecks(b.upstream.healthchecks) ? balancerHealth : 'HEALTHCHECKS_OFF',
      balancer_health: balancerHealth,
      id: upstreamId,
      details: {
        healthy,
        weight: { total, unavailable, available: total - unavailable },
        hosts: b.targets.map((t) => {
          const d = targets?.get(t.row.id)?.data ?? {}
          const addresses = (d['addresses'] as { ip: string; port: number; weight: number; health: string }[] | undefined) ?? []
          return {
            ...d,
            addresses: addresses.map((a) => ({
              ip: a.ip,
              port: a.port,
              weight: a.weight,
              healthy: this.#view.healthy(upstreamId, addressKey(a.ip, a.port, t.host)),
            })),
          }
        }),
      },
    }
  }

  async setHealth(
    upstreamId: string,
    target: string,
    address: { ip: string; port: number } | null,
    healthy: boolean,
  ): Promise<string | null> {
    const b = await this.#balancer(upstreamId)
    if (b === null) return 'balancer not found'
    if (!usingHealthchecks(b.upstream.healthchecks)) return `no healthchecker found for ${b.upstream.name}`
    const t = b.targets.find((x) => `${x.host.includes(':') ? `[${x.host}]` : x.host}:${x.port}` === target || x.row.id === target)
    if (t === undefined) return 'target not found'
    const list = address === null ? t.addresses : t.addresses.filter((a) => a.ip === address.ip && a.port === address.port)
    if (list.length === 0)
      return address === null ? 'target has no addresses' : `address ${address.ip}:${address.port} not found for target ${target}`
    for (const a of list) {
      const st = this.#state(upstreamId, a.key)
      const was = st.healthy
      Object.assign(st, freshHealth(), { healthy })
      if (was !== healthy) this.#flipped(b, a, healthy, `the Admin API (PUT .../${healthy ? 'healthy' : 'unhealthy'})`)
    }
    return null
  }

  stop(): void {
    for (const t of this.#tracked.values()) for (const timer of t.timers) clearInterval(timer)
    this.#tracked.clear()
  }
}
