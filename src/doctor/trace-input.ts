/**
 * The request `POST /trace` explains, read from its JSON body and checked as hostile input: every
 * size bounded, every refusal a one-line message (the Admin API answers 400 with it).
 *
 * @module
 */
import { isIP } from 'node:net'

/** The request to trace, checked. */
export interface TraceInput {
  readonly method: string
  readonly scheme: 'http' | 'https'
  /** `host[:port]` from the URL. */
  readonly authority: string
  /** The port the request reaches the gateway on (the URL's, else 80/443). */
  readonly port: number
  /** Raw path, as a client would send it (not normalized). */
  readonly path: string
  /** Raw query string without `?`, or null. */
  readonly query: string | null
  /** Headers in the order given, names as given; Host first (from the URL unless one was given). */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: Buffer | null
  readonly clientIp: string
  /** Also send the request upstream and time it. */
  readonly send: boolean
}

export const TRACE_LIMITS = {
  url: 8192,
  headers: 100,
  headerBytes: 16 * 1024,
  body: 1024 * 1024,
  method: 32,
} as const

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** Visible ASCII and latin1 text, tabs and spaces: what a header value may hold. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
const URL_SHAPE = /^(https?):\/\/([^/?#\s]+)([^#\s]*)$/i

function headerPairs(value: unknown): [string, string][] | string {
  const pairs: [string, string][] = []
  if (value === undefined || value === null) return pairs
  if (Array.isArray(value)) {
    if (value.length > TRACE_LIMITS.headers) return `too many headers (at most ${TRACE_LIMITS.headers})`
    for (const item of value) {
      if (typeof item !== 'string') return 'headers: each entry must be a string "Name: value"'
      const colon = item.indexOf(':')
      if (colon <= 0) return `headers: "${item.slice(0, 60)}" is not "Name: value"`
      pairs.push([item.slice(0, colon).trim(), item.slice(colon + 1).trim()])
    }
    return pairs
  }
  if (typeof value !== 'object') return 'headers must be an object or a list of "Name: value" strings'
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    const values = Array.isArray(v) ? v : [v]
    for (const one of values) {
      if (typeof one !== 'string') return `headers: the value of ${name.slice(0, 60)} must be a string`
      pairs.push([name, one])
      if (pairs.length > TRACE_LIMITS.headers) return `too many headers (at most ${TRACE_LIMITS.headers})`
    }
  }
  return pairs
}

/** Reads the body of `POST /trace`; a string is the 400 message. */
export function parseTraceInput(body: Readonly<Record<string, unknown>>): TraceInput | string {
  const method = body['method'] ?? 'GET'
  if (typeof method !== 'string' || method.length > TRACE_LIMITS.method || !TOKEN.test(method))
    return 'method: expected an HTTP method such as GET or POST'
  const url = body['url']
  if (typeof url !== 'string' || url === '') return 'url: required (e.g. http://localhost:8000/path)'
  if (url.length > TRACE_LIMITS.url) return `url: longer than ${TRACE_LIMITS.url} characters`
  const m = URL_SHAPE.exec(url)
  if (m === null) return 'url: expected an absolute http:// or https:// URL without spaces'
  const scheme = (m[1] as string).toLowerCase() as 'http' | 'https'
  const authority = m[2] as string
  if (authority.includes('@')) return 'url: user information (user@host) is not supported'
  const portMatch = /:(\d{1,5})$/.exec(authority)
  const port = portMatch === null ? (scheme === 'https' ? 443 : 80) : Number(portMatch[1])
  if (port < 1 || port > 65535) return 'url: the port must be between 1 and 65535'
  let target = m[3] as string
  if (target === '') target = '/'
  if (!target.startsWith('/')) return 'url: the path must start with /'
  if (!/^[\x21-\x7e]*$/.test(target)) return 'url: the path and query must be printable ASCII (percent-encode the rest)'
  const q = target.indexOf('?')
  const path = q === -1 ? target : target.slice(0, q)
  const query = q === -1 ? null : target.slice(q + 1)

  const pairs = headerPairs(body['headers'])
  if (typeof pairs === 'string') return pairs
  let bytes = 0
  for (const [name, value] of pairs) {
    if (!TOKEN.test(name)) return `headers: "${name.slice(0, 60)}" is not a valid header name`
    if (!FIELD_VALUE.test(value)) return `headers: the value of ${name} holds a control character`
    bytes += name.length + value.length + 4
  }
  if (bytes > TRACE_LIMITS.headerBytes) return `headers: more than ${TRACE_LIMITS.headerBytes} bytes in all`

  const rawBody = body['body']
  if (rawBody !== undefined && rawBody !== null && typeof rawBody !== 'string') return 'body: expected a string'
  const buf = typeof rawBody === 'string' && rawBody !== '' ? Buffer.from(rawBody, 'utf8') : null
  if (buf !== null && buf.length > TRACE_LIMITS.body) return `body: larger than ${TRACE_LIMITS.body} bytes`

  const clientIp = body['client_ip'] ?? '127.0.0.1'
  if (typeof clientIp !== 'string' || isIP(clientIp) === 0) return 'client_ip: expected an IPv4 or IPv6 address'
  const send = body['send'] ?? false
  if (typeof send !== 'boolean') return 'send: expected true or false'

  const headers: [string, string][] = []
  if (!pairs.some(([n]) => n.toLowerCase() === 'host')) headers.push(['Host', authority])
  headers.push(...pairs)
  if (buf !== null && !pairs.some(([n]) => n.toLowerCase() === 'content-length' || n.toLowerCase() === 'transfer-encoding'))
    headers.push(['Content-Length', String(buf.length)])
  return { method, scheme, authority, port, path, query, headers, body: buf, clientIp, send }
}
