/**
 * The HTTP endpoints a plugin adds (Kong's `api.lua` on the Admin API and `status_api.lua` on the
 * status listener), and the node services they are given on the primary. The Admin API and the
 * status listener mount the endpoints of every loaded plugin as they are: the plain request and
 * response here are theirs (`src/admin/types.ts` names them `AdminRequest` / `AdminResponse`).
 *
 * @module
 */
import type { Dao } from '../dao/index.js'
import type { UpstreamHealthProvider } from '../balancer/health-model.js'
import type { Store } from '../store/index.js'
import type { AnyPlugin } from './types.js'

/** An HTTP request as the Admin API and the status listener see it: plain data. */
export interface ApiRequest {
  readonly method: string
  /** Path without query string, still percent-encoded as received (`/services/my%20svc`). */
  readonly path: string
  /** Raw query string without `?` (may be empty). */
  readonly query: string
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The whole request body (buffered; max 10 MiB on the Admin API as Kong). */
  readonly body: Buffer
}

export interface ApiResponse {
  status: number
  headers: Record<string, string>
  /** JSON-serialisable value (serialised by the adapter), a ready string, or nothing (204). */
  body?: unknown
}

/** What an endpoint handler receives. */
export interface ApiCall {
  readonly req: ApiRequest
  /** URL-decoded path parameters by name (`{cache_key}` in the path). */
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
}

/**
 * One path with its handlers by upper-case method (Kong's `["/path/:param"] = { GET = … }`).
 * Paths use Kong's `/endpoints` notation: `/proxy-cache/{cache_key}`. `HEAD` is answered by `GET`.
 */
export interface ApiRoute {
  readonly path: string
  readonly methods: Readonly<Partial<Record<string, (call: ApiCall) => Promise<ApiResponse>>>>
}

/** The `server` block of `/status`: connections and requests of all workers of the node. */
export interface ServerStatus {
  total_requests: number
  connections_active: number
  connections_accepted: number
  connections_handled: number
  connections_reading: number
  connections_writing: number
  connections_waiting: number
}

/** Facts about this node. */
export interface NodeFacts {
  readonly version: string
  readonly hostname: string
  readonly node_id: string
  serverStatus(): ServerStatus
}

/** Every worker's answer to one call (a worker that failed or did not answer in time is left out). */
export interface WorkerAnswers<T> {
  readonly answers: { readonly pid: number; readonly result: T }[]
  /** Workers that failed or did not answer in time. */
  readonly errors: number
}

/**
 * What a plugin's `api` and `statusApi` endpoints are given: they run in the primary, which holds
 * the store and the node-wide services, while the plugin's per-request state lives in the proxy
 * workers (reached with {@link PluginApiContext.workers}).
 */
export interface PluginApiContext {
  readonly dao: Dao
  readonly store: Store
  readonly node: NodeFacts
  /** The node's upstream health (active and passive checks), when the node runs them. */
  readonly health?: UpstreamHealthProvider
  readonly workers: {
    /**
     * Asks every proxy worker to run what the plugin registered for `op` with
     * `PluginInitContext.onPrimaryCall`, and gathers the answers received within `timeoutMs`.
     */
    call<T>(op: string, args: unknown, timeoutMs?: number): Promise<WorkerAnswers<T>>
  }
}

/** The node services the runtime hands to plugins' endpoints (one set, narrowed per plugin). */
export interface NodeServices extends Omit<PluginApiContext, 'workers'> {
  /** Calls `op` of `plugin` on every worker. */
  callWorkers<T>(plugin: string, op: string, args: unknown, timeoutMs?: number): Promise<WorkerAnswers<T>>
}

/** The endpoints the loaded plugins add to one listener (`api`: Admin API; `statusApi`: status listener). */
export function pluginEndpoints(plugins: readonly AnyPlugin[], services: NodeServices, listener: 'api' | 'statusApi'): ApiRoute[] {
  const routes: ApiRoute[] = []
  for (const plugin of plugins) {
    const declare = plugin[listener]
    if (declare === undefined) continue
    const { callWorkers, ...shared } = services
    const ctx: PluginApiContext = { ...shared, workers: { call: (op, args, timeoutMs) => callWorkers(plugin.name, op, args, timeoutMs) } }
    routes.push(...declare.call(plugin, ctx))
  }
  return routes
}
