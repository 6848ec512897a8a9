/**
 * The node:http adapter for the Admin API (and the status listener): buffers the request body
 * (10 MiB at most, as Kong's `nginx_admin_client_max_body_size`), hands plain data to the Admin
 * API logic and writes its answer.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AdminRequest, AdminResponse } from '../admin/types.js'
import type { AccessLog } from '../observability/access-log.js'
import type { ErrorLog } from '../observability/error-log.js'
import { nextRequestId } from '../proxy/request-id.js'

export const ADMIN_MAX_BODY = 10 * 1024 * 1024

export interface AdminHandler {
  handle(req: AdminRequest): Promise<AdminResponse>
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        resolve(null)
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Creates (but does not start) an Admin API server around a handler. */
export function createAdminServer(api: AdminHandler, logs: { access: AccessLog; error: ErrorLog }): Server {
  return createServer({ requestTimeout: 60_000 }, (req, res) => {
    const started = performance.now()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const send = (r: AdminResponse): void => {
      // The Admin API logic names headers in Kong's case; never send one twice in two cases.
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(r.headers)) headers[name.toLowerCase()] = value
      let payload: string | Buffer | undefined
      if (r.body !== undefined && r.status !== 204 && r.status !== 304) {
        payload = typeof r.body === 'string' || Buffer.isBuffer(r.body) ? r.body : JSON.stringify(r.body)
        headers['content-length'] = String(Buffer.byteLength(payload))
        headers['content-type'] ??= 'application/json; charset=utf-8'
      } else if (r.status !== 204 && r.status !== 304) headers['content-length'] = '0'
      headers['x-kong-admin-latency'] ??= String(Math.round(performance.now() - started))
      res.writeHead(r.status, headers)
      res.end(payload)
      logs.access.write({
        remoteAddr: req.socket.remoteAddress ?? '',
        method: req.method ?? 'GET',
        url,
        httpVersion: req.httpVersion,
        status: r.status,
        bytesSent: payload === undefined ? 0 : Buffer.byteLength(payload),
        referer: req.headers.referer,
        userAgent: req.headers['user-agent'],
        requestId: nextRequestId(),
      })
    }
    readBody(req, ADMIN_MAX_BODY)
      .then(async (body) => {
        if (body === null) return send({ status: 413, headers: {}, body: { message: 'Payload too large' } })
        const r = await api.handle({
          method: req.method ?? 'GET',
          path: q === -1 ? url : url.slice(0, q),
          query: q === -1 ? '' : url.slice(q + 1),
          headers: req.headers,
          body,
        })
        send(r)
      })
      .catch((err: unknown) => {
        logs.error.error(`admin API request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, { request: `${req.method ?? ''} ${url}` })
        if (!res.headersSent) send({ status: 500, headers: {}, body: { message: 'An unexpected error occurred' } })
      })
  })
}
