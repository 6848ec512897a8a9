/**
 * Parser for Kong's `*_listen` settings, e.g.
 * `0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384`.
 *
 * @module
 */

import { isIPv4, isIPv6 } from 'node:net'
import type { ListenAddress } from './types.js'
import { ValueProblem } from './value-problem.js'

/** Flags Kong accepts on an http listener (`kong/conf_loader/listeners.lua`). */
export const LISTEN_FLAGS = ['ssl', 'http2', 'proxy_protocol', 'deferred', 'bind', 'reuseport', 'backlog=N'] as const

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/

/**
 * Splits `host:port` into its parts. Kong requires both: a bare port is rejected, like Kong's
 * `must be of form: [off] | <ip>:<port> ...` check. IPv6 hosts must be bracketed and are returned
 * without brackets (the form `net.Server.listen` takes).
 */
function parseHostPort(address: string): { host: string; port: number } {
  let host: string
  let portText: string
  if (address.startsWith('[')) {
    const close = address.indexOf(']')
    if (close < 0 || address[close + 1] !== ':') {
      throw new ValueProblem('expected [ipv6]:port, e.g. [::1]:8001')
    }
    host = address.slice(1, close)
    portText = address.slice(close + 2)
    if (!isIPv6(host)) throw new ValueProblem(`${JSON.stringify(host)} is not a valid IPv6 address`)
  } else {
    const colon = address.lastIndexOf(':')
    if (colon < 0) throw new ValueProblem('expected host:port, e.g. 0.0.0.0:8000 (a bare port is not accepted)')
    host = address.slice(0, colon)
    portText = address.slice(colon + 1)
    if (host.includes(':')) throw new ValueProblem('IPv6 addresses must be in brackets, e.g. [::1]:8001')
    if (host === '') throw new ValueProblem('expected host:port, e.g. 0.0.0.0:8000 (the host is missing)')
    // A dotted-quad that is not a valid IPv4 address would otherwise pass as a host name.
    const looksNumeric = /^[0-9.]+$/.test(host)
    if (host !== '*' && (looksNumeric ? !isIPv4(host) : !HOSTNAME.test(host))) {
      throw new ValueProblem(`${JSON.stringify(host)} is not a valid IP address or host name`)
    }
  }
  if (!/^[0-9]+$/.test(portText)) throw new ValueProblem('port must be a number between 0 and 65535')
  const port = Number(portText)
  // 0 is accepted so tests and embedded uses can ask the OS for a free port.
  if (port > 65535) throw new ValueProblem('port must be between 0 and 65535')
  return { host: host === '*' ? '0.0.0.0' : host, port }
}

/** Parses one comma-separated entry: an address followed by flags in any order. */
export function parseListenEntry(entry: string): ListenAddress {
  const [address, ...flags] = entry.trim().split(/\s+/)
  if (address === undefined || address === '') throw new ValueProblem('empty listen entry', entry)
  let ssl = false
  let http2 = false
  let reuseport = false
  let backlog: number | undefined
  try {
    const { host, port } = parseHostPort(address)
    for (const flag of flags) {
      if (flag === 'ssl') ssl = true
      else if (flag === 'http2') http2 = true
      else if (flag === 'reuseport') reuseport = true
      // Accepted for kong.conf compatibility; they have no Node.js equivalent we act on yet.
      else if (flag === 'proxy_protocol' || flag === 'deferred' || flag === 'bind') continue
      else if (flag.startsWith('backlog=')) {
        const text = flag.slice('backlog='.length)
        if (!/^[0-9]+$/.test(text) || Number(text) < 1) {
          throw new ValueProblem('backlog must be a positive integer, e.g. backlog=16384')
        }
        backlog = Number(text)
      } else {
        throw new ValueProblem(`unknown flag ${JSON.stringify(flag)} (expected ${LISTEN_FLAGS.join(', ')})`)
      }
    }
    const base = { host, port, ssl, http2, reuseport }
    return backlog === undefined ? base : { ...base, backlog }
  } catch (err) {
    if (err instanceof ValueProblem && err.value === undefined) throw new ValueProblem(err.message, entry.trim())
    throw err
  }
}

/**
 * Parses a whole `*_listen` value: `off` (as the first entry, like Kong) means no listener,
 * otherwise a comma-separated list of entries.
 *
 * @throws ValueProblem naming the entry at fault
 */
export function parseListen(value: string): ListenAddress[] {
  const entries = value.split(',').map((e) => e.trim())
  if (entries[0] === 'off') return []
  if (value.trim() === '') throw new ValueProblem('expected "off" or a list of [host]:port entries')
  return entries.map((entry) => {
    if (entry === '') throw new ValueProblem('empty entry in the comma-separated list')
    return parseListenEntry(entry)
  })
}
