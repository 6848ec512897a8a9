/**
 * Responses the gateway makes itself: the errors of the registry (no route, no service, DNS and
 * balancer failures, failed upstream attempts, plugin failures, requests nginx refuses), the
 * HTTPS redirect, and a plugin's exit. They go through header_filter and body_filter like a
 * proxied response, then the request ends.
 */
import type { GatewayError } from '../errors/registry.js'
import { negotiateKongError, negotiateNginxError, renderError } from './error-response.js'
import { forwardedHost } from './forwarding.js'
import { debugHeaders } from './gateway-headers.js'
import { bodyFilter, headerFilter } from './plugin-runner.js'
import type { ExitResponse, RequestContext } from './request-context.js'
import { ResponseHeaderSet } from '../codec/response-headers.js'
import { firstRawValue } from '../codec/request-header-values.js'
import { grpcError, grpcSend, isGrpcRequest } from './grpc.js'
import type { ResponseHeaders } from './types.js'

/**
 * Answers with an error of the registry (`message`: its message with the request's values filled
 * in). Errors Kong raises (`kong.response.error`) are negotiated on Accept, JSON by default;
 * nginx-level ones (`/kong_error_handler`) on Accept, else Content-Type, else error_default_type.
 * `close`: nginx ends the connection after it.
 */
export function localError(ctx: RequestContext, e: GatewayError<never>, message = e.message, close = false): void {
  const h = ctx.d.headers
  // A repeated Accept: kong.response.error negotiates over all its values (node's joined string
  // splits the same way); the nginx error handler (kong/error_handlers.lua) reads it with
  // kong.request.get_header, which gives the first value only. Content-Type: node keeps the first.
  const accept = h['accept']
  const firstAccept = e.raisedBy === 'kong' || typeof accept !== 'string' ? accept : firstRawValue(ctx.d.rawHeaders, 'accept')
  if (isGrpcRequest(ctx.d)) {
    // Kong on a gRPC request: kong.response.error answers with the status's grpc-message; the
    // nginx error handler (when Accept, else Content-Type, is gRPC) with the message.
    const headers = ctx.baseHeaders(null)
    const source = typeof firstAccept === 'string' ? firstAccept : String(h['content-type'])
    const grpc =
      e.raisedBy === 'kong'
        ? grpcError(ctx.d, e.status, headers)
        : source.startsWith('application/grpc')
          ? grpcSend(ctx.d, e.status, headers, { message })
          : null
    if (grpc !== null) return respond(ctx, e.status, headers, grpc.body)
  }
  let r: { contentType: string; body: string }
  if (e.raisedBy === 'kong') r = renderError(negotiateKongError(typeof accept === 'string' ? accept : undefined), message, ctx.requestId)
  else {
    const ct = h['content-type']
    const mime = negotiateNginxError(
      typeof firstAccept === 'string' ? firstAccept : undefined,
      typeof ct === 'string' ? ct : undefined,
      ctx.proxy.settings.errorDefaultType,
    )
    r = renderError(mime, message, ctx.requestId)
  }
  const headers = ctx.baseHeaders(r.contentType)
  if (close) headers['connection'] = 'close'
  respond(ctx, e.status, headers, r.body)
}

/**
 * A route that accepts only HTTPS, asked over HTTP: 426 with Kong's body and `Upgrade`, or a
 * redirect (301/302/307/308) to the same URL over https.
 */
export function httpsRedirect(ctx: RequestContext, code: number, message: string): void {
  if (code === 426) return upgradeRequired(ctx, message, 'TLS/1.2, HTTP/1.1')
  // Kong: `https://` .. forwarded_host (trusted X-Forwarded-Host, else $host) .. request_uri
  const h = ctx.baseHeaders(null)
  h['location'] = `https://${forwardedHost(ctx.d.headers, ctx.trusted)}${ctx.d.url}`
  respond(ctx, code, h, null)
}

/** Kong's 426 (kong.response.error) with `Connection: Upgrade` and the protocols to upgrade to. */
export function upgradeRequired(ctx: RequestContext, message: string, upgrade: string): void {
  const h = ctx.baseHeaders(null)
  h['connection'] = 'Upgrade'
  h['upgrade'] = upgrade
  const accept = ctx.d.headers['accept']
  const r = renderError(negotiateKongError(typeof accept === 'string' ? accept : undefined), message, ctx.requestId)
  h['content-type'] = r.contentType
  respond(ctx, 426, h, r.body)
}

/**
 * Kong's answer to a gRPC request over plain HTTP on a route that only has `grpcs`: status 200,
 * grpc-status 1 (kong.response.exit with a gRPC content type).
 */
export function grpcsRequired(ctx: RequestContext): void {
  const h = ctx.baseHeaders('application/grpc')
  h['grpc-status'] = '1'
  h['grpc-message'] = 'gRPC request matched gRPCs route'
  ctx.responseSource = 'exit'
  respond(ctx, 200, h, null)
}

/** Sends the response a plugin made in rewrite or access. */
export function sendExit(ctx: RequestContext): void {
  const exit = ctx.exitResponse as ExitResponse
  ctx.responseSource = 'exit'
  respond(ctx, exit.status, exit.headers, exit.body)
}

/** Sends a complete response: header_filter and body_filter run over it first; the request ends. */
export function respond(ctx: RequestContext, status: number, headers: ResponseHeaders, body: string | Buffer | null): void {
  ctx.responseStatus = status
  if (ctx.responseSource === 'service') ctx.responseSource = 'error'
  const debug = debugHeaders(ctx)
  if (debug !== null) for (let i = 0; i < debug.length; i += 2) headers[debug[i] as string] = debug[i + 1] as string
  if (ctx.plan !== null) {
    ctx.responseHeadersAre(ResponseHeaderSet.ofObject(headers))
    headerFilter(ctx)
    status = ctx.responseStatus
    if (ctx.plan.hasBodyFilter) body = bodyFilter(ctx, body === null ? Buffer.alloc(0) : Buffer.from(body), true)
  }
  const head = ctx.d.method === 'HEAD'
  ctx.bytes = body === null || head ? 0 : Buffer.byteLength(body)
  // HEAD: the adapter sends the headers GET would get (Content-Length included), no body.
  ctx.d.respond(status, headers, body)
  ctx.finish()
}
