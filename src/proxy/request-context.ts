/**
 * The per-request context: the one object a client request allocates (the runloop's `Exchange`
 * extends it). It holds the request's state for every phase module (plugin-runner,
 * upstream-attempt, local-response, request-log) and is the PDK's host: what plugins read and
 * change through `kong.request`, `kong.service.request`, `kong.response` … A request whose route
 * has no plugins never creates a PDK.
 */
import type { Address, Balancer } from '../balancer/balancer.js'
import { kongDefaultMessage } from '../errors/registry.js'
import type { ErrorLog } from '../observability/error-log.js'
import type { PdkHost, RequestPdk } from '../pdk/pdk.js'
import type { Consumer, Credential, EntityRow, HeaderValue } from '../pdk/types.js'
import type { PluginInstance, PluginPlan } from '../plugins/plan.js'
import type { Phase } from '../plugins/types.js'
import { normalizePath } from '../router/index.js'
import type { RouteMatch } from '../router/index.js'
import type { CompiledRoute, CompiledService, ConfigSnapshot } from '../snapshot/snapshot.js'
import { negotiateKongError, renderError } from './error-response.js'
import { gatewayResponseHeaders, proxiedErrorHeaders } from './gateway-headers.js'
import { grpcError, grpcSend, isGrpcRequest } from './grpc.js'
import { headerObject, ResponseHeaderSet } from '../codec/response-headers.js'
import { requestHeaderValues } from '../codec/request-header-values.js'
import type { Proxy } from './runloop.js'
import { nextRequestId } from './request-id.js'
import { serializeExchange } from './serialize.js'
import type { BodySource, Downstream, HeaderList, ResponseHeaders, UpstreamControl, UpstreamTarget } from './types.js'

/** A response a plugin made (`kong.response.exit` / `kong.response.error`), sent once its phase ends. */
export interface ExitResponse {
  readonly status: number
  readonly headers: ResponseHeaders
  readonly body: string | Buffer | null
}

/**
 * One client request's state. Fields are shared by the phase modules of src/proxy/ (not by
 * plugins: they see the {@link PdkHost} members only). The phase transitions are the runloop's.
 */
export abstract class RequestContext implements PdkHost {
  readonly proxy: Proxy
  readonly d: Downstream
  /** The configuration the request started with, kept to its end. */
  readonly snapshot: ConfigSnapshot
  readonly startedAt = performance.now()
  readonly requestId = nextRequestId()
  clientIp = ''
  trusted = false
  match: RouteMatch<CompiledRoute> | null = null
  compiledService: CompiledService | null = null
  /** The current attempt's target. */
  target: UpstreamTarget | null = null
  /** Upstream path (escaped, without query) and query string (null: none). */
  upstreamPath = ''
  upstreamQuery: string | null = null
  upstreamMethod: string
  upstreamHeaders: string[] = []
  /** A body a plugin read or replaced; sent instead of streaming the client's. */
  upstreamBody: Buffer | null = null
  bodyRead: Promise<Buffer> | null = null
  // --- upstream attempts (upstream-attempt.ts) ---
  tries = 0
  /** SNI when it is not the service's (preserve_host). */
  sni: string | null = null
  /** Retries that did not use up a try (failed reused keep-alive connections). */
  freeRetries = 0
  sentAt = 0
  headersAt = 0
  /** Every attempt's target, in order (the log serializer's `tries`). */
  attempts: UpstreamTarget[] = []
  /** The upstream entity's balancer, when the service host names one. */
  balancer: Balancer | null = null
  /** The address of the current attempt, until released. */
  address: Address | null = null
  tried: Set<Address> | null = null
  /** Hash of the request for consistent-hashing; undefined until computed (once per request). */
  hash: number | null | undefined = undefined
  setCookie: string | null = null
  /** The Host value last set for a target (replaced on a retry to another target). */
  targetHost: string | null = null
  // --- the response ---
  responseStatus = 0
  /** The response's headers as plugins see them, once the response exists (routes with plugins). */
  resp: ResponseHeaderSet | null = null
  /** Response headers plugins set before the response existed: applied to it. */
  pending: ResponseHeaderSet | null = null
  responseSource: 'service' | 'exit' | 'error' = 'service'
  upstreamStatus: number | undefined = undefined
  received: ResponseHeaders | null = null
  receivedList: HeaderList | null = null
  bytes = 0
  /** Body bytes still expected from the upstream (Content-Length), or -1 when unknown. */
  bodyLeft = -1
  /** The final body chunk, held until the end to be sent with it. */
  lastChunk: Buffer | null = null
  control: UpstreamControl | null = null
  finished = false
  clientGone = false
  // --- plugins (plugin-runner.ts) ---
  consumer: Consumer | null = null
  credential: Credential | null = null
  plan: PluginPlan | null = null
  pdk: RequestPdk | null = null
  /** Instances collected in the access phase, in order: they run in the later phases. */
  collected: PluginInstance[] = []
  accessIndex = 0
  rewriteIndex = 0
  exitResponse: ExitResponse | null = null

