/**
 * The doctor's report (`GET /doctor`, `GET /services/{service}/doctor`, `turnpike doctor --json`)
 * and its options, read from hostile query strings. Field names are stable: docs/troubleshooting.md
 * documents them.
 *
 * @module
 */
import { worstSeverity, type Finding, type Severity } from './types.js'

/** One service's verdict: its findings in check order (dns, target-health, tcp, tls, http, keepalive). */
export interface ServiceReport {
  readonly id: string
  readonly name: string | null
  /** `protocol://host:port/path` as configured. */
  readonly url: string
  readonly status: Severity
  readonly findings: readonly Finding[]
}

export interface DoctorReport {
  /** The worst severity of every finding. */
  readonly status: Severity
  readonly node_id: string
  /** ISO 8601, when the run started. */
  readonly generated_at: string
  readonly duration_ms: number
  readonly services: readonly ServiceReport[]
  /** Findings about routes and plugins (pure analysis of the configuration). */
  readonly routes: readonly Finding[]
  /** Services left out because of the cap on services probed in one run (0 when none). */
  readonly services_not_probed: number
}

/** Bounds of one run. */
export const LIMITS = {
  /** Services probed concurrently. */
  concurrency: 8,
  /** Services probed in one run; the rest are counted in `services_not_probed`. */
  maxServices: 200,
  /** Addresses probed per service (DNS answers and upstream targets together). */
  maxAddresses: 8,
  /** Targets looked at per upstream entity. */
  maxTargets: 32,
  /** Cap on the connect and read timeouts of one probe step (the service's own when lower). */
  stepTimeoutMs: 5000,
  /** Cap on one DNS lookup (per try: 1 s, 2 tries). */
  dnsTimeoutMs: 1000,
  dnsAttempts: 2,
  /** Default idle wait of the keep-alive check, seconds, and the largest `keepalive_wait`. */
  keepaliveWaitDefault: 3,
  keepaliveWaitMax: 75,
  /** Budget of one service's checks beyond the keep-alive wait. */
  serviceBudgetMs: 25_000,
  /** No service starts being probed later than this into a run (those left are reported, not probed). */
  runStartWindowMs: 120_000,
} as const

export type ProbeMethod = 'HEAD' | 'GET'

/** `checks`: both (default), only the service probes, or only the route analysis. */
export type CheckSet = 'all' | 'services' | 'routes'

export interface DoctorOptions {
  /** HTTP probe path; null: the service's path (or `/`). */
  readonly path: string | null
  /** null: HEAD, then GET when HEAD is refused (405/501). */
  readonly method: ProbeMethod | null
  /** Seconds the keep-alive check leaves a connection idle. */
  readonly keepaliveWait: number
  /** Route name or id: only that route (and its service). */
  readonly route: string | null
  readonly checks: CheckSet
}

export class DoctorOptionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DoctorOptionError'
  }
}

const PATH = /^\/[\x21-\x7e]{0,1023}$/

/** The options of a doctor request from its query string; throws {@link DoctorOptionError} on a bad value. */
export function doctorOptions(query: URLSearchParams): DoctorOptions {
  const one = (name: string): string | null => {
    const all = query.getAll(name)
    if (all.length > 1) throw new DoctorOptionError(`${name}: give it once`)
    return all[0] ?? null
  }
  const path = one('path')
  if (path !== null && !PATH.test(path))
    throw new DoctorOptionError('path: must start with / and hold at most 1024 visible ASCII characters (percent-encode others)')
  const method = one('method')
  if (method !== null && method !== 'HEAD' && method !== 'GET') throw new DoctorOptionError('method: must be HEAD or GET')
  const wait = one('keepalive_wait')
  let keepaliveWait: number = LIMITS.keepaliveWaitDefault
  if (wait !== null) {
    if (!/^\d{1,3}$/.test(wait) || Number(wait) > LIMITS.keepaliveWaitMax)
      throw new DoctorOptionError(`keepalive_wait: must be a whole number of seconds from 0 to ${LIMITS.keepaliveWaitMax}`)
    keepaliveWait = Number(wait)
  }
  const route = one('route')
  if (route !== null && (route === '' || route.length > 256))
    throw new DoctorOptionError('route: must be a route name or id (1 to 256 characters)')
  const checks = one('checks') ?? 'all'
  if (checks !== 'all' && checks !== 'services' && checks !== 'routes')
    throw new DoctorOptionError('checks: must be all, services or routes')
  return { path, method, keepaliveWait, route, checks }
}

/** The report of a run from its parts. */
export function doctorReport(
  nodeId: string,
  startedAt: number,
  services: readonly ServiceReport[],
  routes: readonly Finding[],
  notProbed: number,
): DoctorReport {
  const all = [...services.flatMap((s) => s.findings), ...routes]
  return {
    status: worstSeverity(all),
    node_id: nodeId,
    generated_at: new Date(startedAt).toISOString(),
    duration_ms: Date.now() - startedAt,
    services,
    routes,
    services_not_probed: notProbed,
  }
}

/** `turnpike doctor`'s exit code: 0 ok, 1 warnings, 2 errors. */
export function exitCode(status: Severity): 0 | 1 | 2 {
  return status === 'error' ? 2 : status === 'warn' ? 1 : 0
}
