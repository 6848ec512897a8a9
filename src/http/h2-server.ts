/**
 * The node:http2 server adapter for the proxy: HTTP/2 streams turned into a {@link Downstream},
 * so an h2 request runs through the same runloop as an HTTP/1.1 one. Kong 3.9 (nginx 1.25.3)
 * puts `http2 on` in the proxy `server {}` block as soon as one proxy listener has the `http2`
 * flag, so HTTP/2 then applies to every listener of the block: a TLS listener offers `h2` and
 * `http/1.1` by ALPN, a plain one reads the first bytes of a connection and serves HTTP/2 with
 * prior knowledge (h2c) when they are the HTTP/2 preface, HTTP/1.1 otherwise (nginx's
 * ngx_http_wait_request_handler does the same test). The HTTP/1.1 side stays the node:http(s)
 * server of ./node-proxy-server.ts; only connections that speak h2 are handed to node:http2.
 */
import {
  constants,
  createServer as createH2Server,
  type Http2Server as H2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2'
import type { Server } from 'node:net'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { ConnectionFacts } from './connection-facts.js'
import { addHeaderList, headerBlock, type H2HeaderBlock } from './h2-headers.js'
import { capped, idleTimed, LINGERING_TIMEOUT_MS, refusalAnswer } from './refusals.js'
import type { Proxy } from '../proxy/runloop.js'
import type { BodySource, Downstream, HeaderList, RequestHeaders, ResponseHeaders } from '../proxy/types.js'
import { wireHeaderList, wireHeaderObject } from '../codec/header-values.js'

/** The client connection preface of HTTP/2 (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

/** nginx's `http2_max_concurrent_streams` default. */
const MAX_CONCURRENT_STREAMS = 128

let sessionSerial = 0
const sessionIds = new WeakMap<Http2Session, number>()

/** Connection serial numbers of h2 sessions (the log's `*<n>`), far from the HTTP/1.1 ones. */
function sessionId(session: Http2Session): number {
  let id = sessionIds.get(session)
  if (id === undefined) {
    id = 1_000_000_000 + ++sessionSerial
    sessionIds.set(session, id)
  }
  return id
}

/** A response's header block: `:status`, then the headers (an object is flattened to a list first). */
function h2Headers(status: number, headers: ResponseHeaders | HeaderList): H2HeaderBlock {
  const block = headerBlock()
  block[':status'] = status
  if (Array.isArray(headers)) return addHeaderList(block, headers)
  const list: string[] = []
  for (const [name, value] of Object.entries(wireHeaderObject(headers))) {
    if (Array.isArray(value)) for (const v of value) list.push(name, v)
    else list.push(name, value)
  }
  return addHeaderList(block, list)
}

/** One HTTP/2 stream as the runloop sees a client exchange. */
class H2Downstream extends ConnectionFacts implements Downstream {
  readonly method: string
  readonly url: string
  readonly headers: RequestHeaders
  readonly rawHeaders: string[]
  readonly httpVersion = '2.0'
  readonly body: BodySource | null
  bodyRefused: 408 | 413 | undefined = undefined
  readonly #stream: ServerHttp2Stream
  readonly #proxy: Proxy
  /** The runloop's close callback: told at once when the body is refused. */
  #closed: (() => void) | null = null
  /** Trailers to send after the last DATA frame (a proxied gRPC response's status). */
  #trailers: HeaderList | null = null
  /** The HEADERS frame writeHead prepared, until it is sent. */
  #head: H2HeaderBlock | null = null
  #headStatus = 0

  constructor(stream: ServerHttp2Stream, h: IncomingHttpHeaders, flags: number, raw: readonly string[], proxy: Proxy, opts: Http2Options) {
    const session = stream.session as Http2Session
    super(session.socket as Socket, opts.scheme, sessionId(session))
    this.#stream = stream
    this.#proxy = proxy
    this.method = String(h[':method'] ?? 'GET')
    this.url = String(h[':path'] ?? '')
    // The request's headers without pseudo-headers; nginx takes `:authority` as the Host when
    // no Host header came, and joins the cookie fields (RFC 9113 §8.2.3) into one.
    const headers: Record<string, string | string[] | undefined> = Object.create(null) as Record<string, string | string[] | undefined>
    const list: string[] = []
    const cookies: string[] = []
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase()
      const value = raw[i + 1] as string
      if (name.startsWith(':')) continue
      if (name === 'cookie') {
        cookies.push(value)
        continue
      }
      list.push(name, value)
      const had = headers[name]
      headers[name] = had === undefined ? value : `${String(had)}, ${value}`
    }
    if (cookies.length > 0) {
      headers['cookie'] = cookies.join('; ')
      list.push('cookie', headers['cookie'])
    }
    const authority = h[':authority']
    if (headers['host'] === undefined && typeof authority === 'string') {
      headers['host'] = authority
      list.unshift('host', authority)
    }
    this.headers = headers
    this.rawHeaders = list
    this.body = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0 ? null : this.#limited(stream, opts)
  }

  /**
   * The request body under nginx's limits: client_body_timeout while the gateway waits for a
   * chunk, client_max_body_size on a body without Content-Length (a declared one over it was
   * refused before).
   */
  #limited(stream: ServerHttp2Stream, opts: Http2Options): BodySource {
    let body: AsyncIterable<Uint8Array> = stream
    const max = this.#proxy.settings.clientMaxBodySize
    if (max > 0 && this.headers['content-length'] === undefined) body = capped(body, max, () => this.#refuseBody(413))
    return opts.bodyTimeout > 0 ? idleTimed(body, opts.bodyTimeout, () => this.#refuseBody(408)) : body
  }

  /**
   * The body broke one of nginx's limits: the client gets nginx's answer (unless a response is
   * under way: the stream is reset), and the runloop learns it at once (it logs it and ends).
   */
  #refuseBody(status: 408 | 413): void {
    if (this.bodyRefused !== undefined) return
    this.bodyRefused = status
    const stream = this.#stream
    if (this.headersSent) stream.close(constants.NGHTTP2_INTERNAL_ERROR)
    else {
      const a = refusalAnswer(this.#proxy, status, this.headers)
      a.headers['content-length'] = String(Buffer.byteLength(a.body))
      if (this.#respond(h2Headers(a.status, a.headers), 'body')) stream.end(a.body)
      // What the client still sends is read and dropped, for nginx's lingering_timeout at most.
      stream.resume()
      const linger = setTimeout(() => stream.close(constants.NGHTTP2_NO_ERROR), LINGERING_TIMEOUT_MS)
      linger.unref()
      stream.once('close', () => clearTimeout(linger))
    }
    this.#closed?.()
  }

  get headersSent(): boolean {
    return this.#head !== null || this.#stream.headersSent
  }

  /** Whether a response to this request carries no body (HEAD, 204, 304). */
  #bodiless(status: number): boolean {
    return this.method === 'HEAD' || status === 204 || status === 304
  }

  respond(status: number, headers: ResponseHeaders, body: string | Buffer | null): void {
    const stream = this.#stream
    if (stream.destroyed || stream.closed) return
    if (body !== null) headers['content-length'] = String(Buffer.byteLength(body))
    else if (status !== 204 && status !== 304) headers['content-length'] = '0'
    const empty = body === null || Buffer.byteLength(body) === 0 || this.#bodiless(status)
    // A body-less answer ends with its HEADERS frame: a gRPC client reads a gateway error's
    // grpc-status there (a "trailers-only" response).
    if (!this.#respond(h2Headers(status, headers), empty ? 'end' : 'body')) return
    if (!empty) stream.end(typeof body === 'string' ? Buffer.from(body) : body)
    this.#drainBody()
  }

  /**
   * Sends the HEADERS frame: `end` ends the response with it, `body` a body follows, `trailers`
   * a body and then trailers follow. A block node refuses (a value it cannot send) resets the
   * stream instead of failing the process.
   */
  #respond(block: H2HeaderBlock, then: 'end' | 'body' | 'trailers'): boolean {
    try {
      this.#stream.respond(block, then === 'end' ? { endStream: true } : then === 'trailers' ? { waitForTrailers: true } : {})
      return true
    } catch {
      this.#stream.close(constants.NGHTTP2_INTERNAL_ERROR)
      return false
    }
  }

  /** An unread request body is discarded, so the stream's flow-control window keeps moving. */
  #drainBody(): void {
    if (this.body !== null && !this.#stream.readableEnded) this.#stream.resume()
  }

  /**
   * Starts a streamed response. The HEADERS frame leaves at the end of the current tick, so that
   * a response the upstream ended in the same tick (a gRPC "trailers-only" answer: grpc-status in
   * its only HEADERS frame) is passed on in that shape, with its trailers folded in.
   */
  writeHead(status: number, headers: ResponseHeaders | HeaderList): void {
    const stream = this.#stream
    if (stream.destroyed || stream.closed) return
    this.#head = h2Headers(status, Array.isArray(headers) ? wireHeaderList(headers) : headers)
    this.#headStatus = status
    queueMicrotask(() => this.#sendHead(false))
  }

  /** Sends the pending HEADERS frame; `last`: the response ends with it. */
  #sendHead(last: boolean): void {
    const head = this.#head
    if (head === null) return
    this.#head = null
    const stream = this.#stream
    if (stream.destroyed || stream.closed) return
    const bodiless = last || this.#bodiless(this.#headStatus)
    if (bodiless) {
      const t = this.#trailers
      if (t !== null) Object.assign(head, h2Headers(this.#headStatus, t))
      this.#respond(head, 'end')
      return
    }
    if (!this.#respond(head, 'trailers')) return
    stream.once('wantTrailers', () => {
      const t = this.#trailers
      const out = t === null ? {} : h2Headers(0, t)
      delete out[':status']
      try {
        stream.sendTrailers(out)
      } catch {
        // A trailer node cannot send: the stream is reset rather than the process failed.
        stream.close(constants.NGHTTP2_INTERNAL_ERROR)
      }
    })
  }

  write(chunk: Uint8Array): boolean {
    this.#sendHead(false)
    if (this.#stream.writableEnded || this.#stream.destroyed) return true
    return this.#stream.write(chunk)
  }

  end(lastChunk?: Uint8Array | null, trailers?: HeaderList | null): void {
    const stream = this.#stream
    if (trailers !== undefined && trailers !== null && trailers.length > 0) this.#trailers = trailers
    const empty = lastChunk === undefined || lastChunk === null || lastChunk.length === 0
    if (this.#head !== null) {
      this.#sendHead(empty)
      if (empty) return
    }
    if (stream.writableEnded || stream.destroyed) return
    if (empty) stream.end()
    else stream.end(lastChunk)
  }

  onDrain(cb: () => void): void {
    this.#stream.once('drain', cb)
  }

  onClose(cb: () => void): void {
    this.#stream.once('close', cb)
    this.#closed = cb
  }

  destroy(): void {
    this.#stream.close(constants.NGHTTP2_INTERNAL_ERROR)
  }
}

/** What the HTTP/2 side of a proxy listener needs. */
export interface Http2Options {
  readonly scheme: 'http' | 'https'
  /** Seconds an idle HTTP/2 connection is kept (nginx keepalive_timeout). */
  readonly keepAliveTimeout: number
  /** Milliseconds allowed between two chunks of a request body (`nginx_http_client_body_timeout`). */
  readonly bodyTimeout: number
}

/** The node:http2 server that takes over the proxy connections speaking h2. */
export function proxyH2Server(proxy: Proxy, opts: Http2Options): H2Server {
  const server = createH2Server({ settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS } })
  server.on('session', (session: Http2Session) => {
    session.setTimeout(opts.keepAliveTimeout * 1000, () => session.close())
    session.on('error', () => session.destroy())
  })
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, raw: string[]) => {
    stream.on('error', () => stream.destroy())
    const d = new H2Downstream(stream, headers, flags, raw, proxy, opts)
    // A request without a path (CONNECT, a bad `:path`) is refused as nginx does.
    if (!d.url.startsWith('/')) return proxy.reject(d, 400)
    // nginx's client_max_body_size: a declared length over it is refused before any byte is read.
    const max = proxy.settings.clientMaxBodySize
    if (max > 0 && Number(headers['content-length'] ?? 0) > max) return proxy.reject(d, 413)
    proxy.handle(d)
  })
  return server
}

/**
 * The node:http2 server of an Admin API or status listener: node's compatibility request and
 * response (the same handler as over HTTP/1.1).
 */
export function compatH2Server(onRequest: (req: Http2ServerRequest, res: Http2ServerResponse) => void): H2Server {
  const server = createH2Server({ settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS } }, onRequest)
  server.on('session', (session: Http2Session) => session.on('error', () => session.destroy()))
  return server
}

/**
 * Serves HTTP/2 on a TLS listener: `h2` is offered by ALPN (./tls.ts) and the connections that
 * chose it go to `h2`; the others stay with the HTTPS server's own handling.
 */
export function serveH2OverTls(server: Server, h2: H2Server): void {
  const handlers = server.listeners('secureConnection') as ((socket: TLSSocket) => unknown)[]
  server.removeAllListeners('secureConnection')
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') return void h2.emit('connection', socket)
    for (const h of handlers) h.call(server, socket)
  })
}

