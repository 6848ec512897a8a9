/**
 * Per-worker cache of each issuer's discovery document and signing keys.
 *
 * - The first request for an issuer (or `prepare`, which warms the cache) runs discovery and
 *   loads the JWKS; concurrent callers share that one load. A failed load is retried on demand
 *   with a growing back-off (250 ms doubling up to 30 s), so a provider that is down is not
 *   hammered and requests fail fast with the last error meanwhile.
 * - A token whose key is cached never waits on the provider. Keys older than `cache_ttl` are
 *   refreshed in the background while the cached ones keep serving.
 * - A token whose `kid` is not cached triggers a re-discovery and JWKS reload: at most one per
 *   `rediscovery_lifetime` seconds per issuer (an attacker sending random `kid`s costs the
 *   provider at most one request per window); requests arriving while a reload is in flight wait
 *   for that same reload. This is what makes a provider's key rotation invisible to clients.
 *
 * @module
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import { discover as defaultDiscover, fetchJson as defaultFetchJson, ProviderFetchError, type Discovery } from './discovery.js'

/** One usable verification key from the JWKS. */
export interface KeyEntry {
  readonly kid: string | undefined
  /** The JWK's `alg`, when it pins one. */
  readonly alg: string | undefined
  readonly kty: string
  /** EC curve / OKP subtype (`P-256`, `Ed25519`). */
  readonly crv: string | undefined
  readonly key: KeyObject
}

export interface StoreOptions {
  readonly timeoutMs: number
  readonly cacheTtlMs: number
  readonly rediscoveryMs: number
}

export interface StoreDeps {
  readonly now?: () => number
  readonly discover?: (issuer: string, timeoutMs: number) => Promise<Discovery>
  readonly fetchJson?: (url: string, timeoutMs: number) => Promise<Record<string, unknown>>
  /** Where provider problems are reported (warn/err); the worker's log by default. */
  readonly log?: (level: 'warn' | 'err' | 'info' | 'debug', message: string) => void
}

/** The outcome of a refresh asked for because a `kid` was not cached. */
export type KidRefresh =
  | { readonly kind: 'refreshed'; readonly found: KeyEntry | undefined }
  | { readonly kind: 'rate-limited'; readonly agoMs: number; readonly nextInMs: number }
  | { readonly kind: 'failed'; readonly error: string }

const MIN_BACKOFF_MS = 250
const MAX_BACKOFF_MS = 30_000

/** Parses a JWKS document into usable signature keys; unusable keys are reported in `skipped`. */
export function parseJwks(doc: Record<string, unknown>): { keys: KeyEntry[]; skipped: string[] } {
  const list = doc['keys']
  if (!Array.isArray(list)) throw new ProviderFetchError('JWKS has no "keys" array')
  const keys: KeyEntry[] = []
  const skipped: string[] = []
  for (const raw of list as unknown[]) {
    if (raw === null || typeof raw !== 'object') continue
    const jwk = raw as Record<string, unknown>
    const kid = typeof jwk['kid'] === 'string' ? jwk['kid'] : undefined
    const kty = typeof jwk['kty'] === 'string' ? jwk['kty'] : ''
    const label = kid ?? '(no kid)'
    if (jwk['use'] !== undefined && jwk['use'] !== 'sig') {
      skipped.push(`${label}: use "${String(jwk['use'])}"`)
      continue
    }
    if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') {
      skipped.push(`${label}: key type "${kty}" is not used for signatures here`)
      continue
    }
    // Only public members: a JWKS must not carry private parts, and we never want them.
    const pub: Record<string, unknown> = { kty }
    for (const m of kty === 'RSA' ? ['n', 'e'] : ['crv', 'x', 'y']) if (jwk[m] !== undefined) pub[m] = jwk[m]
    try {
      const key = createPublicKey({ key: pub as never, format: 'jwk' })
      keys.push({
        kid,
        alg: typeof jwk['alg'] === 'string' ? jwk['alg'] : undefined,
        kty,
        crv: typeof jwk['crv'] === 'string' ? jwk['crv'] : undefined,
        key,
      })
    } catch (err) {
      skipped.push(`${label}: not a valid ${kty} key (${(err as Error).message})`)
    }
  }
  return { keys, skipped }
}

/** The JWKS key type an algorithm needs. */
export function keyTypeFor(alg: string): { kty: string; crv?: string } | undefined {
  if (/^(RS|PS)(256|384|512)$/.test(alg)) return { kty: 'RSA' }
  if (alg === 'ES256') return { kty: 'EC', crv: 'P-256' }
  if (alg === 'ES384') return { kty: 'EC', crv: 'P-384' }
  if (alg === 'ES512') return { kty: 'EC', crv: 'P-521' }
  if (alg === 'EdDSA' || alg === 'Ed25519') return { kty: 'OKP' }
  return undefined
}

