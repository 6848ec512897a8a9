/** Every PostgreSQL migration of this release, in the order they run (the `core` subsystem). */
import { base } from './000_base.js'
import { ratelimitingMetrics } from './001_ratelimiting_metrics.js'
import type { Migration } from './types.js'

export type { Migration, MigrationContext } from './types.js'

export const MIGRATIONS: readonly Migration[] = [base, ratelimitingMetrics]
