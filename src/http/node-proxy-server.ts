/**
 * The node:http server adapter for the proxy: turns node's request/response pair (and upgrade
 * sockets) into a {@link Downstream}. The only proxy file that knows about node:http; a TLS
 * listener is the same server over node:https (./tls.ts builds its options).
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { gatewayResponseHeaders, type Proxy } from '../proxy/runloop.js'
import type { BodySource, Downstream, HeaderList, ResponseHeaders } from '../proxy/types.js'
import { negotiateNginxError, nginxErrorMessage, renderError } from '../proxy/error-response.js'
import { wireHeaderList, wireHeaderObject, wireValue } from '../codec/header-values.js'
import { HEADER_TOO_LARGE, LARGE_HEADER_BUFFER_SIZE, originForm, refusedBeforeRunloop } from '../proxy/request-head.js'
import { nextRequestId } from '../proxy/request-id.js'
import { type ListenerTls, tlsServerOptions } from './tls.js'
import { guardTlsListener } from './tls-guard.js'
import { ConnectionFacts } from './connection-facts.js'
import { type BodyLimits, capped, LINGERING_TIMEOUT_MS, refusalAnswer } from './refusals.js'
import { proxyH2Server, serveH2 } from './h2-server.js'
import type { ErrorLog } from '../observability/error-log.js'

/** The node:http server type, for the process code that starts and stops listeners (only src/http/ knows node:http). */
export type { Server as HttpServer } from 'node:http'

export interface ConnectionStats {
  accepted: number
  active: number
}

let connectionSerial = 0
const connectionIds = new WeakMap<Socket, number>()

function connectionId(socket: Socket): number {
  let id = connectionIds.get(socket)
  if (id === undefined) {
    id = ++connectionSerial
    connectionIds.set(socket, id)
  }
  return id
}

function hasBody(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding']
  if (te !== undefined) return true
  const cl = req.headers['content-length']
  return cl !== undefined && cl !== '0'
}

/** The request facts every downstream shares, read once from node's IncomingMessage. */
abstract class RequestFacts extends ConnectionFacts {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly rawHeaders: string[]
  readonly httpVersion: string

  constructor(req: IncomingMessage, scheme: 'http' | 'https') {
    super(req.socket, scheme, connectionId(req.socket))
    this.method = req.method ?? 'GET'
    // An absolute-form target (`GET http://h/p`) is routed by its path, as nginx does; one that
    // is neither form was refused before (checkRequestHead).
    this.url = originForm(req.url ?? '/') ?? '/'
    this.headers = req.headers
    this.rawHeaders = req.rawHeaders
    this.httpVersion = req.httpVersion
  }
}

class NodeDownstream extends RequestFacts implements Downstream {
  readonly #req: IncomingMessage
  readonly #res: ServerResponse
  readonly #answer: BodyRefusal
  readonly body: BodySource | null
  bodyRefused: 408 | 413 | undefined = undefined
  #closed: (() => void) | null = null