  constructor(proxy: Proxy, d: Downstream, snapshot: ConfigSnapshot) {
    this.proxy = proxy
    this.d = d
    this.snapshot = snapshot
    this.upstreamMethod = d.method
  }

  // --- phase transitions (the runloop's) ---------------------------------------------------------

  /** The rewrite phase is over (every global rewrite handler ran, or one exited). */
  abstract afterRewrite(): void
  /** The access phase is over. */
  abstract afterAccess(): void
  /** A rewrite/access handler threw or rejected. */
  abstract pluginFailed(inst: PluginInstance, phase: Phase, err: unknown): void
  /** The request is over (answered, failed or abandoned): release, log. Runs once. */
  abstract finish(): void

  /** The request path without the query string. */
  rawPath(): string {
    const url = this.d.url
    const q = url.indexOf('?')
    return q === -1 ? url : url.slice(0, q)
  }

  /** The response exists: plugins see its headers, with those they set earlier applied. */
  responseHeadersAre(resp: ResponseHeaderSet): void {
    this.resp = resp
    if (this.pending === null) return
    const early = this.pending.object()
    for (const name in early) resp.set(name, early[name] as HeaderValue)
  }

  // --- PdkHost ------------------------------------------------------------------------------------

  get maxPostArgs(): number {
    return this.proxy.settings.maxPostArgs
  }
  get maxUriArgs(): number {
    return this.proxy.settings.maxUriArgs
  }
  get method(): string {
    return this.d.method
  }
  get scheme(): string {
    return this.d.scheme
  }
  get hostHeader(): string {
    const h = this.d.headers['host']
    return typeof h === 'string' ? h : ''
  }
  get localPort(): number {
    return this.d.localPort
  }
  get httpVersion(): string {
    return this.d.httpVersion
  }
  get rawUrl(): string {
    return this.d.url
  }
  get normalizedPath(): string {
    return this.match?.path ?? normalizePath(this.rawPath()) ?? this.rawPath()
  }
  /** Every value of a repeated header (Kong's `get_headers`); node's object when none repeats. */
  get headers(): Downstream['headers'] {
    return (this.#headers ??= requestHeaderValues(this.d.headers, this.d.rawHeaders))
  }
  #headers: Downstream['headers'] | null = null
  get peerIp(): string {
    return this.d.remoteAddress
  }
  get peerPort(): number {
    return this.d.remotePort
  }
  get route(): EntityRow | null {
    const route = this.match?.route
    if (route === undefined) return null
    // Without the compiled parts (service, plan) that are ours, not the entity's.
    const { compiledService: _s, plan: _p, ...row } = route
    return row as unknown as EntityRow
  }
  get service(): EntityRow | null {
    return (this.compiledService?.row as EntityRow | undefined) ?? null
  }
  get captures(): Readonly<Record<string, string>> | null {
    return this.match?.captures ?? null
  }
  get entities(): ConfigSnapshot['entities'] {
    return this.snapshot.entities
  }
  get errorLog(): ErrorLog {
    return this.proxy.errorLog
  }
  get responseHeaders(): ResponseHeaders | null {
    return this.resp === null ? null : this.resp.object()
  }
  responseHeader(name: string): string | undefined {
    return this.resp?.get(name)
  }
  setResponseHeader(name: string, value: HeaderValue): void {
    this.#headersToChange().set(name, value)
  }
  addResponseHeader(name: string, value: string): void {
    this.#headersToChange().add(name, value)
  }
  clearResponseHeader(name: string): void {
    ;(this.resp ?? this.pending)?.clear(name)
  }
  #headersToChange(): ResponseHeaderSet {
    return this.resp ?? (this.pending ??= ResponseHeaderSet.ofObject({}))
  }
  /** The proxied response's headers as the gateway got them (before plugins changed them). */
  get upstreamHeadersReceived(): ResponseHeaders | null {
    if (this.received === null && this.receivedList !== null) this.received = headerObject(this.receivedList)
    return this.received
  }
  upstreamLatency(): number | undefined {
    return this.headersAt === 0 ? undefined : this.headersAt - this.sentAt
  }

