/**
 * rate-limiting's access handler, as Kong 3.9's `kong/plugins/rate-limiting/handler.lua`:
 *
 * - the identifier (`limit_by`): consumer (else credential) id, credential id, service id, a
 *   header's value, the path when it equals `config.path`; the client IP when none is known;
 * - one hit on every configured period's window; if any window is exhausted the request is
 *   refused with `error_code` (429) and `error_message`, nothing is counted, and `Retry-After`
 *   tells when the most restrictive window resets;
 * - headers `X-RateLimit-Limit-<Period>`, `X-RateLimit-Remaining-<Period>`, `RateLimit-Limit`,
 *   `RateLimit-Remaining`, `RateLimit-Reset` (the most restrictive window), unless
 *   `hide_client_headers`;
 * - the data store failing: `fault_tolerant` lets the request through (warn log saying why),
 *   else 500.
 *
 * Unlike Kong, counting is synchronous and exact: `local` across the node's workers (leases from
 * the primary), `redis` across nodes (one atomic script), `cluster` across the nodes on one
 * database (one conditional upsert of Kong's `ratelimiting_metrics` rows, run by the primary).
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { inProcessCounters, type NodeCounters, type TakeResult } from '../../counters/client.js'
import type { CounterItem } from '../../counters/messages.js'
import { EXPIRATION, PERIODS, type Period, previousWindow, resetSeconds, windowOf } from '../../counters/window.js'
import type { HeaderValue, Pdk } from '../../pdk/types.js'
import { routeLabel } from '../shared/consumer.js'
import { ClusterPolicy } from './policies/cluster.js'
import { LocalPolicy } from './policies/local.js'
import { RedisPolicy, RedisUnavailable } from './policies/redis.js'
import { orDefault } from '../../schema/index.js'
import { rateLimitingConfigFields, redisConfigSchema, type RateLimitingConfig, type RedisConfig } from './schema.js'

const NULL_UUID = '00000000-0000-0000-0000-000000000000'

const TITLE: Readonly<Record<Period, string>> = {
  second: 'Second',
  minute: 'Minute',
  hour: 'Hour',
  day: 'Day',
  month: 'Month',
  year: 'Year',
}

/** Where the instance is attached (Kong's `conf.route_id` / `conf.service_id`), when known. */
export interface InstanceScope {
  readonly route?: { readonly id: string } | null
  readonly service?: { readonly id: string } | null
}

export interface RateLimitingPrepared extends RateLimitingConfig {
  /** The configured periods, each with its header names (built once, not per request). */
  readonly limits: readonly {
    readonly period: Period
    readonly limit: number
    readonly limitText: string
    readonly limitHeader: string
    readonly remainingHeader: string
  }[]
  readonly sliding: boolean
  readonly redisConfig: RedisConfig | null
  /** Key prefix: the instance's scope, or (scope unknown) a fingerprint of its configuration. */
  readonly scope: string | null
  readonly configTag: string
  readonly policyImpl: { take(items: readonly CounterItem[], identifier: string): TakeResult | Promise<TakeResult> }
}

/**
 * The node's counters, handed over by the plugin's init ({@link useNodeCounters}); counters of
 * this process alone when prepared without it (unit tests, embedding).
 */
let nodeCounters: NodeCounters | null = null
const localPolicy = new LocalPolicy(() => (nodeCounters ??= inProcessCounters().client))

/** The plugin's init: `policy = local` counts on the node's counters. */
export function useNodeCounters(counters: NodeCounters): void {
  nodeCounters = counters
}

function pick<T>(nested: T | null | undefined, flat: T | null | undefined, fallback: T | null): T | null {
  return flat ?? nested ?? fallback
}

/**
 * `redis.*`, overridden by the deprecated flat `redis_*` fields that are set (Kong 3.9 expands them
 * into `redis.*` as shorthands, over the record's defaults).
 */
