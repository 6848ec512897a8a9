/**
 * The Store: dumb, durable persistence of entity rows. Validation, defaults, foreign-key
 * checks, cascades and change events live in the DAO (`src/dao/`); a Store only keeps rows,
 * enforces uniqueness atomically and pages through them.
 *
 * Three implementations share this interface and one conformance suite
 * (`test/unit/store/conformance.ts`): `memory` (DB-less), `sqlite` (default) and `postgres`.
 *
 * @module
 */

/** A stored row: the full entity as JSON (defaults filled in), keyed by `id`. */
export type Row = Record<string, unknown> & { id: string }

/** What a Store needs to know about an entity to lay out its storage. Derived from the schema. */
export interface StoreEntity {
  /** Table / collection name: `services`, `routes`. */
  readonly name: string
  /** Fields whose values must be unique across rows (null values never collide). */
  readonly unique: readonly string[]
  /** Foreign-key fields (stored as `{ id }` objects in the row), indexed for `page({ foreign })`. */
  readonly foreign: readonly string[]
  /**
   * Fields forming a composite unique key (Kong's cache_key, e.g. plugins' name+route+service+
   * consumer). Foreign values are compared by their id; nulls take part in the key.
   */
  readonly cacheKey?: readonly string[]
  /** Rows carry `tags` (array of strings) that `page({ tags })` and `tags()` can filter on. */
  readonly tags: boolean
  /** Rows may carry `ttl`-based expiry (`expires_at` epoch seconds, not returned in the row). */
  readonly ttl?: boolean
}

export interface TagFilter {
  readonly tags: readonly string[]
  /** `and`: every tag must be present (`?tags=a,b`); `or`: any of them (`?tags=a/b`). */
  readonly mode: 'and' | 'or'
}

export interface PageQuery {
  /** 1–1000. */
  readonly size: number
  /** Opaque token returned by the previous page. */
  readonly offset?: string
  readonly tags?: TagFilter
  /** Only rows whose foreign field points at this id (`/services/{id}/routes`). */
  readonly foreign?: { readonly field: string; readonly id: string }
  /** Exact match on a unique field (`/consumers?custom_id=x`). */
  readonly where?: { readonly field: string; readonly value: unknown }
}

export interface Page {
  readonly data: Row[]
  /** Present when there are more rows. */
  readonly offset?: string
}

export interface TagRow {
  readonly entity_name: string
  readonly entity_id: string
  readonly tag: string
}

export interface InsertOptions {
  /** Seconds until the row expires (entities with `ttl: true`). */
  readonly ttl?: number
}

/**
 * A durable store. Every method that resolves has made its write durable: a crash right after
 * it resolves loses nothing.
 *
 * Failures are thrown as {@link StoreError}.
 */
export interface Store {
  readonly kind: 'memory' | 'sqlite' | 'postgres'
  /** Creates or upgrades the storage for these entities. Idempotent. */
  init(entities: readonly StoreEntity[]): Promise<void>
  close(): Promise<void>
  select(entity: string, id: string): Promise<Row | null>
  /** Lookup on a unique field. */
  selectByUnique(entity: string, field: string, value: unknown): Promise<Row | null>
  /** Lookup on the composite cache key; `values` are in `cacheKey` order (foreign values as ids or null). */
  selectByCacheKey(entity: string, values: readonly unknown[]): Promise<Row | null>
  /** Ordered by id. Throws StoreError('INVALID_OFFSET') on a bad token. */
  page(entity: string, query: PageQuery): Promise<Page>
  /**
   * Every live row of an entity, for building the configuration snapshot. With `withExpiry`,
   * rows that expire (entities with `ttl`) carry `_expires_at` (epoch seconds) so the proxy can
   * stop honouring them on time.
   */
  all(entity: string, options?: { readonly withExpiry?: boolean }): Promise<Row[]>
  /** Throws StoreError('UNIQUE_VIOLATION' | 'PRIMARY_KEY_VIOLATION'). */
  insert(entity: string, row: Row, options?: InsertOptions): Promise<Row>
  /** Replaces the row with this id; resolves null if it does not exist. Throws UNIQUE_VIOLATION. */
  update(entity: string, row: Row): Promise<Row | null>
  /** Resolves false if there was no such row. */
  delete(entity: string, id: string): Promise<boolean>
  /** Runs `fn` atomically: every write inside commits together or not at all. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>
  /** `/tags` listing, ordered by (tag, entity_name, entity_id). */
  tags(query: { readonly size: number; readonly offset?: string; readonly tag?: string }): Promise<{ data: TagRow[]; offset?: string }>
  /** Is the backing database reachable (for `/status`)? */
  reachable(): Promise<boolean>
}

export type StoreErrorCode = 'UNIQUE_VIOLATION' | 'PRIMARY_KEY_VIOLATION' | 'INVALID_OFFSET' | 'DATABASE_ERROR'

/** A Store failure. `fields` names the offending field values for UNIQUE_VIOLATION. */
export class StoreError extends Error {
  readonly code: StoreErrorCode
  readonly fields: Record<string, unknown> | undefined
  constructor(code: StoreErrorCode, message: string, fields?: Record<string, unknown>) {
    super(message)
    this.name = 'StoreError'
    this.code = code
    this.fields = fields
  }
}

/**
 * One period of a {@link MetricsHit}: a row of Kong's `ratelimiting_metrics`
 * (`identifier, period, period_date, service_id, route_id, value`).
 */
export interface MetricsPeriod {
  /** `second` … `year`. */
  readonly period: string
  /** Start of the period's window, epoch seconds (Kong's `period_date`). */
  readonly date: number
  /** The limit: the hit is taken only while every period's value is below its limit. */
  readonly limit: number
  /** How long the row is kept after it is created, seconds (Kong's `ttl` column: the period's length). */
  readonly ttl: number
}

/** One request's hit on the `cluster` rate-limiting policy's rows. */
export interface MetricsHit {
  readonly identifier: string
  /** The plugin instance's service and route ids (Kong's null UUID when unscoped). */
  readonly serviceId: string
  readonly routeId: string
  /** At most one entry per period, each period once. */
  readonly periods: readonly MetricsPeriod[]
}

/**
 * The outcome of a hit: taken (every row was below its limit and was incremented) or not (nothing
 * counted); `remaining[i]` is what period i still allows after it (0 for a full one).
 */
export interface MetricsOutcome {
  readonly ok: boolean
  readonly remaining: readonly number[]
}

/**
 * Kong's `ratelimiting_metrics` table in a store's own database (rate-limiting's `cluster`
 * policy): exact counters shared by every node on the database.
 */
export interface RateLimitMetrics {
  /** One hit on every period, atomically exact across nodes, or none. Throws StoreError. */
  hit(hit: MetricsHit): Promise<MetricsOutcome>
  /** Deletes rows whose `ttl` has passed (at most `max`); resolves how many went. */
  purgeExpired(max: number): Promise<number>
}
