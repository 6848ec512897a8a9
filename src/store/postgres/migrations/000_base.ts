/**
 * Migration 000_base: the first layout. Creates the shared tables (`schema_meta`, `tags`) and one
 * table per entity of this release with its unique, foreign, cache-key and expiry indexes
 * (pg-layout.ts). The layout follows the entity schemas, so later releases that only add
 * entities or unique fields need no migration file: `init` adds them additively at start.
 * Files after this one change what the schemas cannot express (data rewrites).
 */
import { migrateLayout } from '../pg-layout.js'
import type { Migration } from './types.js'

export const base: Migration = {
  name: '000_base',
  up: (db, context) => migrateLayout(db, context.entities),
}