export function effectiveRedis(conf: RateLimitingConfig): RedisConfig {
  const r = conf.redis ?? {}
  const f = redisConfigSchema.fields
  return {
    host: pick(r.host, conf.redis_host, null),
    port: pick(r.port, conf.redis_port, f.port.default),
    timeout: pick(r.timeout, conf.redis_timeout, f.timeout.default),
    username: pick(r.username, conf.redis_username, null),
    password: pick(r.password, conf.redis_password, null),
    database: pick(r.database, conf.redis_database, f.database.default),
    ssl: pick(r.ssl, conf.redis_ssl, f.ssl.default),
    ssl_verify: pick(r.ssl_verify, conf.redis_ssl_verify, f.ssl_verify.default),
    server_name: pick(r.server_name, conf.redis_server_name, null),
  }
}

export function prepareRateLimiting(conf: RateLimitingConfig, instance?: InstanceScope): RateLimitingPrepared {
  const limits = PERIODS.flatMap((period) => {
    const v = conf[period]
    return typeof v === 'number'
      ? [
          {
            period,
            limit: v,
            limitText: String(v),
            limitHeader: `X-RateLimit-Limit-${TITLE[period]}`,
            remainingHeader: `X-RateLimit-Remaining-${TITLE[period]}`,
          },
        ]
      : []
  })
  const sliding = conf.window_type === 'sliding'
  const configTag = createHash('sha1').update(JSON.stringify(conf)).digest('hex').slice(0, 12)
  const scope = instance === undefined ? null : `${instance.route?.id ?? NULL_UUID}:${instance.service?.id ?? NULL_UUID}`
  if (conf.policy === 'cluster') {
    if (sliding) throw new Error("window_type 'sliding' is not available with the 'cluster' policy")
    // Kong keys the rows by the instance's own service and route (conf.service_id / route_id).
    const policy = new ClusterPolicy(
      () => (nodeCounters ??= inProcessCounters().client),
      { serviceId: instance?.service?.id ?? NULL_UUID, routeId: instance?.route?.id ?? NULL_UUID },
      limits.map((l) => l.period),
    )
    return { ...conf, limits, sliding, redisConfig: null, scope, configTag, policyImpl: policy }
  }
  if (conf.policy === 'redis') {
    const redisConfig = effectiveRedis(conf)
    const policy = new RedisPolicy(redisConfig)
    return { ...conf, limits, sliding, redisConfig, scope, configTag, policyImpl: { take: (items) => policy.take(items, sliding) } }
  }
  return { ...conf, limits, sliding, redisConfig: null, scope, configTag, policyImpl: localPolicy }
}

/** Kong's `get_identifier`. */
export function identifier(kong: Pdk, conf: Pick<RateLimitingConfig, 'limit_by' | 'header_name' | 'path'>): string {
  let id: string | undefined
  switch (conf.limit_by) {
    case 'service':
      id = kong.router.getService()?.id
      break
    case 'consumer':
      id = kong.client.getConsumer()?.id ?? kong.client.getCredential()?.id
      break
    case 'credential':
      id = kong.client.getCredential()?.id
      break
    case 'header':
      id = conf.header_name == null ? undefined : kong.request.getHeader(conf.header_name)
      break
    case 'path': {
      const p = kong.request.getPath()
      if (p === conf.path) id = p
      break
    }
    case 'ip':
      break
  }
  return id ?? kong.client.getForwardedIp()
}

/** The counters one request needs, Kong's key layout: `ratelimit:<route>:<service>:<id>:<window start>:<period>`. */
export function counterItems(conf: RateLimitingPrepared, kong: Pdk, id: string, now: number): CounterItem[] {
  const scope = conf.scope ?? `${kong.router.getRoute()?.id ?? NULL_UUID}:${kong.router.getService()?.id ?? NULL_UUID}:${conf.configTag}`
  return conf.limits.map(({ period, limit }) => {
    const w = windowOf(period, now)
    const prev = conf.sliding ? previousWindow(period, w) : null
    return {
      key: `ratelimit:${scope}:${id}:${w.start}:${period}`,
      prevKey: prev === null ? null : `ratelimit:${scope}:${id}:${prev.start}:${period}`,
      limit,
      start: w.start,
      end: w.end,
    }
  })
}

