/**
 * Store factory: picks the implementation from configuration (memory, sqlite or postgres).
 *
 * @module
 */
import type { RateLimitMetrics, Store } from './types.js'
import { MemoryStore } from './memory/memory-store.js'
import { SqliteStore } from './sqlite/sqlite-store.js'
import { PostgresStore, type PostgresStoreOptions } from './postgres/pg-store.js'

export type {
  MetricsHit,
  MetricsOutcome,
  MetricsPeriod,
  RateLimitMetrics,
  Store,
  StoreEntity,
  Row,
  Page,
  PageQuery,
  TagFilter,
  TagRow,
  InsertOptions,
  StoreErrorCode,
} from './types.js'
export { StoreError } from './types.js'
export { MemoryStore, createMemoryStore } from './memory/memory-store.js'
export { SqliteStore, createSqliteStore } from './sqlite/sqlite-store.js'
export { PostgresStore, createPostgresStore } from './postgres/pg-store.js'
export type { PostgresConnection, PostgresStoreOptions } from './postgres/pg-store.js'
export type { ChangeEvent, ChangeListener } from './postgres/pg-events.js'
/** Kong's migration workflow on PostgreSQL (`turnpike migrations …`, the start-up check). */
export * as pgMigrations from './postgres/pg-migrations.js'
export type { SchemaState } from './postgres/pg-migrations.js'

/** Which store to open. */
export type StoreOptions =
  { readonly kind: 'memory' } | { readonly kind: 'sqlite'; readonly path: string } | ({ readonly kind: 'postgres' } & PostgresStoreOptions)

/** Creates the store described by `options`; call `init(entities)` on it before use. */
export function createStore(options: StoreOptions): Store {
  switch (options.kind) {
    case 'memory':
      return new MemoryStore()
    case 'sqlite':
      return new SqliteStore({ path: options.path })
    case 'postgres':
      return new PostgresStore(options)
  }
}

/** rate-limiting's `cluster` counters in the store's database; null for the memory store (DB-less). */
export function rateLimitMetrics(store: Store): RateLimitMetrics | null {
  if (store instanceof PostgresStore || store instanceof SqliteStore) return store.rateLimitMetrics()
  return null
}
