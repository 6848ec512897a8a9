/**
 * Turnpike's DNS client: Kong's legacy DNS client (the default in Kong 3.9) on node's c-ares
 * `dns.Resolver`.
 *
 * - the hosts file (`dns_hostsfile`) answers first; IP literals are never queried;
 * - record types are tried in `dns_order` (LAST = the type that last worked for the name),
 *   with resolv.conf's `search`/`ndots` expansion as Kong does;
 * - answers are cached for their TTL (`dns_valid_ttl` overrides it), name errors and empty
 *   answers for `dns_not_found_ttl`, other server errors for `dns_error_ttl`; a cached answer
 *   past its TTL is still served for `dns_stale_ttl` while one background query refreshes it
 *   (a failed refresh keeps the stale answer, except a name error, which replaces it);
 * - concurrent lookups of one name and type share one query unless `dns_no_sync` is on;
 * - `resolve()` answers synchronously from the cache, a promise only when it must query.
 *
 * See docs/dns.md.
 *
 * @module
 */
import { Resolver } from 'node:dns'
import { isIP } from 'node:net'
import { LruCache } from './cache.js'
import { readHostsFile, type HostsFile } from './hosts-file.js'
import { formatNameserver, parseNameserver, readResolvConf, type ResolvConf } from './resolv-conf.js'
import { pickSrv } from './srv.js'
import {
  QTYPE,
  type DnsClientOptions,
  type DnsRecord,
  type LookupAnswer,
  type OrderEntry,
  type RecordSet,
  type RecordType,
  type ResolveAnswer,
  type ResolveFailure,
} from './types.js'

/** Kong's defaults (kong_defaults.lua, 3.9). */
export const DNS_DEFAULTS = {
  order: ['LAST', 'SRV', 'A', 'CNAME'] as readonly OrderEntry[],
  staleTtl: 3600,
  notFoundTtl: 30,
  errorTtl: 1,
  cacheSize: 10000,
} as const

/** TTL of hosts-file entries and IP literals (Kong: 10 years). */
const FOREVER_TTL = 10 * 365 * 24 * 60 * 60

/** An answer that needs no query (an IP literal, a hosts-file entry): one record, never expiring. */
function fixedAnswer(name: string, address: string, type: 'A' | 'AAAA', source: string): Resolved {
  return {
    ok: true,
    set: { ok: true, name, type, records: [{ type, name, address, ttl: FOREVER_TTL }], ttl: FOREVER_TTL, source, stale: false },
  }
}
/** TTL of an SRV answer none of whose targets resolves, and of a CNAME answer (node's c-ares API exposes neither TTL). */
const SRV_FALLBACK_TTL = 30
const MAX_DEPTH = 10

