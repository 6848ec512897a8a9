/**
 * The synchronous better-sqlite3 engine behind the SQLite store. Every write runs in an
 * IMMEDIATE transaction (or a savepoint of the open one), so a row and its tags change together
 * and a second process waits on the write lock (busy_timeout) instead of failing.
 *
 * @module
 */
import type Database from 'better-sqlite3'
import { StoreError, type InsertOptions, type Page, type PageQuery, type Row, type StoreEntity, type TagRow } from '../types.js'
import { cacheKeyString, cacheKeyViolation, indexValue, primaryKeyViolation, rowTags, uniqueViolation } from '../shared/keys.js'
import { decodeOffset, encodeOffset } from '../shared/offset-token.js'
import type { SyncCore, TagPage, TagQuery } from '../shared/sync-core.js'
import { clampSize } from '../shared/page-size.js'
import { foreignColumn, indexColumns, indexColumnValues, migrate, q, uniqueColumn } from './sqlite-layout.js'

type Binding = string | number | null

/** better-sqlite3's error shape (its class is not exported as a type we can narrow on). */
interface SqliteFailure {
  readonly code: string
  readonly message: string
}

function isSqliteFailure(err: unknown): err is SqliteFailure {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string'
}

/** SQLite implementation of {@link SyncCore} over one open connection. */
export class SqliteCore implements SyncCore {
  readonly #db: Database.Database
  readonly #now: () => number
  readonly #entities = new Map<string, StoreEntity>()
  /** Prepared statements keyed by SQL text: each entity's handful of shapes is prepared once. */
  readonly #statements = new Map<string, Database.Statement>()

  /** @param now clock in epoch milliseconds. */
  constructor(db: Database.Database, now: () => number = Date.now) {
    this.#db = db
    this.#now = now
  }

