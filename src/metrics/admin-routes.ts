/**
 * Admin API endpoints of bundled plugins whose state lives in the proxy workers (Kong's
 * `api.lua` / `status_api.lua` of prometheus and proxy-cache), registered only when the plugin is
 * loaded (`plugins = bundled,…`).
 *
 * @module
 */
import type { Dao } from '../dao/dao.js'
import type { AdminRoute } from '../admin/router.js'
import type { AdminRequest, AdminResponse, NodeInfo } from '../admin/types.js'
import type { UpstreamHealthProvider } from '../health/checker.js'
import type { PluginRegistry } from '../plugins/registry.js'
import type { Store } from '../store/types.js'
import { metricsResponse, prometheusAdminRoutes } from '../plugins/prometheus/api.js'
import { proxyCacheAdminRoutes } from '../plugins/proxy-cache/api.js'
import type { WorkerFanout } from './channel.js'

export interface PluginApiSources {
  readonly plugins: PluginRegistry
  readonly fanout: WorkerFanout
  readonly nodeInfo: NodeInfo
  readonly store: Store
  readonly dao: Dao
  readonly health?: UpstreamHealthProvider
}

/** Routes for the Admin API. */
export function pluginAdminRoutes(src: PluginApiSources): AdminRoute[] {
  const routes: AdminRoute[] = []
  if (src.plugins.has('prometheus')) routes.push(...prometheusAdminRoutes(src))
  if (src.plugins.has('proxy-cache')) routes.push(...proxyCacheAdminRoutes(src))
  return routes
}

/** Extra endpoints of the status listener (`GET /metrics` when prometheus is loaded), or null. */
export function pluginStatusHandler(src: PluginApiSources): ((req: AdminRequest) => Promise<AdminResponse> | null) | null {
  if (!src.plugins.has('prometheus')) return null
  return (req) => (req.path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD') ? metricsResponse(src) : null)
}