const RCODE_TEXT: Readonly<Record<number, string>> = {
  1: 'format error',
  2: 'server failure',
  3: 'name error',
  4: 'not implemented',
  5: 'refused',
}
const RCODE_NAME: Readonly<Record<number, string>> = { 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' }
const EMPTY_ERROR = 'dns client error: 101 empty record received'
const NAME_ERROR = 'dns server error: 3 name error'

/** A cached answer for one (name, type): records, or an error/empty answer. */
interface Entry {
  readonly type: RecordType
  readonly records: readonly DnsRecord[]
  /** The DNS rcode for an error answer, null for data or an empty answer. */
  readonly errcode: number | null
  readonly ttl: number
  /** ms timestamp after which the entry is stale. */
  readonly expire: number
  readonly source: string
}

type QueryOutcome = { readonly entry: Entry } | { readonly error: string; readonly code: string }

interface Try {
  readonly name: string
  readonly qtype: number | '(na)'
  readonly msg: string[]
}

/** The outcome of resolving a name to records, before picking one address. */
type Resolved = { readonly ok: true; readonly set: RecordSet } | { readonly ok: false; readonly error: string; readonly code: string }

function then<T, U>(v: T | Promise<T>, f: (t: T) => U | Promise<U>): U | Promise<U> {
  return v instanceof Promise ? v.then(f) : f(v)
}

function formatTries(tries: readonly Try[]): string {
  const parts = tries.map((t) => {
    const msg = t.msg.join('/').replace(/"/g, "'")
    return `${t.name}:${t.qtype}${msg === '' ? '' : ` - ${msg}`}`
  })
  return `["${parts.join('","')}"]`
}

function errorCode(message: string): string {
  const m = /^dns server error: (\d+)/.exec(message)
  if (m !== null) return RCODE_NAME[Number(m[1])] ?? `RCODE_${m[1]}`
  if (message === EMPTY_ERROR) return 'EMPTY'
  if (message.includes('timeout')) return 'TIMEOUT'
  if (message.includes('connection refused')) return 'CONNREFUSED'
  if (message.includes('recursion detected')) return 'RECURSION'
  return 'ERROR'
}

export class DnsClient {
  readonly nameservers: readonly string[]
  readonly hosts: HostsFile
  readonly resolvConf: ResolvConf
  readonly order: readonly OrderEntry[]
  readonly #types: readonly RecordType[]
  readonly #ipPreference: 'A' | 'AAAA'
  readonly #resolvers: readonly Resolver[]
  readonly #validTtl: number | null
  readonly #staleTtl: number
  readonly #notFoundTtl: number
  readonly #errorTtl: number
  readonly #noSync: boolean
  readonly #attempts: number
  readonly #cache: LruCache<Entry>
  readonly #last: LruCache<RecordType>
  readonly #inflight = new Map<string, Promise<QueryOutcome>>()
  readonly #rr = new WeakMap<readonly DnsRecord[], number>()
  #closed = false
  /** Queries sent to nameservers (one per question, whatever the number of tries). */
  queriesSent = 0

  constructor(options: DnsClientOptions = {}) {
    this.resolvConf = readResolvConf(options.resolvConf)
    const given = (options.nameservers ?? []).map((s) => {
      const ns = parseNameserver(s)
      if (ns === null) throw new Error(`dns_resolver must be a comma separated list in the form of IPv4/6 or IPv4/6:port, got '${s}'`)
      return formatNameserver(ns.host, ns.port)
    })
    this.nameservers = given.length > 0 ? given : this.resolvConf.nameservers
    this.hosts = readHostsFile(options.hostsFile ?? '/etc/hosts')
    this.order = options.order ?? DNS_DEFAULTS.order
    this.#types = this.order.filter((t): t is RecordType => t !== 'LAST')
    this.#ipPreference = (this.order.find((t) => t === 'A' || t === 'AAAA') as 'A' | 'AAAA' | undefined) ?? 'A'
    this.#validTtl = options.validTtl ?? null
    this.#staleTtl = options.staleTtl ?? DNS_DEFAULTS.staleTtl
    this.#notFoundTtl = options.notFoundTtl ?? DNS_DEFAULTS.notFoundTtl
    this.#errorTtl = options.errorTtl ?? DNS_DEFAULTS.errorTtl
    this.#noSync = options.noSync ?? false
    this.#attempts = Math.max(1, options.attempts ?? this.resolvConf.attempts)
    const timeout = Math.max(1, options.timeoutMs ?? this.resolvConf.timeoutMs)
    this.#resolvers = this.nameservers.map((ns) => {
      const r = new Resolver({ timeout, tries: 1 })
      r.setServers([ns])
      return r
    })
    const size = options.cacheSize ?? DNS_DEFAULTS.cacheSize
    this.#cache = new LruCache(size)
    this.#last = new LruCache(size)
  }

  /**
   * One address for a name (Kong's `toip`): rotating over A/AAAA records, weighted over SRV
   * records (whose port and weight come with the answer). Synchronous when the cache can
   * answer (including a stale answer being refreshed in the background).
   */
  resolve(name: string): ResolveAnswer | Promise<ResolveAnswer> {
    const tries: Try[] = []
    return this.#toip(name.toLowerCase(), tries, 0)
  }

  /**
   * All records of a name (A/AAAA addresses, or SRV entries with port, weight and target), for
   * a balancer building its address list. Same caching as {@link resolve}.
   */
  lookup(name: string): LookupAnswer | Promise<LookupAnswer> {
    const tries: Try[] = []
    const n = name.toLowerCase()
    return then(this.#resolve(n, tries, 0), (r) => (r.ok ? r.set : this.#failure(n, r.error, r.code, tries)))
  }

  /** Drops every cached answer (the hosts file stays). */
  clearCache(): void {
    this.#cache.clear()
    this.#last.clear()
  }

  /** Cancels queries in flight (they fail with a timeout-like error). */
  close(): void {
    this.#closed = true
    for (const r of this.#resolvers) r.cancel()
  }

  // --- name → records ---------------------------------------------------------------------------

  #resolve(name: string, tries: Try[], depth: number): Resolved | Promise<Resolved> {
    if (name.endsWith('.')) name = name.slice(0, -1)
    const literal = name.replace(/^\[(.*)\]$/, '$1')
    const family = isIP(literal)
    if (family !== 0) return fixedAnswer(name, literal, family === 4 ? 'A' : 'AAAA', 'ip literal')
    const host = this.hosts.entries.get(name)
    if (host !== undefined) {
      const address = this.#ipPreference === 'AAAA' ? (host.ipv6 ?? host.ipv4) : (host.ipv4 ?? host.ipv6)
      if (address !== undefined) return fixedAnswer(name, address, isIP(address) === 4 ? 'A' : 'AAAA', `hosts file ${this.hosts.path}`)
    }
    if (depth > MAX_DEPTH) {
      tries.push({ name, qtype: '(na)', msg: ['recursion detected'] })
      return { ok: false, error: 'recursion detected', code: 'RECURSION' }
    }
    return this.#walk(name, this.#candidates(name), 0, tries, depth, EMPTY_ERROR)
  }

  /** (name, type) pairs to try, in Kong's order: types outside, search domains inside. */
  #candidates(name: string): Array<readonly [string, RecordType]> {
    const dots = name.split('.').length - 1
    const search = this.resolvConf.search
    const names =
      search.length === 0
        ? [name]
        : dots < this.resolvConf.ndots
          ? [...search.map((d) => `${name}.${d}`), name]
          : [name, ...search.map((d) => `${name}.${d}`)]
    const out: Array<readonly [string, RecordType]> = []
    const done = new Set<RecordType>()
    for (const entry of this.order) {
      const type = entry === 'LAST' ? this.#last.get(name) : entry
      if (type === undefined || done.has(type)) continue
      done.add(type)
      for (const n of names) out.push([n, type])
    }
    return out
  }

  #walk(
    name: string,
    cands: ReadonlyArray<readonly [string, RecordType]>,
    start: number,
    tries: Try[],
    depth: number,
    lastError: string,
  ): Resolved | Promise<Resolved> {
    let error = lastError
    for (let i = start; i < cands.length; i++) {
      const [qname, type] = cands[i] as readonly [string, RecordType]
      const t: Try = { name: qname, qtype: QTYPE[type], msg: [] }
      tries.push(t)
      const cached = this.#cache.get(`${type}:${qname}`)
      if (cached === undefined) {
        t.msg.push('cache-miss')
        return this.#query(qname, type, t, this.#noSync).then((out) => {
          if ('error' in out) {
            // A network failure ends the lookup: trying other types could give a wrong answer.
            t.msg.push(out.error)
            this.#last.delete(name)
            return { ok: false, error: out.error, code: out.code } as const
          }
          const r = this.#consider(name, qname, type, out.entry, false, t, tries, depth)
          if (r !== null && !('next' in r)) return r
          return this.#walk(name, cands, i + 1, tries, depth, r === null ? error : r.next)
        })
      }
      t.msg.push('cache-hit')
      const stale = cached.expire <= Date.now()
      if (stale) {
        t.msg.push('stale')
        this.#refresh(qname, type)
      }
      const r = this.#consider(name, qname, type, cached, stale, t, tries, depth)
      if (r !== null && !('next' in r)) return r
      if (r !== null) error = r.next
    }
    this.#last.delete(name)
    return { ok: false, error, code: errorCode(error) }
  }

  /** Uses one answer: the final result, or `{ next: error }` to go on with the next candidate. */
  #consider(
    name: string,
    qname: string,
    type: RecordType,
    entry: Entry,
    stale: boolean,
    t: Try,
    tries: Try[],
    depth: number,
  ): Resolved | Promise<Resolved> | { next: string } | null {
    if (entry.errcode !== null) {
      const err = `dns server error: ${entry.errcode} ${RCODE_TEXT[entry.errcode] ?? 'unknown'}`
      t.msg.push(err)
      return { next: err }
    }
    if (entry.records.length === 0) {
      t.msg.push(EMPTY_ERROR)
      return { next: EMPTY_ERROR }
    }
    if (type === 'SRV' && entry.records.every((r) => r.target === qname)) {
      // Every SRV record points to the name itself (seen with Kubernetes): try other types.
      t.msg.push('recursion detected')
      return { next: 'recursion detected' }
    }
    if (this.#types.includes(type)) this.#last.set(name, type)
    if (type === 'CNAME') {
      const target = entry.records[0]?.target as string
      t.msg.push('dereferencing CNAME')
      return then(this.#resolve(target, tries, depth + 1), (r) =>
        r.ok ? { ok: true, set: { ...r.set, name, stale: r.set.stale || stale } } : r,
      )
    }
    return { ok: true, set: { ok: true, name, type, records: entry.records, ttl: entry.ttl, source: entry.source, stale } }
  }

  // --- records → one address ----------------------------------------------------------------------

  #toip(name: string, tries: Try[], depth: number): ResolveAnswer | Promise<ResolveAnswer> {
    return then(this.#resolve(name, tries, depth), (r): ResolveAnswer | Promise<ResolveAnswer> => {
      if (!r.ok) return this.#failure(name, r.error, r.code, tries)
      const set = r.set
      if (set.type === 'SRV') {
        const rec = set.records[pickSrv(set.records)] as DnsRecord
        const last = tries[tries.length - 1]
        last?.msg.push('dereferencing SRV')
        return then(this.#toip(rec.target as string, tries, depth + 1), (inner): ResolveAnswer => {
          if (!inner.ok) return { ...inner, name }
          return {
            ok: true,
            name,
            address: inner.address,
            port: rec.port !== undefined && rec.port !== 0 ? rec.port : inner.port,
            weight: rec.weight ?? null,
            type: 'SRV',
            ttl: set.ttl,
            source: set.source,
            stale: set.stale || inner.stale,
          }
        })
      }
      const n = set.records.length
      const cursor = this.#rr.get(set.records) ?? 0
      this.#rr.set(set.records, (cursor + 1) % n)
      const rec = set.records[cursor % n] as DnsRecord
      return {
        ok: true,
        name,
        address: rec.address as string,
        port: null,
        weight: null,
        type: rec.type,
        ttl: set.ttl,
        source: set.source,
        stale: set.stale,
      }
    })
  }

  #failure(name: string, error: string, code: string, tries: readonly Try[]): ResolveFailure {
    return {
      ok: false,
      name,
      message: error,
      code,
      notFound: error === NAME_ERROR || error === EMPTY_ERROR,
      tried: formatTries(tries),
      nameservers: this.nameservers.length > 0 ? this.nameservers.join(', ') : '(none)',
    }
  }

  // --- queries --------------------------------------------------------------------------------------

  /** Starts a background refresh of a stale answer (always shared with any query in flight). */
  #refresh(qname: string, type: RecordType): void {
    void this.#query(qname, type, null, false)
  }

  #query(qname: string, type: RecordType, t: Try | null, noSync: boolean): Promise<QueryOutcome> {
    const key = `${type}:${qname}`
    if (!noSync) {
      const running = this.#inflight.get(key)
      if (running !== undefined) {
        t?.msg.push('in progress')
        return running
      }
    }
    t?.msg.push('querying')
    const p = this.#execute(qname, type).then((out) => {
      if ('entry' in out) this.#insert(key, out.entry)
      return out
    })
    if (!noSync) {
      this.#inflight.set(key, p)
      void p.finally(() => {
        if (this.#inflight.get(key) === p) this.#inflight.delete(key)
      })
    }
    return p
  }

  /** Caches an answer, as Kong's `cacheinsert`: an error or empty answer never replaces data, a name error does. */
  #insert(key: string, entry: Entry): void {
    if (entry.records.length === 0 && entry.errcode !== 3) {
      const existing = this.#cache.get(key)
      if (existing !== undefined && existing.records.length > 0) return
    }
    const dropAt = entry.expire + this.#staleTtl * 1000
    if (dropAt <= Date.now()) this.#cache.delete(key)
    else this.#cache.set(key, entry, dropAt)
  }

  async #execute(qname: string, type: RecordType): Promise<QueryOutcome> {
    const n = this.#resolvers.length
    if (n === 0) return { error: 'failed to create a resolver: no nameservers specified', code: 'NO_NAMESERVERS' }
    this.queriesSent++
    const start = this.resolvConf.rotate ? Math.floor(Math.random() * n) : 0
    let lastError = 'unknown'
    let lastCode = 'ERROR'
    for (let attempt = 0; attempt < this.#attempts && !this.#closed; attempt++) {
      const idx = (start + attempt) % n
      const ns = this.nameservers[idx] as string
      const res = await this.#ask(this.#resolvers[idx] as Resolver, qname, type)
      if (res.ok) {
        const records = res.records
        let ttl = this.#validTtl ?? (records.length > 0 ? Math.min(...records.map((r) => r.ttl)) : 0)
        if (type === 'SRV' && this.#validTtl === null) ttl = await this.#srvTtl(records)
        const fixed = this.#validTtl === null && type !== 'SRV' ? records : records.map((r) => ({ ...r, ttl }))
        return { entry: this.#entry(type, fixed, null, ttl, ns) }
      }
      switch (res.code) {
        case 'ENOTFOUND':
          return { entry: this.#entry(type, [], 3, this.#notFoundTtl, ns) }
        case 'ENODATA':
          return { entry: this.#entry(type, [], null, this.#notFoundTtl, ns) }
        case 'ESERVFAIL':
          return { entry: this.#entry(type, [], 2, this.#errorTtl, ns) }
        case 'EREFUSED':
          return { entry: this.#entry(type, [], 5, this.#errorTtl, ns) }
        case 'ENOTIMP':
          return { entry: this.#entry(type, [], 4, this.#errorTtl, ns) }
        case 'EFORMERR':
          return { entry: this.#entry(type, [], 1, this.#errorTtl, ns) }
        default: {
          // No usable reply from this server: try the next one (Kong/lua-resty-dns retransmits).
          const reason =
            res.code === 'ETIMEOUT'
              ? 'timeout'
              : res.code === 'ECONNREFUSED'
                ? 'connection refused'
                : res.code === 'ECANCELLED'
                  ? 'cancelled'
                  : res.code
          lastError = `failed to receive reply from UDP server ${ns}: ${reason}`
          lastCode = res.code === 'ETIMEOUT' ? 'TIMEOUT' : res.code === 'ECONNREFUSED' ? 'CONNREFUSED' : res.code
        }
      }
    }
    return { error: lastError, code: lastCode }
  }

  #entry(type: RecordType, records: readonly DnsRecord[], errcode: number | null, ttl: number, source: string): Entry {
    return { type, records, errcode, ttl, expire: Date.now() + ttl * 1000, source }
  }

  /**
   * node's c-ares API gives no TTL for SRV answers: use the smallest TTL of the targets'
   * address records (querying them now, which also caches them for the first request). Only
   * address types are asked here, so an SRV record pointing back to an SRV name cannot loop.
   */
  async #srvTtl(records: readonly DnsRecord[]): Promise<number> {
    let ttl = Infinity
    const targets = [...new Set(records.map((r) => r.target as string))]
    const types = this.#types.filter((t) => t === 'A' || t === 'AAAA')
    for (const target of targets) {
      if (isIP(target) !== 0 || this.hosts.entries.has(target)) continue
      for (const type of types.length > 0 ? types : (['A'] as const)) {
        const cached = this.#cache.get(`${type}:${target}`)
        const out = cached !== undefined && cached.expire > Date.now() ? { entry: cached } : await this.#query(target, type, null, false)
        if ('entry' in out && out.entry.records.length > 0) {
          ttl = Math.min(ttl, out.entry.ttl)
          break
        }
      }
    }
    return ttl === Infinity ? SRV_FALLBACK_TTL : ttl
  }

  #ask(resolver: Resolver, qname: string, type: RecordType): Promise<{ ok: true; records: DnsRecord[] } | { ok: false; code: string }> {
    return new Promise((resolve) => {
      const fail = (err: NodeJS.ErrnoException): void => resolve({ ok: false, code: err.code ?? 'ERROR' })
      switch (type) {
        case 'A':
        case 'AAAA': {
          const cb = (err: NodeJS.ErrnoException | null, addrs: Array<{ address: string; ttl: number }>): void => {
            if (err !== null) fail(err)
            else resolve({ ok: true, records: addrs.map((a) => ({ type, name: qname, address: a.address, ttl: a.ttl })) })
          }
          if (type === 'A') resolver.resolve4(qname, { ttl: true }, cb)
          else resolver.resolve6(qname, { ttl: true }, cb)
          return
        }
        case 'SRV':
          resolver.resolveSrv(qname, (err, srv) => {
            if (err !== null) fail(err)
            else
              resolve({
                ok: true,
                records: srv.map((s) => ({
                  type,
                  name: qname,
                  target: s.name.toLowerCase().replace(/\.$/, ''),
                  port: s.port,
                  weight: s.weight,
                  priority: s.priority,
                  ttl: SRV_FALLBACK_TTL,
                })),
              })
          })
          return
        case 'CNAME':
          resolver.resolveCname(qname, (err, names) => {
            if (err !== null) fail(err)
            // c-ares gives no CNAME TTL either: the alias is kept SRV_FALLBACK_TTL (or dns_valid_ttl);
            // the target's records keep their own TTL.
            else
              resolve({
                ok: true,
                records: names.map((n) => ({ type, name: qname, target: n.toLowerCase().replace(/\.$/, ''), ttl: SRV_FALLBACK_TTL })),
              })
          })
          return
      }
    })
  }
}