/** Whether `key` may verify a token signed with `alg`. */
export function keyFits(key: KeyEntry, alg: string): boolean {
  if (key.alg !== undefined && key.alg !== alg) return false
  const need = keyTypeFor(alg)
  if (need === undefined || need.kty !== key.kty) return false
  return need.crv === undefined || key.crv === need.crv
}

/** Discovery and keys of one issuer, in one worker. */
export class IssuerKeyStore {
  readonly issuer: string
  /** The options of the last caller (timeouts of background loads). */
  #opts: StoreOptions
  readonly #now: () => number
  readonly #discover: (issuer: string, timeoutMs: number) => Promise<Discovery>
  readonly #fetchJson: (url: string, timeoutMs: number) => Promise<Record<string, unknown>>
  readonly #log: (level: 'warn' | 'err' | 'info' | 'debug', message: string) => void

  #discovery: Discovery | null = null
  #byKid = new Map<string, KeyEntry>()
  #keys: KeyEntry[] = []
  /** When keys were last loaded successfully (ms; -Infinity: never). */
  #loadedAt = -Infinity
  /** When the last refresh for an unknown `kid` started. */
  #missRefreshAt = -Infinity
  #inflight: Promise<void> | null = null
  #failures = 0
  #failedAt = -Infinity
  #lastError: string | null = null
  /** Counters, for tests and debugging. */
  readonly stats = { loads: 0, failures: 0, missRefreshes: 0, rateLimited: 0, backgroundRefreshes: 0 }

  constructor(issuer: string, opts: StoreOptions, deps: StoreDeps = {}) {
    this.issuer = issuer
    this.#opts = opts
    this.#now = deps.now ?? (() => performance.now())
    this.#discover = deps.discover ?? defaultDiscover
    this.#fetchJson = deps.fetchJson ?? defaultFetchJson
    this.#log = deps.log ?? (() => {})
  }

