/**
 * The node:http adapter for the Admin API (and the status listener): buffers the request body
 * (10 MiB at most, as Kong's `nginx_admin_client_max_body_size`), hands plain data to the Admin
 * API logic and writes its answer.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { AdminRequest, AdminResponse } from '../admin/index.js'
import type { AccessLog } from '../observability/access-log.js'
import { UNEXPECTED } from '../errors/registry.js'
import type { ErrorLog } from '../observability/error-log.js'
import { wireValue } from '../codec/header-values.js'
import { requestHeaderValues } from '../codec/request-header-values.js'
import { nextRequestId } from '../proxy/request-id.js'
import { type ListenerTls, tlsServerOptions } from './tls.js'
import { nginxPage } from './nginx-pages.js'
import { guardTlsListener } from './tls-guard.js'
import { compatH2Server, serveH2 } from './h2-server.js'

/** Kong's `nginx_admin_client_max_body_size` default (10m). */
export const ADMIN_MAX_BODY = 10 * 1024 * 1024

/**
 * nginx's own 413 page: Kong's Admin API server block has no `error_page`, so a body over
 * `nginx_admin_client_max_body_size` gets nginx's HTML, not a JSON message.
 */
const TOO_LARGE_PAGE =
  '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n' +
  '<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n'

/** nginx's `lingering_timeout` and `lingering_time`: how long the rest of a refused body is read and dropped. */
const LINGER_IDLE_MS = 5_000
const LINGER_TOTAL_MS = 30_000

export interface AdminHandler {
  handle(req: AdminRequest): Promise<AdminResponse>
}

/** The whole body, or null as soon as it is known to be over `limit` bytes (0 = no limit). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (limit > 0 && Number.isFinite(declared) && declared > limit) return resolve(null)
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (limit > 0 && size > limit) {
        req.off('data', onData)
        chunks.length = 0
        resolve(null)
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** An upper-case method nginx reads (node's parser knows a fixed list), and the request target after it. */
const UNKNOWN_METHOD_LINE = /^([A-Z_-]{1,32}) (\/[^ \r\n]{0,8190})[ \r\n]/

/**
 * Requests node's parser refuses. nginx reads any upper-case method, and raw non-ASCII bytes in
 * the path (`/services/円` unescaped), and Kong's Admin API answers them (405 `{"message":"Method
 * not allowed"}` on a known path; the entity named 円; `invalid utf-8` for bytes that are not
 * UTF-8): so does this, from the request line (its bytes kept as latin-1 characters), and then closes (the parser cannot go on with the connection). Other refusals get
 * nginx's own page; a client that does not finish its headers in time is closed without an
 * answer, as nginx does.
 */
function clientErrorHandler(api: AdminHandler, logs: { error: ErrorLog }) {
  return (err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Duplex): void => {
    if (!socket.writable || err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      socket.destroy()
      return
    }
    const line =
      (err.code === 'HPE_INVALID_METHOD' || err.code === 'HPE_INVALID_URL') && Buffer.isBuffer(err.rawPacket)
        ? UNKNOWN_METHOD_LINE.exec(err.rawPacket.subarray(0, 8300).toString('latin1'))
        : null
    if (line === null) {
      socket.end(nginxPage(err.code === 'HPE_HEADER_OVERFLOW' ? 494 : 400))
      return
    }
    const target = line[2] as string
    const q = target.indexOf('?')
    api
      .handle({
        method: line[1] as string,
        path: q === -1 ? target : target.slice(0, q),
        query: q === -1 ? '' : target.slice(q + 1),
        headers: {},
        body: Buffer.alloc(0),
      })
      .then((r) => {
        const payload = r.body === undefined ? '' : typeof r.body === 'string' || Buffer.isBuffer(r.body) ? r.body : JSON.stringify(r.body)
        let head = `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Unknown'}\r\nDate: ${new Date().toUTCString()}\r\n`
        const named: Record<string, string> = Object.create(null) as Record<string, string>
        for (const [name, value] of Object.entries(r.headers)) named[name.toLowerCase()] = value
        named['content-type'] ??= 'application/json; charset=utf-8'
        named['x-kong-admin-latency'] ??= '0'
        for (const [name, value] of Object.entries(named)) head += `${name}: ${wireValue(value)}\r\n`
        socket.end(
          Buffer.concat([
            Buffer.from(`${head}content-length: ${Buffer.byteLength(payload)}\r\nconnection: close\r\n\r\n`, 'latin1'),
            Buffer.from(payload),
          ]),
        )
      })
      .catch((e: unknown) => {
        logAdminFailure(logs.error, e, `${line[1] as string} ${target}`)
        socket.destroy()
      })
  }
}

