/**
 * The upstream client adapter on undici 8: keep-alive pools per target address and TLS
 * settings, per-attempt timeouts, streamed bodies with backpressure, and protocol upgrades.
 *
 * nginx semantics for timeouts: `connect_timeout` bounds the TCP (+TLS) connect; `read_timeout`
 * bounds each wait for data (from the end of the request to the response header, then between
 * body chunks); `write_timeout` bounds the time between two successive writes of a streamed
 * request body. All three are measured here with Node timers (millisecond precision), not with
 * undici's own timeouts: those run on a coarse clock for anything over a second and fired up to
 * ~1 s late (a 100 ms read_timeout answered after 1 s). The errors are undici's own classes, so
 * they are reported as before (src/proxy/upstream-failure.ts).
 */
import type { Duplex, Readable } from 'node:stream'
import type { Socket } from 'node:net'
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls'
import { buildConnector, Client, errors, Pool, type Dispatcher } from 'undici'
import type { HeaderList, UpstreamClient, UpstreamControl, UpstreamRequest, UpstreamSink, UpstreamTarget } from '../proxy/types.js'

export interface UpstreamPoolOptions {
  /** Idle keep-alive connections are closed after this many seconds (`upstream_keepalive_idle_timeout`). */
  readonly keepaliveIdleTimeout: number
  /** A connection is closed after serving this many requests (`upstream_keepalive_max_requests`). */
  readonly keepaliveMaxRequests: number
  /** Largest accepted upstream response header block, in bytes (Kong's nginx template: 160k buffers). */
  readonly maxHeaderSize: number
}

/** The upstream stopped taking the request body for longer than `write_timeout`. */
export class WriteTimeoutError extends Error {
  readonly code = 'TP_WRITE_TIMEOUT'
  constructor(ms: number) {
    super(`no request body bytes accepted by the upstream for ${ms} ms`)
    this.name = 'WriteTimeoutError'
  }
}

/**
 * nginx's `proxy_send_timeout` (Kong's write_timeout) for streamed bodies: undici pulls the next
 * chunk only once the previous one was written (and the socket drained), so a timer armed while a
 * chunk is in undici's hands measures the time between two successive writes. Waiting for the
 * client's next chunk does not count: that is the client's delay, not the upstream's.
 */
export async function* watchWrites(body: AsyncIterable<Uint8Array>, ms: number, onStall: () => void): AsyncGenerator<Uint8Array> {
  let timer: NodeJS.Timeout | null = null
  let waiting = false
  // Stopping early (the upstream stalled) must not destroy the client's connection: the gateway
  // still answers it (504), so the rest of its body is drained, not cut.
  const source = typeof (body as Readable).iterator === 'function' ? (body as Readable).iterator({ destroyOnReturn: false }) : body
  try {
    for await (const chunk of source) {
      // One timer per request, re-armed per chunk (a cleared timer cannot be refreshed; a fired one can).
      waiting = true
      if (timer === null) timer = setTimeout(() => waiting && onStall(), ms)
      else timer.refresh()
      yield chunk
      waiting = false
    }
  } finally {
    waiting = false
    if (timer !== null) clearTimeout(timer)
  }
}

/**
 * undici's connector without its timeout, under a precise one of our own: past `ms` the socket
 * is destroyed and the connect fails with undici's ConnectTimeoutError.
 */
export function connectorWithTimeout(options: buildConnector.BuildOptions, ms: number): buildConnector.connector {
  const connect = buildConnector({ ...options, timeout: 0 })
  return (opts, callback) => {
    let settled = false
    let socket: Socket | null = null
    const timer = setTimeout(() => {
      if (settled) return
      settled = true
      socket?.destroy()
      callback(
        new errors.ConnectTimeoutError(`Connect Timeout Error (attempted address: ${opts.hostname}:${opts.port}, timeout: ${ms}ms)`),
        null,
      )
    }, ms)
    socket = connect(opts, (err, sock) => {
      clearTimeout(timer)
      if (settled) {
        sock?.destroy()
        return
      }
      settled = true
      if (err !== null) callback(err, null)
      else callback(null, sock as NonNullable<typeof sock>)
    }) as unknown as Socket
    return socket as unknown as ReturnType<buildConnector.connector>
  }
}

/** The header buffers as the parser saw them (undici 8 keeps them on the controller). */
function rawOf(controller: Dispatcher.DispatchController): Buffer[] | string[] | null {
  return (controller as { rawHeaders?: Buffer[] | string[] | null }).rawHeaders ?? null
}

/** Turns undici's raw header buffers into a flat list of strings (bytes kept as they are). */
function headerList(raw: Buffer[] | string[] | null): HeaderList {
  const out: HeaderList = new Array(raw === null ? 0 : raw.length)
  if (raw !== null) for (let i = 0; i < raw.length; i++) out[i] = raw[i]!.toString('latin1')
  return out
}

