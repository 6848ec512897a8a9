/**
 * One doctor run: which services (all, one, or a route's), probed with bounded concurrency and a
 * budget each, plus the route checks; the node's resolver settings, TLS trust and keep-alive
 * settings are those the proxy uses.
 *
 * @module
 */
import type { SecureVersion } from 'node:tls'
import { DnsClient, type DnsClientOptions } from '../dns/index.js'
import type { Service } from '../entities/index.js'
import { versionRange } from '../http/tls.js'
import type { ConfigPayload } from '../snapshot/snapshot.js'
import type { UpstreamTrust } from '../snapshot/upstream-tls.js'
import { doctorReport, LIMITS, type DoctorOptions, type DoctorReport, type ServiceReport } from './report.js'
import { checkRoutes, type ListenerFacts } from './routes.js'
import { checkService, serviceUrl, type DoctorHealth, type ServiceCheckContext } from './service-checks.js'
import { worstSeverity, type Finding } from './types.js'

/** What the doctor needs from the node (the primary process builds it). */
export interface DoctorDeps {
  readonly nodeId: string
  /** The configuration the workers serve. */
  payload(): ConfigPayload
  readonly health: DoctorHealth
  /** The resolver settings of the proxy (`dnsOptions(config)`); the doctor shortens its timeouts. */
  readonly dns: DnsClientOptions
  /** `lua_ssl_trusted_certificate` (and `client_ssl`), as loaded at start. */
  trust(): UpstreamTrust
  /** `lua_ssl_protocols`. */
  readonly tlsProtocols: readonly string[]
  readonly keepalive: { readonly idleTimeout: number; readonly poolSize: number }
  readonly listeners: ListenerFacts
}

/** A service or route named in a doctor request that the configuration does not hold. */
export class DoctorNotFound extends Error {
  constructor(what: string) {
    super(`${what} not found`)
    this.name = 'DoctorNotFound'
  }
}

const byIdOrName = <T extends { id: string; name?: string | null }>(list: readonly T[], key: string): T | undefined =>
  list.find((x) => x.id === key) ?? list.find((x) => x.name === key)

function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms)
  })
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer))
}

/** Runs `fn` over `items` with at most `limit` at a time, results in order. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/**
 * The report for every service (`service` undefined) or one (id or name); `options.route` narrows
 * to that route's service and route findings. Throws {@link DoctorNotFound} for an unknown name.
 */
export async function runDoctor(deps: DoctorDeps, service: string | undefined, options: DoctorOptions): Promise<DoctorReport> {
  const startedAt = Date.now()
  // A change just written through the Admin API is in the configuration checked (bounded wait).
  await deps.health.ready()
  const payload = deps.payload()
  let services: readonly Service[] = payload.services
  let scopeService: Service | undefined
  if (service !== undefined) {
    scopeService = byIdOrName(payload.services, service)
    if (scopeService === undefined) throw new DoctorNotFound('service')
    services = [scopeService]
  }
  if (options.route !== null) {
    const route = byIdOrName(payload.routes, options.route)
    if (route === undefined) throw new DoctorNotFound('route')
    const sid = route.service?.id ?? null
    services = services.filter((s) => s.id === sid)
  }
  const routes: Finding[] =
    options.checks === 'services'
      ? []
      : checkRoutes(payload, deps.listeners, {
          ...(scopeService !== undefined ? { service: scopeService.id } : {}),
          ...(options.route !== null ? { route: options.route } : {}),
        })
  if (options.checks === 'routes') return doctorReport(deps.nodeId, startedAt, [], routes, 0)

  const probed = services.slice(0, LIMITS.maxServices)
  const versions = versionRange(deps.tlsProtocols) as { minVersion: SecureVersion; maxVersion: SecureVersion }
  const dns = new DnsClient({ ...deps.dns, timeoutMs: LIMITS.dnsTimeoutMs, attempts: LIMITS.dnsAttempts })
  try {
    const ctx: ServiceCheckContext = {
      payload,
      dns,
      trust: deps.trust(),
      tlsVersions: versions,
      keepalive: deps.keepalive,
      health: deps.health,
      options,
    }
    const budgetMs = LIMITS.serviceBudgetMs + options.keepaliveWait * 1000
    const reports = await pool(probed, LIMITS.concurrency, async (s): Promise<ServiceReport> => {
      // The doctor's own word about a service whose checks did not run to the end.
      const note = (summary: string): Finding[] => [
        { check: 'doctor', severity: 'warn', subject: { kind: 'service', id: s.id, name: s.name ?? null }, summary },
      ]
      const findings =
        Date.now() - startedAt > LIMITS.runStartWindowMs
          ? note(
              `not probed: the run reached its ${LIMITS.runStartWindowMs / 1000} s window before this service's turn; ask for it alone (GET /services/{service}/doctor, turnpike doctor --service)`,
            )
          : await withDeadline(
              checkService(ctx, s).catch((err: unknown) =>
                note(`the checks of this service failed: ${err instanceof Error ? err.message : String(err)}`),
              ),
              budgetMs,
              () => note(`the checks of this service did not finish within ${Math.round(budgetMs / 1000)} s`),
            )
      return { id: s.id, name: s.name ?? null, url: serviceUrl(s), status: worstSeverity(findings), findings }
    })
    return doctorReport(deps.nodeId, startedAt, reports, routes, services.length - probed.length)
  } finally {
    dns.close()
  }
}
