/**
 * The configuration snapshot: everything the proxy needs, compiled once per configuration change
 * and swapped in one assignment. A request keeps the snapshot it started with.
 */
import { isIP } from 'node:net'
import { type Balancer, BalancerRegistry, HealthView } from '../balancer/balancer.js'
import {
  type Route,
  type Service,
  SNAPSHOT_CORE_ENTITIES,
  services as serviceSchema,
  type Target,
  type Upstream,
} from '../entities/index.js'
import type { PluginRow } from '../plugins/entity.js'
import { PlanCompiler, type PluginInstance, type PluginPlan } from '../plugins/plan.js'
import { PluginRegistry } from '../plugins/registry.js'
import { compileRouter } from '../router/index.js'
import type { RouteInput, Router } from '../router/index.js'
import { orDefault } from '../schema/index.js'
import type { StoreEntity } from '../store/index.js'
import { CertificateIndex } from './certificates.js'
import { EntityIndex } from './entity-index.js'
import type { UpstreamTarget } from './target.js'
import { NO_TRUST, TlsMaterial, type UpstreamTls, type UpstreamTrust } from './upstream-tls.js'
import type { ReferenceProblem, ReferenceResolver } from './vault-references.js'

/** A stored row of any entity. */
export type StoredRow = Readonly<Record<string, unknown>> & { readonly id: string }

/** The rows of the entities other than services, routes and plugins, by entity name. */
export interface PayloadEntities {
  readonly upstreams?: readonly Upstream[]
  readonly targets?: readonly Target[]
  /** Consumers, credentials and the other entities plugins look up. */
  readonly [entity: string]: readonly StoredRow[] | undefined
}

/**
 * Entity rows as the control plane sends them to workers: as stored, that is validated with their
 * entity's schema and defaults filled in (an explicit `null` stays `null`, as in Kong).
 */
export interface ConfigPayload {
  /** Monotonic per control plane; workers report the version they serve. */
  readonly version: number
  readonly services: readonly Service[]
  readonly routes: readonly Route[]
  /** Plugin instances (`plugins` rows). */
  readonly plugins?: readonly PluginRow[]
  /** Every other entity plugins may look up (consumers, credentials…), by entity name. */
  readonly entities?: PayloadEntities
}

/**
 * The payload of a configuration from the store's rows, by entity name. Every stored row went
 * through its entity's schema on the way in (Admin API writes through the DAO, declarative loads
 * through `flattenConfig`; a row older than a field is completed when read, `completeRow`), so it
 * has its schema's row type; the store's generic `Row` cannot say so, hence the casts here, and
 * nowhere else.
 */
export function payloadFromRows(version: number, rows: ReadonlyMap<string, readonly StoredRow[]>): ConfigPayload {
  const entities: Record<string, readonly StoredRow[]> = {}
  for (const [e, list] of rows) if (!SNAPSHOT_CORE_ENTITIES.includes(e)) entities[e] = list
  return {
    version,
    services: (rows.get('services') ?? []) as readonly Service[],
    routes: (rows.get('routes') ?? []) as readonly Route[],
    plugins: (rows.get('plugins') ?? []) as readonly PluginRow[],
    entities: entities as PayloadEntities,
  }
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
  /** kong.conf's `lua_ssl_trusted_certificate` and `lua_ssl_verify_depth`, loaded once per worker. */
  readonly upstreamTrust?: UpstreamTrust
  /** Resolves `{vault://…}` references before compiling; without it references stay as written. */
  readonly references?: ReferenceResolver
  /** A reference that could not be resolved (its field is left empty): logged by the caller. */
  readonly onReferenceProblem?: (problem: ReferenceProblem) => void
}

const EMPTY_CONTEXT: SnapshotContext = { registry: new PluginRegistry([]), entities: [] }

