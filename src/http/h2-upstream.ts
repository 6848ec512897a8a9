/**
 * The HTTP/2 upstream client for `grpc` and `grpcs` services (nginx's `grpc_pass`): one pooled
 * node:http2 session per address and connection settings, h2c with prior knowledge for `grpc`,
 * h2 over TLS (ALPN) for `grpcs` with the service's upstream TLS settings (the same options as
 * the HTTPS pools of ./undici-upstream.ts). Every request is a stream on that session; the
 * response's trailers (grpc-status, grpc-message) are passed on at the end.
 *
 * Timeouts as for HTTP: `connect_timeout` bounds the TCP (+TLS) connect, `read_timeout` each wait
 * for the response header and between body chunks, `write_timeout` each write of a streamed
 * request body. Failures are reported with undici's error classes, so that the runloop
 * classifies, logs and retries them as it does HTTP/1.1 ones (src/proxy/upstream-failure.ts).
 */
import {
  connect as h2connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2'
import { connect as netConnect } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { errors } from 'undici'
import type { HeaderList, UpstreamClient, UpstreamControl, UpstreamRequest, UpstreamSink, UpstreamTarget } from '../proxy/types.js'
import { upstreamTlsOptions, watchWrites, WriteTimeoutError } from './undici-upstream.js'
import { addHeaderList, headerBlock } from './h2-headers.js'

export interface H2UpstreamOptions {
  /** Idle sessions are closed after this many seconds (`upstream_keepalive_idle_timeout`). */
  readonly keepaliveIdleTimeout: number
}

/** A pooled session and what is known of it. */
interface Session {
  readonly session: ClientHttp2Session
  /** The first error the session met (connect failures reach every waiting stream). */
  error: Error | null
  /** Streams that received a response on it: a failure after that is on a reused connection. */
  answered: number
}

/** node wraps a session's failure (connect refused …) in ERR_HTTP2_STREAM_CANCEL for its pending streams. */
function causeOf(err: Error): Error {
  const cause = (err as { code?: string; cause?: unknown }).cause
  return (err as { code?: string }).code === 'ERR_HTTP2_STREAM_CANCEL' && cause instanceof Error ? cause : err
}

/** Turns a node:http2 header object into the flat list the runloop forwards (pseudo-headers left out). */
function headerList(h: IncomingHttpHeaders): HeaderList {
  const out: HeaderList = []
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith(':') || value === undefined) continue
    if (Array.isArray(value)) for (const v of value) out.push(name, v)
    else out.push(name, String(value))
  }
  return out
}

/** The request's header list as an HTTP/2 header block. */
function requestHeaders(t: UpstreamTarget, request: UpstreamRequest): OutgoingHttpHeaders {
  const h = request.headers
  let authority = ''
  const list: string[] = []
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = (h[i] as string).toLowerCase()
    const value = h[i + 1] as string
    if (name === 'host') {
      authority = value // becomes `:authority`
      continue
    }
    // `te` may only say `trailers` in HTTP/2 (gRPC clients always send it).
    if (name !== 'te' || value.trim().toLowerCase() === 'trailers') list.push(name, value)
  }
  const out = addHeaderList(headerBlock(), list)
  out[':method'] = request.method
  out[':path'] = request.path
  out[':scheme'] = t.scheme === 'grpcs' ? 'https' : 'http'
  out[':authority'] = authority !== '' ? authority : `${t.hostname}:${t.port}`
  return out
}

/** One request on a session: adapts the stream's events to an {@link UpstreamSink}. */
class H2Attempt implements UpstreamControl {
  readonly #sink: UpstreamSink
  readonly #entry: Session
  readonly #readTimeout: number
  #stream: ClientHttp2Stream | null = null
  #readTimer: NodeJS.Timeout | null = null
  #sent = false
  #headers = false
  #done = false
  #trailers: HeaderList | null = null
  #paused = false

  constructor(sink: UpstreamSink, entry: Session, readTimeout: number) {
    this.#sink = sink
    this.#entry = entry
    this.#readTimeout = readTimeout
  }