/** Kong's headers: per period, plus the most restrictive window's `RateLimit-*`. */
export function rateLimitHeaders(
  conf: RateLimitingPrepared,
  result: TakeResult,
  now: number,
): { headers: Record<string, string>; reset: number } {
  const headers: Record<string, string> = {}
  // The most restrictive window: fewest remaining, the longer window on a tie.
  let best = -1
  let bestRemaining = 0
  const limits = conf.limits
  for (let i = 0; i < limits.length; i++) {
    const l = limits[i] as RateLimitingPrepared['limits'][number]
    const remaining = Math.max(0, result.remaining[i] ?? 0)
    if (
      best === -1 ||
      remaining < bestRemaining ||
      (remaining === bestRemaining && EXPIRATION[l.period] > EXPIRATION[(limits[best] as RateLimitingPrepared['limits'][number]).period])
    ) {
      best = i
      bestRemaining = remaining
    }
    headers[l.limitHeader] = l.limitText
    headers[l.remainingHeader] = String(remaining)
  }
  if (best === -1) return { headers, reset: 1 }
  const b = limits[best] as RateLimitingPrepared['limits'][number]
  const reset = resetSeconds(b.period, now)
  headers['RateLimit-Limit'] = b.limitText
  headers['RateLimit-Remaining'] = String(bestRemaining)
  headers['RateLimit-Reset'] = String(reset)
  return { headers, reset }
}

/** Warn lines about an unreachable data store, at most one a second per instance. */
const lastWarn = new WeakMap<object, { at: number; suppressed: number }>()

function storeFailed(kong: Pdk, conf: RateLimitingPrepared, err: Error): void {
  const why = err instanceof RedisUnavailable ? err.message : `counting failed: ${err.message}`
  if (!conf.fault_tolerant) {
    kong.log.err(`500 on ${routeLabel(kong)}: ${why}; the request is refused because fault_tolerant is false`)
    kong.response.error(500)
    return
  }
  const now = Date.now()
  const w = lastWarn.get(conf)
  if (w !== undefined && now - w.at < 1000) {
    w.suppressed++
    return
  }
  const more = w !== undefined && w.suppressed > 0 ? ` (${w.suppressed} more since the last warning)` : ''
  lastWarn.set(conf, { at: now, suppressed: 0 })
  kong.log.warn(`${why}; request on ${routeLabel(kong)} let through without rate limiting because fault_tolerant is true${more}`)
}

function finish(kong: Pdk, conf: RateLimitingPrepared, result: TakeResult, now: number): void {
  let headers: Record<string, string> | null = null
  let reset = 1
  if (!conf.hide_client_headers) {
    const h = rateLimitHeaders(conf, result, now)
    headers = h.headers
    reset = h.reset
  }
  if (!result.ok) {
    const out: Record<string, HeaderValue> = { ...(headers ?? {}) }
    // Kong only knows the reset when it computed the headers.
    if (headers !== null) out['Retry-After'] = String(reset)
    const exhausted = conf.limits.filter((_, i) => (result.remaining[i] ?? 0) <= 0).map((l) => `${l.limit} per ${l.period}`)
    const code = orDefault(conf.error_code, rateLimitingConfigFields.error_code)
    kong.log.info(
      `${code} "${conf.error_message}" on ${routeLabel(kong)}: limit ${exhausted.join(', ')} reached (limit_by ${conf.limit_by}, ${conf.sliding ? 'sliding' : 'fixed'} window, policy ${conf.policy})`,
    )
    kong.response.error(code, conf.error_message ?? undefined, out)
    return
  }
  if (headers !== null) kong.ctx.plugin['headers'] = headers
}

export function rateLimitingAccess(kong: Pdk, conf: RateLimitingPrepared): void | Promise<void> {
  const now = Date.now()
  const id = identifier(kong, conf)
  const items = counterItems(conf, kong, id, now)
  let result: TakeResult | Promise<TakeResult>
  try {
    result = conf.policyImpl.take(items, id)
  } catch (err) {
    return storeFailed(kong, conf, err as Error)
  }
  if (!(result instanceof Promise)) return finish(kong, conf, result, now)
  return result.then(
    (r) => finish(kong, conf, r, now),
    (err: Error) => storeFailed(kong, conf, err),
  )
}

/** The headers decided in access go on whatever response is sent (Kong sets them in access). */
export function rateLimitingHeaderFilter(kong: Pdk): void {
  const headers = kong.ctx.plugin['headers'] as Record<string, string> | undefined
  if (headers === undefined) return
  const response = kong.response
  for (const k in headers) response.setHeader(k, headers[k] as string)
}