  constructor(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https', limits: BodyLimits, answer: BodyRefusal) {
    super(req, scheme)
    this.#req = req
    this.#res = res
    this.#answer = answer
    if (!hasBody(req)) this.body = null
    else {
      watchBody(req, limits.timeout, () => this.#refuseBody(408))
      // A declared Content-Length over the limit was refused before (serve); a chunked body is
      // counted as it arrives.
      this.body =
        limits.maxSize > 0 && req.headers['content-length'] === undefined ? capped(req, limits.maxSize, () => this.#refuseBody(413)) : req
    }
  }

  /**
   * The body broke one of nginx's rules: the client is told (unless a response is already under
   * way, which is cut), the connection closes, and the runloop learns it at once.
   */
  #refuseBody(status: 408 | 413): void {
    if (this.bodyRefused !== undefined) return
    this.bodyRefused = status
    const socket = this.#req.socket
    if (this.#res.headersSent) socket.destroy()
    else this.#answer(socket, status, this.#req.headers)
    this.#closed?.()
  }

  get headersSent(): boolean {
    return this.#res.headersSent
  }

  respond(status: number, headers: ResponseHeaders, body: string | Buffer | null): void {
    const res = this.#res
    if (body !== null) headers['content-length'] = String(Buffer.byteLength(body))
    else if (status !== 204 && status !== 304) headers['content-length'] = '0'
    res.writeHead(status, wireHeaderObject(headers))
    // A string body would be written together with the head in the body's encoding (UTF-8),
    // which re-encodes header bytes 0x80-0xFF: a buffer keeps the head's one byte per character.
    res.end(body === null ? undefined : typeof body === 'string' ? Buffer.from(body) : body)
    // Unread request bodies would otherwise stall the keep-alive connection.
    if (this.body !== null && !this.#req.readableEnded) this.#req.resume()
  }

  writeHead(status: number, headers: ResponseHeaders | HeaderList): void {
    // A list comes sendable (see Downstream.writeHead): the proxied response's own list is
    // checked only when plugins may have changed it.
    this.#res.writeHead(status, Array.isArray(headers) ? headers : wireHeaderObject(headers))
  }

  write(chunk: Uint8Array): boolean {
    return this.#res.write(chunk)
  }

  end(lastChunk?: Uint8Array | null): void {
    if (lastChunk === undefined || lastChunk === null) this.#res.end()
    else this.#res.end(lastChunk)
  }

  onDrain(cb: () => void): void {
    this.#res.once('drain', cb)
  }

  onClose(cb: () => void): void {
    // 'close' comes once per response: `on` spares the wrapper `once` builds per request.
    this.#res.on('close', cb)
    this.#closed = cb
  }

  destroy(): void {
    this.#res.destroy()
  }
}

/**
 * A request that asked to switch protocols: answered on the raw socket, either by the switch
 * (101, then bytes both ways) or by an ordinary response that closes the connection (the
 * upstream refused the upgrade, the gateway answered an error, or the upgrade was not a
 * WebSocket one and went upstream as a plain request).
 */
class UpgradeDownstream extends RequestFacts implements Downstream {
  readonly #socket: Duplex
  readonly #head: Buffer
  readonly body: BodySource | null = null
  headersSent = false

  constructor(req: IncomingMessage, socket: Duplex, head: Buffer, scheme: 'http' | 'https') {
    super(req, scheme)
    this.#socket = socket
    this.#head = head
  }

  /** The status line and header block, as bytes (one per character: see header-values.ts). */
  #head_(status: number, headers: ResponseHeaders | HeaderList, reason: string): Buffer {
    let text = `HTTP/1.1 ${status} ${reason}\r\n`
    if (Array.isArray(headers)) {
      const list = wireHeaderList(headers)
      for (let i = 0; i < list.length; i += 2) text += `${list[i]}: ${list[i + 1]}\r\n`
      return Buffer.from(text + '\r\n', 'latin1')
    }
    for (const [name, value] of Object.entries(wireHeaderObject(headers))) {
      if (Array.isArray(value)) for (const v of value) text += `${name}: ${v}\r\n`
      else text += `${name}: ${value}\r\n`
    }
    return Buffer.from(text + '\r\n', 'latin1')
  }

  respond(status: number, headers: ResponseHeaders, body: string | Buffer | null): void {
    headers['content-length'] = String(body === null ? 0 : Buffer.byteLength(body))
    headers['connection'] = 'close'
    this.headersSent = true
    const head = this.#head_(status, headers, reasonPhrase(status))
    this.#socket.end(body === null ? head : Buffer.concat([head, typeof body === 'string' ? Buffer.from(body) : body]))
  }

  /** Completes the switch: 101 to the client, then bytes flow both ways until either side closes. */
  upgradeTo(status: number, headers: ResponseHeaders, upstream: Duplex): void {
    const client = this.#socket
    this.headersSent = true
    client.write(this.#head_(status, headers, 'Switching Protocols'))
    if (this.#head.length > 0) upstream.write(this.#head)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    upstream.pipe(client)
    client.pipe(upstream)
  }

  /** Streams an ordinary response: no chunked framing, the body ends when the connection closes. */
  writeHead(status: number, headers: ResponseHeaders | HeaderList): void {
    // The caller's list or object stays as it is (plugins may still read it).
    headers = Array.isArray(headers) ? [...headers, 'connection', 'close'] : { ...headers, connection: 'close' }
    this.headersSent = true
    this.#socket.write(this.#head_(status, headers, reasonPhrase(status)))
  }
  write(chunk: Uint8Array): boolean {
    return this.#socket.write(chunk)
  }
  end(lastChunk?: Uint8Array | null): void {
    if (lastChunk === undefined || lastChunk === null) this.#socket.end()
    else this.#socket.end(lastChunk)
  }
  onDrain(cb: () => void): void {
    this.#socket.once('drain', cb)
  }
  onClose(cb: () => void): void {
    this.#socket.once('close', cb)
  }
  destroy(): void {
    this.#socket.destroy()
  }
}

/** Answers a request whose body broke a limit (408, 413) on its socket, and closes it. */
type BodyRefusal = (socket: Duplex, status: 408 | 413, headers: IncomingMessage['headers']) => void

/**
 * nginx's `client_body_timeout`: the request is ended when no body byte arrives for `ms` while
 * the gateway waits for one. Time the gateway itself is not reading (a slow upstream holds the
 * body back, so bytes wait in the request's buffer) is not the client's. nginx finalizes with
 * 408 and closes without sending it; Turnpike sends the 408 (Kong's `Request timeout` body) so
 * that the client learns why, then closes (`onTimeout` does both).
 * Checked a few times per timeout rather than re-armed per chunk: the check reads two counters.
 */
function watchBody(req: IncomingMessage, ms: number, onTimeout: () => void): void {
  const socket = req.socket
  let seen = socket.bytesRead
  let quietSince = performance.now()
  const timer = setInterval(
    () => {
      if (req.complete || req.destroyed) return clearInterval(timer)
      const now = performance.now()
      const read = socket.bytesRead
      if (read !== seen || req.readableLength > 0) {
        seen = read
        quietSince = now
      } else if (now - quietSince >= ms) {
        clearInterval(timer)
        onTimeout()
      }
    },
    Math.min(1000, Math.max(50, ms / 4)),
  )
  timer.unref()
  req.once('close', () => clearInterval(timer))
}

function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown'
}

export interface ProxyServerOptions {
  readonly scheme: 'http' | 'https'
  /** Seconds an idle client keep-alive connection is kept (nginx keepalive_timeout: 60s in Kong). */
  readonly keepAliveTimeout: number
  /** Requests on one HTTP/1.1 connection before it closes (`nginx_http_keepalive_requests`; 0: no limit). */
  readonly keepAliveRequests?: number
  /** Milliseconds to receive a request line and headers (`nginx_http_client_header_timeout`). */
  readonly headerTimeout: number
  /** Milliseconds allowed between two reads of a request body (`nginx_http_client_body_timeout`). */
  readonly bodyTimeout: number
  /** Present on a TLS listener (`ssl` in proxy_listen): served over node:https, scheme `https`. */
  readonly tls?: ListenerTls
  /** A TLS listener logs plain HTTP sent to it and failed client handshakes here (nginx: `info`). */
  readonly errorLog?: ErrorLog
  /** A plain proxy port, named in the hint when plain HTTP reaches a TLS listener. */
  readonly plainPort?: number | undefined
  /** HTTP/2 served too (./h2-server.ts): by ALPN on a TLS listener, h2c with prior knowledge on a plain one. */
  readonly http2?: boolean
}

/**
 * How large a request head node's parser reads before it gives up. nginx's own limits
 * (`large_client_header_buffers 4 8k`: one line up to 8 KiB, the head up to 32 KiB) are applied
 * to what it read (checkRequestHead), so the parser's cap only has to be above them; the margin
 * lets a too-long request line still be told from a too-large header (414 vs 400).
 */
const MAX_HEAD_BYTES = 80 * 1024

/** How often node checks its connections for `headersTimeout`: a fraction of the timeout, 0.1–1 s. */
function checkingInterval(timeoutMs: number): number {
  return Math.min(1000, Math.max(100, Math.floor(timeoutMs / 4)))
}

/**
 * The status nginx gives a request head node's parser refused: too large (414 while the
 * request line is still being read, else 494), an unknown Transfer-Encoding (501), anything else
 * 400. client_header_timeout: nginx closes without an answer; Turnpike answers 408 (Kong's
 * `Request timeout` body) first, so that the client learns why.
 */
function clientErrorStatus(err: NodeJS.ErrnoException & { rawPacket?: unknown }): number {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    // The parser does not say where it was; the bytes it was last given (one read) tell in the
    // usual cases: they start a request whose first line does not end within a large buffer, or
    // their first line ends the way a request line does (" HTTP/1.1"): the request line overflowed.
    const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : null
    if (raw === null) return HEADER_TOO_LARGE
    const eol = raw.indexOf(0x0a)
    if (/^[A-Z_-]+ /.test(raw.subarray(0, 32).toString('latin1')) && (eol === -1 || eol > LARGE_HEADER_BUFFER_SIZE)) return 414
    if (eol !== -1 && / HTTP\/\d\.\d\r?$/.test(raw.subarray(Math.max(0, eol - 16), eol).toString('latin1'))) return 414
    return HEADER_TOO_LARGE
  }
  // llhttp: a Transfer-Encoding that does not end in chunked (nginx: unknown coding, 501); one
  // next to Content-Length is a 400 for both.
  if (err.code === 'HPE_INVALID_TRANSFER_ENCODING' && !/content-length/i.test(String((err as { reason?: unknown }).reason ?? err.message)))
    return 501
  return 400
}

/** Writes nginx's answer for a head the parser refused, with Kong's body, and closes. */
function answerClientError(proxy: Proxy, socket: Duplex, status: number, headers: IncomingMessage['headers'] | undefined): void {
  const a = refusalAnswer(proxy, status, headers)
  let head = `HTTP/1.1 ${a.status} ${reasonPhrase(a.status)}\r\ndate: ${new Date().toUTCString()}\r\n`
  for (const [name, value] of Object.entries(a.headers)) head += `${name}: ${wireValue(String(value))}\r\n`
  head += `content-length: ${Buffer.byteLength(a.body)}\r\nconnection: close\r\n\r\n`
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(a.body)]))
  // A client that keeps its side open (a slow sender) is cut after nginx's lingering_timeout.
  const linger = setTimeout(() => socket.destroy(), LINGERING_TIMEOUT_MS)
  linger.unref()
  socket.once('close', () => clearTimeout(linger))
}

