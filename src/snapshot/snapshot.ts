/**
 * The configuration snapshot: everything the proxy needs, compiled once per configuration change
 * and swapped in one assignment. A request keeps the snapshot it started with.
 */
import { isIP } from 'node:net'
import { compileRouter } from '../router/index.js'
import type { RouteInput, Router } from '../router/types.js'

/** Entity rows as the control plane sends them to workers. */
export interface ConfigPayload {
  /** Monotonic per control plane; workers report the version they serve. */
  readonly version: number
  readonly services: readonly Record<string, unknown>[]
  readonly routes: readonly Record<string, unknown>[]
}

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
}

/** A route as the router holds it, with its service attached. */
export interface CompiledRoute extends RouteInput {
  readonly compiledService: CompiledService | null
}

export interface ConfigSnapshot {
  readonly version: number
  readonly router: Router<CompiledRoute>
  readonly services: ReadonlyMap<string, CompiledService>
  readonly routeCount: number
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
  }
}

/**
 * Compiles a snapshot. Throws if the configuration cannot be compiled; the caller keeps serving
 * the previous snapshot and logs why.
 */
export function buildSnapshot(payload: ConfigPayload): ConfigSnapshot {
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
    routes.push({
      ...route,
      compiledService: serviceRef == null ? null : (services.get(serviceRef.id) ?? null),
    })
  }
  return { version: payload.version, router: compileRouter(routes), services, routeCount: routes.length }
}
