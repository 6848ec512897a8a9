/**
 * Host and IP parsing with Kong's rules and messages (`kong/tools/ip.lua`): hostname type by
 * exclusion, IPv4/IPv6/name normalisation with an optional port.
 *
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net'

export interface NormalizedHost {
  readonly type: 'ipv4' | 'ipv6' | 'name'
  readonly host: string
  readonly port?: number
}

export type NormalizeResult = NormalizedHost | { readonly error: string }

/** `ipv6` if more than one colon, `ipv4` if only digits and dots (port aside), else `name`. */
export function hostnameType(name: string): 'ipv4' | 'ipv6' | 'name' {
  const colons = name.split(':').length - 1
  if (colons > 1) return 'ipv6'
  return /^[\d.]+$/.test(name.replace(/:/g, '')) ? 'ipv4' : 'name'
}

function normalizeIpv4(address: string): NormalizeResult {
  const re = address.includes(':') ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d+)$/ : /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
  const m = re.exec(address)
  if (!m) return { error: `invalid ipv4 address: ${address}` }
  const parts = [m[1], m[2], m[3], m[4]].map(Number)
  if (parts.some((p) => p > 255)) return { error: `invalid ipv4 address: ${address}` }
  let port: number | undefined
  if (m[5] !== undefined) {
    port = Number(m[5])
    if (port > 65535) return { error: 'invalid port number' }
  }
  const host = parts.join('.')
  return port === undefined ? { type: 'ipv4', host } : { type: 'ipv4', host, port }
}

function normalizeIpv6(address: string): NormalizeResult {
  let check = address
  let port: number | undefined
  if (address.startsWith('[')) {
    const close = address.indexOf(']')
    if (close > 0) {
      check = address.slice(1, close)
      const rest = address.slice(close + 1)
      if (rest !== '') {
        const pm = /^:(\d+)$/.exec(rest)
        if (!pm) return { error: 'invalid ipv6 address' }
        port = Number(pm[1])
        if (port > 65535) return { error: 'invalid port number' }
      }
    }
  }
  if (check.startsWith(':')) check = `0${check}`
  if (check.endsWith(':')) check = `${check}0`
  if (check.includes('::')) {
    const count = check.split(':').length - 1
    check = check.replace('::', `:${'0:'.repeat(Math.max(0, 8 - count))}`)
  }
  const groups = check.split(':')
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) {
    return { error: `invalid ipv6 address: ${address}` }
  }
  const host = groups.map((g) => g.padStart(4, '0').toLowerCase()).join(':')
  return port === undefined ? { type: 'ipv6', host } : { type: 'ipv6', host, port }
}

/** Penlight's plain split: a trailing empty field is dropped. */
function plainSplit(s: string, sep: string): string[] {
  const parts = s.split(sep)
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return parts
}

function checkHostname(address: string): NormalizeResult {
  let name = address
  let port: number | undefined
  const pm = /:(\d+)$/.exec(address)
  if (pm) {
    name = address.slice(0, -(pm[1] as string).length - 1)
    port = Number(pm[1])
    if (port > 65535) return { error: 'invalid port number' }
  }
  if (!/^[A-Za-z0-9\-._]+$/.test(name)) return { error: `invalid hostname: ${address}` }
  const segments = plainSplit(name, '.')
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string
    if (seg.endsWith('-') || (seg === '' && i !== segments.length - 1)) return { error: `invalid hostname: ${address}` }
  }
  return port === undefined ? { type: 'name', host: name } : { type: 'name', host: name, port }
}

/** Kong's `normalize_ip`: validates `ipv4[:port]`, `ipv6`, `[ipv6]:port`, `name[:port]`. */
export function normalizeIp(address: string): NormalizeResult {
  switch (hostnameType(address)) {
    case 'ipv4':
      return normalizeIpv4(address)
    case 'ipv6':
      return normalizeIpv6(address)
    case 'name':
      return checkHostname(address)
  }
}

/** Strict IPv4/IPv6 literal check (inet_pton semantics: no zone ids, no leading-zero octets). */
export function isValidIp(ip: string): boolean {
  if (ip.includes('%')) return false
  return isIPv4(ip) || isIPv6(ip)
}

/** `ip` or `ip/prefix` with a prefix 0–32 (IPv4) or 0–128 (IPv6) written without leading zeros. */
export function isValidIpOrCidr(value: string): boolean {
  if (isValidIp(value)) return true
  const slash = value.indexOf('/', 2)
  if (slash < 0) return false
  const ip = value.slice(0, slash)
  const prefix = value.slice(slash + 1)
  if (!/^(0|[1-9]\d{0,2})$/.test(prefix)) return false
  const bits = Number(prefix)
  if (isIPv4(ip)) return bits <= 32
  if (isIPv6(ip) && !ip.includes('%')) return bits <= 128
  return false
}
