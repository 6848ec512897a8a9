/**
 * The response headers the gateway adds (Kong's header_filter, core part): to a proxied response
 * (hop-by-hop out, `Via`, `Server`, latencies, request id) and to a response it makes itself;
 * plus the Kong-Debug headers naming the matched route and service.
 */
import { PRODUCT, VERSION } from '../version.js'
import { viaToken } from './forwarding.js'
import type { RequestContext } from './request-context.js'
import { forwardedResponseHeaders } from '../codec/response-headers.js'
import { wireValue } from '../codec/header-values.js'
import type { ProxySettings } from './runloop.js'
import type { HeaderList, ResponseHeaders } from './types.js'

export const SERVER = `${PRODUCT}/${VERSION}`
export const VIA = `${PRODUCT}/${VERSION}`

/**
 * This gateway's `Via` token for HTTP/1.1: in every proxied response (the upstream protocol's
 * version) and in the upstream request of an HTTP/1.1 client (the client's version).
 */
export const VIA_TOKEN = viaToken('1.1', VIA)
/** The `Via` token of a response from a grpc/grpcs upstream (Kong: proxy HTTP version `2`). */
const VIA_TOKEN_H2 = viaToken('2', VIA)

/**
 * The headers every response the gateway makes itself carries (Kong's header_filter for a
 * response that did not come from an upstream), with `content-type` when one is given.
 */
export function gatewayResponseHeaders(
  s: ProxySettings,
  contentType: string | null,
  latencyMs: number,
  requestId: string,
): ResponseHeaders {
  const h: ResponseHeaders = {}
  if (contentType !== null && contentType !== '') h['content-type'] = contentType
  if (s.serverHeader) h['server'] = SERVER
  if (s.responseLatency) h['x-kong-response-latency'] = String(Math.round(latencyMs))
  if (s.requestIdDownstream) h['x-kong-request-id'] = requestId
  return h
}

/**
 * The headers of a response the gateway makes itself after it started proxying (a refused or
 * timed-out upstream: Kong's `KONG_PROXIED` is set once the access phase is done): `Via`,
 * `Server`, the upstream and proxy latencies and the request id, and no response latency, as
 * Kong's header_filter gives its 502/504 pages.
 */
export function proxiedErrorHeaders(ctx: RequestContext, contentType: string | null): ResponseHeaders {
  const s = ctx.proxy.settings
  const h: ResponseHeaders = {}
  if (contentType !== null && contentType !== '') h['content-type'] = contentType
  if (s.upstreamLatency) h['x-kong-upstream-latency'] = String(Math.round(performance.now() - ctx.sentAt))
  if (s.proxyLatency) h['x-kong-proxy-latency'] = String(Math.round(ctx.sentAt - ctx.startedAt))
  const scheme = ctx.target?.scheme
  if (s.viaHeader) h['via'] = scheme === 'grpc' || scheme === 'grpcs' ? VIA_TOKEN_H2 : VIA_TOKEN
  if (s.serverHeader) h['server'] = SERVER
  if (s.requestIdDownstream) h['x-kong-request-id'] = ctx.requestId
  return h
}

/**
 * Kong's header_filter for proxied responses: hop-by-hop headers out, `Via` appended (the
 * version is the upstream protocol's, HTTP/1.1), `Server` only when the upstream sent none,
 * latencies, request id. Every value of the list is sendable (codec/header-values.ts): the
 * upstream's passed its parser, the rest are constants, numbers, ids or made sendable here.
 */
export function proxiedHeaders(ctx: RequestContext, status: number, raw: HeaderList, switching: boolean): HeaderList {
  const s = ctx.proxy.settings
  const scheme = ctx.target?.scheme
  const via = scheme === 'grpc' || scheme === 'grpcs' ? VIA_TOKEN_H2 : VIA_TOKEN
  const te = ctx.d.headers['te']
  const out = forwardedResponseHeaders(
    raw,
    switching,
    s.viaHeader ? via : null,
    s.serverHeader ? SERVER : null,
    typeof te === 'string' && /(?:^|,)\s*trailers\s*(?:;|,|$)/i.test(te),
  )
  if (s.upstreamLatency) out.push('x-kong-upstream-latency', String(Math.round(ctx.headersAt - ctx.sentAt)))
  if (s.proxyLatency) out.push('x-kong-proxy-latency', String(Math.round(ctx.sentAt - ctx.startedAt)))
  if (s.upstreamStatus) out.push('x-kong-upstream-status', String(status))
  if (s.requestIdDownstream) out.push('x-kong-request-id', ctx.requestId)
  // The hash cookie's name and path come from the upstream entity.
  if (ctx.setCookie !== null) out.push('set-cookie', wireValue(ctx.setCookie))
  const debug = debugHeaders(ctx)
  if (debug !== null) out.push(...debug)
  return out
}

/** Kong-Debug's route and service headers as `[name, value …]`; null when not asked for. */
export function debugHeaders(ctx: RequestContext): string[] | null {
  // Kong tests `$http_kong_debug`: any value, even `0`, turns them on.
  if (!ctx.proxy.settings.allowDebugHeader || ctx.d.headers['kong-debug'] === undefined || ctx.match === null) return null
  const route = ctx.match.route
  const out = ['kong-route-id', route.id]
  // Names are text (any Unicode): made sendable here, so that the list stays sendable as a whole.
  if (route.name !== null) out.push('kong-route-name', wireValue(route.name))
  const service = route.compiledService
  if (service !== null) {
    out.push('kong-service-id', service.id)
    if (service.name !== null) out.push('kong-service-name', wireValue(service.name))
  }
  return out
}
