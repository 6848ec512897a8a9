/**
 * The health state of one balancer address and how probe results and proxied outcomes move it,
 * with lua-resty-healthcheck's semantics (what Kong uses):
 *
 * - an address starts HEALTHY;
 * - failures are counted per kind (TCP, timeout, HTTP) only while the address is healthy; when
 *   one kind reaches its limit the address becomes UNHEALTHY;
 * - successes are counted only while it is unhealthy; `successes` of them make it HEALTHY again;
 * - the first count of one direction resets the other direction's counters; a limit of 0
 *   disables that counter;
 * - active probes use `healthchecks.active` limits, proxied traffic `healthchecks.passive`.
 *
 * `UpstreamHealthProvider` is what the Admin API and plugin endpoints read of it; the health
 * checker (`src/health/checker.ts`) implements it.
 *
 * @module
 */
import type { HealthChecks } from './config.js'

export type CheckMode = 'active' | 'passive'

/** The health of a target or address as the Admin API reports it. */
export type HealthLabel = 'HEALTHY' | 'UNHEALTHY' | 'HEALTHCHECKS_OFF' | 'DNS_ERROR'

/** What the Admin API's `/upstreams/{u}/health` reads. */
export interface UpstreamHealthProvider {
  readonly nodeId: string
  /** Waits until the last configuration change reached the checker. */
  ready(): Promise<void>
  /** Target row id → health and Kong's `data` block, or null when the upstream is unknown. */
  targetsHealth(upstreamId: string): Promise<Map<string, { health: HealthLabel; data: Record<string, unknown> }> | null>
  balancerHealth(upstreamId: string): Promise<Record<string, unknown> | null>
  /** Manual healthy/unhealthy: null on success, else the error message (400). */
  setHealth(upstreamId: string, target: string, address: { ip: string; port: number } | null, healthy: boolean): Promise<string | null>
}

/** One observed result: a probe's or a proxied request's. */
export type Outcome =
  | { readonly kind: 'success'; readonly status?: number; readonly detail?: string }
  | { readonly kind: 'tcp_failure'; readonly detail?: string }
  | { readonly kind: 'timeout'; readonly detail?: string }
  | { readonly kind: 'http'; readonly status: number; readonly detail?: string }

export interface AddressHealth {
  healthy: boolean
  successes: number
  tcp_failures: number
  timeouts: number
  http_failures: number
}

export function freshHealth(): AddressHealth {
  return { healthy: true, successes: 0, tcp_failures: 0, timeouts: 0, http_failures: 0 }
}

/** What one outcome did: nothing, counted, or flipped the address (with the counter that did it). */
export interface Applied {
  readonly counted: boolean
  readonly changed: boolean
  /** `tcp_failures`, `timeouts`, `http_failures` or `successes`. */
  readonly counter?: 'tcp_failures' | 'timeouts' | 'http_failures' | 'successes'
  readonly count?: number
  readonly limit?: number
}

const NOTHING: Applied = { counted: false, changed: false }

/** Classifies an HTTP status with the mode's lists: success, HTTP failure, or neither (ignored). */
export function classifyStatus(hc: HealthChecks, mode: CheckMode, status: number): Outcome | null {
  const c = mode === 'active' ? hc.active : hc.passive
  if (c.healthy.http_statuses.includes(status)) return { kind: 'success', status }
  if (c.unhealthy.http_statuses.includes(status)) return { kind: 'http', status }
  return null
}

/** Applies one outcome to `state` (mutated). */
export function applyOutcome(state: AddressHealth, hc: HealthChecks, mode: CheckMode, outcome: Outcome): Applied {
  const c = mode === 'active' ? hc.active : hc.passive
  if (outcome.kind === 'success') {
    const limit = c.healthy.successes
    if (limit === 0 || state.healthy) return NOTHING
    state.successes++
    if (state.successes === 1) {
      state.tcp_failures = 0
      state.timeouts = 0
      state.http_failures = 0
    }
    if (state.successes < limit) return { counted: true, changed: false, counter: 'successes', count: state.successes, limit }
    const count = state.successes
    Object.assign(state, freshHealth())
    return { counted: true, changed: true, counter: 'successes', count, limit }
  }
  const counter = outcome.kind === 'tcp_failure' ? 'tcp_failures' : outcome.kind === 'timeout' ? 'timeouts' : 'http_failures'
  const limit = c.unhealthy[counter]
  if (limit === 0 || !state.healthy) return NOTHING
  state[counter]++
  if (state[counter] === 1) state.successes = 0
  const count = state[counter]
  if (count < limit) return { counted: true, changed: false, counter, count, limit }
  Object.assign(state, freshHealth(), { healthy: false })
  return { counted: true, changed: true, counter, count, limit }
}

/** Kong's words for a counter in its `[healthcheck]` lines. */
export function counterLabel(counter: NonNullable<Applied['counter']>): string {
  switch (counter) {
    case 'tcp_failures':
      return 'TCP'
    case 'timeouts':
      return 'timeout'
    case 'http_failures':
      return 'HTTP'
    case 'successes':
      return 'SUCCESS'
  }
}
