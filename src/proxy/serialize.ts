/**
 * Kong's log serializer (`kong.log.serialize()`): the object logging plugins (http-log,
 * file-log…) send, with `authorization` and `proxy-authorization` redacted.
 */
import type { EntityRow } from '../pdk/types.js'
import type { Downstream, ResponseHeaders } from './types.js'

export interface SerializeInput {
  readonly requestId: string
  readonly downstream: Downstream
  /** The request headers as plugins see them: every value of a repeated one (Kong's `get_headers`). */
  readonly headers: Downstream['headers']
  readonly clientIp: string
  readonly upstreamUri: string
  readonly upstreamStatus: number | undefined
  readonly status: number
  readonly responseHeaders: ResponseHeaders | null
  readonly bytesSent: number
  readonly route: EntityRow | null
  readonly service: EntityRow | null
  readonly consumer: EntityRow | null
  readonly credential: EntityRow | null
  readonly startedAt: number
  readonly sentAt: number
  readonly headersAt: number
  readonly tries: readonly { ip: string; port: number; balancer_latency: number }[]
  readonly source: string
}

const REDACTED = new Set(['authorization', 'proxy-authorization'])

function plainRow(row: EntityRow | null): Record<string, unknown> | undefined {
  if (row === null) return undefined
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) if (k !== 'compiledService' && k !== 'plan' && !k.startsWith('_')) out[k] = v
  return out
}

/** Kong's `kong.request.get_query()`: repeated arguments become arrays, bare ones `true`. */
function parseQuery(url: string): Record<string, string | true | (string | true)[]> {
  const out: Record<string, string | true | (string | true)[]> = {}
  const q = url.indexOf('?')
  if (q === -1) return out
  for (const part of url.slice(q + 1).split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    let k: string
    let v: string | true
    try {
      k = decodeURIComponent((eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, ' '))
      v = eq === -1 ? true : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '))
    } catch {
      k = eq === -1 ? part : part.slice(0, eq)
      v = eq === -1 ? true : part.slice(eq + 1)
    }
    const prev = out[k]
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  return out
}

const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/** nginx's `$request_length`: request line, headers and body. */
function requestLength(d: Downstream): number {
  let n = d.method.length + 1 + d.url.length + 6 + d.httpVersion.length + 2
  for (let i = 0; i + 1 < d.rawHeaders.length; i += 2)
    n += (d.rawHeaders[i] as string).length + 2 + Buffer.byteLength(d.rawHeaders[i + 1] as string) + 2
  n += 2
  const cl = Number(d.headers['content-length'] ?? 0)
  return n + (Number.isFinite(cl) ? cl : 0)
}

/** nginx's `$bytes_sent`: status line, headers (with the Date and Connection ones the server adds) and body. */
function bytesSent(status: number, headers: ResponseHeaders | null, body: number): number {
  let n = `HTTP/1.1 ${status} ${REASONS[status] ?? ''}\r\n`.length
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue
    for (const one of Array.isArray(v) ? v : [v]) n += k.length + 2 + Buffer.byteLength(String(one)) + 2
  }
  // Date: <29 chars>, Connection: keep-alive, and the blank line.
  return n + 37 + 24 + 2 + body
}

export function serializeExchange(x: SerializeInput): Record<string, unknown> {
  const d = x.downstream
  const headers: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(x.headers)) {
    // Defined, never assigned: a `__proto__` header must not set the prototype.
    if (v !== undefined)
      Object.defineProperty(headers, k, { value: REDACTED.has(k) ? 'REDACTED' : v, enumerable: true, writable: true, configurable: true })
  }
  const hostHeader = typeof d.headers['host'] === 'string' ? d.headers['host'] : ''
  // nginx's `$host`: the Host header without its port, lower-cased.
  const host = hostHeader.replace(/:\d*$/, '').toLowerCase()
  const now = performance.now()
  const proxied = x.sentAt > 0
  const proxy = x.headersAt > 0 ? Math.round(x.headersAt - x.sentAt) : -1
  const request = Math.round(now - x.startedAt)
  const consumer = plainRow(x.consumer)
  const out: Record<string, unknown> = {
    request: {
      id: x.requestId,
      uri: d.url,
      // Kong: scheme://$host:$server_port$request_uri
      url: `${d.scheme}://${host}:${d.localPort}${d.url}`,
      querystring: parseQuery(d.url),
      method: d.method,
      headers,
      size: requestLength(d),
      tls: d.scheme === 'https' ? {} : undefined,
    },
    upstream_uri: x.upstreamUri,
    upstream_status: x.upstreamStatus === undefined ? '' : String(x.upstreamStatus),
    response: {
      status: x.status,
      headers: { ...(x.responseHeaders ?? {}) },
      size: x.status === 0 ? 0 : bytesSent(x.status, x.responseHeaders, x.bytesSent),
    },
    latencies: {
      // Kong: KONG_PROXY_LATENCY (until the request went upstream) or KONG_RESPONSE_LATENCY (a
      // response the gateway made itself).
      kong: proxied ? Math.max(0, Math.round(x.sentAt - x.startedAt)) : request,
      proxy,
      request,
      receive: x.headersAt > 0 ? Math.max(0, Math.round(now - x.headersAt)) : 0,
    },
    client_ip: x.clientIp,
    started_at: Math.round(performance.timeOrigin + x.startedAt),
    source: x.source === 'service' ? 'upstream' : 'kong',
    workspace: '00000000-0000-0000-0000-000000000000',
    workspace_name: 'default',
  }
  // Kong: `ctx.balancer_data and ctx.balancer_data.tries` (absent when nothing was tried).
  if (x.tries.length > 0) out['tries'] = x.tries
  const route = plainRow(x.route)
  const service = plainRow(x.service)
  if (route !== undefined) out['route'] = route
  if (service !== undefined) out['service'] = service
  if (consumer !== undefined) out['consumer'] = consumer
  if (x.credential !== null) out['authenticated_entity'] = { id: x.credential.id }
  return out
}
