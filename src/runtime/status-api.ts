/**
 * The status listener (`status_listen`, 127.0.0.1:8007 by default): `GET /status` as on the Admin
 * API and `GET /status/ready` (200 once every worker serves a configuration, 503 otherwise, and
 * 503 `failed to connect to database` as Kong's `status/ready.lua` while the database is down),
 * for load balancers' and orchestrators' health checks; plus the `statusApi` endpoints of the
 * loaded plugins (Kong's `status_api.lua`: prometheus's `GET /metrics`).
 */
import { AdminRouter, BadPathError } from '../admin/index.js'
import type { AdminRequest, AdminResponse } from '../admin/index.js'
import type { AdminHandler } from '../http/admin-server.js'
import type { ApiRoute } from '../plugins/endpoints.js'

const notFound = (): AdminResponse => ({ status: 404, headers: {}, body: { message: 'Not found' } })

export function createStatusApi(
  admin: AdminHandler,
  ready: () => boolean,
  pluginRoutes: readonly ApiRoute[] = [],
  databaseDown: () => boolean = () => false,
): AdminHandler {
  const plugins = new AdminRouter()
  for (const route of pluginRoutes) plugins.add(route)
  return {
    async handle(req: AdminRequest): Promise<AdminResponse> {
      const read = req.method === 'GET' || req.method === 'HEAD'
      if (req.path === '/status' && read) return admin.handle(req)
      if (req.path === '/status/ready' && read) {
        if (!ready()) return { status: 503, headers: {}, body: { message: 'no configuration applied yet, or the node is stopping' } }
        // Kong's words; the proxy still serves its last configuration, writes would fail.
        if (databaseDown()) return { status: 503, headers: {}, body: { message: 'failed to connect to database' } }
        return { status: 200, headers: {}, body: { message: 'ready' } }
      }
      let match
      try {
        match = plugins.match(req.path)
      } catch (err) {
        if (err instanceof BadPathError) return notFound()
        throw err
      }
      const handler = match?.route.methods[req.method === 'HEAD' ? 'GET' : req.method]
      if (match === null || handler === undefined) return notFound()
      return handler({
        req,
        params: match.params,
        rawParams: match.rawParams,
        query: new URLSearchParams(req.query),
        body: { kind: 'none', value: {} },
      })
    },
  }
}
