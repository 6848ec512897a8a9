/**
 * The outbound HTTP client adapter for everything that is not proxying: health probes, log
 * servers (http-log), OpenID providers (discovery, JWKS), and the CLI's status check. One small
 * call, {@link HttpRequester.request}: a method, an origin and a path, headers, a body, timeouts to
 * the millisecond and TLS settings in; the status, headers and (bounded) body out, or a typed
 * {@link OutboundFailure} (refused, timeout, DNS, TLS, reset, too large). Nothing outside
 * `src/http/` needs to know undici. The request and result types are `src/codec/outbound.ts`, so
 * plugins, which get this client in their init context, need not import `src/http/`.
 *
 * Timeouts are measured with Node timers, as the proxy's (src/http/undici-upstream.ts), not with
 * undici's coarse clock: `connectTimeoutMs` bounds the TCP (+TLS) connect, `readTimeoutMs` each
 * wait for data (from the end of the request to the response header, then between body chunks),
 * and `totalTimeoutMs`, if set, the whole exchange.
 *
 * @module
 */
import { Client, errors, Pool, type Dispatcher } from 'undici'
import type { HttpRequester, OutboundFailure, OutboundFailureKind, OutboundRequest, OutboundResult } from '../codec/outbound.js'
import { createHash } from 'node:crypto'
import { createSecureContext, type SecureContext, type SecureVersion } from 'node:tls'
import { versionRange } from './tls.js'
import { connectorWithTimeout, depthChecked } from './undici-upstream.js'

const TOO_LARGE = 'TP_BODY_TOO_LARGE'
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|HOSTNAME_MISMATCH$)/

/** Classifies an error from undici or the socket. */
export function classifyOutboundError(err: unknown, phase: 'request' | 'body'): OutboundFailure {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } }
  const code = e.code ?? e.cause?.code
  const message = e.message ?? String(err)
  let kind: OutboundFailureKind = 'other'
  if (
    e.name === 'TimeoutError' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  )
    kind = 'timeout'
  else if (code === 'ECONNREFUSED') kind = 'refused'
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NODATA') kind = 'dns'
  else if (code !== undefined && TLS_CODES.test(code)) kind = 'tls'
  else if (code === TOO_LARGE) kind = 'too_large'
  else if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') kind = 'reset'
  return { kind, phase, code, message }
}

