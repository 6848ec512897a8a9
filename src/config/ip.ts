/**
 * IP / CIDR validation for `trusted_ips`.
 *
 * @module
 */

import { isIP } from 'node:net'

/**
 * True when `text` is an IPv4/IPv6 address or CIDR block (`10.0.0.0/8`, `::/0`), or Kong's
 * special `unix:` entry (trust requests arriving over a unix socket).
 */
export function isTrustedIpEntry(text: string): boolean {
  if (text === 'unix:') return true
  const slash = text.indexOf('/')
  if (slash < 0) return isIP(text) !== 0
  const family = isIP(text.slice(0, slash))
  const bits = text.slice(slash + 1)
  if (family === 0 || !/^[0-9]{1,3}$/.test(bits)) return false
  return Number(bits) <= (family === 4 ? 32 : 128)
}
