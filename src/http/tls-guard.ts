// What a TLS listener does before TLS: a client that speaks plain HTTP to it gets nginx's answer
// (`400 The plain HTTP request was sent to HTTPS port`, then the connection closes) instead of a
// silent close, and a failed client handshake gets nginx's `info` line in the error log.
import type { Server as TlsServer, TLSSocket } from 'node:tls'
import type { Socket } from 'node:net'
import type { ErrorLog } from '../observability/error-log.js'
import { nginxPage, PLAIN_HTTP_TO_TLS } from './nginx-pages.js'

/** The most of a plain request's head read before answering (nginx: large_client_header_buffers 4 8k). */
const MAX_PLAIN_HEAD = 32 * 1024
/** nginx's lingering_timeout: how long a client that keeps its side open is waited for once answered. */
const LINGER_MS = 5_000

export interface TlsGuardOptions {
  /** Where the two lines go; without it, nothing is logged. */
  readonly log?: ErrorLog | undefined
  /** A plain (non-`ssl`) port of the same kind, named in the hint of the plain-HTTP line. */
  readonly plainPort?: number | undefined
  /** Milliseconds a connection may stay silent before its first byte (client_header_timeout). */
  readonly firstByteTimeout: number
}

/**
 * nginx's test (ngx_http_ssl_handshake): a first byte of 0x16 (a TLS record) or with the top bit set
 * (an SSLv2 hello) starts a handshake; anything else is read as plain HTTP.
 */
export function startsTls(first: number): boolean {
  return first === 0x16 || (first & 0x80) !== 0
}

/** nginx's words for the handshake failures that are not OpenSSL's, by node's error code. */
const NGINX_REASONS: Readonly<Record<string, string>> = {
  ECONNRESET: 'peer closed connection in SSL handshake',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'client timed out (110: Connection timed out)',
}

function code(err: Error): string {
  const c = (err as NodeJS.ErrnoException).code
  return typeof c === 'string' && Object.hasOwn(NGINX_REASONS, c) ? c : ''
}

/** `host:port` the server listens on, as nginx names it in `server:` for a handshake failure. */
function listenName(server: TlsServer): string {
  const a = server.address()
  if (a === null || typeof a === 'string') return String(a)
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
}

/** The request line of a plain head, if the head holds one (for the log line only). */
function requestLine(head: Buffer): string | undefined {
  const end = head.indexOf('\r\n')
  const line = head.subarray(0, end === -1 ? Math.min(head.length, 256) : Math.min(end, 2048)).toString('latin1')
  return /^[A-Z]+ \S+ HTTP\/\d\.\d$/.test(line) ? line : undefined
}

function hostOf(head: Buffer): string | undefined {
  const m = /\r\nhost:[ \t]*([^\r\n]{1,255})/i.exec(head.toString('latin1'))
  return m?.[1]?.trim()
}

/** Answers a plain request once its head is in (nginx reads it before it refuses), then closes. */
function refusePlain(socket: Socket, first: Buffer, opts: TlsGuardOptions): void {
  let head = first
  const client = socket.remoteAddress ?? '-'
  const answer = (): void => {
    socket.off('data', onData)
    socket.end(nginxPage(PLAIN_HTTP_TO_TLS), 'latin1')
    const linger = setTimeout(() => socket.destroy(), LINGER_MS)
    linger.unref()
    socket.once('close', () => clearTimeout(linger))
    // Anything the client still sends is read and dropped.
    socket.resume()
    const log = opts.log
    if (log === undefined || !log.enabled('info')) return
    const hint =
      opts.plainPort === undefined
        ? 'the client spoke plain HTTP to a TLS port: use https://'
        : `the client spoke plain HTTP to a TLS port: use https:// or the plain port ${opts.plainPort}`
    const request = requestLine(head)
    const host = hostOf(head)
    log.info('client sent plain HTTP request to HTTPS port while reading client request headers', {
      client,
      ...(request !== undefined ? { request } : {}),
      ...(host !== undefined ? { host } : {}),
      hint,
    })
  }
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk])
    if (head.includes('\r\n\r\n') || head.length >= MAX_PLAIN_HEAD) answer()
  }
  if (head.includes('\r\n\r\n') || head.length >= MAX_PLAIN_HEAD) return answer()
  socket.on('data', onData)
}

/**
 * Puts the guard in front of a node TLS (or https) server: every accepted connection's first
 * bytes are read before TLS sees them; a handshake goes on to the server's own TLS handling with
 * those bytes, a plain request is refused as nginx refuses it.
 */
export function guardTlsListener<S extends TlsServer>(server: S, opts: TlsGuardOptions): S {
  // The server's own listeners (node's TLS wrapping first) run once the first byte is known.
  const handlers = server.listeners('connection') as ((socket: Socket) => unknown)[]
  server.removeAllListeners('connection')
  // A client that hung up mid-handshake has no address left on its TLS socket: kept from accept.
  const clients = new WeakMap<object, string>()
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress
    if (address !== undefined) clients.set(socket, address)
    const timer = setTimeout(() => socket.destroy(), opts.firstByteTimeout)
    timer.unref()
    const onError = (): void => {
      socket.destroy()
    }
    socket.on('error', onError)
    socket.once('close', () => clearTimeout(timer))
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer)
      socket.pause()
      if (!startsTls(chunk[0] as number)) return refusePlain(socket, chunk, opts)
      socket.off('error', onError)
      // node's TLS socket takes what the plain socket already buffered as the first bytes received.
      socket.unshift(chunk)
      for (const h of handlers) h.call(server, socket)
    })
  })
  const log = opts.log
  if (log === undefined) return server
  server.on('tlsClientError', (err: Error, tls: TLSSocket) => {
    if (!log.enabled('info')) return
    const parent = (tls as TLSSocket & { _parent?: object | null })._parent
    const client = tls.remoteAddress ?? (parent !== undefined && parent !== null ? clients.get(parent) : undefined) ?? '-'
    // OpenSSL's text, without the thread id before it nor the source file after it.
    const ssl = /error:[0-9A-F]+:[^:\n]*:[^:\n]*:[^:\n]*/.exec(err.message)?.[0]
    const reason = ssl !== undefined ? `SSL_do_handshake() failed (SSL: ${ssl})` : (NGINX_REASONS[code(err)] ?? err.message.trim())
    // nginx names the listening address here: no server block was chosen yet.
    log.info(`${reason} while SSL handshaking, client: ${client}, server: ${listenName(server)}`)
  })
  return server
}
