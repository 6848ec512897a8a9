/**
 * Client address and forwarded headers, as Kong's nginx template sets them: `trusted_ips` decide
 * whose `X-Forwarded-*` and `real_ip_header` values are believed, so that a chain such as
 * `Client → LB → gateway` logs and forwards the real client.
 */
import { BlockList, isIP } from 'node:net'
import type { RequestHeaders } from './types.js'

export class TrustedIps {
  readonly #list = new BlockList()
  readonly #all: boolean
  readonly #none: boolean

  constructor(entries: readonly string[]) {
    let all = false
    for (const raw of entries) {
      const e = raw.trim()
      if (e === '' || e === 'unix:') continue
      if (e === '0.0.0.0/0' || e === '::/0') {
        all = true
        continue
      }
      const [ip, bits] = e.split('/')
      const family = isIP(ip ?? '') === 6 ? 'ipv6' : 'ipv4'
      if (bits === undefined) this.#list.addAddress(ip ?? '', family)
      else this.#list.addSubnet(ip ?? '', Number(bits), family)
    }
    this.#all = all
    this.#none = !all && entries.filter((e) => e.trim() !== '' && e.trim() !== 'unix:').length === 0
  }

  has(address: string): boolean {
    if (this.#all) return true
    if (this.#none) return false
    const plain = address.startsWith('::ffff:') ? address.slice(7) : address
    return this.#list.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4')
  }
}

export interface RealIpSettings {
  readonly trusted: TrustedIps
  /** Lower-case header name (`x-real-ip`, `x-forwarded-for`), or null for `proxy_protocol` (not supported yet). */
  readonly header: string | null
  readonly recursive: boolean
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v
}

/**
 * nginx's realip module: when the peer is trusted, the client address comes from the real-ip
 * header (for X-Forwarded-For: the last address, or with recursion the last untrusted one).
 */
export function realClientIp(peer: string, headers: RequestHeaders, s: RealIpSettings): string {
  if (s.header === null || !s.trusted.has(peer)) return peer
  const value = first(headers[s.header])
  if (value === undefined || value === '') return peer
  if (s.header !== 'x-forwarded-for') {
    const v = value.trim()
    return isIP(v) !== 0 ? v : peer
  }
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
  if (!s.recursive) {
    const last = parts[parts.length - 1]
    return last !== undefined && isIP(last) !== 0 ? last : peer
  }
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i] as string
    if (isIP(p) === 0) return peer
    if (!s.trusted.has(p)) return p
  }
  return parts[0] !== undefined && isIP(parts[0]) !== 0 ? parts[0] : peer
}

/** Strips `:port` (and IPv6 brackets) from a Host header and lower-cases it, as nginx's `$host`. */
export function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    return (end === -1 ? host : host.slice(0, end + 1)).toLowerCase()
  }
  const colon = host.indexOf(':')
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase()
}

/** nginx's `server_name` in Kong's proxy server block: `$host` when the request has no Host header. */
const SERVER_NAME = 'kong'

/**
 * The host the client asked for, as Kong computes `forwarded_host`: the client's
 * `X-Forwarded-Host` when the peer is trusted, else nginx's `$host` (Host without port,
 * lower-cased). Used for `X-Forwarded-Host` and for the https redirect `Location`.
 */
export function forwardedHost(headers: RequestHeaders, trusted: boolean): string {
  const xfh = trusted ? first(headers['x-forwarded-host']) : undefined
  if (xfh !== undefined) return xfh
  const host = first(headers['host'])
  return host === undefined || host === '' ? SERVER_NAME : hostWithoutPort(host)
}

/**
 * The HTTP version token of `Via`, as Kong writes `ngx.req.http_version()` (a Lua number):
 * `1.1`, `2` for HTTP/2 and `1` for HTTP/1.0.
 */
export function viaVersion(httpVersion: string): string {
  return httpVersion.endsWith('.0') ? httpVersion.slice(0, -2) : httpVersion
}

