/**
 * The default embedded store: one SQLite file through better-sqlite3 (synchronous, wrapped
 * into the async Store contract by GatedStore).
 *
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { StoreError, type MetricsHit, type MetricsOutcome, type RateLimitMetrics } from '../types.js'
import { GatedStore } from '../shared/gated-store.js'
import { SqliteCore } from './sqlite-core.js'
import { SqliteRateLimitMetrics } from './sqlite-ratelimiting.js'

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file; it and its directory are created when missing. */
  readonly path: string
  /** How long a write waits for another process holding the lock (ms). Default 10 000. */
  readonly busyTimeoutMs?: number
  /** Clock in epoch milliseconds, for TTL expiry (tests may inject one). */
  readonly now?: () => number
}

/** Opens (creating if needed) the database file with the store's durability settings. */
function open(options: SqliteStoreOptions): Database.Database {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
  // `timeout` is SQLite's busy_timeout, set before anything else touches the file: another
  // gateway process (or the CLI) holding the write lock makes us wait, not fail SQLITE_BUSY.
  const db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 10_000 })
  try {
    // WAL lets readers (other workers, the CLI) proceed while one process writes.
    db.pragma('journal_mode = WAL')
    // FULL (not WAL's usual NORMAL): each commit fsyncs the WAL, so a write that resolved
    // survives a power loss or OS crash too, as the Store contract promises. NORMAL would only
    // survive a process crash. Admin writes are rare enough that the fsync cost is irrelevant.
    db.pragma('synchronous = FULL')
    // Integrity between entities is the DAO's job (it reports Kong's errors and cascades).
    db.pragma('foreign_keys = OFF')
  } catch (err) {
    db.close()
    throw err
  }
  return db
}

/** A `Store` on an SQLite file. */
export class SqliteStore extends GatedStore {
  /** Opens the file; throws StoreError('DATABASE_ERROR') when it cannot be opened. */
  constructor(options: SqliteStoreOptions) {
    let db: Database.Database
    try {
      db = open(options)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      throw new StoreError('DATABASE_ERROR', `cannot open sqlite database '${options.path}': ${message}`)
    }
    super('sqlite', new SqliteCore(db, options.now))
    this.#metrics = new SqliteRateLimitMetrics(db, options.now ?? Date.now)
  }

  readonly #metrics: SqliteRateLimitMetrics

  /**
   * rate-limiting's `cluster` counters in this file (`ratelimiting_metrics`): each hit is one
   * IMMEDIATE transaction, run when no store transaction is open.
   */
  rateLimitMetrics(): RateLimitMetrics {
    return {
      hit: (h: MetricsHit): Promise<MetricsOutcome> => this.run(() => this.#metrics.hit(h)),
      purgeExpired: (max: number): Promise<number> => this.run(() => this.#metrics.purgeExpired(max)),
    }
  }
}

/** Opens an SQLite store at `path`; call `init(entities)` before use. */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options)
}