  readBody(maxBytes: number): Promise<Buffer> {
    if (this.upstreamBody !== null && this.bodyRead === null) return Promise.resolve(this.upstreamBody)
    if (this.bodyRead !== null) return this.bodyRead
    const body: BodySource | null = this.d.body
    if (body === null) return (this.bodyRead = Promise.resolve(Buffer.alloc(0)))
    this.bodyRead = (async () => {
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of body) {
        size += chunk.length
        if (size > maxBytes) throw new Error(`request body larger than ${maxBytes} bytes`)
        chunks.push(Buffer.from(chunk))
      }
      const all = Buffer.concat(chunks)
      // The body is consumed: from now on it is sent from this buffer.
      if (this.upstreamBody === null) this.upstreamBody = all
      return all
    })()
    return this.bodyRead
  }

  /**
   * The headers of a response the gateway makes itself, latency counted until now: once a request
   * went to an upstream (a refused or timed-out one answers from here), Kong's proxied headers.
   */
  baseHeaders(contentType: string | null): ResponseHeaders {
    if (this.sentAt > 0) return proxiedErrorHeaders(this, contentType)
    return gatewayResponseHeaders(this.proxy.settings, contentType, performance.now() - this.startedAt, this.requestId)
  }

  exit(
    status: number,
    body: string | Buffer | Readonly<Record<string, unknown>> | null | undefined,
    headers: Readonly<Record<string, HeaderValue>> | undefined,
  ): void {
    const h = this.baseHeaders(null)
    for (const [k, v] of Object.entries(headers ?? {})) h[k.toLowerCase()] = v
    // A gRPC request (or a gRPC answer): grpc-status and grpc-message instead of a body.
    const grpc = grpcSend(this.d, status, h, body)
    let payload: string | Buffer | null = grpc === null ? null : grpc.body
    if (grpc === null && body !== undefined && body !== null) {
      if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body
      else {
        payload = JSON.stringify(body)
        h['content-type'] ??= 'application/json; charset=utf-8'
      }
    }
    this.exitResponse = { status, headers: h, body: payload }
    this.responseSource = 'exit'
  }

  kongError(status: number, message: string | undefined, headers: Readonly<Record<string, HeaderValue>> | undefined): void {
    const given = Object.entries(headers ?? {})
    if (isGrpcRequest(this.d) && !given.some(([k]) => k.toLowerCase() === 'content-type')) {
      // Kong: a gRPC request's error has no body; its status goes in grpc-status/grpc-message.
      const h = this.baseHeaders(null)
      for (const [k, v] of given) h[k.toLowerCase()] = v
      this.exitResponse = { status, headers: h, body: grpcError(this.d, status, h)?.body ?? null }
      this.responseSource = 'exit'
      return
    }
    const accept = this.d.headers['accept']
    const r = renderError(
      negotiateKongError(typeof accept === 'string' ? accept : undefined),
      message ?? kongDefaultMessage(status),
      this.requestId,
    )
    const h = this.baseHeaders(r.contentType)
    for (const [k, v] of given) h[k.toLowerCase()] = v
    this.exitResponse = { status, headers: h, body: r.body }
    this.responseSource = 'exit'
  }

  serialize(): Record<string, unknown> {
    return serializeExchange({
      requestId: this.requestId,
      downstream: this.d,
      headers: this.headers,
      clientIp: this.clientIp,
      upstreamUri: this.upstreamPath + (this.upstreamQuery === null ? '' : `?${this.upstreamQuery}`),
      upstreamStatus: this.upstreamStatus,
      status: this.responseStatus,
      responseHeaders: this.responseHeaders,
      bytesSent: this.bytes,
      route: this.route,
      service: this.service,
      consumer: this.consumer,
      credential: this.credential,
      startedAt: this.startedAt,
      sentAt: this.sentAt,
      headersAt: this.headersAt,
      tries: this.attempts.map((t) =>
        this.balancer === null
          ? { ip: t.address, port: t.port, balancer_latency: 0 }
          : { ip: t.address, port: t.port, balancer_latency: 0, hostname: t.hostname },
      ),
      source: this.responseSource,
    })
  }
}
