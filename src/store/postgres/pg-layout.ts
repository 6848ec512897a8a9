/**
 * The PostgreSQL table layout of the generic store and its idempotent, additive upgrade.
 *
 * One table per entity: `id text PRIMARY KEY`, `data jsonb` (the row), `u_<field> jsonb` per
 * unique field (UNIQUE index; NULLs never collide; jsonb keeps 1 and "1" distinct), `f_<field>`
 * per foreign field (the referenced id, indexed with `id` for keyset paging), `cache_key`
 * (UNIQUE) when the entity has one, `expires_at` (epoch seconds, indexed) when it has a TTL.
 * Shared tables: `schema_meta(key, value)` and `tags(entity_name, entity_id, tag, expires_at)`
 * keyed in `/tags` listing order. Every text key is `COLLATE "C"`, so ids and tags sort by
 * bytes as in SQLite and the memory store, whatever the database's locale.
 *
 * Upgrades run in one transaction under an advisory lock, so several nodes starting at once
 * do not race, and a refused upgrade leaves the old layout untouched.
 *
 * @module
 */
import { StoreError, type Row, type StoreEntity } from '../types.js'
import { cacheKeyString, cacheKeyValues, foreignId, indexValue } from '../shared/keys.js'
import { checkEntity, foreignColumn, indexColumns, q, uniqueColumn } from '../shared/columns.js'

/** Version of this layout, recorded in `schema_meta`. */
export const LAYOUT_VERSION = 1

/** Table names the store keeps for itself. */
export const RESERVED: ReadonlySet<string> = new Set(['schema_meta', 'tags', 'schema_migrations', 'ratelimiting_metrics'])

/** Key of the advisory lock that serialises layout changes and migrations between nodes. */
export const LAYOUT_LOCK = 7_465_921_003

/** PostgreSQL truncates identifiers longer than this. */
const MAX_IDENT = 63

/** What the layout code needs of a connection (a pg Client or PoolClient). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>
}

/** A unique column's value: the normalised value as jsonb text, or null. */
export function uniqueParam(value: unknown): string | null {
  const v = indexValue(value)
  return v === null ? null : JSON.stringify(v)
}

/** The index-column values of a row, in the order of `indexColumns`. */
export function indexParams(def: StoreEntity, row: Row): (string | null)[] {
  const values: (string | null)[] = []
  for (const f of def.unique) values.push(uniqueParam(row[f]))
  for (const f of def.foreign) values.push(foreignId(row[f]))
  if (def.cacheKey !== undefined) values.push(cacheKeyString(cacheKeyValues(def, row)))
  return values
}

/** The SQL cast of each index column's parameter, in the order of `indexColumns`. */
export function indexCasts(def: StoreEntity): string[] {
  return indexColumns(def).map((c) => (c.startsWith('u_') ? '::jsonb' : ''))
}

/** Throws unless the entity's tables, columns and index names are valid here. */
export function checkPgEntity(def: StoreEntity): void {
  checkEntity(def, 'postgres', RESERVED)
  for (const col of [...indexColumns(def), 'expires_at']) {
    if (`${def.name}__${col}`.length > MAX_IDENT) {
      throw new StoreError('DATABASE_ERROR', `entity '${def.name}': index name for '${col}' is longer than ${MAX_IDENT} characters`)
    }
  }
}

