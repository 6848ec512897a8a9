/**
 * The store operations in SQL for PostgreSQL, each run on the connection it is given: the pool
 * for reads, a connection inside a transaction (or savepoint) for writes, so that a row and its
 * tags change together. Every value is a bound parameter; only validated identifiers are spliced.
 *
 * @module
 */
import { StoreError, type InsertOptions, type Page, type PageQuery, type Row, type StoreEntity, type TagRow } from '../types.js'
import { cacheKeyString, cacheKeyViolation, primaryKeyViolation, rowTags, uniqueViolation } from '../shared/keys.js'
import { decodeOffset, encodeOffset } from '../shared/offset-token.js'
import { clampSize } from '../shared/page-size.js'
import { foreignColumn, indexColumns, q, uniqueColumn } from '../shared/columns.js'
import type { TagPage, TagQuery } from '../shared/sync-core.js'
import { indexCasts, indexParams, uniqueParam, type Queryable } from './pg-layout.js'
import { CHANGES_CHANNEL, changePayload } from './pg-events.js'

/** node-postgres's error shape (a DatabaseError carries the SQLSTATE and the constraint name). */
interface PgFailure {
  readonly code: string
  readonly constraint?: string
  readonly message: string
}

function isPgFailure(err: unknown): err is PgFailure {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string'
}

/** SQLSTATE of unique_violation. */
const UNIQUE_VIOLATION = '23505'

/** Builds a parameter list: `p(value)` appends it and returns its `$n` placeholder. */
function params(): { args: unknown[]; p: (value: unknown) => string } {
  const args: unknown[] = []
  return { args, p: (value) => (args.push(value), `$${args.length}`) }
}

/** The row documents of a result (pg parses jsonb into fresh objects). */
function rowsOf(result: { rows: Record<string, unknown>[] }): Row[] {
  return result.rows.map((r) => r['data'] as Row)
}

/** SQL operations over the layout of pg-layout.ts. */
export class PgCore {
  readonly #now: () => number
  readonly #entities = new Map<string, StoreEntity>()

  readonly #origin: string

  /**
   * @param origin names this store handle in the change events it sends
   * @param now clock in epoch milliseconds (expiry uses the node's clock, as the other stores do).
   */
  constructor(origin: string, now: () => number = Date.now) {
    this.#origin = origin
    this.#now = now
  }

  /**
   * Tells every listening node that a row changed (NOTIFY is sent on commit only, so a rolled
   * back write tells nobody). The row itself is read by the listener: a payload is small.
   */
  async #notify(db: Queryable, entity: string, id: string): Promise<void> {
    await db.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, changePayload(this.#origin, entity, id)])
  }

  /** Records the entities whose tables exist (after a successful layout migration). */
  setEntities(entities: readonly StoreEntity[]): void {
    for (const def of entities) this.#entities.set(def.name, def)
  }

