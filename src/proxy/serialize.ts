/**
 * Kong's log serializer (`kong.log.serialize()`): the object logging plugins (http-log,
 * file-log…) send, with `authorization` and `proxy-authorization` redacted.
 */
import type { EntityRow } from '../pdk/types.js'
import type { Downstream, ResponseHeaders } from './types.js'

export interface SerializeInput {
  readonly requestId: string
  readonly downstream: Downstream
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

export function serializeExchange(x: SerializeInput): Record<string, unknown> {
  const d = x.downstream
  const headers: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(d.headers)) if (v !== undefined) headers[k] = REDACTED.has(k) ? 'REDACTED' : v
  const q = d.url.indexOf('?')
  const querystring: Record<string, string | true> = {}
  if (q !== -1) {
    for (const part of d.url.slice(q + 1).split('&')) {
      if (part === '') continue
      const eq = part.indexOf('=')
      try {
        querystring[decodeURIComponent(eq === -1 ? part : part.slice(0, eq))] = eq === -1 ? true : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '))
      } catch {
        querystring[part] = true
      }
    }
  }
  const host = typeof d.headers['host'] === 'string' ? d.headers['host'] : ''
  const now = performance.now()
  const proxy = x.headersAt > 0 ? Math.round(x.headersAt - x.sentAt) : -1
  const request = Math.round(now - x.startedAt)
  const consumer = plainRow(x.consumer)
  const out: Record<string, unknown> = {
    request: {
      id: x.requestId,
      uri: d.url,
      url: `${d.scheme}://${host}${d.url}`,
      querystring,
      method: d.method,
      headers,
      size: Number(d.headers['content-length'] ?? 0),
      tls: d.scheme === 'https' ? {} : undefined,
    },
    upstream_uri: x.upstreamUri,
    upstream_status: x.upstreamStatus === undefined ? '' : String(x.upstreamStatus),
    response: { status: x.status, headers: { ...(x.responseHeaders ?? {}) }, size: x.bytesSent },
    latencies: {
      kong: Math.max(0, request - Math.max(0, proxy)),
      proxy,
      request,
      receive: x.headersAt > 0 ? Math.max(0, Math.round(now - x.headersAt)) : 0,
    },
    tries: x.tries,
    client_ip: x.clientIp,
    started_at: Math.round(performance.timeOrigin + x.startedAt),
    source: x.source === 'service' ? 'upstream' : x.source === 'exit' ? 'kong' : 'kong',
    workspace: '00000000-0000-0000-0000-000000000000',
    workspace_name: 'default',
  }
  const route = plainRow(x.route)
  const service = plainRow(x.service)
  if (route !== undefined) out['route'] = route
  if (service !== undefined) out['service'] = service
  if (consumer !== undefined) out['consumer'] = consumer
  if (x.credential !== null) out['authenticated_entity'] = { id: x.credential.id }
  return out
}
