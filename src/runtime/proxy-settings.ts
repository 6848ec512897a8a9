/**
 * Derives the proxy's per-request settings from the gateway configuration, once.
 */
import type { GatewayConfig } from '../config/index.js'
import { sizeToBytes } from '../config/index.js'
import { TrustedIps } from '../proxy/forwarding.js'
import type { ProxySettings } from '../proxy/runloop.js'

/** Kong's nginx template sets 160k proxy buffers: the largest upstream header block it accepts. */
export const UPSTREAM_MAX_HEADER_SIZE = 160 * 1024

export function proxySettings(config: GatewayConfig): ProxySettings {
  const h = new Set(config.headers.map((t) => t.toLowerCase()))
  const up = new Set(config.headers_upstream.map((t) => t.toLowerCase()))
  const serverTokens = h.has('server_tokens')
  const latencyTokens = h.has('latency_tokens')
  const realIpHeader = config.real_ip_header.toLowerCase()
  return {
    realIp: {
      trusted: new TrustedIps(config.trusted_ips),
      header: realIpHeader === 'proxy_protocol' ? null : realIpHeader,
      recursive: config.real_ip_recursive,
    },
    viaHeader: serverTokens || h.has('via'),
    serverHeader: serverTokens || h.has('server'),
    proxyLatency: latencyTokens || h.has('x-kong-proxy-latency'),
    upstreamLatency: latencyTokens || h.has('x-kong-upstream-latency'),
    responseLatency: latencyTokens || h.has('x-kong-response-latency'),
    upstreamStatus: h.has('x-kong-upstream-status'),
    requestIdDownstream: h.has('x-kong-request-id'),
    requestIdUpstream: up.has('x-kong-request-id'),
    allowDebugHeader: config.allow_debug_header,
    errorDefaultType: config.error_default_type,
    keepaliveIdleTimeout: config.upstream_keepalive_idle_timeout,
    maxHeaderSize: UPSTREAM_MAX_HEADER_SIZE,
    clientMaxBodySize: sizeToBytes(config.nginx_http_client_max_body_size),
    maxPostArgs: config.lua_max_post_args,
    maxUriArgs: config.lua_max_uri_args,
  }
}