/**
 * After a 413, reads and drops what the client still sends (as nginx's lingering close), so that
 * it reads the answer instead of a connection reset; bounded in time, then the socket closes.
 *
 * node closes a `Connection: close` socket as soon as the answer is written (`destroySoon`); more
 * body arriving on a closed socket makes the kernel reset the connection, often before the client
 * has read the 413. So for this one socket, closing means: end our side, keep reading until the
 * client ends its own or the time is up.
 */
function lingerOnClose(req: IncomingMessage): void {
  const socket = req.socket as Socket & { destroySoon?: () => void }
  socket.destroySoon = () => {
    const close = (): void => {
      clearTimeout(idle)
      clearTimeout(total)
      socket.destroy()
    }
    let idle = setTimeout(close, LINGER_IDLE_MS)
    const total = setTimeout(close, LINGER_TOTAL_MS)
    socket.on('data', () => {
      clearTimeout(idle)
      idle = setTimeout(close, LINGER_IDLE_MS)
    })
    socket.once('end', close)
    socket.once('error', close)
    socket.once('close', close)
    socket.end()
    socket.resume()
  }
  // What is still coming of this request is read and dropped by node's parser.
  req.resume()
}

/**
 * Writes an Admin API 500's cause and stack to the error log: used by this adapter for what
 * escapes the handler, and as the Admin API's `onError` for what the handler turned into a 500.
 */
export function logAdminFailure(log: ErrorLog, err: unknown, request: string): void {
  log.error(`admin API request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, { request })
}

/** Creates (but does not start) an Admin API server around a handler. */
export function createAdminServer(
  api: AdminHandler,
  logs: { access: AccessLog; error: ErrorLog },
  maxBodyBytes = ADMIN_MAX_BODY,
  tls?: ListenerTls,
  plainPort?: number,
  http2 = false,
): Server {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
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
    readBody(req, maxBodyBytes)
      .then(async (body) => {
        if (body === null) {
          lingerOnClose(req)
          send({ status: 413, headers: { 'content-type': 'text/html', connection: 'close' }, body: TOO_LARGE_PAGE })
          return
        }
        const r = await api.handle({
          method: req.method ?? 'GET',
          path: q === -1 ? url : url.slice(0, q),
          query: q === -1 ? '' : url.slice(q + 1),
          // a repeated header as an array of its values, as `ngx.req.get_headers()` gives Kong's Admin API
          headers: requestHeaderValues(req.headers, req.rawHeaders),
          body,
        })
        send(r)
      })
      .catch((err: unknown) => {
        logAdminFailure(logs.error, err, `${req.method ?? ''} ${url}`)
        if (!res.headersSent) send({ status: 500, headers: {}, body: { message: UNEXPECTED.message } })
      })
  }
  // An `ssl` entry of admin_listen / status_listen: the same server over node:https.
  const server: Server =
    tls === undefined
      ? createServer({ requestTimeout: 60_000 }, onRequest)
      : // nginx's client_header_timeout (60s) bounds the wait for a TLS listener's first byte.
        guardTlsListener(createHttpsServer({ requestTimeout: 60_000, ...tlsServerOptions(tls, http2) }, onRequest), {
          log: logs.error,
          plainPort,
          firstByteTimeout: 60_000,
        })
  server.on('clientError', clientErrorHandler(api, logs))
  // `http2` on one listener of the kind: Kong's `http2 on` serves HTTP/2 on all of them.
  if (http2) serveH2(server, compatH2Server(onRequest as unknown as Parameters<typeof compatH2Server>[0]), tls !== undefined, 60_000)
  return server
}