  start(t: UpstreamTarget, request: UpstreamRequest): void {
    let stream: ClientHttp2Stream
    try {
      stream = this.#entry.session.request(requestHeaders(t, request), { endStream: request.body === null })
    } catch (err) {
      return this.#fail(this.#entry.error ?? (err as Error))
    }
    this.#stream = stream
    // On a connected session the stream opens within request() ('ready' has been emitted then).
    const whenOpen = (fn: () => void): void => void (stream.pending ? stream.once('ready', fn) : queueMicrotask(fn))
    whenOpen(() => {
      this.#sent = true
      this.#sink.onSent()
    })
    stream.on('response', (headers: IncomingHttpHeaders) => this.#onResponse(headers))
    stream.on('trailers', (trailers: IncomingHttpHeaders) => {
      this.#trailers = headerList(trailers)
    })
    stream.on('data', (chunk: Buffer) => {
      this.#armRead(false)
      this.#sink.onData(chunk)
    })
    stream.once('end', () => this.#onEnd())
    stream.on('error', (err: Error) => this.#fail(this.#entry.error ?? causeOf(err)))
    stream.once('close', () => {
      if (this.#done) return
      // Closed without an end: the upstream reset the stream or the session went away.
      const code = stream.rstCode
      this.#fail(this.#entry.error ?? new errors.SocketError(`upstream closed the HTTP/2 stream (code ${code ?? 'none'})`))
    })
    // nginx's read timeout starts once the request is written.
    stream.once('finish', () => this.#armRead(true))
    const body = request.body
    if (body === null) return
    if (Buffer.isBuffer(body)) {
      stream.end(body)
      return
    }
    // A streamed body is read only once the stream is open on a connected session: an attempt
    // that fails to connect leaves it unread for the next one.
    whenOpen(() => {
      if (this.#done) return
      const watched = t.writeTimeout > 0 ? watchWrites(body, t.writeTimeout, () => this.#fail(new WriteTimeoutError(t.writeTimeout))) : body
      void this.#pump(stream, watched)
    })
  }

  /** Streams the client's body with backpressure: the next chunk is read once the stream drained. */
  async #pump(stream: ClientHttp2Stream, body: AsyncIterable<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of body) {
        if (this.#done) return
        if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve).once('close', resolve))
      }
      if (!this.#done) stream.end()
    } catch (err) {
      this.#fail(err as Error)
    }
  }

  /** read_timeout: the wait for the response header, then for each body chunk. */
  #armRead(first: boolean): void {
    if (this.#readTimeout <= 0 || this.#done) return
    if (this.#readTimer !== null) {
      this.#readTimer.refresh()
      return
    }
    if (!first && !this.#headers) return
    this.#readTimer = setTimeout(() => {
      // While the client is slow to take the body (paused), the upstream is not waited for: the
      // wait starts again on resume(), as in the HTTP/1.1 client.
      if (this.#paused) return
      this.#fail(this.#headers ? new errors.BodyTimeoutError() : new errors.HeadersTimeoutError())
    }, this.#readTimeout)
  }

  #onResponse(headers: IncomingHttpHeaders): void {
    if (this.#done) return
    const status = Number(headers[':status'] ?? 0)
    this.#headers = true
    this.#entry.answered++
    this.#armRead(false)
    this.#sink.onHeaders(status, headerList(headers), this)
  }

  #onEnd(): void {
    if (this.#done) return
    this.#stop()
    this.#sink.onEnd(this.#trailers)
  }

  #stop(): void {
    this.#done = true
    if (this.#readTimer !== null) clearTimeout(this.#readTimer)
  }

  #fail(error: Error): void {
    if (this.#done) return
    this.#stop()
    const stream = this.#stream
    if (stream !== null && !stream.closed) stream.close(constants.NGHTTP2_CANCEL)
    this.#sink.onError(error, { reused: this.#entry.answered > 0 && !this.#headers, sent: this.#sent, headersReceived: this.#headers })
  }

  pause(): void {
    this.#paused = true
    this.#stream?.pause()
  }
  resume(): void {
    this.#paused = false
    this.#armRead(false)
    this.#stream?.resume()
  }
  abort(): void {
    this.#fail(new Error('downstream closed'))
  }
}

/**
 * Sessions by address and connection settings. A session is dropped from the pool when it closes,
 * fails or is told GOAWAY; requests already on it finish there.
 */
export class H2Upstream implements UpstreamClient {
  readonly #sessions = new Map<string, Session>()
  readonly #options: H2UpstreamOptions

  constructor(options: H2UpstreamOptions) {
    this.#options = options
  }

  /** Sessions currently pooled. */
  get sessionCount(): number {
    return this.#sessions.size
  }

  #session(t: UpstreamTarget): Session {
    const tls = t.scheme === 'grpcs'
    const key = `${t.scheme}|${t.address}|${t.port}|${t.connectTimeout}|${tls ? `${t.servername}|${t.tls.id}` : ''}`
    const known = this.#sessions.get(key)
    if (known !== undefined && !known.session.closed && !known.session.destroyed) return known
    const host = t.address.includes(':') ? `[${t.address}]` : t.address
    const session = h2connect(`${tls ? 'https' : 'http'}://${host}:${t.port}`, {
      createConnection: () =>
        tls
          ? tlsConnect({
              ...(upstreamTlsOptions(t) as ConnectionOptions),
              host: t.address,
              port: t.port,
              ALPNProtocols: ['h2'],
            })
          : netConnect({ host: t.address, port: t.port }),
    })
    const entry: Session = { session, error: null, answered: 0 }
    this.#sessions.set(key, entry)
    const forget = (): void => {
      if (this.#sessions.get(key) === entry) this.#sessions.delete(key)
    }
    const timer =
      t.connectTimeout > 0
        ? setTimeout(() => {
            const err = new errors.ConnectTimeoutError(
              `Connect Timeout Error (attempted address: ${host}:${t.port}, timeout: ${t.connectTimeout}ms)`,
            )
            entry.error ??= err
            session.destroy(err)
          }, t.connectTimeout)
        : null
    session.once('connect', () => {
      if (timer !== null) clearTimeout(timer)
    })
    session.on('error', (err: Error) => {
      entry.error ??= err
      forget()
    })
    session.once('goaway', forget)
    session.once('close', () => {
      if (timer !== null) clearTimeout(timer)
      forget()
    })
    const idle = this.#options.keepaliveIdleTimeout * 1000
    if (idle > 0) session.setTimeout(idle, () => session.close())
    return entry
  }

  send(target: UpstreamTarget, request: UpstreamRequest, sink: UpstreamSink): void {
    const entry = this.#session(target)
    new H2Attempt(sink, entry, target.readTimeout).start(target, request)
  }

  async close(): Promise<void> {
    const sessions = [...this.#sessions.values()]
    this.#sessions.clear()
    await Promise.all(
      sessions.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.session.closed || s.session.destroyed) return resolve()
            s.session.close(() => resolve())
          }),
      ),
    )
  }
}

/**
 * The gateway's upstream client: `grpc`/`grpcs` targets go to the HTTP/2 client, every other
 * one to the HTTP/1.1 pools.
 */
export class SchemeUpstream implements UpstreamClient {
  readonly #http: UpstreamClient
  readonly #h2: UpstreamClient

  constructor(http: UpstreamClient, h2: UpstreamClient) {
    this.#http = http
    this.#h2 = h2
  }

  send(target: UpstreamTarget, request: UpstreamRequest, sink: UpstreamSink): void {
    if (target.scheme === 'grpc' || target.scheme === 'grpcs') this.#h2.send(target, request, sink)
    else this.#http.send(target, request, sink)
  }

  async close(): Promise<void> {
    await Promise.all([this.#http.close(), this.#h2.close()])
  }
}
