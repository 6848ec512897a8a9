/**
 * Active health probes (lua-resty-healthcheck's `checker:run_single_check`): an HTTP(S) GET of
 * `http_path`, or a TCP connect, with `timeout` seconds. The result is an {@link Outcome} classified
 * with the active `http_statuses` lists.
 *
 * @module
 */
import { connect, isIP } from 'node:net'
import type { ActiveChecks, HealthChecks } from '../balancer/config.js'
import { classifyStatus, type Outcome } from '../balancer/health-model.js'
import { originOf, outbound } from '../http/outbound.js'

export interface ProbeTarget {
  readonly ip: string
  readonly port: number
  readonly hostname: string
  /** The upstream's `host_header`, if set. */
  readonly hostHeader: string | null
}

/**
 * What an https probe trusts and presents (lua-resty-healthcheck's `ssl_cert`/`ssl_key`, which
 * Kong sets from the upstream's `client_certificate`). Kept per upstream, so connections reuse it.
 */
export interface ProbeTls {
  /** The CAs trusted when `https_verify_certificate` is on; node's own when absent. */
  readonly ca?: readonly string[]
  /** `lua_ssl_verify_depth`, when verifying. */
  readonly verifyDepth?: number
  readonly cert?: string
  readonly key?: string
}

/** What a probe saw: the outcome for the counters (null: a status in neither list) and a description. */
export interface ProbeResult {
  readonly outcome: Outcome | null
  readonly detail: string
}

function tcpProbe(t: ProbeTarget, a: ActiveChecks): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: t.ip, port: t.port })
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ outcome: { kind: 'timeout', detail: 'tcp probe timed out' }, detail: `TCP connect timed out after ${a.timeout}s` })
    }, a.timeout * 1000)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ outcome: { kind: 'success', detail: 'tcp connect succeeded' }, detail: 'TCP connect succeeded' })
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      resolve({
        outcome: { kind: 'tcp_failure', detail: `TCP connect failed: ${err.code ?? err.message}` },
        detail: `TCP connect failed (${err.code ?? err.message})`,
      })
    })
  })
}

async function httpProbe(t: ProbeTarget, hc: HealthChecks, tls: ProbeTls): Promise<ProbeResult> {
  const a = hc.active
  const https = a.type === 'https' || a.type === 'grpcs'
  const defaultPort = https ? t.port === 443 : t.port === 80
  const host = t.hostHeader ?? (defaultPort ? t.hostname : `${t.hostname}:${t.port}`)
  const headers: Record<string, string | string[]> = { host, 'user-agent': 'turnpike-healthcheck' }
  for (const [k, v] of Object.entries(a.headers ?? {})) headers[k.toLowerCase()] = [...v]
  const ms = a.timeout * 1000
  // The SNI (and the name verified): `https_sni`, else the target's host name (none for an IP).
  const servername = a.https_sni ?? (isIP(t.hostname) !== 0 ? undefined : t.hostname)
  const r = await outbound.request({
    method: 'GET',
    origin: originOf(https ? 'https' : 'http', t.ip, t.port),
    path: a.http_path,
    headers,
    connectTimeoutMs: ms,
    readTimeoutMs: ms,
    totalTimeoutMs: ms,
    discardBody: true,
    ...(https
      ? {
          tls: {
            verify: a.https_verify_certificate,
            ...(servername !== undefined ? { servername } : {}),
            ...(a.https_verify_certificate && tls.ca !== undefined ? { ca: tls.ca } : {}),
            ...(a.https_verify_certificate && tls.verifyDepth !== undefined ? { verifyDepth: tls.verifyDepth } : {}),
            ...(tls.cert !== undefined && tls.key !== undefined ? { cert: tls.cert, key: tls.key } : {}),
          },
        }
      : {}),
  })
  if (!r.ok) {
    const f = r.failure
    if (f.kind === 'timeout')
      return {
        outcome: { kind: 'timeout', detail: `GET ${a.http_path} timed out after ${a.timeout}s` },
        detail: `GET ${a.http_path} timed out after ${a.timeout}s`,
      }
    return {
      outcome: { kind: 'tcp_failure', detail: `GET ${a.http_path} failed: ${f.code ?? f.message}` },
      detail: `GET ${a.http_path} failed (${f.code ?? f.message})`,
    }
  }
  const outcome = classifyStatus(hc, 'active', r.status)
  return {
    outcome: outcome === null ? null : { ...outcome, detail: `GET ${a.http_path} answered ${r.status}` },
    detail: `GET ${a.http_path} answered ${r.status}`,
  }
}

/** Runs one probe of `t` as `healthchecks.active` says. */
export function probe(t: ProbeTarget, hc: HealthChecks, tls: ProbeTls = {}): Promise<ProbeResult> {
  return hc.active.type === 'tcp' ? tcpProbe(t, hc.active) : httpProbe(t, hc, tls)
}
