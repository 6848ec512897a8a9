/**
 * Migration 001_ratelimiting_metrics: Kong's `ratelimiting_metrics` table (the rate-limiting
 * plugin's migrations 000, 003 and 004 in one: the table, its lookup index and the `ttl` column
 * with its index), where the `cluster` policy keeps its counters. Expired rows are deleted by the
 * nodes (pg-ratelimiting.ts) rather than by Kong's insert trigger.
 */
import { RATELIMITING_METRICS_DDL } from '../pg-ratelimiting.js'
import type { Migration } from './types.js'

export const ratelimitingMetrics: Migration = {
  name: '001_ratelimiting_metrics',
  up: async (db) => {
    for (const sql of RATELIMITING_METRICS_DDL) await db.query(sql)
  },
}
