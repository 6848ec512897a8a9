/**
 * The proxy runloop: one client request from match to log, as Kong's phases run it. It reads as
 * docs/lifecycle.md: accept → rewrite → route → access → upstream attempt(s) → header_filter →
 * body_filter → log, with the branches where the gateway answers itself. Each step's work lives
 * in its module (plugin-runner, upstream-attempt, local-response, request-log); the request's
 * state is one object, the {@link RequestContext} this `Exchange` extends. It sees the client
 * only through {@link Downstream} and the upstream only through {@link UpstreamClient};
 * everything that does not depend on the request was decided when the configuration snapshot
 * was built.
 */
import type { Duplex } from 'node:stream'
import * as E from '../errors/registry.js'
import type { PluginInstance } from '../plugins/plan.js'
import type { Phase } from '../plugins/types.js'
import { escapeUpstreamPath, httpsRedirectStatus, joinUpstreamPath, normalizePath } from '../router/index.js'
import type { ConfigSnapshot } from '../snapshot/snapshot.js'
import type { AccessLog } from '../observability/access-log.js'
import type { ErrorLog } from '../observability/error-log.js'
import { hostWithoutPort, type RealIpSettings, realClientIp, upstreamHeaders, viaToken } from './forwarding.js'
import { proxiedHeaders, VIA, VIA_TOKEN } from './gateway-headers.js'
import { grpcsRequired, httpsRedirect, localError, sendExit, upgradeRequired } from './local-response.js'
import { grpcRouteCheck } from './grpc.js'
import { bodyFilter, headerFilter, logPhase, runAccess, runRewrite } from './plugin-runner.js'
import { RequestContext } from './request-context.js'
import { logError, logPluginError, logContext, logUpstreamStatus, writeAccessLog } from './request-log.js'
import type { HostResolver } from './resolver.js'
import { contentLength, headerObject, ResponseHeaderSet } from '../codec/response-headers.js'
import { wireHeaderList } from '../codec/header-values.js'
import { attempt, attemptAnswered, attemptFailed, releasePeer } from './upstream-attempt.js'
import type { Downstream, HeaderList, ResponseHeaders, UpstreamClient, UpstreamControl, UpstreamErrorInfo, UpstreamSink } from './types.js'

export { gatewayResponseHeaders } from './gateway-headers.js'

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

export class Proxy {
  #snapshot: ConfigSnapshot
  readonly settings: ProxySettings
  readonly upstream: UpstreamClient
  readonly resolver: HostResolver
  readonly errorLog: ErrorLog
  readonly accessLog: AccessLog
  readonly stats: ProxyStats = { totalRequests: 0, activeRequests: 0 }

