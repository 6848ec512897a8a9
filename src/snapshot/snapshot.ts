/**
 * The configuration snapshot: everything the proxy needs, compiled once per configuration change
 * and swapped in one assignment. A request keeps the snapshot it started with.
 */
import { isIP } from 'node:net'
import { type Balancer, BalancerRegistry, HealthView } from '../balancer/balancer.js'
import { PlanCompiler, type PluginInstance, type PluginPlan } from '../plugins/plan.js'
import { PluginRegistry } from '../plugins/registry.js'
import { compileRouter } from '../router/index.js'
import type { RouteInput, Router } from '../router/types.js'
import type { StoreEntity } from '../store/types.js'
import { EntityIndex } from './entity-index.js'
import type { UpstreamTarget } from '../proxy/types.js'

/** Entity rows as the control plane sends them to workers. */
export interface ConfigPayload {
  /** Monotonic per control plane; workers report the version they serve. */
  readonly version: number
  readonly services: readonly Record<string, unknown>[]
  readonly routes: readonly Record<string, unknown>[]
  /** Plugin instances (`plugins` rows). */
  readonly plugins?: readonly Record<string, unknown>[]
  /** Every other entity plugins may look up (consumers, credentials…), by entity name. */
  readonly entities?: Readonly<Record<string, readonly Record<string, unknown>[]>>
}

/** What a worker needs besides the payload to compile it. */
export interface SnapshotContext {
  readonly registry: PluginRegistry
  /** Layout of the entities in `payload.entities` (unique and foreign fields to index). */
  readonly entities: readonly StoreEntity[]
  /** A plugin row that cannot run here (not enabled, bad config): logged by the caller. */
  readonly onSkip?: (row: Readonly<Record<string, unknown>>, reason: string) => void
  /** Builds the upstreams' balancers, keeping those whose upstream did not change (load balancing). */
  readonly balancers?: BalancerRegistry
}

const EMPTY_CONTEXT: SnapshotContext = { registry: new PluginRegistry([]), entities: [] }

/** A service with what the request path needs decided in advance. */
export interface CompiledService {
  readonly id: string
  readonly name: string | null
  readonly protocol: 'http' | 'https'
  readonly host: string
  readonly port: number
  readonly path: string | null
  readonly retries: number
  readonly connect_timeout: number
  readonly read_timeout: number
  readonly write_timeout: number
  readonly tls_verify: boolean
  /** `host` is an IP literal: no resolution needed. */
  readonly hostIsIp: boolean
  /** The Host header Kong sends when preserve_host is off: host, plus `:port` unless default. */
  readonly hostHeader: string
  /** TLS SNI (and certificate name) for https services: the host without port. */
  readonly sni: string
  /** The service as stored (what plugins and log serializers see). */
  readonly row: Readonly<Record<string, unknown>>
  /**
   * Upstream targets already built for this service, by address (service port and SNI): the
   * common request reuses one instead of building it (and its connection pool's key) again.
   */
  readonly targets: Map<string, UpstreamTarget>
  /**
   * Upstream targets already built for this service, by balancer address (an upstream entity's
   * target resolved to an IP and port): entries go when the balancer drops the address.
   */
  readonly peerTargets: WeakMap<object, UpstreamTarget>
}

/** A route as the router holds it, with its service attached. */
export interface CompiledRoute extends RouteInput {
  readonly compiledService: CompiledService | null
  /** Plugins that may run on this route, in order; null when none (the fast path). */
  readonly plan: PluginPlan | null
}

export interface ConfigSnapshot {
  readonly version: number
  readonly router: Router<CompiledRoute>
  readonly services: ReadonlyMap<string, CompiledService>
  readonly routeCount: number
  /** Plugins for requests that matched no route (global instances). */
  readonly globalPlan: PluginPlan | null
  /** Global instances with a `rewrite` handler, run before routing. */
  readonly rewrite: readonly PluginInstance[]
  readonly entities: EntityIndex
  /** Upstream name (lower-case) → its balancer: a service whose host names one is load balanced. */
  readonly balancers: ReadonlyMap<string, Balancer>
}

function compileService(row: Record<string, unknown>): CompiledService {
  const protocol = row['protocol'] === 'https' ? 'https' : 'http'
  const host = String(row['host'])
  const port = Number(row['port'] ?? (protocol === 'https' ? 443 : 80))
  const defaultPort = (protocol === 'http' && port === 80) || (protocol === 'https' && port === 443)
  const bracketed = isIP(host) === 6 ? `[${host}]` : host
  return {
    id: String(row['id']),
    name: (row['name'] as string | null | undefined) ?? null,
    protocol,
    host,
    port,
    path: (row['path'] as string | null | undefined) ?? null,
    retries: Number(row['retries'] ?? 5),
    connect_timeout: Number(row['connect_timeout'] ?? 60000),
    read_timeout: Number(row['read_timeout'] ?? 60000),
    write_timeout: Number(row['write_timeout'] ?? 60000),
    tls_verify: row['tls_verify'] === true,
    hostIsIp: isIP(host) !== 0,
    hostHeader: defaultPort ? bracketed : `${bracketed}:${port}`,
    sni: host,
    row,
    targets: new Map(),
    peerTargets: new WeakMap(),
  }
}

/**
 * Compiles a snapshot. Throws if the configuration cannot be compiled; the caller keeps serving
 * the previous snapshot and logs why.
 */
export function buildSnapshot(payload: ConfigPayload, context: SnapshotContext = EMPTY_CONTEXT): ConfigSnapshot {
  const plans = new PlanCompiler(payload.plugins ?? [], context.registry, context.onSkip !== undefined ? { onSkip: context.onSkip } : {})
  const services = new Map<string, CompiledService>()
  const disabled = new Set<string>()
  for (const row of payload.services) {
    const svc = compileService(row)
    if (row['enabled'] === false) disabled.add(svc.id)
    else services.set(svc.id, svc)
  }
  const routes: CompiledRoute[] = []
  for (const row of payload.routes) {
    const serviceRef = row['service'] as { id: string } | null | undefined
    // Kong leaves routes of a disabled service out of the router entirely.
    if (serviceRef != null && disabled.has(serviceRef.id)) continue
    const protocols = (row['protocols'] as string[] | null | undefined) ?? ['http', 'https']
    if (!protocols.includes('http') && !protocols.includes('https')) continue // stream and gRPC routes: not served yet
    const route = row as unknown as RouteInput
    const compiledService = serviceRef == null ? null : (services.get(serviceRef.id) ?? null)
    routes.push({ ...route, compiledService, plan: plans.planFor(route.id, compiledService?.id ?? null) })
  }
  return {
    version: payload.version,
    router: compileRouter(routes),
    services,
    routeCount: routes.length,
    globalPlan: plans.planFor(null, null),
    rewrite: plans.globalsWith('rewrite'),
    entities: new EntityIndex(context.entities, payload.entities ?? {}),
    balancers: (context.balancers ?? new BalancerRegistry({ resolver: null, health: new HealthView(), report: null })).build(
      payload.entities?.['upstreams'] ?? [],
      payload.entities?.['targets'] ?? [],
    ),
  }
}
