/**
 * The parts of an upstream row the balancer and the health checker read, with Kong's defaults
 * applied where a value is null or absent (rows from the store carry every default, whichever
 * way they were written — see test/unit/snapshot/defaults.test.ts — but an explicit `null` is
 * kept, and unit tests build partial rows).
 *
 * @module
 */
import {
  ACTIVE_HEALTHY_STATUSES,
  ACTIVE_UNHEALTHY_STATUSES,
  PASSIVE_HEALTHY_STATUSES,
  PASSIVE_UNHEALTHY_STATUSES,
} from '../entities/index.js'

export type Algorithm = 'round-robin' | 'consistent-hashing' | 'least-connections' | 'latency'
export type HashOn = 'none' | 'consumer' | 'ip' | 'header' | 'cookie' | 'path' | 'query_arg' | 'uri_capture'

export interface ActiveChecks {
  readonly type: 'tcp' | 'http' | 'https' | 'grpc' | 'grpcs'
  /** Seconds. */
  readonly timeout: number
  readonly concurrency: number
  readonly http_path: string
  readonly https_sni: string | null
  readonly https_verify_certificate: boolean
  readonly headers: Readonly<Record<string, readonly string[]>> | null
  readonly healthy: { readonly interval: number; readonly http_statuses: readonly number[]; readonly successes: number }
  readonly unhealthy: {
    readonly interval: number
    readonly http_statuses: readonly number[]
    readonly tcp_failures: number
    readonly timeouts: number
    readonly http_failures: number
  }
}

export interface PassiveChecks {
  readonly type: 'tcp' | 'http' | 'https' | 'grpc' | 'grpcs'
  readonly healthy: { readonly http_statuses: readonly number[]; readonly successes: number }
  readonly unhealthy: {
    readonly http_statuses: readonly number[]
    readonly tcp_failures: number
    readonly timeouts: number
    readonly http_failures: number
  }
}

export interface HealthChecks {
  readonly active: ActiveChecks
  readonly passive: PassiveChecks
  readonly threshold: number
}

export interface UpstreamConfig {
  readonly id: string
  readonly name: string
  /** The algorithm in effect: `hash_on` other than `none` means consistent-hashing (as Kong). */
  readonly algorithm: Algorithm
  readonly hash_on: HashOn
  readonly hash_fallback: HashOn
  readonly hash_on_header: string | null
  readonly hash_fallback_header: string | null
  readonly hash_on_cookie: string | null
  readonly hash_on_cookie_path: string
  readonly hash_on_query_arg: string | null
  readonly hash_fallback_query_arg: string | null
  readonly hash_on_uri_capture: string | null
  readonly hash_fallback_uri_capture: string | null
  readonly slots: number
  readonly healthchecks: HealthChecks
  readonly host_header: string | null
  readonly use_srv_name: boolean
  /** The row as stored. */
  readonly row: Readonly<Record<string, unknown>>
}

type Obj = Record<string, unknown>
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {})
const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d)
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)
const list = (v: unknown, d: readonly number[]): readonly number[] =>
  Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : d

export function parseHealthChecks(value: unknown): HealthChecks {
  const hc = obj(value)
  const a = obj(hc['active'])
  const ah = obj(a['healthy'])
  const au = obj(a['unhealthy'])
  const p = obj(hc['passive'])
  const ph = obj(p['healthy'])
  const pu = obj(p['unhealthy'])
  const headers = a['headers']
  return {
    active: {
      type: (str(a['type']) ?? 'http') as ActiveChecks['type'],
      timeout: num(a['timeout'], 1),
      concurrency: num(a['concurrency'], 10),
      http_path: str(a['http_path']) ?? '/',
      https_sni: str(a['https_sni']),
      https_verify_certificate: a['https_verify_certificate'] !== false,
      headers: typeof headers === 'object' && headers !== null ? (headers as Record<string, string[]>) : null,
      healthy: {
        interval: num(ah['interval'], 0),
        http_statuses: list(ah['http_statuses'], ACTIVE_HEALTHY_STATUSES),
        successes: num(ah['successes'], 0),
      },
      unhealthy: {
        interval: num(au['interval'], 0),
        http_statuses: list(au['http_statuses'], ACTIVE_UNHEALTHY_STATUSES),
        tcp_failures: num(au['tcp_failures'], 0),
        timeouts: num(au['timeouts'], 0),
        http_failures: num(au['http_failures'], 0),
      },
    },
    passive: {
      type: (str(p['type']) ?? 'http') as PassiveChecks['type'],
      healthy: { http_statuses: list(ph['http_statuses'], PASSIVE_HEALTHY_STATUSES), successes: num(ph['successes'], 0) },
      unhealthy: {
        http_statuses: list(pu['http_statuses'], PASSIVE_UNHEALTHY_STATUSES),
        tcp_failures: num(pu['tcp_failures'], 0),
        timeouts: num(pu['timeouts'], 0),
        http_failures: num(pu['http_failures'], 0),
      },
    },
    threshold: num(hc['threshold'], 0),
  }
}

export function parseUpstream(row: Readonly<Record<string, unknown>>): UpstreamConfig {
  const hashOn = (str(row['hash_on']) ?? 'none') as HashOn
  const algorithm = hashOn !== 'none' ? 'consistent-hashing' : ((str(row['algorithm']) ?? 'round-robin') as Algorithm)
  return {
    id: String(row['id']),
    name: String(row['name']).toLowerCase(),
    algorithm,
    hash_on: hashOn,
    hash_fallback: hashOn === 'cookie' ? 'none' : ((str(row['hash_fallback']) ?? 'none') as HashOn),
    hash_on_header: str(row['hash_on_header']),
    hash_fallback_header: str(row['hash_fallback_header']),
    hash_on_cookie: str(row['hash_on_cookie']),
    hash_on_cookie_path: str(row['hash_on_cookie_path']) ?? '/',
    hash_on_query_arg: str(row['hash_on_query_arg']),
    hash_fallback_query_arg: str(row['hash_fallback_query_arg']),
    hash_on_uri_capture: str(row['hash_on_uri_capture']),
    hash_fallback_uri_capture: str(row['hash_fallback_uri_capture']),
    slots: num(row['slots'], 10000),
    healthchecks: parseHealthChecks(row['healthchecks']),
    host_header: str(row['host_header']),
    use_srv_name: row['use_srv_name'] === true,
    row,
  }
}

/** Kong's `is_upstream_using_healthcheck`: any active interval or passive failure counter set. */
export function usingHealthchecks(hc: HealthChecks): boolean {
  return (
    hc.active.healthy.interval !== 0 ||
    hc.active.unhealthy.interval !== 0 ||
    hc.passive.unhealthy.tcp_failures !== 0 ||
    hc.passive.unhealthy.timeouts !== 0 ||
    hc.passive.unhealthy.http_failures !== 0
  )
}

/** Passive checks count anything at all (workers report proxied outcomes only then). */
export function passiveEnabled(hc: HealthChecks): boolean {
  const u = hc.passive.unhealthy
  return u.tcp_failures > 0 || u.timeouts > 0 || u.http_failures > 0 || hc.passive.healthy.successes > 0
}

/** Key of one balancer address in the node's health view: `ip:port|hostname`. */
export function addressKey(ip: string, port: number, hostname: string): string {
  return `${ip}:${port}|${hostname}`
}
