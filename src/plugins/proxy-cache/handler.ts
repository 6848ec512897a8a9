/**
 * proxy-cache's phases (Kong 3.9 `kong/plugins/proxy-cache/handler.lua`): access looks the
 * request up and answers a hit itself (the upstream is not called); header_filter decides whether
 * a miss's response may be stored; body_filter collects it and stores it at the end.
 *
 * @module
 */
import type { HeaderValue, Pdk } from '../../pdk/types.js'
import { buildCacheKey, CACHE_VERSION, type CachedResponse, memoryStore, type MemoryStore } from './cache.js'
import { orDefault } from '../../schema/index.js'
import { proxyCacheConfigFields, type ProxyCacheConfig } from './schema.js'

/** Kong's hop-by-hop list (plus content-length, recomputed when a hit is sent). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'content-length',
])

export interface ProxyCachePrepared extends ProxyCacheConfig {
  /** `cache_ttl`, its default when the stored value is null. */
  readonly cache_ttl: number
  readonly methods: ReadonlySet<string>
  readonly codes: ReadonlySet<number>
  readonly types: readonly ParsedMime[]
  readonly store: MemoryStore
}

export interface ParsedMime {
  readonly type: string
  readonly subtype: string
  readonly params: Readonly<Record<string, string>>
}

/** Kong's `mime_type.parse_mime_type`: `type/subtype; k=v…` (names lower-cased), or null. */
export function parseMime(raw: string): ParsedMime | null {
  const parts = raw.split(';')
  const m = /^\s*([^/\s]+)\/([^/\s]+)\s*$/.exec(parts[0] ?? '')
  if (m === null) return null
  const params: Record<string, string> = {}
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=')
    if (eq === -1) continue
    params[p.slice(0, eq).trim().toLowerCase()] = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
  }
  return { type: (m[1] as string).toLowerCase(), subtype: (m[2] as string).toLowerCase(), params }
}

/** Kong 3.9's content type test: type and subtype equal (or `*`) and exactly the same parameters. */
export function contentTypeCacheable(types: readonly ParsedMime[], raw: string | undefined): boolean {
  if (raw === undefined || raw === '') return false
  const ct = parseMime(raw)
  if (ct === null) return false
  return types.some((t) => {
    if (t.type !== '*' && t.type !== ct.type) return false
    if (t.subtype !== '*' && t.subtype !== ct.subtype) return false
    const a = Object.keys(t.params)
    if (a.length !== Object.keys(ct.params).length) return false
    return a.every((k) => ct.params[k] === t.params[k])
  })
}

export type Directives = Record<string, number | string | true>

/** Kong's `parse_directive_header` (Cache-Control): numbers where they look like numbers. */
export function parseDirectives(h: HeaderValue | undefined): Directives {
  const out: Directives = {}
  if (h === undefined) return out
  const text = Array.isArray(h) ? h.join(', ') : h
  for (const part of text.split(',')) {
    const m = /^\s*([^=]+?)\s*(?:=(.+))?$/.exec(part)
    if (m === null || m[1] === undefined || m[1] === '') continue
    const raw = m[2]?.trim().replace(/^"(.*)"$/, '$1')
    const n = raw === undefined || raw === '' ? NaN : Number(raw)
    out[m[1].toLowerCase()] = raw === undefined ? true : Number.isNaN(n) ? raw : n
  }
  return out
}

function num(v: number | string | true | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined
}

/** Kong's `calculate_resource_ttl`: s-maxage, max-age, else Expires; never negative. */
export function resourceTtl(cc: Directives, expires: string | undefined, nowSec: number): number {
  let maxAge = num(cc['s-maxage']) ?? num(cc['max-age'])
  if (maxAge === undefined && expires !== undefined) {
    const t = Date.parse(expires)
    if (!Number.isNaN(t)) maxAge = Math.floor(t / 1000) - nowSec
  }
  return maxAge === undefined ? 0 : Math.max(maxAge, 0)
}

export function prepareProxyCache(conf: ProxyCacheConfig): ProxyCachePrepared {
  return {
    ...conf,
    cache_ttl: orDefault(conf.cache_ttl, proxyCacheConfigFields.cache_ttl),
    methods: new Set(conf.request_method),
    codes: new Set(conf.response_code),
    types: conf.content_type.map(parseMime).filter((m): m is ParsedMime => m !== null),
    store: memoryStore(conf.memory.dictionary_name),
  }
}

const nowSec = (): number => Math.floor(Date.now() / 1000)

/** Kong's `set_header`: only the enabled diagnostic headers, all of them with `Kong-Debug`. */
function setHeader(kong: Pdk, conf: ProxyCachePrepared, name: 'X-Cache-Status' | 'X-Cache-Key', value: string): void {
  if (conf.response_headers[name] || kong.request.getHeader('kong-debug') !== undefined) kong.response.setHeader(name, value)
}

interface MissState {
  readonly key: string
  reqBody: string
  resHeaders?: Record<string, string | string[]>
  resTtl?: number
  chunks?: Buffer[] | undefined
}

function signal(kong: Pdk, conf: ProxyCachePrepared, key: string, status: 'Miss' | 'Refresh' | 'Bypass'): MissState {
  const state: MissState = { key, reqBody: '' }
  kong.ctx.plugin['proxy_cache'] = state
  setHeader(kong, conf, 'X-Cache-Status', status)
  return state
}

function cacheableRequest(kong: Pdk, conf: ProxyCachePrepared, cc: Directives): boolean {
  if (!conf.methods.has(kong.request.getMethod())) return false
  if (
    conf.cache_control &&
    (cc['no-store'] !== undefined || cc['no-cache'] !== undefined || kong.request.getHeader('authorization') !== undefined)
  )
    return false
  return true
}