/** A service with what the request path needs decided in advance. */
export interface CompiledService {
  readonly id: string
  readonly name: string | null
  /** `grpc`/`grpcs`: proxied over HTTP/2 (h2c, or h2 over TLS). */
  readonly protocol: 'http' | 'https' | 'grpc' | 'grpcs'
  readonly host: string
  readonly port: number
  readonly path: string | null
  readonly retries: number
  readonly connect_timeout: number
  readonly read_timeout: number
  readonly write_timeout: number
  readonly tls_verify: boolean
  /** TLS to the upstream (https services): verification, CAs, depth, client certificate. */
  readonly tls: UpstreamTls
  /** `host` is an IP literal: no resolution needed. */
  readonly hostIsIp: boolean
  /** The Host header Kong sends when preserve_host is off: host, plus `:port` unless default. */
  readonly hostHeader: string
  /** TLS SNI (and certificate name) for https services: the host without port. */
  readonly sni: string
  /** The service as stored (what plugins and log serializers see). */
  readonly row: Service
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
  /** The certificates TLS proxy listeners serve, by SNI (./certificates.ts). */
  readonly certificates: CertificateIndex
}

/** Route protocols the HTTP proxy serves (gRPC over HTTP/2). */
const HTTP_ROUTE_PROTOCOLS = new Set(['http', 'https', 'grpc', 'grpcs'])

/** The schema's fields whose defaults stand in for an explicit `null` (Kong: `service.retries or 5`). */
const F = serviceSchema.fields

function compileService(row: Service, tls: UpstreamTls): CompiledService {
  const protocol = row.protocol === 'https' || row.protocol === 'grpc' || row.protocol === 'grpcs' ? row.protocol : 'http'
  const host = row.host
  const port = row.port
  // Kong's upstream_host: the port is left out when it is the scheme's (80 for http and grpc, 443 for https and grpcs).
  const defaultPort = port === (protocol === 'https' || protocol === 'grpcs' ? 443 : 80)
  const bracketed = isIP(host) === 6 ? `[${host}]` : host
  return {
    id: row.id,
    name: row.name,
    protocol,
    host,
    port,
    path: row.path,
    retries: orDefault(row.retries, F.retries),
    connect_timeout: orDefault(row.connect_timeout, F.connect_timeout),
    read_timeout: orDefault(row.read_timeout, F.read_timeout),
    write_timeout: orDefault(row.write_timeout, F.write_timeout),
    tls_verify: row.tls_verify === true,
    tls,
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
export function buildSnapshot(given: ConfigPayload, context: SnapshotContext = EMPTY_CONTEXT): ConfigSnapshot {
  const payload = context.references?.resolve(given, context.onReferenceProblem ?? (() => {})) ?? given
  const plans = new PlanCompiler(payload.plugins ?? [], context.registry, context.onSkip !== undefined ? { onSkip: context.onSkip } : {})
  const services = new Map<string, CompiledService>()
  const disabled = new Set<string>()
  const material = new TlsMaterial(payload.entities?.['ca_certificates'] ?? [], payload.entities?.['certificates'] ?? [])
  const trust = context.upstreamTrust ?? NO_TRUST
  // Upstream entities by name (lower-case, as services' hosts find their balancer).
  const upstreamRows = new Map<string, StoredRow>()
  for (const u of payload.entities?.['upstreams'] ?? []) if (typeof u['name'] === 'string') upstreamRows.set(u['name'].toLowerCase(), u)
  for (const row of payload.services) {
    const svc = compileService(row, material.compile(row, trust, upstreamRows.get(row.host.toLowerCase())))
    if (!row.enabled) disabled.add(svc.id)
    else services.set(svc.id, svc)
  }
  const routes: CompiledRoute[] = []
  for (const route of payload.routes) {
    const serviceRef = route.service
    // Kong leaves routes of a disabled service out of the router entirely.
    if (serviceRef !== null && disabled.has(serviceRef.id)) continue
    if (!route.protocols.some((p) => HTTP_ROUTE_PROTOCOLS.has(p))) continue // stream routes: not served yet
    const compiledService = serviceRef === null ? null : (services.get(serviceRef.id) ?? null)
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
    certificates: new CertificateIndex(payload.entities?.['certificates'] ?? [], payload.entities?.['snis'] ?? []),
  }
}
