/**
 * rate-limiting's `cluster` policy on PostgreSQL: Kong's `ratelimiting_metrics` table (created by
 * migration 001), one statement per request.
 *
 * Kong reads each period's row, then increments it in a timer after the request went through, so
 * concurrent requests on several nodes can all pass the same last slot. Here one statement takes
 * the hit: `INSERT … ON CONFLICT DO UPDATE SET value = value + 1 WHERE value < limit RETURNING`,
 * which locks each row while it decides, so no two requests get the same slot on any node. A
 * request refused by one period while another was incremented gives that increment back (a
 * second statement, only then); the refused one was not counted, as in Kong.
 *
 * @module
 */
import type { MetricsHit, MetricsOutcome, RateLimitMetrics } from '../types.js'
import type { Queryable } from './pg-layout.js'

/** Kong's 000_base_rate_limiting, 003 (index) and 004 (`ttl`) as one table definition. */
export const RATELIMITING_METRICS_DDL = [
  `CREATE TABLE IF NOT EXISTS ratelimiting_metrics (
    identifier text NOT NULL,
    period text NOT NULL,
    period_date timestamp with time zone NOT NULL,
    service_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000'::uuid,
    route_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000'::uuid,
    value integer,
    ttl timestamp with time zone,
    PRIMARY KEY (identifier, period, period_date, service_id, route_id))`,
  'CREATE INDEX IF NOT EXISTS ratelimiting_metrics_idx ON ratelimiting_metrics (service_id, route_id, period_date, period)',
  'CREATE INDEX IF NOT EXISTS ratelimiting_metrics_ttl_idx ON ratelimiting_metrics (ttl)',
] as const

// Rows are taken in the order given (the periods' order, the same for every request): two
// requests never lock the same rows in opposite orders.
const HIT = `INSERT INTO ratelimiting_metrics AS m (identifier, period, period_date, service_id, route_id, value, ttl)
  SELECT $1, p.period, to_timestamp(p.d), $2::uuid, $3::uuid, 1, now() + make_interval(secs => p.ttl)
    FROM unnest($4::text[], $5::float8[], $6::float8[]) WITH ORDINALITY AS p(period, d, ttl, n)
    ORDER BY p.n
  ON CONFLICT (identifier, period, period_date, service_id, route_id)
  DO UPDATE SET value = COALESCE(m.value, 0) + 1
    WHERE COALESCE(m.value, 0) < ($7::float8[])[array_position($4::text[], EXCLUDED.period)]
  RETURNING m.period, m.value`

const GIVE_BACK = `UPDATE ratelimiting_metrics AS m SET value = m.value - 1
  FROM unnest($4::text[], $5::float8[]) AS p(period, d)
  WHERE m.identifier = $1 AND m.service_id = $2::uuid AND m.route_id = $3::uuid
    AND m.period = p.period AND m.period_date = to_timestamp(p.d)`

const PURGE = `DELETE FROM ratelimiting_metrics WHERE ctid IN (
  SELECT ctid FROM ratelimiting_metrics WHERE ttl < now() LIMIT $1)`

/** The counters on one database; `run` lends a connection of the store's pool. */
export class PgRateLimitMetrics implements RateLimitMetrics {
  readonly #run: <T>(op: (db: Queryable) => Promise<T>) => Promise<T>

  constructor(run: <T>(op: (db: Queryable) => Promise<T>) => Promise<T>) {
    this.#run = run
  }

  async hit(h: MetricsHit): Promise<MetricsOutcome> {
    const periods = h.periods.map((p) => p.period)
    const dates = h.periods.map((p) => p.date)
    const { rows } = await this.#run((db) =>
      db.query(HIT, [h.identifier, h.serviceId, h.routeId, periods, dates, h.periods.map((p) => p.ttl), h.periods.map((p) => p.limit)]),
    )
    const after = new Map(rows.map((r) => [String(r['period']), Number(r['value'])]))
    const ok = after.size === h.periods.length
    if (!ok && after.size > 0) {
      const back = h.periods.filter((p) => after.has(p.period))
      await this.#run((db) =>
        db.query(GIVE_BACK, [h.identifier, h.serviceId, h.routeId, back.map((p) => p.period), back.map((p) => p.date)]),
      )
    }
    return {
      ok,
      remaining: h.periods.map((p) => {
        const v = after.get(p.period)
        if (v === undefined) return 0
        return ok ? p.limit - v : p.limit - (v - 1)
      }),
    }
  }

  async purgeExpired(max: number): Promise<number> {
    const res = await this.#run((db) => db.query(PURGE, [max]))
    return res.rowCount ?? 0
  }
}
