/**
 * Reads a hosts file (`dns_hostsfile`, default `/etc/hosts`) the way Kong's DNS client does:
 * names are lower-cased, the first IPv4 and the first IPv6 address given for a name win, and
 * `localhost` is always defined (RFC 6761 §6.3) even when the file does not list it.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'

export interface HostsEntry {
  ipv4?: string
  ipv6?: string
}

export interface HostsFile {
  readonly path: string
  readonly entries: ReadonlyMap<string, HostsEntry>
  /** Why the file could not be read (it then defines only `localhost`). */
  readonly error: string | null
}

/** Parses hosts-file text. */
export function parseHosts(text: string): Map<string, HostsEntry> {
  const entries = new Map<string, HostsEntry>()
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim()
    if (line === '') continue
    const [address, ...names] = line.split(/\s+/)
    if (address === undefined) continue
    const ip = address.replace(/%.*$/, '') // drop an IPv6 zone id
    const family = isIP(ip)
    if (family === 0) continue
    for (const n of names) {
      const name = n.toLowerCase()
      const entry = entries.get(name) ?? {}
      if (family === 4 && entry.ipv4 === undefined) entry.ipv4 = ip
      if (family === 6 && entry.ipv6 === undefined) entry.ipv6 = ip
      entries.set(name, entry)
    }
  }
  if (!entries.has('localhost')) entries.set('localhost', { ipv4: '127.0.0.1', ipv6: '::1' })
  return entries
}

/** Reads and parses a hosts file; an unreadable file defines only `localhost`. */
export function readHostsFile(path: string): HostsFile {
  try {
    return { path, entries: parseHosts(readFileSync(path, 'utf8')), error: null }
  } catch (err) {
    return { path, entries: parseHosts(''), error: (err as Error).message }
  }
}