/** Creates the shared tables and checks the recorded layout version. */
async function createShared(db: Queryable): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_meta (key text COLLATE "C" PRIMARY KEY, value text NOT NULL)`)
  await db.query(`CREATE TABLE IF NOT EXISTS tags (
    entity_name text COLLATE "C" NOT NULL, entity_id text COLLATE "C" NOT NULL, tag text COLLATE "C" NOT NULL,
    expires_at double precision, PRIMARY KEY (tag, entity_name, entity_id))`)
  await db.query('CREATE INDEX IF NOT EXISTS tags_entity ON tags (entity_name, entity_id)')
  const { rows } = await db.query('SELECT value FROM schema_meta WHERE key = $1', ['layout_version'])
  const recorded = rows[0]?.['value']
  if (typeof recorded === 'string' && Number(recorded) > LAYOUT_VERSION) {
    throw new StoreError('DATABASE_ERROR', `database layout version ${recorded} is newer than this release supports (${LAYOUT_VERSION})`)
  }
  await setMeta(db, 'layout_version', String(LAYOUT_VERSION))
}

async function setMeta(db: Queryable, key: string, value: string): Promise<void> {
  await db.query('INSERT INTO schema_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [
    key,
    value,
  ])
}

/** Creates or upgrades one entity's table; backfills added columns from the row document. */
async function migrateEntity(db: Queryable, def: StoreEntity): Promise<void> {
  const t = def.name
  await db.query(`CREATE TABLE IF NOT EXISTS ${q(t)} (id text COLLATE "C" PRIMARY KEY, data jsonb NOT NULL)`)
  const columns = await db.query(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
    [t],
  )
  const existing = new Set(columns.rows.map((r) => String(r['column_name'])))
  const wanted: [string, string][] = [
    ...def.unique.map((f): [string, string] => [uniqueColumn(f), 'jsonb']),
    ...def.foreign.map((f): [string, string] => [foreignColumn(f), 'text COLLATE "C"']),
  ]
  if (def.cacheKey !== undefined) wanted.push(['cache_key', 'text COLLATE "C"'])
  if (def.ttl === true) wanted.push(['expires_at', 'double precision'])
  let added = false
  for (const [col, type] of wanted) {
    if (existing.has(col)) continue
    await db.query(`ALTER TABLE ${q(t)} ADD COLUMN ${q(col)} ${type}`)
    added = true
  }
  // Columns of fields that are no longer unique/foreign are cleared: they are not kept up to date.
  const live = new Set(wanted.map(([c]) => c))
  const indexes = await db.query('SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1', [t])
  for (const name of indexes.rows.map((r) => String(r['indexname']))) {
    const col = name.startsWith(`${t}__`) ? name.slice(t.length + 2) : null
    if (col !== null && !live.has(col)) {
      await db.query(`DROP INDEX ${q(name)}`)
      if (existing.has(col)) await db.query(`UPDATE ${q(t)} SET ${q(col)} = NULL`)
    }
  }
  if (added) await backfill(db, def)
  try {
    for (const f of def.unique) {
      await db.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${q(`${t}__${uniqueColumn(f)}`)} ON ${q(t)} (${q(uniqueColumn(f))})`)
    }
    for (const f of def.foreign) {
      await db.query(`CREATE INDEX IF NOT EXISTS ${q(`${t}__${foreignColumn(f)}`)} ON ${q(t)} (${q(foreignColumn(f))}, id)`)
    }
    if (def.cacheKey !== undefined) await db.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${q(`${t}__cache_key`)} ON ${q(t)} (cache_key)`)
    if (def.ttl === true) await db.query(`CREATE INDEX IF NOT EXISTS ${q(`${t}__expires_at`)} ON ${q(t)} (expires_at)`)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    throw new StoreError('DATABASE_ERROR', `cannot upgrade '${t}': existing rows violate a new constraint (${message})`)
  }
  await setMeta(db, `entity:${t}`, JSON.stringify(def))
}

/** Recomputes every index column of every row of an entity from its document. */
async function backfill(db: Queryable, def: StoreEntity): Promise<void> {
  const cols = indexColumns(def)
  if (cols.length === 0) return
  const casts = indexCasts(def)
  const set = cols.map((c, i) => `${q(c)} = $${i + 1}${casts[i] ?? ''}`).join(', ')
  const sql = `UPDATE ${q(def.name)} SET ${set} WHERE id = $${cols.length + 1}`
  const { rows } = await db.query(`SELECT id, data FROM ${q(def.name)}`)
  for (const r of rows) await db.query(sql, [...indexParams(def, r['data'] as Row), r['id']])
}

/**
 * Creates or upgrades every table. The caller holds a transaction open on `db` (so a failure
 * rolls everything back); this takes the layout lock inside it.
 */
export async function migrateLayout(db: Queryable, entities: readonly StoreEntity[]): Promise<void> {
  for (const def of entities) checkPgEntity(def)
  await db.query('SELECT pg_advisory_xact_lock($1)', [LAYOUT_LOCK])
  await createShared(db)
  for (const def of entities) await migrateEntity(db, def)
}
