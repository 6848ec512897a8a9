/**
 * A caching host resolver for service hosts. Answers from cache synchronously (no promise on the
 * request path once a name is known), serves a stale answer while refreshing it in the
 * background, and remembers failures briefly so a broken name does not hammer the resolver.
 *
 * It uses the system resolver (getaddrinfo: /etc/hosts, then DNS). The issue on upstreams and DNS
 * replaces it with Kong's resolver settings (SRV, dns_order, record TTLs).
 */
import { lookup } from 'node:dns/promises'
import { readFileSync } from 'node:fs'

export interface ResolveOk {
  readonly ok: true
  readonly address: string
}
export interface ResolveFailed {
  readonly ok: false
  /** Kong's wording: `dns server error: 3 name error`, `dns client error: 101 empty record received` … */
  readonly message: string
  readonly code: string
}
export type ResolveResult = ResolveOk | ResolveFailed

interface Entry {
  addresses: string[]
  failure: ResolveFailed | null
  expires: number
  next: number
  refreshing: Promise<void> | null
}

export interface ResolverOptions {
  /** Seconds an answer is used before it is refreshed. */
  readonly validTtl: number
  /** Seconds a failed lookup is remembered (Kong: dns_not_found_ttl 30, dns_error_ttl 1). */
  readonly notFoundTtl: number
  readonly errorTtl: number
}

export class HostResolver {
  readonly #cache = new Map<string, Entry>()
  readonly #options: ResolverOptions

  constructor(options: ResolverOptions = { validTtl: 30, notFoundTtl: 30, errorTtl: 1 }) {
    this.#options = options
  }

  /** A cached answer (rotating over addresses), or a promise when the name must be looked up. */
  resolve(host: string): ResolveResult | Promise<ResolveResult> {
    const entry = this.#cache.get(host)
    const now = Date.now()
    if (entry !== undefined) {
      if (entry.expires <= now && entry.refreshing === null) entry.refreshing = this.#refresh(host, entry)
      if (entry.addresses.length > 0) {
        // Serve what we have (stale or not) rather than making the request wait for DNS.
        const address = entry.addresses[entry.next++ % entry.addresses.length] as string
        return { ok: true, address }
      }
      if (entry.failure !== null && entry.expires > now) return entry.failure
      return (entry.refreshing ?? this.#refresh(host, entry)).then(() => this.#answer(entry))
    }
    const fresh: Entry = { addresses: [], failure: null, expires: 0, next: 0, refreshing: null }
    this.#cache.set(host, fresh)
    fresh.refreshing = this.#refresh(host, fresh)
    return fresh.refreshing.then(() => this.#answer(fresh))
  }

  #answer(entry: Entry): ResolveResult {
    if (entry.addresses.length > 0) return { ok: true, address: entry.addresses[entry.next++ % entry.addresses.length] as string }
    return entry.failure ?? { ok: false, message: 'dns client error: 101 empty record received', code: 'EMPTY' }
  }

  async #refresh(host: string, entry: Entry): Promise<void> {
    try {
      const answers = await lookup(host, { all: true, family: 0 })
      // Prefer IPv4 as Kong's default dns_order (A before AAAA).
      const v4 = answers.filter((a) => a.family === 4).map((a) => a.address)
      const v6 = answers.filter((a) => a.family === 6).map((a) => a.address)
      entry.addresses = v4.length > 0 ? v4 : v6
      entry.failure = entry.addresses.length === 0 ? { ok: false, message: 'dns client error: 101 empty record received', code: 'EMPTY' } : null
      entry.expires = Date.now() + this.#options.validTtl * 1000
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERROR'
      const notFound = code === 'ENOTFOUND' || code === 'ENODATA'
      const failure: ResolveFailed = notFound
        ? { ok: false, message: code === 'ENODATA' ? 'dns client error: 101 empty record received' : 'dns server error: 3 name error', code }
        : { ok: false, message: `dns client error: ${(err as Error).message}`, code }
      // A name that stops resolving keeps its last good answer (stale serving) until it comes back.
      if (entry.addresses.length === 0) entry.failure = failure
      entry.expires = Date.now() + (notFound ? this.#options.notFoundTtl : this.#options.errorTtl) * 1000
    } finally {
      entry.refreshing = null
    }
  }
}

let resolversCache: { value: string; until: number } | null = null

/**
 * The name servers the system resolver uses (from /etc/resolv.conf), for log lines and hints.
 * Read at most every 5 s: it is only called on failures, which the resolver caches anyway.
 */
export function systemResolvers(): string {
  const now = Date.now()
  if (resolversCache !== null && resolversCache.until > now) return resolversCache.value
  let value: string
  try {
    const conf = readFileSync('/etc/resolv.conf', 'utf8')
    const servers = [...conf.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1])
    value = servers.length > 0 ? servers.join(', ') : '(none in /etc/resolv.conf: the system default 127.0.0.1)'
  } catch {
    value = '(no /etc/resolv.conf: the system default 127.0.0.1)'
  }
  resolversCache = { value, until: now + 5000 }
  return value
}
