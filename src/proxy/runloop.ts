/**
 * The proxy runloop: one client request from match to log, as Kong's phases run it
 * (see docs/lifecycle.md). It sees the client only through {@link Downstream} and the upstream
 * only through {@link UpstreamClient}; everything that does not depend on the request was decided
 * when the configuration snapshot was built.
 */
import type { Duplex } from 'node:stream'
import type { Address, Balancer, PickFailure } from '../balancer/balancer.js'
import { RequestPdk, type PdkHost } from '../pdk/pdk.js'
import type { Consumer, Credential, EntityRow, HeaderValue } from '../pdk/types.js'
import { resolveEntry, type PluginInstance, type PluginPlan } from '../plugins/plan.js'
import type { Phase } from '../plugins/types.js'
import { escapeUpstreamPath, httpsRedirectStatus, joinUpstreamPath, normalizePath } from '../router/index.js'
import type { RouteMatch } from '../router/types.js'
import type { CompiledRoute, CompiledService, ConfigSnapshot } from '../snapshot/snapshot.js'
import type { AccessLog } from '../observability/access-log.js'
import type { ErrorLog, LogContext } from '../observability/error-log.js'
import { PRODUCT, VERSION } from '../version.js'
import { negotiateKongError, negotiateNginxError, nginxErrorMessage, renderError } from './error-response.js'
import { wireHeaderList } from './header-values.js'
import { forwardedHost, hostWithoutPort, type RealIpSettings, realClientIp, upstreamHeaders, viaToken } from './forwarding.js'
import { probeSpeaksTls } from './protocol-probe.js'
import { nextRequestId } from './request-id.js'
import type { HostResolver, ResolveResult } from './resolver.js'
import { classifyUpstreamFailure, isIdempotent, type UpstreamFailure } from './upstream-failure.js'
import { contentLength, forwardedResponseHeaders, headerObject, ResponseHeaderSet } from './response-headers.js'
import { serializeExchange } from './serialize.js'
import type {
  BodySource,
  Downstream,
  HeaderList,
  ResponseHeaders,
  UpstreamClient,
  UpstreamControl,
  UpstreamErrorInfo,
  UpstreamSink,
  UpstreamTarget,
} from './types.js'

/** Settings the runloop reads, derived once from the gateway configuration. */
export interface ProxySettings {
  readonly realIp: RealIpSettings
  readonly viaHeader: boolean
  readonly serverHeader: boolean
  readonly proxyLatency: boolean
  readonly upstreamLatency: boolean
  readonly responseLatency: boolean
  readonly upstreamStatus: boolean
  readonly requestIdDownstream: boolean
  readonly requestIdUpstream: boolean
  readonly allowDebugHeader: boolean
  readonly errorDefaultType: string
  readonly keepaliveIdleTimeout: number
  readonly maxHeaderSize: number
  /** Largest request body accepted, in bytes (`nginx_http_client_max_body_size`); 0: no limit. */
  readonly clientMaxBodySize: number
  /** `lua_max_post_args` / `lua_max_uri_args`: what the PDK's get_body / get_query read. */
  readonly maxPostArgs: number
  readonly maxUriArgs: number
}

/** Counters for `/status`. */
export interface ProxyStats {
  totalRequests: number
  activeRequests: number
}

const SERVER = `${PRODUCT}/${VERSION}`
const VIA = `${PRODUCT}/${VERSION}`

/**
 * This gateway's `Via` token for HTTP/1.1: in every proxied response (the upstream protocol's
 * version) and in the upstream request of an HTTP/1.1 client (the client's version).
 */
const VIA_TOKEN = viaToken('1.1', VIA)

export class Proxy {
  #snapshot: ConfigSnapshot
  readonly settings: ProxySettings
  readonly upstream: UpstreamClient
  readonly resolver: HostResolver
  readonly errorLog: ErrorLog
  readonly accessLog: AccessLog
  readonly stats: ProxyStats = { totalRequests: 0, activeRequests: 0 }

  constructor(opts: { snapshot: ConfigSnapshot; settings: ProxySettings; upstream: UpstreamClient; resolver: HostResolver; errorLog: ErrorLog; accessLog: AccessLog }) {
    this.#snapshot = opts.snapshot
    this.settings = opts.settings
    this.upstream = opts.upstream
    this.resolver = opts.resolver
    this.errorLog = opts.errorLog
    this.accessLog = opts.accessLog
  }

  get snapshot(): ConfigSnapshot {
    return this.#snapshot
  }

  /** Swaps the configuration; requests already running keep the snapshot they started with. */
  swap(snapshot: ConfigSnapshot): void {
    this.#snapshot = snapshot
  }