  constructor(opts: {
    snapshot: ConfigSnapshot
    settings: ProxySettings
    upstream: UpstreamClient
    resolver: HostResolver
    errorLog: ErrorLog
    accessLog: AccessLog
  }) {
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
 * One client request: the phase sequence over its context. It is also the sink of its upstream
 * attempts (so an attempt costs no extra closures).
 */
class Exchange extends RequestContext implements UpstreamSink {
  /** 1. accept: the real client IP, the close watch; then rewrite (global plugins) or routing. */
  run(): void {
    this.#accept()
    if (this.snapshot.rewrite.length === 0) return this.#route()
    // Global plugins' rewrite handlers run before routing (Kong's rewrite phase); if one ends the
    // request, the global plugins' response and log phases still run.
    this.plan = this.snapshot.globalPlan
    runRewrite(this)
  }

  #accept(): void {
    const d = this.d
    const s = this.proxy.settings
    this.trusted = s.realIp.trusted.has(d.remoteAddress)
    this.clientIp = realClientIp(d.remoteAddress, d.headers, s.realIp)
    d.onClose(() => this.#onClientClose())
  }

  /** 2. rewrite is over: a plugin's exit, else routing. */
  afterRewrite(): void {
    if (this.exitResponse !== null) sendExit(this)
    else this.#route()
  }

  /**
   * 3. route: match, HTTPS-only routes, the upstream path and headers; then access (the route's
   * plugins) or straight to the upstream.
   */
  #route(): void {
    const d = this.d
    const url = d.url
    const q = url.indexOf('?')
    const rawPath = q === -1 ? url : url.slice(0, q)
    const host = d.headers['host']
    const match = this.snapshot.router.match({
      method: d.method,
      scheme: d.scheme,
      host: typeof host === 'string' ? host : '',
      port: d.localPort,
      path: rawPath,
      // Kong's router sees every value of a repeated header.
      headers: this.headers,
      sni: d.sni,
    })
    if (match === null) {
      this.plan = this.snapshot.globalPlan
      // nginx refuses a path with broken percent-encoding before any routing happens.
      localError(this, normalizePath(rawPath) === null ? E.BAD_REQUEST : E.NO_ROUTE)
      return
    }
    this.match = match
    const route = match.route
    this.plan = route.plan
    // Kong compares its `forwarded_proto` as is: a trusted peer's X-Forwarded-Proto, else the scheme.
    const xfp = this.trusted ? d.headers['x-forwarded-proto'] : undefined
    const forwardedProto = typeof xfp === 'string' ? xfp : d.scheme
    if (d.scheme === 'http') {
      const redirect = httpsRedirectStatus(route, forwardedProto)
      if (redirect !== null) return httpsRedirect(this, redirect, E.HTTPS_REQUIRED.message)
    }
    const grpc = grpcRouteCheck(route.protocols, d, forwardedProto)
    if (grpc !== null) {
      if (grpc === 'http2') return upgradeRequired(this, E.GRPC_HTTP2_REQUIRED.message, 'HTTP/2')
      return grpc === 'type' ? localError(this, E.GRPC_NOT_GRPC) : grpcsRequired(this)
    }
    const service = route.compiledService
    this.compiledService = service
    if (service !== null) {
      this.upstreamPath = escapeUpstreamPath(joinUpstreamPath(service.path, match))
      this.upstreamQuery = q === -1 ? null : url.slice(q + 1)
    }
    const preserved = route.preserve_host && typeof host === 'string'
    // Kong's proxy_ssl_name is the Host sent upstream: the client's when preserve_host is on.
    if (preserved) this.sni = hostWithoutPort(host)
    this.upstreamHeaders = upstreamHeaders({
      rawHeaders: d.rawHeaders,
      headers: d.headers,
      hostHeader: preserved ? host : (service?.hostHeader ?? ''),
      peer: d.remoteAddress,
      clientIp: this.clientIp,
      trusted: this.trusted,
      scheme: d.scheme,
      localPort: d.localPort,
      path: rawPath,
      prefix: match.prefix,
      via: d.httpVersion === '1.1' ? VIA_TOKEN : viaToken(d.httpVersion, VIA),
      requestId: this.proxy.settings.requestIdUpstream ? this.requestId : null,
      httpVersion: d.httpVersion,
    })
    // 4. access: the route's plugins, collected for the later phases.
    if (this.plan !== null && this.plan.hasAccess) return runAccess(this)
    this.afterAccess()
  }

  /** access is over: a plugin's exit, a route without service, else 5. the upstream attempt(s). */
  afterAccess(): void {
    if (this.exitResponse !== null) return sendExit(this)
    if (this.compiledService === null) return localError(this, E.NO_SERVICE)
    attempt(this)
  }

  /** A rewrite/access handler threw: Kong answers 500 with its body; the log names the plugin. */
  pluginFailed(inst: PluginInstance, phase: Phase, err: unknown): void {
    logPluginError(this, inst, phase, err)
    if (this.clientGone) return this.finish()
    this.exitResponse = null
    localError(this, E.UNEXPECTED)
  }

  // --- 6. the upstream's response (UpstreamSink): header_filter, body_filter ------------------------

  onSent(): void {}

  onHeaders(status: number, raw: HeaderList, control: UpstreamControl): void {
    if (this.clientGone) {
      control.abort()
      return
    }
    this.control = control
    this.responseStatus = status
    this.headersAt = performance.now()
    this.upstreamStatus = status
    attemptAnswered(this, status)
    if (status >= 500) logUpstreamStatus(this, status, raw)
    this.bodyLeft = contentLength(raw)
    const list = proxiedHeaders(this, status, raw, false)
    // Without plugins every value is the upstream's (its parser refused what could not be sent
    // back) or the gateway's own, sendable by construction (proxiedHeaders): no check per header.
    if (this.plan === null) return this.d.writeHead(status, list)
    // Plugins read and change the list (objects are made only if one asks); the list as received
    // stays as it is for kong.service.response.
    this.receivedList = list
    const resp = ResponseHeaderSet.ofList(list)
    this.responseHeadersAre(resp)
    headerFilter(this)
    // Plugins may have set values from configuration or the request (see codec/header-values.ts).
    const out = resp.forWrite()
    this.d.writeHead(this.responseStatus, Array.isArray(out) ? wireHeaderList(out) : out)
  }

  onData(chunk: Buffer): void {
    if (this.plan !== null && this.plan.hasBodyFilter) {
      chunk = bodyFilter(this, chunk, false)
      if (chunk.length === 0) return
    } else if (this.bodyLeft > 0 && (this.bodyLeft -= chunk.length) === 0) {
      // The last chunk of a body of known length: the end follows at once (the upstream client
      // reports it in the same parse), and ending with the chunk sends headers and body in one
      // write without a deferred flush.
      this.bytes += chunk.length
      this.lastChunk = chunk
      return
    }
    this.bytes += chunk.length
    if (!this.d.write(chunk)) {
      const control = this.control
      if (control !== null) {
        control.pause()
        this.d.onDrain(() => control.resume())
      }
    }
  }

  onEnd(trailers?: HeaderList | null): void {
    if (this.plan !== null && this.plan.hasBodyFilter) {
      const last = bodyFilter(this, Buffer.alloc(0), true)
      if (last.length > 0) {
        this.bytes += last.length
        this.d.write(last)
      }
    }
    this.d.end(this.lastChunk, trailers)
    this.finish()
  }

  onUpgrade(status: number, raw: HeaderList, socket: Duplex): void {
    if (this.clientGone) {
      socket.destroy()
      return
    }
    this.responseStatus = status
    this.headersAt = performance.now()
    // 101 keeps Connection/Upgrade: they are the switch itself.
    const headers = headerObject(proxiedHeaders(this, status, raw, true))
    const d = this.d as Downstream & { upgradeTo?: (status: number, headers: ResponseHeaders, upstream: Duplex) => void }
    if (d.upgradeTo === undefined) {
      socket.destroy()
      localError(this, E.UPGRADE_UNSUPPORTED)
      return
    }
    d.upgradeTo(status, headers, socket)
    this.finish()
  }

  /** The attempt failed: retried, or answered 502/504 (see upstream-attempt.ts). */
  onError(error: Error, info: UpstreamErrorInfo): void {
    if (this.clientGone) return this.finish()
    attemptFailed(this, error, info)
  }

  // --- requests that end early ---------------------------------------------------------------------

  /** A request nginx refuses before Kong's phases (see `Proxy.reject`): no route, no plugins. */
  reject(status: number): void {
    this.#accept()
    if (status === 413)
      this.proxy.errorLog.error(
        `client intended to send too large body: ${String(this.d.headers['content-length'])} bytes (nginx_http_client_max_body_size=${this.proxy.settings.clientMaxBodySize} bytes)`,
        logContext(this, {}),
      )
    localError(this, E.refusal(status), undefined, true)
  }

  /** The client went away before the response ended: the attempt is aborted, the request logged (499). */
  #onClientClose(): void {
    if (this.finished) return
    this.clientGone = true
    this.control?.abort()
    const refused = this.d.bodyRefused
    if (refused !== undefined) {
      if (this.responseStatus === 0) this.responseStatus = refused
      // nginx's words: the timeout at info, the oversized body at error.
      if (refused === 408) logError(this, 'info', 'client timed out while reading client request body', {})
      else
        this.proxy.errorLog.error(
          `client intended to send too large chunked body: more than nginx_http_client_max_body_size=${this.proxy.settings.clientMaxBodySize} bytes`,
          logContext(this, {}),
        )
    }
    if (this.responseStatus === 0) this.responseStatus = 499
    this.finish()
  }

  // --- 7. log ----------------------------------------------------------------------------------------

  finish(): void {
    if (this.finished) return
    this.finished = true
    releasePeer(this, null)
    this.proxy.stats.activeRequests--
    writeAccessLog(this)
    logPhase(this)
  }
}
