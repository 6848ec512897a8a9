/**
 * The SQLite table layout of the generic store and its idempotent migration.
 *
 * One table per entity (`WITHOUT ROWID`, so rows sit in id order for keyset paging):
 * `id TEXT PRIMARY KEY`, `data TEXT` (the row JSON), `u_<field>` per unique field (UNIQUE
 * index; NULLs never collide), `f_<field>` per foreign field (the referenced id, indexed),
 * `cache_key` (UNIQUE) when the entity has a cache key, `expires_at` (epoch seconds) when it
 * has a TTL. Shared tables: `schema_meta(key, value)` and
 * `tags(entity_name, entity_id, tag, expires_at)` keyed in `/tags` listing order, and
 * `ratelimiting_metrics` (rate-limiting's `cluster` counters, sqlite-ratelimiting.ts).
 *
 * Upgrades only add: a new entity gets a table, a new unique/foreign/cache-key/ttl column is
 * added and backfilled from `data`; indexes of fields that stopped being unique are dropped.
 *
 * @module
 */
import type Database from 'better-sqlite3'
import { StoreError, type Row, type StoreEntity } from '../types.js'
import { cacheKeyString, cacheKeyValues, foreignId, indexValue, type IndexValue } from '../shared/keys.js'
import { RATELIMITING_METRICS_DDL } from './sqlite-ratelimiting.js'
import { checkEntity as checkColumns, foreignColumn, indexColumns, q, uniqueColumn } from '../shared/columns.js'

export { foreignColumn, indexColumns, q, uniqueColumn }

/** Version of this layout, recorded in `schema_meta`. */
export const LAYOUT_VERSION = 1

/** Table names the store keeps for itself. */
const RESERVED = new Set(['schema_meta', 'tags', 'ratelimiting_metrics'])

/** Throws unless every identifier of the entity is safe to splice into SQL. */
export function checkEntity(def: StoreEntity): void {
  checkColumns(def, 'sqlite', RESERVED)
}

/** The index-column values of a row, in the order of {@link indexColumns}. */
export function indexColumnValues(def: StoreEntity, row: Row): IndexValue[] {
  const values: IndexValue[] = []
  for (const f of def.unique) values.push(indexValue(row[f]))
  for (const f of def.foreign) values.push(foreignId(row[f]))
  if (def.cacheKey !== undefined) values.push(cacheKeyString(cacheKeyValues(def, row)))
  return values
}

/** Creates the shared tables. */
function createShared(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS tags (
      entity_name TEXT NOT NULL, entity_id TEXT NOT NULL, tag TEXT NOT NULL, expires_at REAL,
      PRIMARY KEY (tag, entity_name, entity_id)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS tags_entity ON tags (entity_name, entity_id);`)
  // rate-limiting's `cluster` counters (Kong's table; sqlite-ratelimiting.ts).
  db.exec(RATELIMITING_METRICS_DDL)
  const row = db.prepare('SELECT value FROM schema_meta WHERE key = ?').get('layout_version') as { value: string } | undefined
  if (row !== undefined && Number(row.value) > LAYOUT_VERSION) {
    throw new StoreError('DATABASE_ERROR', `database layout version ${row.value} is newer than this release supports (${LAYOUT_VERSION})`)
  }
  db.prepare('INSERT OR REPLACE INTO schema_meta (key, value) VALUES (?, ?)').run('layout_version', String(LAYOUT_VERSION))
}

/** Creates or upgrades one entity's table; backfills added columns from the row JSON. */
function migrateEntity(db: Database.Database, def: StoreEntity): void {
  const t = def.name
  db.exec(`CREATE TABLE IF NOT EXISTS ${q(t)} (id TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL) WITHOUT ROWID`)
  const existing = new Set((db.pragma(`table_info(${q(t)})`) as { name: string }[]).map((c) => c.name))
  const wanted: [string, string][] = [
    ...def.unique.map((f): [string, string] => [uniqueColumn(f), '']),
    ...def.foreign.map((f): [string, string] => [foreignColumn(f), ' TEXT']),
  ]
  if (def.cacheKey !== undefined) wanted.push(['cache_key', ' TEXT'])
  if (def.ttl === true) wanted.push(['expires_at', ' REAL'])
  let added = false
  for (const [col, type] of wanted) {
    if (existing.has(col)) continue
    // Unique columns are typeless so that 1 and '1' stay distinct, as in the memory store.
    db.exec(`ALTER TABLE ${q(t)} ADD COLUMN ${q(col)}${type}`)
    added = true
  }
  // Columns of fields that are no longer unique are cleared: they are not kept up to date.
  const live = new Set(wanted.map(([c]) => c))
  const indexes = db.pragma(`index_list(${q(t)})`) as { name: string }[]
  for (const { name } of indexes) {
    const col = name.startsWith(`${t}__`) ? name.slice(t.length + 2) : null
    if (col !== null && !live.has(col)) {
      db.exec(`DROP INDEX ${q(name)}`)
      if (existing.has(col)) db.exec(`UPDATE ${q(t)} SET ${q(col)} = NULL`)
    }
  }
  if (added) backfill(db, def)
  try {
    for (const f of def.unique) {
      db.exec(`CREATE UNIQUE INDEX IF NOT EXISTS ${q(`${t}__${uniqueColumn(f)}`)} ON ${q(t)} (${q(uniqueColumn(f))})`)
    }
    for (const f of def.foreign) {
      db.exec(`CREATE INDEX IF NOT EXISTS ${q(`${t}__${foreignColumn(f)}`)} ON ${q(t)} (${q(foreignColumn(f))}, id)`)
    }
    if (def.cacheKey !== undefined) db.exec(`CREATE UNIQUE INDEX IF NOT EXISTS ${q(`${t}__cache_key`)} ON ${q(t)} (cache_key)`)
    if (def.ttl === true) db.exec(`CREATE INDEX IF NOT EXISTS ${q(`${t}__expires_at`)} ON ${q(t)} (expires_at)`)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    throw new StoreError('DATABASE_ERROR', `cannot upgrade '${t}': existing rows violate a new constraint (${message})`)
  }
  db.prepare('INSERT OR REPLACE INTO schema_meta (key, value) VALUES (?, ?)').run(`entity:${t}`, JSON.stringify(def))
}

/** Recomputes every index column of every row of an entity from its JSON. */
function backfill(db: Database.Database, def: StoreEntity): void {
  const cols = indexColumns(def)
  if (cols.length === 0) return
  const set = cols.map((c) => `${q(c)} = ?`).join(', ')
  const update = db.prepare(`UPDATE ${q(def.name)} SET ${set} WHERE id = ?`)
  const rows = db.prepare(`SELECT id, data FROM ${q(def.name)}`).all() as { id: string; data: string }[]
  for (const { id, data } of rows) update.run(...indexColumnValues(def, JSON.parse(data) as Row), id)
}

/** Creates or upgrades every table, atomically (one IMMEDIATE transaction). */
export function migrate(db: Database.Database, entities: readonly StoreEntity[]): void {
  for (const def of entities) checkEntity(def)
  db.transaction(() => {
    createShared(db)
    for (const def of entities) migrateEntity(db, def)
  }).immediate()
}