/** The `Via` token for a message of this HTTP version: `1.1 <product>`, `2 <product>` … */
export function viaToken(httpVersion: string, product: string): string {
  return `${viaVersion(httpVersion)} ${product}`
}

/**
 * Request headers that never travel upstream as the client sent them: hop-by-hop ones (nginx's
 * proxy module drops `Connection`, `Keep-Alive`, `TE`, `Expect`, `Upgrade`; Kong drops `Proxy`
 * and `Proxy-Connection`), and those the gateway sets itself.
 */
const SKIP_UPSTREAM = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'x-real-ip',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-path',
  'x-forwarded-prefix',
  'via',
])

export interface ForwardInput {
  readonly rawHeaders: readonly string[]
  readonly headers: RequestHeaders
  readonly hostHeader: string
  /** The connected peer (`$realip_remote_addr`). */
  readonly peer: string
  /** The client address after the realip rules (`$remote_addr`). */
  readonly clientIp: string
  readonly trusted: boolean
  readonly scheme: string
  readonly localPort: number
  /** The request path as received, without the query string (Kong's `X-Forwarded-Path`). */
  readonly path: string
  /** The prefix strip_path removed (`/` when none). */
  readonly prefix: string
  /** This gateway's `Via` token: the client's HTTP version and `<product>/<version>` (see {@link viaToken}). */
  readonly via: string
  /** The request id for `X-Kong-Request-Id`, or null when `headers_upstream` leaves it out. */
  readonly requestId: string | null
  readonly httpVersion: string
}

/** Whether a comma-separated header value lists `token` (case-insensitive). */
function listsToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false
  for (const t of value.split(',')) if (t.trim().toLowerCase() === token) return true
  return false
}

/**
 * Builds the flat upstream header list: the client's headers minus hop-by-hop ones (and those
 * named in `Connection`), then Host and the forwarded headers, as Kong's runloop and nginx
 * template set them.
 */
export function upstreamHeaders(f: ForwardInput): string[] {
  const out: string[] = []
  const raw = f.rawHeaders
  const connection = first(f.headers['connection'])
  const lowerConnection = connection?.toLowerCase()
  const named =
    lowerConnection !== undefined && lowerConnection !== 'keep-alive' && lowerConnection !== 'close' && lowerConnection !== 'upgrade'
      ? new Set(
          lowerConnection
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t !== ''),
        )
      : null
  const ownRequestId = f.requestId !== null
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const lower = name.toLowerCase()
    if (SKIP_UPSTREAM.has(lower) || (named !== null && named.has(lower)) || (ownRequestId && lower === 'x-kong-request-id')) continue
    out.push(name, raw[i + 1] as string)
  }
  const h = f.headers
  const xff = first(h['x-forwarded-for'])
  out.push('host', f.hostHeader)
  out.push('x-real-ip', f.clientIp)
  out.push('x-forwarded-for', xff !== undefined ? `${xff}, ${f.peer}` : f.clientIp)
  const t = f.trusted
  out.push('x-forwarded-proto', (t ? first(h['x-forwarded-proto']) : undefined) ?? f.scheme)
  out.push('x-forwarded-host', forwardedHost(h, t))
  out.push('x-forwarded-port', (t ? first(h['x-forwarded-port']) : undefined) ?? String(f.localPort))
  out.push('x-forwarded-path', (t ? first(h['x-forwarded-path']) : undefined) ?? f.path)
  const prefix = (t ? first(h['x-forwarded-prefix']) : undefined) ?? (f.prefix !== '/' ? f.prefix : undefined)
  if (prefix !== undefined) out.push('x-forwarded-prefix', prefix)
  const via = first(h['via'])
  out.push('via', via !== undefined ? `${via}, ${f.via}` : f.via)
  if (f.requestId !== null) out.push('x-kong-request-id', f.requestId)
  // nginx drops TE; Kong puts back `TE: trailers` when the client asked for trailers.
  if (listsToken(first(h['te']), 'trailers')) out.push('te', 'trailers')
  return out
}