  handle(d: Downstream): void {
    this.stats.totalRequests++
    this.stats.activeRequests++
    new Exchange(this, d, this.#snapshot).run()
  }

  /**
   * Answers a request nginx would have refused before Kong saw it (status from
   * `checkRequestHead`: 400, 405, 414, 494, 501) with Kong's error body, and closes the
   * connection as nginx does; the access log records it.
   */
  reject(d: Downstream, status: number): void {
    this.stats.totalRequests++
    this.stats.activeRequests++
    new Exchange(this, d, this.#snapshot).reject(status)
  }
}

/**
 * The headers every response the gateway makes itself carries (Kong's header_filter for a
 * response that did not come from an upstream), with `content-type` when one is given.
 */
export function gatewayResponseHeaders(s: ProxySettings, contentType: string | null, latencyMs: number, requestId: string): ResponseHeaders {
  const h: ResponseHeaders = {}
  if (contentType !== null && contentType !== '') h['content-type'] = contentType
  if (s.serverHeader) h['server'] = SERVER
  if (s.responseLatency) h['x-kong-response-latency'] = String(Math.round(latencyMs))
  if (s.requestIdDownstream) h['x-kong-request-id'] = requestId
  return h
}

/**
 * One client request. Implements the upstream sink (so an attempt costs no extra closures) and the
 * PDK host (what plugins read and change). A request whose route has no plugins never creates a
 * PDK: that path costs nothing for the plugin machinery.
 */
class Exchange implements UpstreamSink, PdkHost {
  readonly #p: Proxy
  readonly #d: Downstream
  readonly #snapshot: ConfigSnapshot
  readonly startedAt = performance.now()
  readonly requestId = nextRequestId()
  clientIp = ''
  trusted = false
  #match: RouteMatch<CompiledRoute> | null = null
  #service: CompiledService | null = null
  #target: UpstreamTarget | null = null
  /** Upstream path (escaped, without query) and query string (null: none). */
  upstreamPath = ''
  upstreamQuery: string | null = null
  upstreamMethod: string
  upstreamHeaders: string[] = []
  /** A body a plugin read or replaced; sent instead of streaming the client's. */
  upstreamBody: Buffer | null = null
  #bodyRead: Promise<Buffer> | null = null
  #tries = 0
  /** SNI when it is not the service's (preserve_host). */
  #sni: string | null = null
  /** Retries that did not use up a try (failed reused keep-alive connections). */
  #freeRetries = 0
  #sentAt = 0
  #headersAt = 0
  responseStatus = 0
  /** The response's headers as plugins see them, once the response exists (routes with plugins). */
  #resp: ResponseHeaderSet | null = null
  /** Response headers plugins set before the response existed: applied to it. */
  #pending: ResponseHeaderSet | null = null
  responseSource: 'service' | 'exit' | 'error' = 'service'
  upstreamStatus: number | undefined = undefined
  #received: ResponseHeaders | null = null
  #receivedList: HeaderList | null = null
  #bytes = 0
  /** Body bytes still expected from the upstream (Content-Length), or -1 when unknown. */
  #bodyLeft = -1
  /** The final body chunk, held until the end to be sent with it. */
  #lastChunk: Buffer | null = null
  #control: UpstreamControl | null = null
  #finished = false
  #clientGone = false
  // --- plugins ---
  consumer: Consumer | null = null
  credential: Credential | null = null
  #plan: PluginPlan | null = null
  #pdk: RequestPdk | null = null
  /** Instances collected in the access phase, in order: they run in the later phases. */
  #collected: PluginInstance[] = []
  #accessIndex = 0
  #rewriteIndex = 0
  #exit: { status: number; headers: ResponseHeaders; body: string | Buffer | null } | null = null

  constructor(p: Proxy, d: Downstream, snapshot: ConfigSnapshot) {
    this.#p = p
    this.#d = d
    this.#snapshot = snapshot
    this.upstreamMethod = d.method
  }

  // --- PdkHost ------------------------------------------------------------------------------------

  get maxPostArgs(): number {
    return this.#p.settings.maxPostArgs
  }
  get maxUriArgs(): number {
    return this.#p.settings.maxUriArgs
  }

  get method(): string {
    return this.#d.method
  }
  get scheme(): string {
    return this.#d.scheme
  }
  get hostHeader(): string {
    const h = this.#d.headers['host']
    return typeof h === 'string' ? h : ''
  }
  get localPort(): number {
    return this.#d.localPort
  }
  get httpVersion(): string {
    return this.#d.httpVersion
  }
  get rawUrl(): string {
    return this.#d.url
  }
  get normalizedPath(): string {
    return this.#match?.path ?? (normalizePath(this.#rawPath()) ?? this.#rawPath())
  }
  get headers(): Downstream['headers'] {
    return this.#d.headers
  }
  get peerIp(): string {
    return this.#d.remoteAddress
  }
  get peerPort(): number {
    return this.#d.remotePort
  }
  get route(): EntityRow | null {
    const route = this.#match?.route
    if (route === undefined) return null
    // Without the compiled parts (service, plan) that are ours, not the entity's.
    const { compiledService: _s, plan: _p, ...row } = route
    return row as unknown as EntityRow
  }
  get service(): EntityRow | null {
    return (this.#service?.row as EntityRow | undefined) ?? null
  }
  get captures(): Readonly<Record<string, string>> | null {
    return this.#match?.captures ?? null
  }
  get entities(): ConfigSnapshot['entities'] {
    return this.#snapshot.entities
  }
  get errorLog(): ErrorLog {
    return this.#p.errorLog
  }
  get responseHeaders(): ResponseHeaders | null {
    return this.#resp === null ? null : this.#resp.object()
  }
  responseHeader(name: string): string | undefined {
    return this.#resp?.get(name)
  }
  setResponseHeader(name: string, value: HeaderValue): void {
    this.#headersToChange().set(name, value)
  }
  addResponseHeader(name: string, value: string): void {
    this.#headersToChange().add(name, value)
  }
  clearResponseHeader(name: string): void {
    ;(this.#resp ?? this.#pending)?.clear(name)
  }
  #headersToChange(): ResponseHeaderSet {
    return this.#resp ?? (this.#pending ??= ResponseHeaderSet.ofObject({}))
  }
  /** The response exists: plugins see its headers, with those they set earlier applied. */
  #responseHeadersAre(resp: ResponseHeaderSet): void {
    this.#resp = resp
    if (this.#pending === null) return
    const early = this.#pending.object()
    for (const name in early) resp.set(name, early[name] as HeaderValue)
  }
  /** The proxied response's headers as the gateway got them (before plugins changed them). */
  get upstreamHeadersReceived(): ResponseHeaders | null {
    if (this.#received === null && this.#receivedList !== null) this.#received = headerObject(this.#receivedList)
    return this.#received
  }
  upstreamLatency(): number | undefined {
    return this.#headersAt === 0 ? undefined : this.#headersAt - this.#sentAt
  }

  readBody(maxBytes: number): Promise<Buffer> {
    if (this.upstreamBody !== null && this.#bodyRead === null) return Promise.resolve(this.upstreamBody)
    if (this.#bodyRead !== null) return this.#bodyRead
    const body: BodySource | null = this.#d.body
    if (body === null) return (this.#bodyRead = Promise.resolve(Buffer.alloc(0)))
    this.#bodyRead = (async () => {
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
    return this.#bodyRead
  }

  exit(status: number, body: string | Buffer | Readonly<Record<string, unknown>> | null | undefined, headers: Readonly<Record<string, HeaderValue>> | undefined): void {
    const h = this.#baseHeaders(null)
    let payload: string | Buffer | null = null
    if (body !== undefined && body !== null) {
      if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body
      else {
        payload = JSON.stringify(body)
        h['content-type'] = 'application/json; charset=utf-8'
      }
    }
    for (const [k, v] of Object.entries(headers ?? {})) h[k.toLowerCase()] = v
    this.#exit = { status, headers: h, body: payload }
    this.responseSource = 'exit'
  }

  kongError(status: number, message: string | undefined, headers: Readonly<Record<string, HeaderValue>> | undefined): void {
    const accept = this.#d.headers['accept']
    const r = renderError(negotiateKongError(typeof accept === 'string' ? accept : undefined), message ?? defaultExitMessage(status), this.requestId)
    const h = this.#baseHeaders(r.contentType)
    for (const [k, v] of Object.entries(headers ?? {})) h[k.toLowerCase()] = v
    this.#exit = { status, headers: h, body: r.body }
    this.responseSource = 'exit'
  }

  serialize(): Record<string, unknown> {
    return serializeExchange({
      requestId: this.requestId,
      downstream: this.#d,
      clientIp: this.clientIp,
      upstreamUri: this.upstreamPath + (this.upstreamQuery === null ? '' : `?${this.upstreamQuery}`),
      upstreamStatus: this.upstreamStatus,
      status: this.responseStatus,
      responseHeaders: this.responseHeaders,
      bytesSent: this.#bytes,
      route: this.route,
      service: this.service,
      consumer: this.consumer,
      credential: this.credential,
      startedAt: this.startedAt,
      sentAt: this.#sentAt,
      headersAt: this.#headersAt,
      tries: this.#attempts.map((t) => (this.#balancer === null ? { ip: t.address, port: t.port, balancer_latency: 0 } : { ip: t.address, port: t.port, balancer_latency: 0, hostname: t.hostname })),
      source: this.responseSource,
    })
  }

  /** Every attempt's target, in order (the log serializer's `tries`). */
  #attempts: UpstreamTarget[] = []
  // --- load balancing (service host names an upstream) ---
  #balancer: Balancer | null = null
  /** The address of the current attempt, until released. */
  #address: Address | null = null
  #tried: Set<Address> | null = null
  /** Hash of the request for consistent-hashing; undefined until computed (once per request). */
  #hash: number | null | undefined = undefined
  #setCookie: string | null = null
  /** The Host value last set for a target (replaced on a retry to another target). */
  #targetHost: string | null = null

  #rawPath(): string {
    const url = this.#d.url
    const q = url.indexOf('?')
    return q === -1 ? url : url.slice(0, q)
  }

  run(): void {
    const d = this.#d
    const s = this.#p.settings
    this.trusted = s.realIp.trusted.has(d.remoteAddress)
    this.clientIp = realClientIp(d.remoteAddress, d.headers, s.realIp)
    d.onClose(() => this.#onClientClose())
    const rewrite = this.#snapshot.rewrite
    if (rewrite.length === 0) return this.#route()
    // Global plugins' rewrite handlers run before routing (Kong's rewrite phase); if one ends the
    // request, the global plugins' response and log phases still run.
    this.#plan = this.#snapshot.globalPlan
    this.#rewrite()
  }

  #route(): void {
    const d = this.#d
    const s = this.#p.settings
    const url = d.url
    const q = url.indexOf('?')
    const rawPath = q === -1 ? url : url.slice(0, q)
    const host = d.headers['host']
    const match = this.#snapshot.router.match({
      method: d.method,
      scheme: d.scheme,
      host: typeof host === 'string' ? host : '',
      port: d.localPort,
      path: rawPath,
      headers: d.headers,
    })
    if (match === null) {
      this.#plan = this.#snapshot.globalPlan
      // nginx refuses a path with broken percent-encoding before any routing happens.
      if (normalizePath(rawPath) === null) this.#nginxError(400)
      else this.#kongError(404, 'no Route matched with those values')
      return
    }
    this.#match = match
    const route = match.route
    this.#plan = route.plan
    if (d.scheme === 'http') {
      // Kong compares its `forwarded_proto` as is: a trusted peer's X-Forwarded-Proto, else the scheme.
      const xfp = this.trusted ? d.headers['x-forwarded-proto'] : undefined
      const redirect = httpsRedirectStatus(route, typeof xfp === 'string' ? xfp : d.scheme)
      if (redirect !== null) {
        this.#httpsRedirect(redirect)
        return
      }
    }
    const service = route.compiledService
    this.#service = service
    if (service !== null) {
      this.upstreamPath = escapeUpstreamPath(joinUpstreamPath(service.path, match))
      this.upstreamQuery = q === -1 ? null : url.slice(q + 1)
    }
    const preserved = route.preserve_host && typeof host === 'string'
    const hostHeader = preserved ? host : (service?.hostHeader ?? '')
    // Kong's proxy_ssl_name is the Host sent upstream: the client's when preserve_host is on.
    if (preserved) this.#sni = hostWithoutPort(host)
    this.upstreamHeaders = upstreamHeaders({
      rawHeaders: d.rawHeaders,
      headers: d.headers,
      hostHeader,
      peer: d.remoteAddress,
      clientIp: this.clientIp,
      trusted: this.trusted,
      scheme: d.scheme,
      localPort: d.localPort,
      path: rawPath,
      prefix: match.prefix,
      via: d.httpVersion === '1.1' ? VIA_TOKEN : viaToken(d.httpVersion, VIA),
      requestId: s.requestIdUpstream ? this.requestId : null,
      httpVersion: d.httpVersion,
    })
    if (this.#plan !== null && this.#plan.hasAccess) return this.#access()
    this.#afterAccess()
  }

  // --- plugins -------------------------------------------------------------------------------------

  #kong(): RequestPdk {
    return (this.#pdk ??= new RequestPdk(this))
  }

  /**
   * Kong's collecting iterator: every plugin of the plan is collected (its configuration picked
   * with the consumer known at that point) so that later phases run it; access handlers stop
   * running once one has ended the request.
   */
  #access(): void {
    const entries = (this.#plan as PluginPlan).entries
    const https = this.#d.scheme === 'https'
    while (this.#accessIndex < entries.length) {
      const entry = entries[this.#accessIndex++] as PluginPlan['entries'][number]
      const inst = resolveEntry(entry, this.consumer?.id ?? null)
      if (inst === null || !(https ? inst.https : inst.http)) continue
      this.#collected.push(inst)
      if (inst.plugin.access === undefined || this.#exit !== null) continue
      if (!this.#invoke(inst, 'access')) return
    }
    this.#afterAccess()
  }

  #afterAccess(): void {
    if (this.#exit !== null) return this.#sendExit()
    if (this.#service === null) {
      this.#kongError(503, 'no Service found with those values')
      return
    }
    this.#attempt()
  }

  /**
   * Runs the global rewrite handlers (before routing) from the next one on, sync when possible,
   * then routes (or sends the exit one of them made).
   */
  #rewrite(): void {
    const list = this.#snapshot.rewrite
    while (this.#rewriteIndex < list.length) {
      const inst = list[this.#rewriteIndex++] as PluginInstance
      if (inst.plugin.rewrite === undefined || this.#exit !== null) continue
      if (!this.#invoke(inst, 'rewrite')) return
    }
    if (this.#exit !== null) this.#sendExit()
    else this.#route()
  }

  /**
   * Calls one rewrite/access handler. Returns true when it completed synchronously (go on);
   * false when the request continues later: its phase resumes after a returned promise settles,
   * or never (the handler threw and the 500 is sent).
   */
  #invoke(inst: PluginInstance, phase: 'rewrite' | 'access'): boolean {
    const kong = this.#kong()
    kong.enter(inst.name, inst.id)
    let result: void | Promise<void>
    try {
      const handler = phase === 'access' ? inst.plugin.access : inst.plugin.rewrite
      result = handler?.call(inst.plugin, kong, inst.conf)
    } catch (err) {
      this.#pluginFailed(inst, phase, err)
      return false
    }
    if (!(result instanceof Promise)) return true
    result.then(
      () => (this.#clientGone ? this.#finish() : phase === 'access' ? this.#access() : this.#rewrite()),
      (err: unknown) => this.#pluginFailed(inst, phase, err),
    )
    return false
  }

  /** Instances for the response and log phases: those collected in access, else the plan's defaults. */
  #responsePlugins(): readonly PluginInstance[] {
    if (this.#collected.length > 0 || this.#accessIndex > 0) return this.#collected
    const plan = this.#plan
    if (plan === null) return []
    const https = this.#d.scheme === 'https'
    for (const e of plan.entries) {
      const inst = resolveEntry(e, this.consumer?.id ?? null)
      if (inst !== null && (https ? inst.https : inst.http)) this.#collected.push(inst)
    }
    this.#accessIndex = -1 // collected once
    return this.#collected
  }

  /** header_filter over the response headers (proxied or generated); errors are logged, not fatal. */
  #headerFilter(): void {
    if (this.#plan === null || !this.#plan.hasHeaderFilter) return
    for (const inst of this.#responsePlugins()) {
      const handler = inst.plugin.headerFilter
      if (handler === undefined) continue
      const kong = this.#kong()
      kong.enter(inst.name, inst.id)
      try {
        handler.call(inst.plugin, kong, inst.conf)
      } catch (err) {
        this.#logPluginError(inst, 'header_filter', err)
      }
    }
  }

  #bodyFilter(chunk: Buffer, eof: boolean): Buffer {
    let out = chunk
    for (const inst of this.#responsePlugins()) {
      const handler = inst.plugin.bodyFilter
      if (handler === undefined) continue
      const kong = this.#kong()
      kong.enter(inst.name, inst.id)
      try {
        const replaced = handler.call(inst.plugin, kong, inst.conf, out, eof)
        if (replaced !== undefined) out = replaced
      } catch (err) {
        this.#logPluginError(inst, 'body_filter', err)
      }
    }
    return out
  }

  #logPhase(): void {
    if (this.#plan === null || !this.#plan.hasLog) return
    const list = this.#responsePlugins().filter((i) => i.plugin.log !== undefined)
    if (list.length === 0) return
    // Off the response path: the client already has its answer.
    setImmediate(() => {
      for (const inst of list) {
        const kong = this.#kong()
        kong.enter(inst.name, inst.id)
        try {
          const r = (inst.plugin.log as NonNullable<PluginInstance['plugin']['log']>).call(inst.plugin, kong, inst.conf)
          if (r instanceof Promise) r.catch((err: unknown) => this.#logPluginError(inst, 'log', err))
        } catch (err) {
          this.#logPluginError(inst, 'log', err)
        }
      }
    })
  }

  #logPluginError(inst: PluginInstance, phase: Phase, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err)
    const route = this.#match?.route
    const where = route === undefined ? '' : ` on route "${route.name ?? route.id}"`
    const stack = err instanceof Error && err.stack !== undefined ? err.stack.split('\n').slice(1, 3).map((l) => l.trim()).join(' <- ') : undefined
    this.#p.errorLog.error(`plugin "${inst.name}" (instance ${inst.id}) failed in the ${phase} phase${where}: ${message}`, this.#context({ ...(stack !== undefined ? { stack } : {}) }))
  }

  /** A plugin threw: Kong answers 500 with its body; the log names the plugin, phase and request. */
  #pluginFailed(inst: PluginInstance, phase: Phase, err: unknown): void {
    this.#logPluginError(inst, phase, err)
    if (this.#clientGone) return this.#finish()
    this.#exit = null
    this.#kongError(500, 'An unexpected error occurred')
  }

  #sendExit(): void {
    const exit = this.#exit as { status: number; headers: ResponseHeaders; body: string | Buffer | null }
    this.responseSource = 'exit'
    this.#respond(exit.status, exit.headers, exit.body)
  }

  // --- balancer / resolution -------------------------------------------------------------------

  #attempt(): void {
    const service = this.#service as CompiledService
    this.#tries++
    const balancers = this.#snapshot.balancers
    const balancer = balancers.size === 0 ? undefined : balancers.get(service.host.toLowerCase())
    if (balancer !== undefined) return this.#balance(balancer)
    if (service.hostIsIp) {
      this.#send(service.host)
      return
    }
    const resolved = this.#p.resolver.resolve(service.host)
    if (resolved instanceof Promise) {
      resolved.then((r) => this.#resolved(r), (err: unknown) => this.#resolved({ ok: false, name: service.host, message: String(err), code: 'ERROR', notFound: false, tried: '[]', nameservers: this.#p.resolver.nameservers }))
    } else this.#resolved(resolved)
  }

  #resolved(r: ResolveResult): void {
    if (this.#clientGone) return this.#finish()
    if (r.ok) return this.#send(r.address, r.port ?? undefined)
    const service = this.#service as CompiledService
    // Kong (runloop/balancer/init.lua): log the try list; a name error or an empty answer is
    // 503 `name resolution failed`, any other failure (SERVFAIL, timeout …) 500 with the error.
    this.#logError('error', `DNS resolution failed: ${r.message}. Tried: ${r.tried}`, {
      resolver: r.nameservers,
      hint: r.notFound
        ? `the name "${service.host}" of service ${this.#serviceLabel()} does not resolve: nameserver ${r.nameservers} answered ${r.code === 'EMPTY' ? 'that it has no record of the types tried' : 'that it does not exist'}; check it for typos, dns_hostsfile, and dns_resolver (or /etc/resolv.conf)`
        : `the nameserver could not answer for "${service.host}" (${r.code}): check that dns_resolver (or /etc/resolv.conf) names reachable, working nameservers (asked: ${r.nameservers})`,
    })
    if (r.notFound) this.#kongError(503, 'name resolution failed')
    else this.#kongError(500, `failed the initial dns/balancer resolve for '${service.host}' with: ${r.message}`)
  }

  /** Picks a target address from the upstream's balancer (never DNS for the upstream name). */
  #balance(b: Balancer): void {
    if (this.#clientGone) return this.#finish()
    const waiting = b.refresh()
    if (waiting !== null && b.peers.length === 0) {
      waiting.then(() => this.#balance(b), () => this.#balance(b))
      return
    }
    if (this.#hash === undefined) {
      const d = this.#d
      const q = d.url.indexOf('?')
      const h = b.hashFor({
        consumerId: this.consumer?.id ?? null,
        clientIp: this.clientIp,
        headers: d.headers,
        path: this.normalizedPath,
        query: q === -1 ? null : d.url.slice(q + 1),
        captures: this.#match?.captures ?? null,
      })
      this.#hash = h.hash
      this.#setCookie = h.setCookie
    }
    const picked = b.pick(this.#hash, this.#tried)
    if (!picked.ok) return this.#noPeer(b, picked.reason)
    const a = picked.address
    this.#balancer = b
    this.#address = a
    ;(this.#tried ??= new Set()).add(a)
    this.#setTargetHost(b, a)
    this.#send(a.ip, a.port, a.target.host, a)
  }

  /** Host header for a target (spec §2.3): the upstream's host_header, else the target's host. */
  #setTargetHost(b: Balancer, a: Address): void {
    if (this.#match?.route.preserve_host === true) return
    const service = this.#service as CompiledService
    const h = this.upstreamHeaders
    for (let i = 0; i < h.length; i += 2) {
      if (h[i] !== 'host') continue
      const current = h[i + 1]
      // A plugin that set its own Host keeps it.
      if (current !== service.hostHeader && current !== this.#targetHost) return
      const defaultPort = (service.protocol === 'http' && a.port === 80) || (service.protocol === 'https' && a.port === 443)
      const host = a.target.host.includes(':') ? `[${a.target.host}]` : a.target.host
      const value = b.upstream.host_header ?? (defaultPort ? host : `${host}:${a.port}`)
      h[i + 1] = value
      this.#targetHost = value
      return
    }
  }

  /** Nothing to pick: Kong's 503 on the first try, its balancer-phase line on retries. */
  #noPeer(b: Balancer, reason: PickFailure): void {
    const service = this.#service as CompiledService
    const states = b.targets.map((t) => `${t.host}:${t.port}${t.weight === 0 ? ' (weight 0)' : t.addresses.length === 0 ? ` (${t.dns})` : ''}`).join(', ')
    const hint = b.targets.length === 0
      ? `upstream "${b.upstream.name}" has no targets: add one with POST /upstreams/${b.upstream.name}/targets`
      : `upstream "${b.upstream.name}" has no healthy target with weight > 0 (${reason}; targets: ${states}): see GET /upstreams/${b.upstream.name}/health`
    if (this.#tries > 1) {
      this.#logError('error', `failed to retry the dns/balancer resolver for ${service.host}' with: failure to get a peer from the ring-balancer`, { hint })
      this.#nginxError(503)
      return
    }
    this.#logError('error', `failure to get a peer from the ring-balancer (${reason})`, { hint })
    this.#kongError(503, 'failure to get a peer from the ring-balancer')
  }

  /** The current attempt's address is done with (least-connections counts, latency EWMA). */
  #releasePeer(latencyMs: number | null): void {
    const a = this.#address
    if (a === null) return
    this.#address = null
    ;(this.#balancer as Balancer).release(a, latencyMs)
  }

  /** Sends the request to `address` (a balancer's `peer` when the service has an upstream entity). */
  #send(address: string, srvPort?: number, targetHost?: string, peer?: Address): void {
    const service = this.#service as CompiledService
    let target: UpstreamTarget
    if (srvPort === undefined && targetHost === undefined && this.#sni === null) target = serviceTarget(service, address)
    else {
      const servername = this.#sni ?? (targetHost !== undefined ? hostWithoutPort(this.#targetHost ?? targetHost) : service.sni)
      // An SRV answer gives the port (Kong ignores the service's port then).
      target = peer !== undefined ? peerTarget(service, peer, servername) : buildTarget(service, address, srvPort ?? service.port, targetHost ?? service.host, servername)
    }
    this.#target = target
    this.#attempts.push(target)
    if (this.#sentAt === 0) this.#sentAt = performance.now()
    const d = this.#d
    const upgrade = d.headers['upgrade']
    this.#p.upstream.send(target, {
      method: this.upstreamMethod,
      path: this.upstreamQuery === null ? this.upstreamPath : `${this.upstreamPath}?${this.upstreamQuery}`,
      // Values made from configuration may hold text node and undici refuse (see header-values.ts).
      headers: wireHeaderList(this.upstreamHeaders),
      body: this.upstreamBody ?? d.body,
      // Kong forwards only WebSocket upgrades; others (h2c …) go as plain requests.
      upgrade: typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket' && isUpgradeRequest(d.headers['connection']) ? upgrade : null,
    }, this)
  }

  // --- upstream sink -----------------------------------------------------------------------------

  onSent(): void {}

  onHeaders(status: number, raw: HeaderList, control: UpstreamControl): void {
    if (this.#clientGone) {
      control.abort()
      return
    }
    this.#control = control
    this.responseStatus = status
    this.#headersAt = performance.now()
    this.upstreamStatus = status
    if (this.#address !== null) {
      // Passive health checks see the status; the latency algorithm the time to the headers. The
      // address stays counted as busy until the body is through (#finish).
      const a = this.#address
      const b = this.#balancer as Balancer
      b.reportStatus(a, status)
      b.release(a, this.#headersAt - this.#sentAt)
      a.active++
    }
    this.#bodyLeft = contentLength(raw)
    const list = this.#proxiedHeaders(status, raw, false)
    const plan = this.#plan
    if (plan === null) return this.#d.writeHead(status, list)
    // Plugins read and change the list (objects are made only if one asks); the list as received
    // stays as it is for kong.service.response.
    this.#receivedList = list
    const resp = ResponseHeaderSet.ofList(list)
    this.#responseHeadersAre(resp)
    this.#headerFilter()
    this.#d.writeHead(this.responseStatus, resp.forWrite())
  }

  onData(chunk: Buffer): void {
    if (this.#plan !== null && this.#plan.hasBodyFilter) {
      chunk = this.#bodyFilter(chunk, false)
      if (chunk.length === 0) return
    } else if (this.#bodyLeft > 0 && (this.#bodyLeft -= chunk.length) === 0) {
      // The last chunk of a body of known length: the end follows at once (the upstream client
      // reports it in the same parse), and ending with the chunk sends headers and body in one
      // write without a deferred flush.
      this.#bytes += chunk.length
      this.#lastChunk = chunk
      return
    }
    this.#bytes += chunk.length
    if (!this.#d.write(chunk)) {
      const control = this.#control
      if (control !== null) {
        control.pause()
        this.#d.onDrain(() => control.resume())
      }
    }
  }

  onEnd(): void {
    if (this.#plan !== null && this.#plan.hasBodyFilter) {
      const last = this.#bodyFilter(Buffer.alloc(0), true)
      if (last.length > 0) {
        this.#bytes += last.length
        this.#d.write(last)
      }
    }
    this.#d.end(this.#lastChunk)
    this.#finish()
  }

  onUpgrade(status: number, raw: HeaderList, socket: Duplex): void {
    if (this.#clientGone) {
      socket.destroy()
      return
    }
    this.responseStatus = status
    this.#headersAt = performance.now()
    // 101 keeps Connection/Upgrade: they are the switch itself.
    const headers = headerObject(this.#proxiedHeaders(status, raw, true))
    const d = this.#d as Downstream & { upgradeTo?: (status: number, headers: ResponseHeaders, upstream: Duplex) => void }
    if (d.upgradeTo === undefined) {
      socket.destroy()
      this.#kongError(502, nginxErrorMessage(502))
      return
    }
    d.upgradeTo(status, headers, socket)
    this.#finish()
  }

  onError(error: Error, info: UpstreamErrorInfo): void {
    if (this.#clientGone) return this.#finish()
    const t = this.#target as UpstreamTarget
    const failure = classifyUpstreamFailure(error, info, {
      scheme: t.scheme,
      hostname: t.hostname,
      address: t.address,
      port: t.port,
      connectTimeout: t.connectTimeout,
      readTimeout: t.readTimeout,
      writeTimeout: t.writeTimeout,
      keepaliveIdleTimeout: this.#p.settings.keepaliveIdleTimeout,
      maxHeaderSize: this.#p.settings.maxHeaderSize,
      method: this.#d.method,
      hasBody: this.#d.body !== null,
    })
    if (this.#d.headersSent) {
      // Mid-body failure: the status is gone already; cut the client connection as nginx does.
      this.#logFailure(failure, false)
      this.#d.destroy()
      this.#finish()
      return
    }
    const service = this.#service as CompiledService
    const resendable = isIdempotent(this.#d.method) && this.#d.body === null
    const failedAddress = this.#address
    if (failedAddress !== null) {
      this.#releasePeer(null)
      // Passive health checks: a timeout or a TCP-level failure of this target (not a stale keep-alive).
      if (failure.kind !== 'stale_keepalive') {
        ;(this.#balancer as Balancer).report(failedAddress, failure.health === 'timeout' ? { kind: 'timeout', detail: failure.log } : { kind: 'tcp_failure', detail: failure.log })
      }
    }
    // nginx: an error on a cached (keep-alive) connection does not use up a try (`u->peer.tries++`
    // in ngx_http_upstream_next), so a stale connection is retried even with retries=0. Bounded:
    // the adapter's "reused" flag is a heuristic (bytes read on the socket), and the connection
    // that replaces a stale one is normally fresh.
    const free = failure.kind === 'stale_keepalive' && resendable && this.#freeRetries < 2
    if (free) {
      this.#freeRetries++
      this.#tries--
    }
    const retry =
      this.#tries <= service.retries &&
      (failure.beforeSend ||
        (resendable && (failure.kind === 'stale_keepalive' || failure.kind === 'reset' || failure.kind === 'premature_close' || failure.kind === 'read_timeout')))
    this.#logFailure(failure, retry, free)
    if (retry) {
      this.#attempt()
      return
    }
    this.#nginxError(failure.status)
  }

  /**
   * Kong's header_filter for proxied responses: hop-by-hop headers out, `Via` appended (the
   * version is the upstream protocol's, HTTP/1.1), `Server` only when the upstream sent none,
   * latencies, request id.
   */
  #proxiedHeaders(status: number, raw: HeaderList, switching: boolean): HeaderList {
    const s = this.#p.settings
    const out = forwardedResponseHeaders(raw, switching, s.viaHeader ? VIA_TOKEN : null, s.serverHeader ? SERVER : null)
    if (s.upstreamLatency) out.push('x-kong-upstream-latency', String(Math.round(this.#headersAt - this.#sentAt)))
    if (s.proxyLatency) out.push('x-kong-proxy-latency', String(Math.round(this.#sentAt - this.startedAt)))
    if (s.upstreamStatus) out.push('x-kong-upstream-status', String(status))
    if (s.requestIdDownstream) out.push('x-kong-request-id', this.requestId)
    if (this.#setCookie !== null) out.push('set-cookie', this.#setCookie)
    const debug = this.#debugHeaders()
    if (debug !== null) out.push(...debug)
    return out
  }

  // --- responses the gateway makes itself ----------------------------------------------------------

  #baseHeaders(contentType: string | null): ResponseHeaders {
    return gatewayResponseHeaders(this.#p.settings, contentType, performance.now() - this.startedAt, this.requestId)
  }

  /** `kong.response.error`: negotiated on Accept, JSON by default. */
  #kongError(status: number, message: string): void {
    const accept = this.#d.headers['accept']
    const r = renderError(negotiateKongError(typeof accept === 'string' ? accept : undefined), message, this.requestId)
    this.#respond(status, this.#baseHeaders(r.contentType), r.body)
  }

  /**
   * nginx-level errors (`/kong_error_handler`): Accept, else Content-Type, else error_default_type;
   * nginx's 494 is answered as 400 with its own message. `close`: nginx ends the connection after it.
   */
  #nginxError(status: number, close = false): void {
    const h = this.#d.headers
    const accept = h['accept']
    const ct = h['content-type']
    const mime = negotiateNginxError(typeof accept === 'string' ? accept : undefined, typeof ct === 'string' ? ct : undefined, this.#p.settings.errorDefaultType)
    const r = renderError(mime, nginxErrorMessage(status), this.requestId)
    const headers = this.#baseHeaders(r.contentType)
    if (close) headers['connection'] = 'close'
    this.#respond(status === 494 ? 400 : status, headers, r.body)
  }

  /** A request nginx refuses before Kong's phases (see `Proxy.reject`): no route, no plugins. */
  reject(status: number): void {
    const d = this.#d
    const s = this.#p.settings
    this.trusted = s.realIp.trusted.has(d.remoteAddress)
    this.clientIp = realClientIp(d.remoteAddress, d.headers, s.realIp)
    d.onClose(() => this.#onClientClose())
    if (status === 413) this.#p.errorLog.error(`client intended to send too large body: ${String(d.headers['content-length'])} bytes (nginx_http_client_max_body_size=${s.clientMaxBodySize} bytes)`, this.#context({}))
    this.#nginxError(status, true)
  }

  #httpsRedirect(code: number): void {
    if (code === 426) {
      const h = this.#baseHeaders(null)
      h['connection'] = 'Upgrade'
      h['upgrade'] = 'TLS/1.2, HTTP/1.1'
      const accept = this.#d.headers['accept']
      const r = renderError(negotiateKongError(typeof accept === 'string' ? accept : undefined), 'Please use HTTPS protocol', this.requestId)
      h['content-type'] = r.contentType
      this.#respond(426, h, r.body)
      return
    }
    // Kong: `https://` .. forwarded_host (trusted X-Forwarded-Host, else $host) .. request_uri
    const h = this.#baseHeaders(null)
    h['location'] = `https://${forwardedHost(this.#d.headers, this.trusted)}${this.#d.url}`
    this.#respond(code, h, null)
  }

  #respond(status: number, headers: ResponseHeaders, body: string | Buffer | null): void {
    this.responseStatus = status
    if (this.responseSource === 'service') this.responseSource = 'error'
    const debug = this.#debugHeaders()
    if (debug !== null) for (let i = 0; i < debug.length; i += 2) headers[debug[i] as string] = debug[i + 1] as string
    if (this.#plan !== null) {
      this.#responseHeadersAre(ResponseHeaderSet.ofObject(headers))
      this.#headerFilter()
      status = this.responseStatus
      if (this.#plan.hasBodyFilter) body = this.#bodyFilter(body === null ? Buffer.alloc(0) : Buffer.from(body), true)
    }
    const head = this.#d.method === 'HEAD'
    this.#bytes = body === null || head ? 0 : Buffer.byteLength(body)
    // HEAD: the adapter sends the headers GET would get (Content-Length included), no body.
    this.#d.respond(status, headers, body)
    this.#finish()
  }

  /** Kong-Debug's route and service headers as `[name, value …]`; null when not asked for. */
  #debugHeaders(): string[] | null {
    // Kong tests `$http_kong_debug`: any value, even `0`, turns them on.
    if (!this.#p.settings.allowDebugHeader || this.#d.headers['kong-debug'] === undefined || this.#match === null) return null
    const route = this.#match.route
    const out = ['kong-route-id', route.id]
    if (route.name !== null) out.push('kong-route-name', route.name)
    const service = route.compiledService
    if (service !== null) {
      out.push('kong-service-id', service.id)
      if (service.name !== null) out.push('kong-service-name', service.name)
    }
    return out
  }

  // --- logging -----------------------------------------------------------------------------------

  #serviceLabel(): string {
    const s = this.#service
    if (s === null) return ''
    return s.name !== null ? `"${s.name}"` : s.id
  }

  #context(extra: LogContext): LogContext {
    const d = this.#d
    const t = this.#target
    const host = d.headers['host']
    return {
      connection: d.connectionId,
      client: this.clientIp,
      request: `${d.method} ${d.url} HTTP/${d.httpVersion}`,
      ...(t !== null
        ? {
            upstream: `${t.scheme}://${t.address.includes(':') ? `[${t.address}]` : t.address}:${t.port}${this.upstreamPath}${this.upstreamQuery === null ? '' : `?${this.upstreamQuery}`}`,
            upstream_host: `${t.hostname}:${t.port}`,
          }
        : {}),
      ...(typeof host === 'string' ? { host } : {}),
      request_id: this.requestId,
      ...extra,
    }
  }

  #logError(level: 'error' | 'warn', message: string, extra: LogContext): void {
    this.#p.errorLog.log(level, message, this.#context(extra))
  }

  #logFailure(failure: UpstreamFailure, retrying: boolean, free = false): void {
    const log = this.#p.errorLog
    if (!log.enabled('error')) return
    const suffix = free ? ' (reused keep-alive connection; retrying on a new connection)' : retrying ? ` (attempt ${this.#tries}; retrying)` : ''
    const ctx = this.#context({ hint: failure.hint })
    const t = this.#target as UpstreamTarget
    if (failure.kind === 'premature_close' && t.scheme === 'http' && !this.#d.headersSent) {
      // Confirm the most common cause before saying it: try a TLS handshake with the upstream.
      void probeSpeaksTls(t.address, t.port, t.servername).then((tls) => {
        if (tls) ctx.hint = `${t.hostname}:${t.port} speaks TLS (a TLS handshake with it succeeded) but the service's protocol is http: set protocol=https (or url=https://…)`
        log.error(failure.log + suffix, ctx)
      })
      return
    }
    log.error(failure.log + suffix, ctx)
  }

  #onClientClose(): void {
    if (this.#finished) return
    this.#clientGone = true
    this.#control?.abort()
    const refused = this.#d.bodyRefused
    if (refused !== undefined) {
      if (this.responseStatus === 0) this.responseStatus = refused
      // nginx's words: the timeout at info, the oversized body at error.
      if (refused === 408) this.#p.errorLog.log('info', 'client timed out while reading client request body', this.#context({}))
      else this.#p.errorLog.error(`client intended to send too large chunked body: more than nginx_http_client_max_body_size=${this.#p.settings.clientMaxBodySize} bytes`, this.#context({}))
    }
    if (this.responseStatus === 0) this.responseStatus = 499
    this.#finish()
  }

  #finish(): void {
    if (this.#finished) return
    this.#finished = true
    this.#releasePeer(null)
    const p = this.#p
    p.stats.activeRequests--
    const d = this.#d
    if (p.accessLog.enabled) {
      const h = d.headers
      p.accessLog.write({
        remoteAddr: this.clientIp,
        method: d.method,
        url: d.url,
        httpVersion: d.httpVersion,
        status: this.responseStatus,
        bytesSent: this.#bytes,
        referer: typeof h['referer'] === 'string' ? h['referer'] : undefined,
        userAgent: typeof h['user-agent'] === 'string' ? h['user-agent'] : undefined,
        requestId: this.requestId,
      })
    }
    this.#logPhase()
  }
}

/**
 * Addresses remembered per service: a DNS name answers with a handful at a time; one whose
 * answers keep changing would otherwise add targets until the next configuration change.
 */
const MAX_SERVICE_TARGETS = 64

/** The target for a service's own host resolved to `address`: built once per service and address. */
export function serviceTarget(service: CompiledService, address: string): UpstreamTarget {
  let t = service.targets.get(address)
  if (t === undefined) {
    if (service.targets.size >= MAX_SERVICE_TARGETS) service.targets.clear()
    t = buildTarget(service, address, service.port, service.host, service.sni)
    service.targets.set(address, t)
  }
  return t
}

/**
 * The target for a balancer address, built once per service and address: the common request
 * reuses it (and so its connection pool, found without building a key). A different SNI (a route
 * that preserves the client's Host) builds and remembers a new one.
 */
export function peerTarget(service: CompiledService, peer: Address, servername: string): UpstreamTarget {
  let t = service.peerTargets.get(peer)
  if (t === undefined || t.servername !== servername) {
    t = buildTarget(service, peer.ip, peer.port, peer.target.host, servername)
    service.peerTargets.set(peer, t)
  }
  return t
}

function buildTarget(service: CompiledService, address: string, port: number, hostname: string, servername: string): UpstreamTarget {
  return {
    scheme: service.protocol,
    address,
    port,
    hostname,
    connectTimeout: service.connect_timeout,
    readTimeout: service.read_timeout,
    writeTimeout: service.write_timeout,
    tlsVerify: service.tls_verify,
    servername,
  }
}

/** Kong's default messages for `kong.response.error` without one (`kong/tools/http.lua`). */
function defaultExitMessage(status: number): string {
  switch (status) {
    case 401: return 'Unauthorized'
    case 404: return 'Not found'
    case 405: return 'Method not allowed'
    case 500: return 'An unexpected error occurred'
    case 502: return 'Bad gateway'
    case 503: return 'Service unavailable'
    default: return nginxErrorMessage(status)
  }
}

function isUpgradeRequest(connection: string | string[] | undefined): boolean {
  return typeof connection === 'string' && /\bupgrade\b/i.test(connection)
}
