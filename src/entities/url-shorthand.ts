/**
 * The services `url` shorthand: LuaSocket's `url.parse` rules (scheme, `//authority`,
 * `#fragment`, `?query` and `;params` are cut off in that order; what is left is the path),
 * then Kong's mapping to protocol/host/port/path.
 *
 * @module
 */
import { luaToNumber } from '../schema/index.js'

interface ParsedUrl {
  scheme?: string
  host?: string
  port?: string
  path?: string
}

/** LuaSocket `url.parse`, reduced to the parts Kong reads. */
export function parseUrl(input: string): ParsedUrl {
  const parsed: ParsedUrl = {}
  let url = input
  const scheme = /^([A-Za-z0-9][A-Za-z0-9+\-.]*):/.exec(url)
  if (scheme) {
    parsed.scheme = scheme[1] as string
    url = url.slice(scheme[0].length)
  }
  let authority: string | undefined
  const auth = /^\/\/([^/]*)/.exec(url)
  if (auth) {
    authority = auth[1] as string
    url = url.slice(auth[0].length)
  }
  for (const sep of ['#', '?', ';']) {
    const at = url.indexOf(sep)
    if (at >= 0) url = url.slice(0, at)
  }
  if (url !== '') parsed.path = url
  if (authority === undefined) return parsed
  authority = authority.replace(/^[^@]*@/, '')
  const port = /:([^:\]]*)$/.exec(authority)
  if (port) {
    parsed.port = port[1] as string
    authority = authority.slice(0, port.index)
  }
  if (authority !== '') parsed.host = /^\[(.+)\]$/.exec(authority)?.[1] ?? authority
  return parsed
}

/**
 * Kong's expansion: the scheme (else 80 → http, 443 → https, else http) is the protocol, the
 * port defaults to 80 for http and 443 for https (80 otherwise), and a missing host or path
 * becomes null — so a PATCH with `url` also clears an old path.
 */
export function expandServiceUrl(value: unknown): Record<string, unknown> {
  const parsed = parseUrl(String(value))
  const port = parsed.port === undefined ? undefined : luaToNumber(parsed.port)
  const byPort = port === 80 ? 'http' : port === 443 ? 'https' : undefined
  const protocol = parsed.scheme ?? byPort ?? 'http'
  const defaultPort = protocol === 'https' ? 443 : 80
  return {
    protocol,
    host: parsed.host ?? null,
    port: port ?? parsed.port ?? defaultPort,
    path: parsed.path ?? null,
  }
}