class TotalTimeoutError extends Error {
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`)
    this.name = 'TimeoutError'
  }
}

class TooLargeError extends Error {
  readonly code = TOO_LARGE
  constructor(max: number) {
    super(`response larger than ${max} bytes`)
  }
}

/** One request: undici's handler callbacks to a promise, with the read and total timers. */
class Exchange {
  readonly #req: OutboundRequest
  readonly #resolve: (r: OutboundResult) => void
  readonly #onSettled: () => void
  #controller: Dispatcher.DispatchController | null = null
  #readTimer: NodeJS.Timeout | null = null
  #totalTimer: NodeJS.Timeout | null = null
  #settled = false
  #pendingAbort: Error | null = null
  #status = 0
  #headers: Record<string, string | string[] | undefined> = {}
  #gotHeaders = false
  readonly #chunks: Buffer[] = []
  #size = 0

  constructor(req: OutboundRequest, resolve: (r: OutboundResult) => void, onSettled: () => void) {
    this.#req = req
    this.#resolve = resolve
    this.#onSettled = onSettled
    const total = req.totalTimeoutMs
    if (total !== undefined && total > 0) this.#totalTimer = setTimeout(() => this.fail(new TotalTimeoutError(total)), total)
  }

  #armRead(): void {
    const ms = this.#req.readTimeoutMs
    if (ms <= 0) return
    if (this.#readTimer === null) {
      this.#readTimer = setTimeout(() => this.fail(this.#gotHeaders ? new errors.BodyTimeoutError() : new errors.HeadersTimeoutError()), ms)
    } else this.#readTimer.refresh()
  }

  #settle(r: OutboundResult): void {
    if (this.#settled) return
    this.#settled = true
    if (this.#readTimer !== null) clearTimeout(this.#readTimer)
    if (this.#totalTimer !== null) clearTimeout(this.#totalTimer)
    this.#resolve(r)
    this.#onSettled()
  }

  /** Ends the exchange with this error (now, even if undici reports it later). */
  fail(error: Error): void {
    if (this.#settled) return
    this.#settle({ ok: false, failure: classifyOutboundError(error, this.#gotHeaders ? 'body' : 'request') })
    if (this.#controller !== null) this.#controller.abort(error)
    else this.#pendingAbort = error
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#pendingAbort !== null) controller.abort(this.#pendingAbort)
  }

  onRequestSent(): void {
    if (!this.#gotHeaders) this.#armRead()
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) {
      this.#armRead()
      return
    }
    this.#gotHeaders = true
    this.#status = status
    this.#headers = headers
    if (this.#req.discardBody === true) {
      this.#settle({ ok: true, status, headers, body: Buffer.alloc(0) })
      controller.abort(new Error('response body not wanted'))
      return
    }
    this.#armRead()
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return
    this.#size += chunk.length
    const max = this.#req.maxBodyBytes
    if (max !== undefined && this.#size > max) {
      this.fail(new TooLargeError(max))
      return
    }
    this.#chunks.push(chunk)
    this.#readTimer?.refresh()
  }

  onResponseEnd(): void {
    this.#settle({ ok: true, status: this.#status, headers: this.#headers, body: Buffer.concat(this.#chunks) })
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#settle({ ok: false, failure: classifyOutboundError(error, this.#gotHeaders ? 'body' : 'request') })
  }
}

/** kong.conf's `lua_ssl_protocols` (Kong's cosocket TLS versions), for every outbound TLS connection. */
let tlsVersions: { minVersion: SecureVersion; maxVersion: SecureVersion } = versionRange(['TLSv1.2', 'TLSv1.3'])

/** Sets the TLS versions of outbound connections from `lua_ssl_protocols` (once, at start). */
export function setOutboundTlsProtocols(protocols: readonly string[]): void {
  tlsVersions = versionRange(protocols)
}

const NO_CA: readonly string[] = []
/** Secure contexts by CA list (callers keep theirs: a health checker's trust), then client certificate. */
const contexts = new WeakMap<readonly string[], Map<string, SecureContext>>()

/** The CAs and client certificate of a request in one context, built once (a CA bundle parses in milliseconds). */
function contextOf(t: NonNullable<OutboundRequest['tls']>): SecureContext {
  const ca = t.ca ?? NO_CA
  let byCert = contexts.get(ca)
  if (byCert === undefined) contexts.set(ca, (byCert = new Map()))
  const certKey = t.cert !== undefined && t.key !== undefined ? `${t.cert}\0${t.key}` : ''
  let ctx = byCert.get(certKey)
  if (ctx === undefined) {
    if (byCert.size >= 64) byCert.clear()
    ctx = createSecureContext({
      ...tlsVersions,
      ...(t.ca !== undefined ? { ca: [...t.ca] } : {}),
      ...(certKey !== '' ? { cert: t.cert, key: t.key } : {}),
    })
    byCert.set(certKey, ctx)
  }
  return ctx
}

/** Names the CAs and client certificate of a request in pool keys. */
function tlsMaterialId(t: NonNullable<OutboundRequest['tls']>): string {
  const h = createHash('sha256')
  for (const c of t.ca ?? []) h.update(c).update('\0')
  h.update('|')
    .update(t.cert ?? '')
    .update('|')
    .update(t.key ?? '')
  return h.digest('base64url').slice(0, 16)
}

/** The adapter on undici: a pool per origin and settings for keep-alive requests, else a connection per request. */
export class UndiciRequester implements HttpRequester {
  readonly #pools = new Map<string, Pool>()

  #connector(req: OutboundRequest): ReturnType<typeof connectorWithTimeout> {
    const https = req.origin.startsWith('https:')
    const t = req.tls
    const tls = https
      ? {
          rejectUnauthorized: t?.verify ?? true,
          ...tlsVersions,
          ...(t?.servername !== undefined ? { servername: t.servername } : {}),
          ...((t?.verify ?? true) && t?.verifyDepth !== undefined ? { checkServerIdentity: depthChecked(t.verifyDepth) } : {}),
          ...(t !== undefined && (t.ca !== undefined || t.cert !== undefined) ? { secureContext: contextOf(t) } : {}),
        }
      : {}
    const connect = connectorWithTimeout(tls, req.connectTimeoutMs)
    const servername = https ? t?.servername : undefined
    // undici sends the request's Host as the server name, before the connector's own: a name
    // given here (a health check's https_sni) must win.
    return servername === undefined ? connect : (opts, callback) => connect({ ...opts, servername }, callback)
  }

  #pool(req: OutboundRequest, keepAlive: NonNullable<OutboundRequest['keepAlive']>): Pool {
    const t = req.tls
    const material = t?.ca !== undefined || t?.cert !== undefined ? tlsMaterialId(t) : ''
    const key = `${req.origin}|${req.connectTimeoutMs}|${keepAlive.idleMs}|${keepAlive.connections}|${t?.verify ?? true}|${t?.servername ?? ''}|${t?.verifyDepth ?? ''}|${material}`
    let pool = this.#pools.get(key)
    if (pool === undefined) {
      const idle = Math.max(1, keepAlive.idleMs)
      pool = new Pool(req.origin, {
        connect: this.#connector(req),
        keepAliveTimeout: idle,
        keepAliveMaxTimeout: idle,
        connections: keepAlive.connections,
        headersTimeout: 0,
        bodyTimeout: 0,
      })
      this.#pools.set(key, pool)
    }
    return pool
  }

  request(req: OutboundRequest): Promise<OutboundResult> {
    return new Promise((resolve) => {
      let dispatcher: Dispatcher
      let onSettled: () => void
      try {
        if (req.keepAlive !== undefined) {
          dispatcher = this.#pool(req, req.keepAlive)
          onSettled = () => {}
        } else {
          const client = new Client(req.origin, { connect: this.#connector(req), headersTimeout: 0, bodyTimeout: 0, pipelining: 1 })
          dispatcher = client
          onSettled = () => void client.destroy().catch(() => {})
        }
      } catch (err) {
        resolve({ ok: false, failure: classifyOutboundError(err, 'request') })
        return
      }
      const exchange = new Exchange(req, resolve, () => onSettled())
      const headers: Record<string, string | string[]> = {}
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k] = typeof v === 'string' ? v : [...v]
      dispatcher.dispatch(
        { method: req.method as Dispatcher.HttpMethod, path: req.path, headers, body: req.body ?? null, headersTimeout: 0, bodyTimeout: 0 },
        exchange as unknown as Dispatcher.DispatchHandler,
      )
    })
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.allSettled(pools.map((p) => p.close()))
  }
}

/** The process's outbound client. */
export const outbound: HttpRequester = new UndiciRequester()

/** `http(s)://host:port` for an address (IPv6 in brackets). */
export function originOf(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`
}
