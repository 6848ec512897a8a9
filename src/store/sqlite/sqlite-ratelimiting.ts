/**
 * rate-limiting's `cluster` policy on SQLite (one node on its own database file): Kong's
 * `ratelimiting_metrics` columns, with `period_date` and `ttl` as epoch seconds and the ids as
 * text. A hit reads and increments every period's row in one IMMEDIATE transaction, so it is
 * exact against any other process on the file too.
 *
 * @module
 */
import type Database from 'better-sqlite3'
import type { MetricsHit, MetricsOutcome } from '../types.js'

/** The table (created with the shared tables, sqlite-layout.ts). */
export const RATELIMITING_METRICS_DDL = `CREATE TABLE IF NOT EXISTS ratelimiting_metrics (
    identifier TEXT NOT NULL, period TEXT NOT NULL, period_date INTEGER NOT NULL,
    service_id TEXT NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    route_id TEXT NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    value INTEGER, ttl REAL,
    PRIMARY KEY (identifier, period, period_date, service_id, route_id));
  CREATE INDEX IF NOT EXISTS ratelimiting_metrics_ttl_idx ON ratelimiting_metrics (ttl);`

/** The counters on one open database. */
export class SqliteRateLimitMetrics {
  readonly #db: Database.Database
  readonly #now: () => number
  #select: Database.Statement | null = null
  #upsert: Database.Statement | null = null
  #purge: Database.Statement | null = null

  constructor(db: Database.Database, now: () => number) {
    this.#db = db
    this.#now = now
  }

  hit(h: MetricsHit): MetricsOutcome {
    const select = (this.#select ??= this.#db.prepare(
      'SELECT value FROM ratelimiting_metrics WHERE identifier = ? AND period = ? AND period_date = ? AND service_id = ? AND route_id = ?',
    ))
    const upsert = (this.#upsert ??= this.#db.prepare(
      `INSERT INTO ratelimiting_metrics (identifier, period, period_date, service_id, route_id, value, ttl) VALUES (?, ?, ?, ?, ?, 1, ?)
       ON CONFLICT (identifier, period, period_date, service_id, route_id) DO UPDATE SET value = COALESCE(value, 0) + 1`,
    ))
    const nowSeconds = this.#now() / 1000
    return this.#db
      .transaction((): MetricsOutcome => {
        const usage = h.periods.map((p) => {
          const row = select.get(h.identifier, p.period, p.date, h.serviceId, h.routeId) as { value: number | null } | undefined
          return row?.value ?? 0
        })
        const ok = h.periods.every((p, i) => (usage[i] ?? 0) < p.limit)
        if (ok) for (const p of h.periods) upsert.run(h.identifier, p.period, p.date, h.serviceId, h.routeId, nowSeconds + p.ttl)
        return { ok, remaining: h.periods.map((p, i) => Math.max(0, p.limit - (usage[i] ?? 0) - (ok ? 1 : 0))) }
      })
      .immediate()
  }

  purgeExpired(max: number): number {
    const purge = (this.#purge ??= this.#db.prepare(
      'DELETE FROM ratelimiting_metrics WHERE rowid IN (SELECT rowid FROM ratelimiting_metrics WHERE ttl < ? LIMIT ?)',
    ))
    return purge.run(this.#now() / 1000, max).changes
  }
}
