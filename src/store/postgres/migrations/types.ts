/** The shape of a PostgreSQL migration file (forward-only, run in order, recorded by name). */
import type { StoreEntity } from '../../types.js'
import type { Queryable } from '../pg-layout.js'

export interface MigrationContext {
  /** Every entity of this release (core, plugins' own entities). */
  readonly entities: readonly StoreEntity[]
}

export interface Migration {
  /** `NNN_what`, unique and in order. */
  readonly name: string
  /** Runs inside a transaction; must be safe for the previous release's nodes still running. */
  up(db: Queryable, context: MigrationContext): Promise<void>
  /**
   * Optional second phase, run by `migrations finish` once no old node is left (Kong's teardown):
   * until then the migration is "pending".
   */
  teardown?(db: Queryable, context: MigrationContext): Promise<void>
}
