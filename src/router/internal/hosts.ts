/**
 * Host matching of Kong's `traditional_compatible` router: `host` entries are exact,
 * `*.example.com` (suffix, any depth) or `example.*` (prefix); an entry with `:port` also
 * requires the request port (the Host header's, else the listener's) to be equal.
 *
 * @module
 */

export const HOST_EXACT = 0
export const HOST_SUFFIX = 1
export const HOST_PREFIX = 2

/** A parsed route `hosts` entry. */
export interface HostEntry {
  readonly kind: typeof HOST_EXACT | typeof HOST_SUFFIX | typeof HOST_PREFIX
  /** Lower-cased host; for wildcards the text without `*` (`.example.com` / `example.`). */
  readonly value: string
  /** Required port, or -1 for any port. */
  readonly port: number
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

/**
 * Splits `host:port` at the first colon when what follows is a number (Kong's
 * `split_host_port`); otherwise the whole text is the host and the port is -1.
 */
export function splitHostPort(text: string): { host: string; port: number } {
  const colon = text.indexOf(':')
  if (colon === -1) return { host: text, port: -1 }
  const portText = text.slice(colon + 1)
  if (!isDigits(portText)) return { host: text, port: -1 }
  return { host: text.slice(0, colon), port: Number(portText) }
}

/** Lower-cases and drops one trailing dot: `Example.COM.` and `example.com` are the same host. */
export function canonicalHost(host: string): string {
  let h = host
  if (h.length > 1 && h.charCodeAt(h.length - 1) === 0x2e) h = h.slice(0, -1)
  // toLowerCase allocates even for lower-case input only when something changes (V8 returns
  // the same string otherwise), so this is cheap on the common path.
  return h.toLowerCase()
}

/** Parses one route `hosts` entry. */
export function parseHostEntry(entry: string): HostEntry {
  const { host, port } = splitHostPort(entry)
  const h = canonicalHost(host)
  if (h.charCodeAt(0) === 0x2a) return { kind: HOST_SUFFIX, value: h.slice(1), port }
  if (h.charCodeAt(h.length - 1) === 0x2a) return { kind: HOST_PREFIX, value: h.slice(0, -1), port }
  return { kind: HOST_EXACT, value: h, port }
}

/** True when the request host (canonical) and port satisfy one of the entries. */
export function hostMatches(entries: readonly HostEntry[], host: string, port: number): boolean {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as HostEntry
    if (e.port !== -1 && e.port !== port) continue
    if (e.kind === HOST_EXACT) {
      if (host === e.value) return true
    } else if (e.kind === HOST_SUFFIX) {
      if (host.endsWith(e.value)) return true
    } else if (host.startsWith(e.value)) {
      return true
    }
  }
  return false
}