  #seconds(): number {
    return this.#now() / 1000
  }

  entity(name: string): StoreEntity {
    const def = this.#entities.get(name)
    if (def === undefined) throw new StoreError('DATABASE_ERROR', `unknown entity '${name}'`)
    return def
  }

  /** SQL fragment hiding expired rows. */
  #live(def: StoreEntity, p: (v: unknown) => string): string {
    return def.ttl === true ? ` AND (expires_at IS NULL OR expires_at > ${p(this.#seconds())})` : ''
  }

  async #one(db: Queryable, def: StoreEntity, column: string, value: unknown, cast = ''): Promise<Row | null> {
    const { args, p } = params()
    const sql = `SELECT data FROM ${q(def.name)} WHERE ${q(column)} = ${p(value)}${cast}${this.#live(def, p)}`
    return rowsOf(await db.query(sql, args))[0] ?? null
  }

  select(db: Queryable, entity: string, id: string): Promise<Row | null> {
    return this.#one(db, this.entity(entity), 'id', id)
  }

  async selectByUnique(db: Queryable, entity: string, field: string, value: unknown): Promise<Row | null> {
    const def = this.entity(entity)
    if (field === 'id') return typeof value === 'string' ? this.#one(db, def, 'id', value) : null
    if (!def.unique.includes(field)) throw new StoreError('DATABASE_ERROR', `'${field}' is not a unique field of '${entity}'`)
    const v = uniqueParam(value)
    return v === null ? null : this.#one(db, def, uniqueColumn(field), v, '::jsonb')
  }

  selectByCacheKey(db: Queryable, entity: string, values: readonly unknown[]): Promise<Row | null> {
    const def = this.entity(entity)
    if (def.cacheKey === undefined) throw new StoreError('DATABASE_ERROR', `'${entity}' has no cache key`)
    return this.#one(db, def, 'cache_key', cacheKeyString(values))
  }

  /** Deletes expired rows (and their tags) so their ids and unique values are free again. */
  async #purge(db: Queryable, def: StoreEntity): Promise<void> {
    if (def.ttl !== true) return
    const now = this.#seconds()
    await db.query(`DELETE FROM ${q(def.name)} WHERE expires_at <= $1`, [now])
    await db.query('DELETE FROM tags WHERE entity_name = $1 AND expires_at <= $2', [def.name, now])
  }

  async #writeTags(db: Queryable, def: StoreEntity, row: Row, expiresAt: number | null): Promise<void> {
    if (!def.tags) return
    await db.query('DELETE FROM tags WHERE entity_name = $1 AND entity_id = $2', [def.name, row.id])
    const tags = rowTags(def, row)
    if (tags.length === 0) return
    await db.query('INSERT INTO tags (entity_name, entity_id, tag, expires_at) SELECT $1, $2, unnest($3::text[]), $4', [
      def.name,
      row.id,
      tags,
      expiresAt,
    ])
  }

  /** Maps a constraint failure of this row to the contract's StoreError. */
  #violation(def: StoreEntity, row: Row, err: unknown): unknown {
    if (!isPgFailure(err) || err.code !== UNIQUE_VIOLATION) return err
    const constraint = err.constraint ?? ''
    if (constraint === `${def.name}_pkey`) return primaryKeyViolation(row.id)
    if (constraint === `${def.name}__cache_key`) return cacheKeyViolation(def, row)
    const field = def.unique.find((f) => constraint === `${def.name}__${uniqueColumn(f)}`)
    if (field !== undefined) return uniqueViolation(field, row[field])
    return new StoreError('DATABASE_ERROR', err.message)
  }

  /** Inserts a row; `db` must be inside a transaction or savepoint. */
  async insert(db: Queryable, entity: string, row: Row, options?: InsertOptions): Promise<Row> {
    const def = this.entity(entity)
    if (typeof row.id !== 'string') throw new StoreError('DATABASE_ERROR', 'row has no string id')
    const ttl = def.ttl === true ? options?.ttl : undefined
    const expiresAt = ttl !== undefined && ttl > 0 ? this.#seconds() + ttl : null
    const data = JSON.stringify(row)
    const cols = ['id', 'data', ...indexColumns(def), ...(def.ttl === true ? ['expires_at'] : [])]
    const casts = ['', '::jsonb', ...indexCasts(def), '']
    const args = [row.id, data, ...indexParams(def, row), ...(def.ttl === true ? [expiresAt] : [])]
    const marks = cols.map((_, i) => `$${i + 1}${casts[i] ?? ''}`)
    try {
      await this.#purge(db, def)
      await db.query(`INSERT INTO ${q(def.name)} (${cols.map(q).join(', ')}) VALUES (${marks.join(', ')})`, args)
      await this.#writeTags(db, def, row, expiresAt)
      await this.#notify(db, entity, row.id)
    } catch (err) {
      throw this.#violation(def, row, err)
    }
    return JSON.parse(data) as Row
  }

  /** Replaces a row; resolves null when there is none. `db` must be inside a transaction or savepoint. */
  async update(db: Queryable, entity: string, row: Row): Promise<Row | null> {
    const def = this.entity(entity)
    const cols = ['data', ...indexColumns(def)]
    const casts = ['::jsonb', ...indexCasts(def)]
    const data = JSON.stringify(row)
    const set = cols.map((c, i) => `${q(c)} = $${i + 1}${casts[i] ?? ''}`).join(', ')
    const returning = def.ttl === true ? 'expires_at' : 'id'
    const sql = `UPDATE ${q(def.name)} SET ${set} WHERE id = $${cols.length + 1} RETURNING ${returning} AS r`
    try {
      await this.#purge(db, def)
      const result = await db.query(sql, [data, ...indexParams(def, row), row.id])
      const found = result.rows[0]
      if (found === undefined) return null
      await this.#writeTags(db, def, row, def.ttl === true ? (found['r'] as number | null) : null)
      await this.#notify(db, entity, row.id)
    } catch (err) {
      throw this.#violation(def, row, err)
    }
    return JSON.parse(data) as Row
  }

  /** Deletes a row and its tags. `db` must be inside a transaction or savepoint. */
  async delete(db: Queryable, entity: string, id: string): Promise<boolean> {
    const def = this.entity(entity)
    await this.#purge(db, def)
    const { rowCount } = await db.query(`DELETE FROM ${q(def.name)} WHERE id = $1`, [id])
    const deleted = (rowCount ?? 0) > 0
    if (deleted && def.tags) await db.query('DELETE FROM tags WHERE entity_name = $1 AND entity_id = $2', [def.name, id])
    if (deleted) await this.#notify(db, entity, id)
    return deleted
  }

  async all(db: Queryable, entity: string, options?: { readonly withExpiry?: boolean }): Promise<Row[]> {
    const def = this.entity(entity)
    const { args, p } = params()
    const expiry = options?.withExpiry === true && def.ttl === true
    const sql = `SELECT data${expiry ? ', expires_at' : ''} FROM ${q(def.name)} WHERE true${this.#live(def, p)} ORDER BY id`
    const result = await db.query(sql, args)
    if (!expiry) return rowsOf(result)
    return result.rows.map((r) => {
      const row = r['data'] as Row
      if (r['expires_at'] !== null && r['expires_at'] !== undefined) row['_expires_at'] = r['expires_at']
      return row
    })
  }

  /** Keyset paging on the primary key (or the `(f_<field>, id)` index), never OFFSET. */
  async page(db: Queryable, entity: string, query: PageQuery): Promise<Page> {
    const def = this.entity(entity)
    const size = clampSize(query.size)
    const { args, p } = params()
    let sql = `SELECT data FROM ${q(def.name)} WHERE true${this.#live(def, p)}`
    const after = query.offset === undefined ? null : (decodeOffset(query.offset, 1)[0] as string)
    if (after !== null) sql += ` AND id > ${p(after)}`
    if (query.foreign !== undefined) {
      if (!def.foreign.includes(query.foreign.field)) {
        throw new StoreError('DATABASE_ERROR', `'${query.foreign.field}' is not a foreign field of '${entity}'`)
      }
      sql += ` AND ${q(foreignColumn(query.foreign.field))} = ${p(query.foreign.id)}`
    }
    if (query.where !== undefined) {
      const { field, value } = query.where
      if (field === 'id') sql += ` AND id = ${p(typeof value === 'string' ? value : JSON.stringify(value))}`
      else if (!def.unique.includes(field)) throw new StoreError('DATABASE_ERROR', `'${field}' is not a unique field of '${entity}'`)
      else sql += ` AND ${q(uniqueColumn(field))} = ${p(uniqueParam(value))}::jsonb`
    }
    const tags = query.tags === undefined ? [] : [...new Set(query.tags.tags)]
    if (query.tags !== undefined && tags.length > 0) {
      // The (tag, entity_name, entity_id) primary key serves this subquery; bounding it by the
      // cursor keeps later pages from re-reading the tags of earlier ones.
      sql += ` AND id IN (SELECT entity_id FROM tags WHERE entity_name = ${p(def.name)} AND tag = ANY(${p(tags)}::text[])`
      if (after !== null) sql += ` AND entity_id > ${p(after)}`
      sql += query.tags.mode === 'and' ? ` GROUP BY entity_id HAVING COUNT(*) = ${p(tags.length)})` : ')'
    }
    sql += ` ORDER BY id LIMIT ${p(size + 1)}`
    const rows = rowsOf(await db.query(sql, args))
    if (rows.length <= size) return { data: rows }
    rows.length = size
    return { data: rows, offset: encodeOffset([(rows[size - 1] as Row).id]) }
  }

  async tags(db: Queryable, query: TagQuery): Promise<TagPage> {
    const size = clampSize(query.size)
    const { args, p } = params()
    let sql = `SELECT entity_name, entity_id, tag FROM tags WHERE (expires_at IS NULL OR expires_at > ${p(this.#seconds())})`
    if (query.tag !== undefined) sql += ` AND tag = ${p(query.tag)}`
    if (query.offset !== undefined) {
      const [tag, name, id] = decodeOffset(query.offset, 3)
      sql += ` AND (tag, entity_name, entity_id) > (${p(tag)}, ${p(name)}, ${p(id)})`
    }
    sql += ` ORDER BY tag, entity_name, entity_id LIMIT ${p(size + 1)}`
    const rows = (await db.query(sql, args)).rows.map((r): TagRow => ({
      entity_name: String(r['entity_name']),
      entity_id: String(r['entity_id']),
      tag: String(r['tag']),
    }))
    if (rows.length <= size) return { data: rows }
    rows.length = size
    const last = rows[size - 1] as TagRow
    return { data: rows, offset: encodeOffset([last.tag, last.entity_name, last.entity_id]) }
  }
}
