/**
 * proxy-cache's memory strategy and cache key (Kong 3.9 `kong/plugins/proxy-cache/cache_key.lua`
 * and `strategies/memory.lua`). Kong keeps entries in an nginx shared dictionary; Turnpike keeps
 * one store per dictionary name in each worker process, bounded in bytes (oldest entries go
 * first), and the Admin API reaches every worker's store for lookups and purges (the ops
 * {@link answerPrimaryCalls} registers).
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { PluginInitContext } from '../types.js'

/** Kong's `CACHE_VERSION`. */
export const CACHE_VERSION = 1

/** A cached response, in Kong's shape (what `GET /proxy-cache/…` shows). */
export interface CachedResponse {
  readonly status: number
  readonly headers: Record<string, string | string[]>
  readonly body: Buffer
  readonly body_len: number
  /** Seconds since the epoch (nginx `ngx.time()`). */
  readonly timestamp: number
  readonly ttl: number
  readonly version: number
  readonly req_body: string
}

type Arg = string | true | readonly (string | true)[] | undefined

/** Kong's `generate_key_from`: `field=value` pairs joined with `:`, arrays sorted and joined with `,`. */
export function generateKeyFrom(args: (field: string) => Arg, fields: readonly string[]): string {
  const parts: string[] = []
  for (const field of fields) {
    const arg = args(field)
    if (arg === undefined) continue
    if (Array.isArray(arg)) parts.push(`${field}=${[...arg].map(String).sort().join(',')}`)
    else if (arg === true) parts.push(field)
    else parts.push(`${field}=${String(arg)}`)
  }
  return parts.join(':')
}

/** Kong's `params_key`: the configured query params, or all of them (sorted) when none is. */
export function paramsKey(query: Readonly<Record<string, Arg>>, vary: readonly string[] | null | undefined): string {
  const fields = vary === null || vary === undefined || vary.length === 0 ? Object.keys(query).sort() : vary
  return generateKeyFrom((f) => query[f], fields)
}

/** Kong's `headers_key`: the configured headers only (case-insensitive names). */
export function headersKey(headers: Readonly<Record<string, Arg>>, vary: readonly string[] | null | undefined): string {
  if (vary === null || vary === undefined || vary.length === 0) return ''
  return generateKeyFrom((f) => headers[f.toLowerCase()], vary)
}

/** Kong's `prefix_uuid`. */
export function prefixUuid(consumerId: string | null, routeId: string | null): string {
  if (consumerId !== null && routeId !== null) return `${consumerId}:${routeId}`
  if (routeId !== null) return routeId
  return 'default'
}

export interface KeyParts {
  readonly consumerId: string | null
  readonly routeId: string | null
  readonly method: string
  readonly uri: string
  readonly query: Readonly<Record<string, Arg>>
  readonly headers: Readonly<Record<string, Arg>>
  readonly varyQueryParams?: readonly string[] | null | undefined
  readonly varyHeaders?: readonly string[] | null | undefined
}

/** Kong 3.9's `build_cache_key`: sha256 hex of `prefix|method|uri|params|headers`. */
export function buildCacheKey(p: KeyParts): string {
  const text = `${prefixUuid(p.consumerId, p.routeId)}|${p.method}|${p.uri}|${paramsKey(p.query, p.varyQueryParams)}|${headersKey(p.headers, p.varyHeaders)}`
  return createHash('sha256').update(text).digest('hex')
}

interface Slot {
  readonly res: CachedResponse
  readonly expiresAt: number
  readonly bytes: number
}

/** Bytes a store may hold before evicting its oldest entries (Kong's `kong_db_cache` is 128m). */
export const STORE_MAX_BYTES = 128 * 1024 * 1024

/** One dictionary in one worker. */
export class MemoryStore {
  readonly #slots = new Map<string, Slot>()
  #bytes = 0
  readonly #maxBytes: number
  readonly #now: () => number

  constructor(maxBytes = STORE_MAX_BYTES, now: () => number = Date.now) {
    this.#maxBytes = maxBytes
    this.#now = now
  }

  get size(): number {
    return this.#slots.size
  }

  fetch(key: string): CachedResponse | null {
    const slot = this.#slots.get(key)
    if (slot === undefined) return null
    if (slot.expiresAt <= this.#now()) {
      this.purge(key)
      return null
    }
    return slot.res
  }

  /** Stores for `ttl` seconds (Kong: the shared dictionary's expiry). */
  store(key: string, res: CachedResponse, ttl: number): void {
    this.purge(key)
    const bytes = res.body.length + JSON.stringify(res.headers).length + key.length + 128
    if (bytes > this.#maxBytes) return
    while (this.#bytes + bytes > this.#maxBytes) {
      const oldest = this.#slots.keys().next()
      if (oldest.done === true) break
      this.purge(oldest.value)
    }
    this.#slots.set(key, { res, expiresAt: this.#now() + ttl * 1000, bytes })
    this.#bytes += bytes
  }

  purge(key: string): boolean {
    const slot = this.#slots.get(key)
    if (slot === undefined) return false
    this.#slots.delete(key)
    this.#bytes -= slot.bytes
    return true
  }

  flush(): void {
    this.#slots.clear()
    this.#bytes = 0
  }
}

const stores = new Map<string, MemoryStore>()

/** This worker's store for a dictionary name. */
export function memoryStore(dictionary: string): MemoryStore {
  let s = stores.get(dictionary)
  if (s === undefined) {
    s = new MemoryStore()
    stores.set(dictionary, s)
  }
  return s
}

/** A cached response as the Admin API shows it (body as text, as Kong's Lua string). */
export function publicEntry(res: CachedResponse): Record<string, unknown> {
  return { ...res, body: res.body.toString('utf8') }
}

export const FETCH_OP = 'fetch'
export const PURGE_OP = 'purge'
export const FLUSH_OP = 'flush'

interface OpArgs {
  readonly dictionary: string
  readonly key?: string
}

/** The plugin's init: this worker answers the Admin API's lookups and purges. */
export function answerPrimaryCalls(ctx: PluginInitContext): void {
  ctx.onPrimaryCall(FETCH_OP, (a) => {
    const { dictionary, key } = a as OpArgs
    const res = memoryStore(dictionary).fetch(key ?? '')
    return res === null ? null : publicEntry(res)
  })
  ctx.onPrimaryCall(PURGE_OP, (a) => {
    const { dictionary, key } = a as OpArgs
    return memoryStore(dictionary).purge(key ?? '')
  })
  ctx.onPrimaryCall(FLUSH_OP, (a) => {
    memoryStore((a as OpArgs).dictionary).flush()
    return true
  })
}
