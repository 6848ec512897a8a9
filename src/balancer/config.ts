/**
 * An upstream row as the balancer and the health checker read it. Rows reach them typed and with
 * their schema's defaults filled in (`Upstream`, see `ConfigPayload`), but an explicit `null` is
 * stored as `null`, as in Kong: such a field takes its default from the `upstreams` schema
 * (`orDefault`). The one thing decided here is the algorithm in effect.
 *
 * @module
 */
import { type Upstream, upstreams } from '../entities/index.js'
import { type InferDefaulted, orDefault } from '../schema/index.js'

/** The schema's fields, whose defaults stand in for an explicit `null`. */
const U = upstreams.fields
const HC = U.healthchecks.fields
const A = HC.active.fields
const P = HC.passive.fields

export type Algorithm = UpstreamConfig['algorithm']
export type HashOn = UpstreamConfig['hash_on']

/** `healthchecks` with the schema's defaults in place of explicit nulls. */
export type HealthChecks = InferDefaulted<typeof HC>
export type ActiveChecks = HealthChecks['active']
export type PassiveChecks = HealthChecks['passive']

/** The upstream's fields with the schema's defaults in place of explicit nulls, and the row as stored. */
export type UpstreamConfig = InferDefaulted<typeof U> & { readonly row: Upstream }

/** The health checks of an upstream row, every null that has a default replaced with it. */
export function resolveHealthChecks(hc: Upstream['healthchecks']): HealthChecks {
  const { active: a, passive: p } = hc
  return {
    active: {
      type: orDefault(a.type, A.type),
      timeout: orDefault(a.timeout, A.timeout),
      concurrency: orDefault(a.concurrency, A.concurrency),
      http_path: orDefault(a.http_path, A.http_path),
      https_sni: a.https_sni,
      https_verify_certificate: orDefault(a.https_verify_certificate, A.https_verify_certificate),
      headers: a.headers,
      healthy: {
        interval: orDefault(a.healthy.interval, A.healthy.fields.interval),
        http_statuses: orDefault(a.healthy.http_statuses, A.healthy.fields.http_statuses),
        successes: orDefault(a.healthy.successes, A.healthy.fields.successes),
      },
      unhealthy: {
        interval: orDefault(a.unhealthy.interval, A.unhealthy.fields.interval),
        http_statuses: orDefault(a.unhealthy.http_statuses, A.unhealthy.fields.http_statuses),
        tcp_failures: orDefault(a.unhealthy.tcp_failures, A.unhealthy.fields.tcp_failures),
        timeouts: orDefault(a.unhealthy.timeouts, A.unhealthy.fields.timeouts),
        http_failures: orDefault(a.unhealthy.http_failures, A.unhealthy.fields.http_failures),
      },
    },
    passive: {
      type: orDefault(p.type, P.type),
      healthy: {
        http_statuses: orDefault(p.healthy.http_statuses, P.healthy.fields.http_statuses),
        successes: orDefault(p.healthy.successes, P.healthy.fields.successes),
      },
      unhealthy: {
        http_statuses: orDefault(p.unhealthy.http_statuses, P.unhealthy.fields.http_statuses),
        tcp_failures: orDefault(p.unhealthy.tcp_failures, P.unhealthy.fields.tcp_failures),
        timeouts: orDefault(p.unhealthy.timeouts, P.unhealthy.fields.timeouts),
        http_failures: orDefault(p.unhealthy.http_failures, P.unhealthy.fields.http_failures),
      },
    },
    threshold: orDefault(hc.threshold, HC.threshold),
  }
}

/**
 * The upstream as the balancer reads it. Derived here, and nowhere in the row:
 *
 * - the algorithm: `hash_on` other than `none` means consistent-hashing (Kong's `hash_on`
 *   shorthand in `upstreams.lua` writes that into the row; Turnpike stores the row as sent);
 * - the name, lower-cased: the proxy looks a service's host up lower-cased.
 */
export function resolveUpstream(row: Upstream): UpstreamConfig {
  const hashOn = orDefault(row.hash_on, U.hash_on)
  return {
    ...row,
    name: row.name.toLowerCase(),
    algorithm: hashOn !== 'none' ? 'consistent-hashing' : orDefault(row.algorithm, U.algorithm),
    hash_on: hashOn,
    hash_fallback: orDefault(row.hash_fallback, U.hash_fallback),
    hash_on_cookie_path: orDefault(row.hash_on_cookie_path, U.hash_on_cookie_path),
    slots: orDefault(row.slots, U.slots),
    healthchecks: resolveHealthChecks(row.healthchecks),
    use_srv_name: orDefault(row.use_srv_name, U.use_srv_name),
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