/** Connections whose last answer refused a request: whatever the client pipelined behind it is not served. */
const refusedOn = new WeakSet<object>()

/** Hands a request to the proxy, or has it refused as nginx would (checkRequestHead). */
function serve(proxy: Proxy, req: IncomingMessage, d: Downstream): void {
  // node parses requests pipelined behind one that closes the connection; nginx never reads them.
  if (refusedOn.has(req.socket)) return
  const refused = refusedBeforeRunloop(
    { method: d.method, target: req.url ?? '', httpVersion: d.httpVersion, rawHeaders: d.rawHeaders },
    req.headers['content-length'],
    proxy.settings.clientMaxBodySize,
  )
  if (refused === null) return proxy.handle(d)
  refusedOn.add(req.socket)
  proxy.reject(d, refused)
}

/** Creates (but does not start) the proxy's HTTP server. */
export function createProxyServer(proxy: Proxy, opts: ProxyServerOptions, stats: ConnectionStats): Server {
  const limits: BodyLimits = { timeout: opts.bodyTimeout, maxSize: proxy.settings.clientMaxBodySize }
  const refuseBody: BodyRefusal = (socket, status, headers) => answerClientError(proxy, socket, status, headers)
  const options = {
    keepAliveTimeout: opts.keepAliveTimeout * 1000,
    // Long uploads and slow upstreams are bounded by client_body_timeout and the service
    // timeouts, not by node's whole-request timer.
    requestTimeout: 0,
    headersTimeout: opts.headerTimeout,
    connectionsCheckingInterval: checkingInterval(opts.headerTimeout),
    maxHeaderSize: MAX_HEAD_BYTES,
    // A missing Host gets nginx's answer with Kong's body (checkRequestHead), not node's bare 400.
    requireHostHeader: false,
  }
  const onRequest = (req: IncomingMessage, res: ServerResponse): void =>
    serve(proxy, req, new NodeDownstream(req, res, opts.scheme, limits, refuseBody))
  // nginx bounds the TLS handshake by client_header_timeout too.
  let server: Server
  if (opts.tls === undefined) server = createServer(options, onRequest)
  else {
    const https = createHttpsServer(
      { ...options, ...tlsServerOptions(opts.tls, opts.http2), handshakeTimeout: opts.headerTimeout },
      onRequest,
    )
    opts.tls.sessionCache?.attach(https)
    server = guardTlsListener(https, { log: opts.errorLog, plainPort: opts.plainPort, firstByteTimeout: opts.headerTimeout })
  }
  // nginx's keepalive_requests: the last response on a connection says `Connection: close` (a
  // server property in node, not a createServer option)
  server.maxRequestsPerSocket = opts.keepAliveRequests ?? 0
  if (opts.http2 === true) {
    const h2 = proxyH2Server(proxy, { scheme: opts.scheme, keepAliveTimeout: opts.keepAliveTimeout, bodyTimeout: opts.bodyTimeout })
    serveH2(server, h2, opts.tls !== undefined, opts.headerTimeout)
  }
  server.on('connection', (socket: Socket) => {
    stats.accepted++
    stats.active++
    socket.once('close', () => stats.active--)
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    serve(proxy, req, new UpgradeDownstream(req, socket, head, opts.scheme))
  })
  // nginx 1.25 does not parse CONNECT's authority-form target (400); node would drop the socket.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => answerClientError(proxy, socket, 400, req.headers))
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status = clientErrorStatus(err)
    // A response already under way (the body broke mid-request) cannot be replaced: cut it.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
    if (!socket.writable || (inFlight !== undefined && inFlight !== null && inFlight.headersSent)) {
      socket.destroy()
      return
    }
    answerClientError(proxy, socket, status, inFlight?.req?.headers)
  })
  return server
}