/**
 * One upstream attempt: adapts undici's handler callbacks to an {@link UpstreamSink}.
 *
 * It implements undici 8's handler interface (`onRequestStart`/`onResponseStart`/
 * `onResponseData`/`onResponseEnd`/`onResponseError`/`onRequestUpgrade`), the only one its client
 * speaks. The gateway forwards the header list as the upstream sent it, so it reads the raw
 * buffers the parser saw from the controller (`controller.rawHeaders`), not undici's header object.
 * Pause, resume and abort go through the controller.
 */
const SENDING = 0
const AWAITING_HEADERS = 1
const READING_BODY = 2
const DONE = 3

class Attempt implements UpstreamControl {
  readonly #sink: UpstreamSink
  readonly #readTimeout: number
  /**
   * read_timeout: one timer per attempt, armed once; each thing read only moves `#readAt` (a clock
   * read, cheaper than re-inserting the timer), and the timer, when it fires, waits on for what
   * is left of the wait since then. So it still fires to the millisecond after the last read.
   */
  #readTimer: NodeJS.Timeout | null = null
  /** The timer is pending (not fired, not cleared). */
  #readLive = false
  /** When the current read_timeout wait started (performance.now()). */
  #readAt = 0
  #phase = SENDING
  #controller: Dispatcher.DispatchController | null = null
  #paused = false
  #aborted = false
  #sent = false
  #headers = false

  constructor(sink: UpstreamSink, readTimeout: number) {
    this.#sink = sink
    this.#readTimeout = readTimeout
  }