export function proxyCacheAccess(kong: Pdk, conf: ProxyCachePrepared): void | Promise<void> {
  const cc = parseDirectives(kong.request.getHeader('cache-control'))
  if (!cacheableRequest(kong, conf, cc)) {
    setHeader(kong, conf, 'X-Cache-Status', 'Bypass')
    return
  }
  const consumer = kong.client.getConsumer()
  const route = kong.router.getRoute()
  const path = kong.request.getPath()
  const key = buildCacheKey({
    consumerId: consumer?.id ?? null,
    routeId: route?.id ?? null,
    method: kong.request.getMethod(),
    uri: conf.ignore_uri_case === true ? path.toLowerCase() : path,
    query: kong.request.getQuery(),
    headers: kong.request.getHeaders(),
    varyQueryParams: conf.vary_query_params,
    varyHeaders: conf.vary_headers,
  })
  setHeader(kong, conf, 'X-Cache-Key', key)

  const res = conf.store.fetch(key)
  if (res === null) {
    // The client wants a cached answer only (RFC 7234 5.2.1.7).
    if (conf.cache_control && cc['only-if-cached'] !== undefined) {
      kong.response.exit(504)
      return
    }
    const state = signal(kong, conf, key, 'Miss')
    const length = kong.request.getHeader('content-length')
    if ((length !== undefined && length !== '0') || kong.request.getHeader('transfer-encoding') !== undefined) {
      return kong.request.getRawBody().then(
        (b) => {
          state.reqBody = b.toString('utf8')
        },
        () => {},
      )
    }
    return
  }
  if (res.version !== CACHE_VERSION) {
    kong.log.notice('cache format mismatch, purging ', key)
    conf.store.purge(key)
    signal(kong, conf, key, 'Bypass')
    return
  }
  const now = nowSec()
  if (conf.cache_control) {
    const maxAge = num(cc['max-age'])
    const maxStale = num(cc['max-stale'])
    const minFresh = num(cc['min-fresh'])
    if (maxAge !== undefined && now - res.timestamp > maxAge) return void signal(kong, conf, key, 'Refresh')
    if (maxStale !== undefined && now - res.timestamp - res.ttl > maxStale) return void signal(kong, conf, key, 'Refresh')
    if (minFresh !== undefined && res.ttl - (now - res.timestamp) < minFresh) return void signal(kong, conf, key, 'Refresh')
  } else if (now - res.timestamp > conf.cache_ttl) {
    return void signal(kong, conf, key, 'Refresh')
  }

  // A hit: answered from the cache, the upstream is not called.
  kong.ctx.shared['proxy_cache_hit'] = { res: { ...res, body: res.body.toString('utf8') }, req: { body: res.req_body } }
  const debug = kong.request.getHeader('kong-debug') !== undefined
  const headers: Record<string, HeaderValue> = {}
  for (const [k, v] of Object.entries(res.headers)) {
    const lower = k.toLowerCase()
    if (HOP_BY_HOP.has(lower) || lower.includes('ratelimit-remaining')) continue
    // The stored request id belongs to the request that filled the cache.
    if (lower === 'age' || lower === 'x-cache-status' || lower === 'x-cache-key' || lower === 'x-kong-request-id') continue
    headers[k] = v
  }
  if (conf.response_headers.age || debug) headers['Age'] = String(Math.floor(now - res.timestamp))
  if (conf.response_headers['X-Cache-Status'] || debug) headers['X-Cache-Status'] = 'Hit'
  if (conf.response_headers['X-Cache-Key'] || debug) headers['X-Cache-Key'] = key
  kong.response.exit(res.status, res.body, headers)
}

export function proxyCacheHeaderFilter(kong: Pdk, conf: ProxyCachePrepared): void {
  const state = kong.ctx.plugin['proxy_cache'] as MissState | undefined
  if (state === undefined) return
  const cc = parseDirectives(kong.response.getHeader('cache-control'))
  const now = nowSec()
  let cacheable = conf.codes.has(kong.response.getStatus()) && contentTypeCacheable(conf.types, kong.response.getHeader('content-type'))
  if (cacheable && conf.cache_control) {
    if (cc['private'] !== undefined || cc['no-store'] !== undefined || cc['no-cache'] !== undefined) cacheable = false
    else if (resourceTtl(cc, kong.response.getHeader('expires'), now) <= 0) cacheable = false
  }
  if (!cacheable) {
    setHeader(kong, conf, 'X-Cache-Status', 'Bypass')
    delete kong.ctx.plugin['proxy_cache']
    return
  }
  const headers: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(kong.response.getHeaders())) if (v !== undefined) headers[k] = v
  state.resHeaders = headers
  state.resTtl = conf.cache_control ? resourceTtl(cc, kong.response.getHeader('expires'), now) : conf.cache_ttl
  state.chunks = []
}

export function proxyCacheBodyFilter(kong: Pdk, conf: ProxyCachePrepared, chunk: Buffer, eof: boolean): undefined {
  const state = kong.ctx.plugin['proxy_cache'] as MissState | undefined
  if (state === undefined || state.chunks === undefined) return undefined
  if (chunk.length > 0) state.chunks.push(chunk)
  if (!eof) return undefined
  const body = Buffer.concat(state.chunks)
  state.chunks = undefined
  const res: CachedResponse = {
    status: kong.response.getStatus(),
    headers: state.resHeaders ?? {},
    body,
    body_len: body.length,
    timestamp: nowSec(),
    ttl: state.resTtl ?? conf.cache_ttl,
    version: CACHE_VERSION,
    req_body: state.reqBody,
  }
  const ttl = conf.storage_ttl ?? (conf.cache_control ? (state.resTtl ?? conf.cache_ttl) : conf.cache_ttl)
  conf.store.store(state.key, res, ttl)
  return undefined
}
