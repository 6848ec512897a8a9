/**
 * The parts of `/etc/resolv.conf` Kong's DNS client uses: `nameserver` (when `dns_resolver` is
 * empty), `search`/`domain`, and `options ndots:`, `timeout:`, `attempts:`, `rotate`.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'

export interface ResolvConf {
  readonly nameservers: readonly string[]
  readonly search: readonly string[]
  readonly ndots: number
  /** Per-try timeout in ms (resolv.conf `timeout:` seconds; Kong's default 2000). */
  readonly timeoutMs: number
  /** Tries per query (resolv.conf `attempts:`; Kong's default 5). */
  readonly attempts: number
  readonly rotate: boolean
}

export const RESOLV_CONF_DEFAULTS: ResolvConf = { nameservers: [], search: [], ndots: 1, timeoutMs: 2000, attempts: 5, rotate: false }

/** Formats a nameserver as `ip:port` (`[v6]:port`), the port 53 unless given. */
export function formatNameserver(host: string, port = 53): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

/** Parses `ip`, `ip:port`, `[v6]` or `[v6]:port`; null when it is not an IP address. */
export function parseNameserver(entry: string): { host: string; port: number } | null {
  const v = entry.trim()
  let m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v)
  if (m !== null) {
    const host = (m[1] as string).replace(/%.*$/, '')
    const port = m[2] === undefined ? 53 : Number(m[2])
    return isIP(host) === 6 && port > 0 && port < 65536 ? { host, port } : null
  }
  if (isIP(v) !== 0) return { host: v, port: 53 }
  m = /^([0-9.]+):(\d+)$/.exec(v)
  if (m !== null && isIP(m[1] as string) === 4) {
    const port = Number(m[2])
    return port > 0 && port < 65536 ? { host: m[1] as string, port } : null
  }
  return null
}

export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = []
  let search: string[] = []
  let ndots = RESOLV_CONF_DEFAULTS.ndots
  let timeoutMs = RESOLV_CONF_DEFAULTS.timeoutMs
  let attempts = RESOLV_CONF_DEFAULTS.attempts
  let rotate = false
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim()
    const [key, ...rest] = line.split(/\s+/)
    if (key === 'nameserver' && rest[0] !== undefined) {
      const ns = parseNameserver(rest[0])
      // Kong skips IPv6 nameservers with a scope, and (by default) IPv6 ones from resolv.conf.
      if (ns !== null && isIP(ns.host) === 4) nameservers.push(formatNameserver(ns.host, ns.port))
    } else if (key === 'search') search = rest.filter((d) => d !== '' && d !== '.')
    else if (key === 'domain' && rest[0] !== undefined && search.length === 0) search = [rest[0]]
    else if (key === 'options') {
      for (const opt of rest) {
        const [k, v] = opt.split(':')
        const n = Number(v)
        if (k === 'ndots' && Number.isInteger(n) && n >= 0) ndots = n
        else if (k === 'timeout' && n > 0) timeoutMs = n * 1000
        else if (k === 'attempts' && Number.isInteger(n) && n > 0) attempts = n
        else if (k === 'rotate') rotate = true
      }
    }
  }
  // Environment overrides, as Kong's `applyEnv` (LOCALDOMAIN / RES_OPTIONS) — not implemented:
  // they are rarely set for servers.
  return { nameservers, search, ndots, timeoutMs, attempts, rotate }
}

export function readResolvConf(path = '/etc/resolv.conf'): ResolvConf {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'))
  } catch {
    return RESOLV_CONF_DEFAULTS
  }
}