  /**
   * Several plugin instances may name one issuer with different timings: each call passes its
   * instance's options (default: the options the store was created with).
   */
  #use(opts: StoreOptions | undefined): StoreOptions {
    if (opts !== undefined) this.#opts = opts
    return this.#opts
  }

  get discovery(): Discovery | null {
    return this.#discovery
  }

  /** Whether keys are loaded (requests can be verified without the provider). */
  get ready(): boolean {
    return this.#loadedAt !== -Infinity
  }

  /** The `kid`s currently cached, for log lines. */
  kids(): string[] {
    return this.#keys.map((k) => k.kid ?? '(no kid)')
  }

  /** Seconds since the keys were loaded. */
  ageSeconds(): number {
    return (this.#now() - this.#loadedAt) / 1000
  }

  find(kid: string): KeyEntry | undefined {
    return this.#byKid.get(kid)
  }

  /** Keys that could verify a token without `kid`, signed with `alg`. */
  candidates(alg: string): KeyEntry[] {
    return this.#keys.filter((k) => keyFits(k, alg))
  }

  /**
   * Makes sure keys are loaded: returns at once when they are; otherwise joins or starts a load.
   * Throws {@link ProviderFetchError} when the provider cannot be used (the last error while
   * backing off, without asking the provider again).
   */
  async ensureLoaded(opts?: StoreOptions): Promise<void> {
    this.#use(opts)
    if (this.ready) return
    if (this.#inflight !== null) return this.#inflight
    const wait = this.#backoffRemaining()
    if (wait > 0) {
      throw new ProviderFetchError(
        `${this.#lastError ?? 'provider unavailable'} (failed ${this.#failures} time(s); next attempt in ${(wait / 1000).toFixed(1)} s)`,
      )
    }
    return this.#start('initial load')
  }

  /** Starts a background refresh when the keys are older than `cache_ttl` (never waits). */
  refreshIfStale(opts?: StoreOptions): void {
    if (!this.ready || this.#inflight !== null) return
    if (this.#now() - this.#loadedAt < (opts ?? this.#opts).cacheTtlMs) return
    this.#use(opts)
    if (this.#backoffRemaining() > 0) return
    this.stats.backgroundRefreshes++
    this.#start('cache_ttl expired').catch(() => {})
  }

  /**
   * A token names `kid`, which is not cached: reload (rate-limited) and look again. Callers that
   * arrive during a reload share it.
   */
  async refreshForKid(kid: string, opts?: StoreOptions): Promise<KidRefresh> {
    if (this.#inflight === null) {
      const { rediscoveryMs } = opts ?? this.#opts
      const since = this.#now() - this.#missRefreshAt
      if (since < rediscoveryMs) {
        this.stats.rateLimited++
        return { kind: 'rate-limited', agoMs: since, nextInMs: rediscoveryMs - since }
      }
      this.#use(opts)
      this.#missRefreshAt = this.#now()
      this.stats.missRefreshes++
      this.#start(`unknown kid "${kid}"`).catch(() => {})
    }
    try {
      await this.#inflight
    } catch (err) {
      return { kind: 'failed', error: (err as Error).message }
    }
    return { kind: 'refreshed', found: this.#byKid.get(kid) }
  }

  #backoffRemaining(): number {
    if (this.#failures === 0) return 0
    const delay = Math.min(MIN_BACKOFF_MS * 2 ** (this.#failures - 1), MAX_BACKOFF_MS)
    return Math.max(0, this.#failedAt + delay - this.#now())
  }

  #start(why: string): Promise<void> {
    const p = this.#load(why).finally(() => {
      if (this.#inflight === p) this.#inflight = null
    })
    this.#inflight = p
    return p
  }

  async #load(why: string): Promise<void> {
    const { timeoutMs } = this.#opts
    try {
      let discovery: Discovery
      try {
        discovery = await this.#discover(this.issuer, timeoutMs)
      } catch (err) {
        // Re-discovery failing is not fatal when the JWKS location is already known.
        if (this.#discovery === null) throw err
        this.#log(
          'warn',
          `re-discovery for issuer ${this.issuer} failed (${(err as Error).message}); using the known jwks_uri ${this.#discovery.jwks_uri}`,
        )
        discovery = this.#discovery
      }
      const doc = await this.#fetchJson(discovery.jwks_uri, timeoutMs)
      const { keys, skipped } = parseJwks(doc)
      if (keys.length === 0)
        throw new ProviderFetchError(
          `JWKS ${discovery.jwks_uri} has no usable signing key${skipped.length > 0 ? ` (skipped: ${skipped.join('; ')})` : ''}`,
        )
      if (skipped.length > 0) this.#log('debug', `JWKS ${discovery.jwks_uri}: skipped ${skipped.join('; ')}`)
      const before = new Set(this.#byKid.keys())
      this.#discovery = discovery
      this.#keys = keys
      this.#byKid = new Map(keys.filter((k) => k.kid !== undefined).map((k) => [k.kid as string, k]))
      this.#loadedAt = this.#now()
      this.#failures = 0
      this.#lastError = null
      this.stats.loads++
      const added = [...this.#byKid.keys()].filter((k) => !before.has(k))
      const removed = [...before].filter((k) => !this.#byKid.has(k))
      const change =
        before.size === 0
          ? ''
          : added.length + removed.length === 0
            ? ', no change'
            : `${added.length > 0 ? `, new: ${added.join(', ')}` : ''}${removed.length > 0 ? `, removed: ${removed.join(', ')}` : ''}`
      this.#log('info', `loaded ${keys.length} signing key(s) for issuer ${this.issuer} from ${discovery.jwks_uri} (${why}${change})`)
    } catch (err) {
      this.#failures++
      this.#failedAt = this.#now()
      this.stats.failures++
      const message = err instanceof ProviderFetchError ? err.message : `unexpected error: ${(err as Error).message}`
      this.#lastError = `loading keys for issuer ${this.issuer} failed: ${message}`
      this.#log('err', `${this.#lastError} (${why}${this.ready ? `; still using the ${this.#keys.length} cached key(s)` : ''})`)
      throw new ProviderFetchError(this.#lastError)
    }
  }
}

/** The worker's stores, by issuer (shared by every plugin instance naming that issuer). */
const stores = new Map<string, IssuerKeyStore>()
let workerLog: StoreDeps['log']

/** Sets where stores report provider problems (the plugin's `init`). */
export function setStoreLog(log: StoreDeps['log']): void {
  workerLog = log
}

/** The store for `issuer` (one per worker, whichever plugin instances name it). */
export function storeFor(issuer: string, opts: StoreOptions): IssuerKeyStore {
  let s = stores.get(issuer)
  if (s === undefined) {
    s = new IssuerKeyStore(issuer, opts, { log: (level, message) => workerLog?.(level, message) })
    stores.set(issuer, s)
  }
  return s
}

/** Drops every store (tests). */
export function clearStores(): void {
  stores.clear()
}