/**
 * Serves h2c with prior knowledge on a plain listener: the first bytes of a connection decide,
 * as nginx decides: the HTTP/2 preface (or the start of it, until it is complete) goes to `h2`,
 * anything else to the HTTP/1.1 server. `firstBytesTimeout`: milliseconds a connection may stay
 * silent (client_header_timeout).
 */
export function serveH2c(server: Server, h2: H2Server, firstBytesTimeout: number): void {
  const handlers = server.listeners('connection') as ((socket: Socket) => unknown)[]
  server.removeAllListeners('connection')
  server.on('connection', (socket: Socket) => {
    let seen: Buffer = Buffer.alloc(0)
    const timer = setTimeout(() => socket.destroy(), firstBytesTimeout)
    timer.unref()
    const onError = (): void => void socket.destroy()
    socket.on('error', onError)
    const hand = (to: 'h1' | 'h2'): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', onError)
      socket.pause()
      socket.unshift(seen)
      if (to === 'h2') h2.emit('connection', socket)
      else {
        // node's HTTP/1.1 parser would read the socket's handle directly and skip the bytes put
        // back above: it reads them through the stream instead.
        const handle = (socket as Socket & { _handle?: { _consumed?: boolean } | null })._handle
        if (handle !== undefined && handle !== null) handle._consumed = true
        for (const h of handlers) h.call(server, socket)
        socket.resume()
      }
    }
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk])
      const n = Math.min(seen.length, PREFACE.length)
      if (seen.subarray(0, n).compare(PREFACE, 0, n) !== 0) return hand('h1')
      if (n === PREFACE.length) hand('h2')
    }
    socket.once('close', () => clearTimeout(timer))
    socket.on('data', onData)
  })
}

/** Puts HTTP/2 on a listener's server: by ALPN when it is a TLS one, else h2c with prior knowledge. */
export function serveH2(server: Server, h2: H2Server, tls: boolean, firstBytesTimeout: number): void {
  if (tls) serveH2OverTls(server, h2)
  else serveH2c(server, h2, firstBytesTimeout)
}
