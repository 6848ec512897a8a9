/**
 * The node:http server adapter for the proxy: turns node's request/response pair (and upgrade
 * sockets) into a {@link Downstream}. The only proxy file that knows about node:http.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Proxy } from '../proxy/runloop.js'
import type { BodySource, Downstream, HeaderList, ResponseHeaders } from '../proxy/types.js'
import { renderError } from '../proxy/error-response.js'
import { nextRequestId } from '../proxy/request-id.js'

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
abstract class RequestFacts {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly rawHeaders: string[]
  readonly httpVersion: string
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localPort: number
  readonly scheme: 'http' | 'https'
  readonly connectionId: number

  constructor(req: IncomingMessage, scheme: 'http' | 'https') {
    const socket = req.socket
    this.method = req.method ?? 'GET'
    this.url = req.url ?? '/'
    this.headers = req.headers
    this.rawHeaders = req.rawHeaders
    this.httpVersion = req.httpVersion
    this.remoteAddress = socket.remoteAddress ?? ''
    this.remotePort = socket.remotePort ?? 0
    this.localPort = socket.localPort ?? 0
    this.scheme = scheme
    this.connectionId = connectionId(socket)
  }
}

class NodeDownstream extends RequestFacts implements Downstream {
  readonly #req: IncomingMessage
  readonly #res: ServerResponse
  readonly body: BodySource | null

  constructor(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https') {
    super(req, scheme)
    this.#req = req
    this.#res = res
    this.body = hasBody(req) ? req : null
  }

  get headersSent(): boolean {
    return this.#res.headersSent
  }

  respond(status: number, headers: ResponseHeaders, body: string | Buffer | null): void {
    const res = this.#res
    if (body !== null) headers['content-length'] = String(Buffer.byteLength(body))
    else if (status !== 204 && status !== 304) headers['content-length'] = '0'
    res.writeHead(status, headers)
    res.end(body ?? undefined)
    // Unread request bodies would otherwise stall the keep-alive connection.
    if (this.body !== null && !this.#req.readableEnded) this.#req.resume()
  }

  writeHead(status: number, headers: ResponseHeaders | HeaderList): void {
    this.#res.writeHead(status, headers)
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

  #head_(status: number, headers: ResponseHeaders | HeaderList, reason: string): string {
    let text = `HTTP/1.1 ${status} ${reason}\r\n`
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`
      return text + '\r\n'
    }
    for (const [name, value] of Object.entries(headers)) {
      if (Array.isArray(value)) for (const v of value) text += `${name}: ${v}\r\n`
      else text += `${name}: ${value}\r\n`
    }
    return text + '\r\n'
  }

  respond(status: number, headers: ResponseHeaders, body: string | Buffer | null): void {
    headers['content-length'] = String(body === null ? 0 : Buffer.byteLength(body))
    headers['connection'] = 'close'
    this.headersSent = true
    this.#socket.end(this.#head_(status, headers, reasonPhrase(status)) + (body === null ? '' : body.toString()))
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

function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown'
}

export interface ProxyServerOptions {
  readonly scheme: 'http' | 'https'
  /** Seconds an idle client keep-alive connection is kept (nginx keepalive_timeout: 60s in Kong). */
  readonly keepAliveTimeout: number
  readonly maxHeaderSize: number
}

/** Creates (but does not start) the proxy's HTTP server. */
export function createProxyServer(proxy: Proxy, opts: ProxyServerOptions, stats: ConnectionStats): Server {
  const server = createServer(
    {
      keepAliveTimeout: opts.keepAliveTimeout * 1000,
      // Long uploads and slow upstreams are bounded by the service timeouts, not by node's defaults.
      requestTimeout: 0,
      headersTimeout: 60_000,
      maxHeaderSize: opts.maxHeaderSize,
    },
    (req, res) => proxy.handle(new NodeDownstream(req, res, opts.scheme)),
  )
  server.on('connection', (socket: Socket) => {
    stats.accepted++
    stats.active++
    socket.once('close', () => stats.active--)
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    proxy.handle(new UpgradeDownstream(req, socket, head, opts.scheme))
  })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return
    // nginx answers oversized headers with 494, which Kong rewrites to 400.
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
    const r = renderError('text/plain', tooLarge ? 'Request header or cookie too large' : 'Bad request', nextRequestId())
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: ${r.contentType}\r\ncontent-length: ${Buffer.byteLength(r.body)}\r\nconnection: close\r\n\r\n${r.body}`)
  })
  return server
}
