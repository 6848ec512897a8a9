/**
 * The status listener (`status_listen`, 127.0.0.1:8007 by default): `GET /status` as on the Admin
 * API and `GET /status/ready` (200 once every worker serves a configuration, 503 otherwise),
 * for load balancers' and orchestrators' health checks; `GET /metrics` when the prometheus plugin
 * is loaded.
 */
import type { AdminRequest, AdminResponse } from '../admin/types.js'
import type { AdminHandler } from '../http/admin-server.js'

export function createStatusApi(admin: AdminHandler, ready: () => boolean, extra: ((req: AdminRequest) => Promise<AdminResponse> | null) | null = null): AdminHandler {
  return {
    async handle(req: AdminRequest): Promise<AdminResponse> {
      // Plugin endpoints (prometheus's `GET /metrics`, src/metrics/admin-routes.ts).
      const answer = extra?.(req) ?? null
      if (answer !== null) return answer
      if (req.path === '/status' && (req.method === 'GET' || req.method === 'HEAD')) return admin.handle(req)
      if (req.path === '/status/ready' && (req.method === 'GET' || req.method === 'HEAD')) {
        return ready()
          ? { status: 200, headers: {}, body: { message: 'ready' } }
          : { status: 503, headers: {}, body: { message: 'no configuration applied yet, or the node is stopping' } }
      }
      return { status: 404, headers: {}, body: { message: 'Not found' } }
    },
  }
}