  /** (Re)starts the read_timeout wait: from the end of the request, and at each thing read. */
  #armRead(): void {
    if (this.#readTimeout <= 0) return
    this.#readAt = performance.now()
    if (this.#readLive) return
    this.#readLive = true
    this.#readTimer = setTimeout(this.#onReadTimeout, this.#readTimeout)
  }

  #stopRead(): void {
    this.#phase = DONE
    this.#readLive = false
    if (this.#readTimer !== null) clearTimeout(this.#readTimer)
  }

  readonly #onReadTimeout = (): void => {
    this.#readLive = false
    if (this.#phase !== AWAITING_HEADERS && this.#phase !== READING_BODY) return
    // Something was read since the timer was armed: wait for the rest of the time from then.
    const left = this.#readAt + this.#readTimeout - performance.now()
    if (left >= 1) {
      this.#readLive = true
      this.#readTimer = setTimeout(this.#onReadTimeout, left)
      return
    }
    if (this.#phase === AWAITING_HEADERS) this.fail(new errors.HeadersTimeoutError())
    // While the client is slow to take the body (paused), the upstream is not waited for: as
    // undici, the wait restarts on resume().
    else if (this.#phase === READING_BODY && !this.#paused) this.fail(new errors.BodyTimeoutError())
  }

  /** undici: the request (headers and body) is written; nginx starts proxy_read_timeout here. */
  onRequestSent(): void {
    if (this.#phase !== SENDING) return
    this.#phase = AWAITING_HEADERS
    this.#armRead()
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    this.#sent = true
    this.#sink.onSent()
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, status: number, _headers: unknown, socket: Duplex): void {
    this.#stopRead()
    this.#headers = true
    this.#sink.onUpgrade(status, headerList(rawOf(controller)), socket)
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number): void {
    if (status < 200 && status !== 101) {
      if (this.#phase === AWAITING_HEADERS) this.#armRead()
      return // 1xx informational: nginx does not forward them either
    }
    if (this.#phase !== DONE) {
      this.#phase = READING_BODY
      this.#armRead()
    }
    this.#headers = true
    this.#sink.onHeaders(status, headerList(rawOf(controller)), this)
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#phase === READING_BODY) this.#armRead()
    this.#sink.onData(chunk)
  }

  onResponseEnd(): void {
    this.#stopRead()
    this.#sink.onEnd()
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#stopRead()
    const socket = (error as { socket?: { bytesRead?: number } }).socket
    const reused = socket?.bytesRead === undefined ? undefined : socket.bytesRead > 0 && !this.#headers
    this.#sink.onError(error, { reused, sent: this.#sent, headersReceived: this.#headers })
  }

  pause(): void {
    this.#paused = true
    this.#controller?.pause()
  }
  resume(): void {
    if (!this.#paused) return
    this.#paused = false
    if (this.#phase === READING_BODY) this.#armRead()
    this.#controller?.resume()
  }
  abort(): void {
    this.fail(new Error('downstream closed'))
  }

  /** Ends the attempt with this error (reported through onError). */
  fail(error: Error): void {
    if (this.#aborted || this.#controller === null) return
    this.#aborted = true
    this.#controller.abort(error)
  }
}

/** What undici writes for an upgrade request (client-h1.js), and what Kong's nginx template sends instead. */
const UNDICI_UPGRADE_LINE = '\r\nconnection: upgrade\r\nupgrade: '
const KONG_UPGRADE_LINE = '\r\nconnection: keep-alive, Upgrade\r\nupgrade: '

/**
 * A socket whose first write (undici's request head, written as one latin1 string) says
 * `Connection: keep-alive, Upgrade` where undici says `Connection: upgrade`: Kong's template sends
 * `proxy_set_header Connection $upstream_connection`, set to `keep-alive, Upgrade` for a WebSocket
 * upgrade, and undici refuses a `connection` request header other than `close`/`keep-alive`. Only
 * the first occurrence, right after the request line and Host, is undici's own line (the
 * client's `Connection` never travels upstream, and header values cannot hold CR/LF).
 */
function withKongUpgradeHead<S extends Duplex>(socket: S): S {
  const write = socket.write
  let first = true
  socket.write = function (this: S, chunk: unknown, ...rest: unknown[]): boolean {
    if (first) {
      first = false
      socket.write = write
      if (typeof chunk === 'string') chunk = chunk.replace(UNDICI_UPGRADE_LINE, KONG_UPGRADE_LINE)
    }
    return (write as (this: S, chunk: unknown, ...rest: unknown[]) => boolean).call(this, chunk, ...rest)
  } as S['write']
  return socket
}

/**
 * A one-connection client for one upgrade request: its socket leaves undici for the tunnel once
 * the upstream answers 101 (a pooled connection could not be reused anyway), and the head it
 * writes carries Kong's `Connection` (see {@link withKongUpgradeHead}). The caller closes it
 * right after dispatching: undici's close waits for the request to be through either way.
 */
function upgradeClient(t: UpstreamTarget, maxHeaderSize: number): Dispatcher {
  const host = t.address.includes(':') ? `[${t.address}]` : t.address
  const connect = connectorWithTimeout(t.scheme === 'https' ? upstreamTlsOptions(t) : {}, t.connectTimeout)
  return new Client(`${t.scheme}://${host}:${t.port}`, {
    connect: (opts, callback) =>
      connect(opts, (err, socket) =>
        err !== null ? callback(err, null) : callback(null, withKongUpgradeHead(socket as NonNullable<typeof socket>)),
      ),
    maxHeaderSize,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
  })
}

/** How often pools left without connections are looked for and dropped (milliseconds). */
const SWEEP_INTERVAL_MS = 60_000

/**
 * Pools keyed by everything that must not be shared between two connections. A pool is made on
 * the first request to an address; one whose connections have all closed (idle keep-alive
 * timeout, upstream close) and which has no request in flight is dropped by a sweep once a
 * minute, so that addresses a DNS name or a balancer no longer uses do not pile up.
 */
export class UndiciUpstream implements UpstreamClient {
  readonly #pools = new Map<string, Pool>()
  /** The pool of a target object already seen: reused targets skip building the key. */
  #byTarget = new WeakMap<UpstreamTarget, Pool>()
  readonly #options: UpstreamPoolOptions
  readonly #sweeper: NodeJS.Timeout

  constructor(options: UpstreamPoolOptions) {
    this.#options = options
    this.#sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS)
    this.#sweeper.unref()
  }

  /** Pools currently kept (one per address and connection settings). */
  get poolCount(): number {
    return this.#pools.size
  }

  /**
   * Closes and forgets the pools that hold no connection and no request; returns how many. A
   * later request to the same address makes a new pool (it would have had to connect anyway).
   */
  sweep(): number {
    let dropped = 0
    for (const [key, pool] of this.#pools) {
      const s = pool.stats
      if (s.connected === 0 && s.pending === 0 && s.running === 0) {
        this.#pools.delete(key)
        void pool.close().catch(() => {})
        dropped++
      }
    }
    // Target objects may still point at a dropped pool: they find their pool again by key.
    if (dropped > 0) this.#byTarget = new WeakMap()
    return dropped
  }

  #pool(t: UpstreamTarget): Pool {
    const known = this.#byTarget.get(t)
    if (known !== undefined) return known
    const pool = this.#poolFor(t)
    this.#byTarget.set(t, pool)
    return pool
  }

  #poolFor(t: UpstreamTarget): Pool {
    const key = `${t.scheme}|${t.address}|${t.port}|${t.connectTimeout}|${t.scheme === 'https' ? `${t.servername}|${t.tls.id}` : ''}`
    let pool = this.#pools.get(key)
    if (pool === undefined) {
      const host = t.address.includes(':') ? `[${t.address}]` : t.address
      const idle = this.#options.keepaliveIdleTimeout * 1000
      pool = new Pool(`${t.scheme}://${host}:${t.port}`, {
        connect: connectorWithTimeout(t.scheme === 'https' ? upstreamTlsOptions(t) : {}, t.connectTimeout),
        keepAliveTimeout: idle,
        keepAliveMaxTimeout: idle,
        maxRequestsPerClient: this.#options.keepaliveMaxRequests,
        maxHeaderSize: this.#options.maxHeaderSize,
        pipelining: 1,
        // Kong forwards bodies as they are; never let the client decompress or follow anything.
        // read_timeout is the Attempt's own timer.
        headersTimeout: 0,
        bodyTimeout: 0,
      })
      this.#pools.set(key, pool)
    }
    return pool
  }

  send(target: UpstreamTarget, request: UpstreamRequest, sink: UpstreamSink): void {
    const pool = request.upgrade === null ? this.#pool(target) : upgradeClient(target, this.#options.maxHeaderSize)
    const attempt = new Attempt(sink, target.readTimeout)
    let body = request.body
    // Buffers are written at once; streamed bodies are watched for stalls (write_timeout).
    if (body !== null && !Buffer.isBuffer(body) && target.writeTimeout > 0) {
      body = watchWrites(body, target.writeTimeout, () => attempt.fail(new WriteTimeoutError(target.writeTimeout)))
    }
    const opts: Dispatcher.DispatchOptions = {
      method: request.method as Dispatcher.HttpMethod,
      path: request.path,
      headers: request.headers,
      body: body as NonNullable<Dispatcher.DispatchOptions['body']> | null,
      headersTimeout: 0,
      bodyTimeout: 0,
      upgrade: request.upgrade,
    }
    pool.dispatch(opts, attempt as unknown as Dispatcher.DispatchHandler)
    // An upgrade's own client: closing waits for its one request (upgraded or answered), then ends.
    if (request.upgrade !== null) void pool.close().catch(() => {})
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    this.#byTarget = new WeakMap()
    await Promise.allSettled(pools.map((p) => p.close()))
  }
}

/**
 * The versions of upstream TLS: nginx's `proxy_ssl_protocols` default, which Kong's template keeps
 * (kong.conf's `lua_ssl_protocols` is for the gateway's own connections, not the proxied ones).
 */
const PROXY_SSL_PROTOCOLS = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' } as const

/** One secure context per service's TLS settings (a configuration's), shared by its pools. */
const contexts = new WeakMap<UpstreamTarget['tls'], SecureContext>()

/**
 * The TLS options of a pool's connections: one secure context per service's settings (the CA bundle is parsed
 * once, not per connection), the client certificate, and verification with the chain depth.
 */
export function upstreamTlsOptions(t: UpstreamTarget): buildConnector.BuildOptions {
  const tls = t.tls
  const hasCert = tls.cert !== null && tls.key !== null
  let secureContext = contexts.get(tls)
  if (secureContext === undefined && (tls.verify || hasCert)) {
    secureContext = createSecureContext({
      ...PROXY_SSL_PROTOCOLS,
      ...(tls.verify ? { ca: [...tls.ca] } : {}),
      ...(hasCert ? { cert: tls.cert ?? '', key: tls.key ?? '' } : {}),
    })
    contexts.set(tls, secureContext)
  }
  return {
    ...PROXY_SSL_PROTOCOLS,
    rejectUnauthorized: tls.verify,
    servername: isIp(t.servername) ? '' : t.servername,
    ...(secureContext !== undefined ? { secureContext } : {}),
    ...(tls.verify ? { checkServerIdentity: depthChecked(tls.verifyDepth) } : {}),
  } as buildConnector.BuildOptions
}

/**
 * The host name check, then OpenSSL's verify depth as nginx's `proxy_ssl_verify_depth` applies it:
 * depth d allows the certificate, d CAs above it and the trust anchor (d + 2 certificates).
 */
export function depthChecked(depth: number): (host: string, cert: PeerCertificate) => Error | undefined {
  return (host, cert) => {
    const err = checkServerIdentity(host, cert)
    if (err !== undefined) return err
    let length = 1
    let c = cert as PeerCertificate & { issuerCertificate?: PeerCertificate & { issuerCertificate?: unknown } }
    // The chain ends at a self-signed certificate (its own issuer); bounded by the limit anyway.
    while (c.issuerCertificate !== undefined && c.issuerCertificate !== c && length <= depth + 2) {
      c = c.issuerCertificate as typeof c
      length++
    }
    if (length > depth + 2) {
      return Object.assign(new Error('certificate chain too long'), { code: 'CERT_CHAIN_TOO_LONG' })
    }
    return undefined
  }
}

function isIp(s: string): boolean {
  return /^[0-9.]+$/.test(s) || s.includes(':')
}