  #stmt(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql)
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql)
      this.#statements.set(sql, stmt)
    }
    return stmt
  }

  /** Current time in the unit of `expires_at` (epoch seconds, fractional). */
  #seconds(): number {
    return this.#now() / 1000
  }

  #entity(name: string): StoreEntity {
    const def = this.#entities.get(name)
    if (def === undefined) throw new StoreError('DATABASE_ERROR', `unknown entity '${name}'`)
    return def
  }

  /** SQL fragment hiding expired rows (bind {@link #seconds} when it is not empty). */
  #liveClause(def: StoreEntity): string {
    return def.ttl === true ? ' AND (expires_at IS NULL OR expires_at > ?)' : ''
  }

  #liveArgs(def: StoreEntity): Binding[] {
    return def.ttl === true ? [this.#seconds()] : []
  }

  /** Runs a write atomically: a savepoint inside an open transaction, else BEGIN IMMEDIATE. */
  #write<T>(fn: () => T): T {
    const tx = this.#db.transaction(fn)
    return this.#db.inTransaction ? tx() : tx.immediate()
  }

  init(entities: readonly StoreEntity[]): void {
    migrate(this.#db, entities)
    for (const def of entities) this.#entities.set(def.name, def)
    this.#statements.clear()
  }

  close(): void {
    this.#statements.clear()
    this.#db.close()
  }

  reachable(): boolean {
    return this.#stmt('SELECT 1 AS ok').get() !== undefined
  }

  #one(def: StoreEntity, column: string, value: Binding): Row | null {
    const sql = `SELECT data FROM ${q(def.name)} WHERE ${q(column)} = ?${this.#liveClause(def)}`
    const found = this.#stmt(sql).get(value, ...this.#liveArgs(def)) as { data: string } | undefined
    return found === undefined ? null : (JSON.parse(found.data) as Row)
  }

  select(entity: string, id: string): Row | null {
    return this.#one(this.#entity(entity), 'id', id)
  }

  selectByUnique(entity: string, field: string, value: unknown): Row | null {
    const def = this.#entity(entity)
    if (field === 'id') return typeof value === 'string' ? this.#one(def, 'id', value) : null
    if (!def.unique.includes(field)) throw new StoreError('DATABASE_ERROR', `'${field}' is not a unique field of '${entity}'`)
    const v = indexValue(value)
    return v === null ? null : this.#one(def, uniqueColumn(field), v)
  }

  selectByCacheKey(entity: string, values: readonly unknown[]): Row | null {
    const def = this.#entity(entity)
    if (def.cacheKey === undefined) throw new StoreError('DATABASE_ERROR', `'${entity}' has no cache key`)
    return this.#one(def, 'cache_key', cacheKeyString(values))
  }

  /** Deletes expired rows (and their tags) so their ids and unique values are free again. */
  #purge(def: StoreEntity): void {
    if (def.ttl !== true) return
    const now = this.#seconds()
    this.#stmt(`DELETE FROM ${q(def.name)} WHERE expires_at <= ?`).run(now)
    this.#stmt('DELETE FROM tags WHERE entity_name = ? AND expires_at <= ?').run(def.name, now)
  }

  #writeTags(def: StoreEntity, row: Row, expiresAt: number | null): void {
    if (!def.tags) return
    this.#stmt('DELETE FROM tags WHERE entity_name = ? AND entity_id = ?').run(def.name, row.id)
    const add = this.#stmt('INSERT INTO tags (entity_name, entity_id, tag, expires_at) VALUES (?, ?, ?, ?)')
    for (const tag of rowTags(def, row)) add.run(def.name, row.id, tag, expiresAt)
  }

  /** Maps a constraint failure of this row to the contract's StoreError. */
  #violation(def: StoreEntity, row: Row, err: unknown): unknown {
    if (!isSqliteFailure(err) || !err.code.startsWith('SQLITE_CONSTRAINT')) return err
    // "UNIQUE constraint failed: services.u_name" (one table.column per column of the index).
    const columns = (err.message.split(':')[1] ?? '').split(',').map((part) => part.trim().split('.').pop() ?? '')
    const column = columns[0] ?? ''
    if (err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || column === 'id') return primaryKeyViolation(row.id)
    if (column === 'cache_key') return cacheKeyViolation(def, row)
    const field = def.unique.find((f) => uniqueColumn(f) === column)
    if (field !== undefined) return uniqueViolation(field, row[field])
    return new StoreError('DATABASE_ERROR', err.message)
  }

  insert(entity: string, row: Row, options?: InsertOptions): Row {
    const def = this.#entity(entity)
    const id: unknown = row.id
    if (typeof id !== 'string') throw new StoreError('DATABASE_ERROR', 'row has no string id')
    const ttl = def.ttl === true ? options?.ttl : undefined
    const expiresAt = ttl !== undefined && ttl > 0 ? this.#seconds() + ttl : null
    const cols = ['id', 'data', ...indexColumns(def), ...(def.ttl === true ? ['expires_at'] : [])]
    const sql = `INSERT INTO ${q(def.name)} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`
    const data = JSON.stringify(row)
    const args: Binding[] = [id, data, ...indexColumnValues(def, row), ...(def.ttl === true ? [expiresAt] : [])]
    try {
      this.#write(() => {
        this.#purge(def)
        this.#stmt(sql).run(...args)
        this.#writeTags(def, row, expiresAt)
      })
    } catch (err) {
      throw this.#violation(def, row, err)
    }
    return JSON.parse(data) as Row
  }

  update(entity: string, row: Row): Row | null {
    const def = this.#entity(entity)
    const cols = ['data', ...indexColumns(def)]
    const returning = def.ttl === true ? 'expires_at' : 'id'
    const sql = `UPDATE ${q(def.name)} SET ${cols.map((c) => `${q(c)} = ?`).join(', ')} WHERE id = ? RETURNING ${returning} AS r`
    const data = JSON.stringify(row)
    let found = false
    try {
      this.#write(() => {
        this.#purge(def)
        const result = this.#stmt(sql).get(data, ...indexColumnValues(def, row), row.id) as { r: number | null } | undefined
        if (result === undefined) return
        found = true
        this.#writeTags(def, row, def.ttl === true ? result.r : null)
      })
    } catch (err) {
      throw this.#violation(def, row, err)
    }
    return found ? (JSON.parse(data) as Row) : null
  }

  delete(entity: string, id: string): boolean {
    const def = this.#entity(entity)
    return this.#write(() => {
      this.#purge(def)
      const { changes } = this.#stmt(`DELETE FROM ${q(def.name)} WHERE id = ?`).run(id)
      if (changes > 0 && def.tags) this.#stmt('DELETE FROM tags WHERE entity_name = ? AND entity_id = ?').run(def.name, id)
      return changes > 0
    })
  }

  all(entity: string, options?: { readonly withExpiry?: boolean }): Row[] {
    const def = this.#entity(entity)
    if (options?.withExpiry === true && def.ttl === true) {
      const sql = `SELECT data, expires_at FROM ${q(def.name)} WHERE 1 = 1${this.#liveClause(def)} ORDER BY id`
      const rows = this.#stmt(sql).all(...this.#liveArgs(def)) as { data: string; expires_at: number | null }[]
      return rows.map((r) => {
        const row = JSON.parse(r.data) as Row
        if (r.expires_at !== null) row['_expires_at'] = r.expires_at
        return row
      })
    }
    const sql = `SELECT data FROM ${q(def.name)} WHERE 1 = 1${this.#liveClause(def)} ORDER BY id`
    const rows = this.#stmt(sql)
      .pluck()
      .all(...this.#liveArgs(def)) as string[]
    return rows.map((data) => JSON.parse(data) as Row)
  }

  page(entity: string, query: PageQuery): Page {
    const def = this.#entity(entity)
    const size = clampSize(query.size)
    let sql = `SELECT data FROM ${q(def.name)} WHERE 1 = 1${this.#liveClause(def)}`
    const args: Binding[] = [...this.#liveArgs(def)]
    const after = query.offset === undefined ? null : (decodeOffset(query.offset, 1)[0] as string)
    if (after !== null) {
      sql += ' AND id > ?'
      args.push(after)
    }
    if (query.foreign !== undefined) {
      if (!def.foreign.includes(query.foreign.field)) {
        throw new StoreError('DATABASE_ERROR', `'${query.foreign.field}' is not a foreign field of '${entity}'`)
      }
      sql += ` AND ${q(foreignColumn(query.foreign.field))} = ?`
      args.push(query.foreign.id)
    }
    if (query.where !== undefined) {
      const { field, value } = query.where
      if (field !== 'id' && !def.unique.includes(field)) {
        throw new StoreError('DATABASE_ERROR', `'${field}' is not a unique field of '${entity}'`)
      }
      sql += ` AND ${q(field === 'id' ? 'id' : uniqueColumn(field))} = ?`
      args.push(indexValue(value))
    }
    const tags = query.tags === undefined ? [] : [...new Set(query.tags.tags)]
    if (query.tags !== undefined && tags.length > 0) {
      const marks = tags.map(() => '?').join(', ')
      // The (tag, entity_name, entity_id) primary key serves this subquery; bounding it by the
      // cursor keeps later pages from re-reading the tags of earlier ones.
      sql += ` AND id IN (SELECT entity_id FROM tags WHERE entity_name = ? AND tag IN (${marks})`
      args.push(def.name, ...tags)
      if (after !== null) {
        sql += ' AND entity_id > ?'
        args.push(after)
      }
      sql += query.tags.mode === 'and' ? ` GROUP BY entity_id HAVING COUNT(*) = ${tags.length})` : ')'
    }
    sql += ' ORDER BY id LIMIT ?'
    args.push(size + 1)
    const rows = (
      this.#stmt(sql)
        .pluck()
        .all(...args) as string[]
    ).map((data) => JSON.parse(data) as Row)
    if (rows.length <= size) return { data: rows }
    rows.length = size
    return { data: rows, offset: encodeOffset([(rows[size - 1] as Row).id]) }
  }

  tags(query: TagQuery): TagPage {
    const size = clampSize(query.size)
    let sql = 'SELECT entity_name, entity_id, tag FROM tags WHERE (expires_at IS NULL OR expires_at > ?)'
    const args: Binding[] = [this.#seconds()]
    if (query.tag !== undefined) {
      sql += ' AND tag = ?'
      args.push(query.tag)
    }
    if (query.offset !== undefined) {
      sql += ' AND (tag, entity_name, entity_id) > (?, ?, ?)'
      args.push(...decodeOffset(query.offset, 3))
    }
    sql += ' ORDER BY tag, entity_name, entity_id LIMIT ?'
    args.push(size + 1)
    const rows = this.#stmt(sql).all(...args) as TagRow[]
    if (rows.length <= size) return { data: rows }
    rows.length = size
    const last = rows[size - 1] as TagRow
    return { data: rows, offset: encodeOffset([last.tag, last.entity_name, last.entity_id]) }
  }

  begin(): void {
    this.#db.exec('BEGIN IMMEDIATE')
  }

  commit(): void {
    this.#db.exec('COMMIT')
  }

  rollback(): void {
    if (this.#db.inTransaction) this.#db.exec('ROLLBACK')
  }

  savepoint(name: string): void {
    this.#db.exec(`SAVEPOINT ${q(name)}`)
  }

  release(name: string): void {
    this.#db.exec(`RELEASE ${q(name)}`)
  }

  rollbackTo(name: string): void {
    // ROLLBACK TO keeps the savepoint open; release it so the nesting unwinds.
    this.#db.exec(`ROLLBACK TO ${q(name)}`)
    this.#db.exec(`RELEASE ${q(name)}`)
  }
}
