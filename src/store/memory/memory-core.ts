/**
 * The synchronous in-memory engine (DB-less mode). Transactions keep an undo log: every change
 * made while one is open records its inverse, replayed backwards on rollback.
 *
 * @module
 */
import { StoreError, type InsertOptions, type Page, type PageQuery, type Row, type StoreEntity, type TagRow } from '../types.js'
import { cacheKeyString, cacheKeyViolation, indexValue, primaryKeyViolation, uniqueViolation } from '../shared/keys.js'
import { decodeOffset, encodeOffset } from '../shared/offset-token.js'
import type { SyncCore, TagPage, TagQuery } from '../shared/sync-core.js'
import { clampSize } from '../shared/page-size.js'
import { lowerBound, makeRecord, mapKey, MemoryTable, type MemoryRecord } from './memory-table.js'

type Undo = () => void
interface Savepoint {
  readonly name: string
  readonly at: number
}

/** In-memory implementation of {@link SyncCore}. */
export class MemoryCore implements SyncCore {
  readonly #tables = new Map<string, MemoryTable>()
  #log: Undo[] | null = null
  #savepoints: Savepoint[] = []
  readonly #now: () => number

  /** @param now clock in epoch milliseconds (tests may inject one). */
  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** Builds every new or changed table first, then swaps them in: a failed upgrade changes nothing. */
  init(entities: readonly StoreEntity[]): void {
    const next = new Map<string, MemoryTable>()
    for (const def of entities) {
      const table = this.#tables.get(def.name)
      if (table === undefined) next.set(def.name, new MemoryTable(def))
      else if (JSON.stringify(table.def) !== JSON.stringify(def)) next.set(def.name, this.#rebuild(table, def))
    }
    for (const [name, table] of next) this.#tables.set(name, table)
  }

  /** Re-indexes the live rows of a table for a new definition (e.g. a field became unique). */
  #rebuild(old: MemoryTable, def: StoreEntity): MemoryTable {
    const table = new MemoryTable(def)
    for (const rec of old.rows.values()) {
      if (!this.#live(rec)) continue
      const fresh = makeRecord(def, JSON.parse(rec.json) as Row, rec.expiresAt)
      const clash =
        [...fresh.unique].some(([field, key]) => table.unique.get(field)?.has(key) === true) ||
        (fresh.cacheKey !== null && table.cacheKeys.has(fresh.cacheKey))
      if (clash) {
        throw new StoreError('DATABASE_ERROR', `cannot upgrade '${def.name}': existing rows violate a new constraint`)
      }
      table.put(fresh)
    }
    return table
  }

  close(): void {
    this.#tables.clear()
  }

  reachable(): boolean {
    return true
  }

  #table(entity: string): MemoryTable {
    const table = this.#tables.get(entity)
    if (table === undefined) throw new StoreError('DATABASE_ERROR', `unknown entity '${entity}'`)
    return table
  }

  #live(rec: MemoryRecord): boolean {
    return rec.expiresAt === null || rec.expiresAt > this.#now()
  }

  /** A live record by id, dropping it if it has expired (expired rows are invisible). */
  #get(table: MemoryTable, id: string | undefined): MemoryRecord | null {
    if (id === undefined) return null
    const rec = table.rows.get(id)
    if (rec === undefined) return null
    if (this.#live(rec)) return rec
    // Lazy purge; not logged, an expired row stays invisible whatever a rollback does.
    table.remove(id)
    return null
  }

  #sweep(table: MemoryTable): void {
    if (table.def.ttl !== true) return
    for (const rec of [...table.rows.values()]) if (!this.#live(rec)) table.remove(rec.id)
  }

  #record(undo: Undo): void {
    this.#log?.push(undo)
  }

  select(entity: string, id: string): Row | null {
    const rec = this.#get(this.#table(entity), id)
    return rec === null ? null : (JSON.parse(rec.json) as Row)
  }

  selectByUnique(entity: string, field: string, value: unknown): Row | null {
    const table = this.#table(entity)
    if (field === 'id') return typeof value === 'string' ? this.select(entity, value) : null
    const index = table.unique.get(field)
    if (index === undefined) throw new StoreError('DATABASE_ERROR', `'${field}' is not a unique field of '${entity}'`)
    const key = mapKey(indexValue(value))
    if (key === null) return null
    const rec = this.#get(table, index.get(key))
    return rec === null ? null : (JSON.parse(rec.json) as Row)
  }

  selectByCacheKey(entity: string, values: readonly unknown[]): Row | null {
    const table = this.#table(entity)
    if (table.def.cacheKey === undefined) throw new StoreError('DATABASE_ERROR', `'${entity}' has no cache key`)
    const rec = this.#get(table, table.cacheKeys.get(cacheKeyString(values)))
    return rec === null ? null : (JSON.parse(rec.json) as Row)
  }

  /** Throws the violation `rec` would cause against rows other than `self`. */
  #checkUnique(table: MemoryTable, rec: MemoryRecord, self: string | null, row: Row): void {
    for (const [field, key] of rec.unique) {
      const owner = this.#get(table, table.unique.get(field)?.get(key))
      if (owner !== null && owner.id !== self) throw uniqueViolation(field, row[field])
    }
    if (rec.cacheKey !== null) {
      const owner = this.#get(table, table.cacheKeys.get(rec.cacheKey))
      if (owner !== null && owner.id !== self) throw cacheKeyViolation(table.def, row)
    }
  }

  insert(entity: string, row: Row, options?: InsertOptions): Row {
    const table = this.#table(entity)
    const id: unknown = row.id
    if (typeof id !== 'string') throw new StoreError('DATABASE_ERROR', 'row has no string id')
    if (this.#get(table, row.id) !== null) throw primaryKeyViolation(row.id)
    const ttl = table.def.ttl === true ? options?.ttl : undefined
    const expiresAt = ttl !== undefined && ttl > 0 ? this.#now() + ttl * 1000 : null
    const rec = makeRecord(table.def, row, expiresAt)
    this.#checkUnique(table, rec, null, row)
    table.put(rec)
    this.#record(() => table.remove(rec.id))
    return JSON.parse(rec.json) as Row
  }

  update(entity: string, row: Row): Row | null {
    const table = this.#table(entity)
    const old = this.#get(table, row.id)
    if (old === null) return null
    const rec = makeRecord(table.def, row, old.expiresAt)
    this.#checkUnique(table, rec, row.id, row)
    table.remove(old.id)
    table.put(rec)
    this.#record(() => {
      table.remove(rec.id)
      table.put(old)
    })
    return JSON.parse(rec.json) as Row
  }

  delete(entity: string, id: string): boolean {
    const table = this.#table(entity)
    const old = this.#get(table, id)
    if (old === null) return false
    table.remove(id)
    this.#record(() => table.put(old))
    return true
  }

  all(entity: string, options?: { readonly withExpiry?: boolean }): Row[] {
    const table = this.#table(entity)
    this.#sweep(table)
    return table.ids.map((id) => {
      const rec = table.rows.get(id) as MemoryRecord
      const row = JSON.parse(rec.json) as Row
      // expiresAt is kept in milliseconds here; rows carry epoch seconds like the SQLite store's.
      if (options?.withExpiry === true && rec.expiresAt !== null) row['_expires_at'] = rec.expiresAt / 1000
      return row
    })
  }

  page(entity: string, query: PageQuery): Page {
    const table = this.#table(entity)
    const size = clampSize(query.size)
    const after = query.offset === undefined ? null : (decodeOffset(query.offset, 1)[0] as string)
    const matches = this.#matcher(table, query)
    let candidates: readonly string[] = table.ids
    if (query.where !== undefined) candidates = this.#whereIds(table, query.where.field, query.where.value)
    const data: Row[] = []
    let more = false
    const start = after === null ? 0 : lowerBound(candidates, after, false)
    for (let i = start; i < candidates.length; i++) {
      const rec = this.#get(table, candidates[i])
      if (rec === null || !matches(rec)) continue
      if (data.length === size) {
        more = true
        break
      }
      data.push(JSON.parse(rec.json) as Row)
    }
    const last = data[data.length - 1]
    return more && last !== undefined ? { data, offset: encodeOffset([last.id]) } : { data }
  }

  #whereIds(table: MemoryTable, field: string, value: unknown): string[] {
    if (field === 'id') return typeof value === 'string' ? [value] : []
    const index = table.unique.get(field)
    if (index === undefined) throw new StoreError('DATABASE_ERROR', `'${field}' is not a unique field of '${table.def.name}'`)
    const key = mapKey(indexValue(value))
    const id = key === null ? undefined : index.get(key)
    return id === undefined ? [] : [id]
  }

  #matcher(table: MemoryTable, query: PageQuery): (rec: MemoryRecord) => boolean {
    const checks: ((rec: MemoryRecord) => boolean)[] = []
    const { foreign, tags } = query
    if (foreign !== undefined) {
      if (!table.def.foreign.includes(foreign.field)) {
        throw new StoreError('DATABASE_ERROR', `'${foreign.field}' is not a foreign field of '${table.def.name}'`)
      }
      checks.push((rec) => rec.foreign.get(foreign.field) === foreign.id)
    }
    if (tags !== undefined && tags.tags.length > 0) {
      checks.push(
        tags.mode === 'and' ? (rec) => tags.tags.every((t) => rec.tags.includes(t)) : (rec) => tags.tags.some((t) => rec.tags.includes(t)),
      )
    }
    return (rec) => checks.every((check) => check(rec))
  }

  tags(query: TagQuery): TagPage {
    const size = clampSize(query.size)
    const after = query.offset === undefined ? null : decodeOffset(query.offset, 3)
    const rows: TagRow[] = []
    for (const [name, table] of this.#tables) {
      if (!table.def.tags) continue
      for (const rec of table.rows.values()) {
        if (!this.#live(rec)) continue
        for (const tag of rec.tags) {
          if (query.tag === undefined || tag === query.tag) rows.push({ tag, entity_name: name, entity_id: rec.id })
        }
      }
    }
    const key = (r: TagRow): string[] => [r.tag, r.entity_name, r.entity_id]
    rows.sort((a, b) => compareKeys(key(a), key(b)))
    const start = after === null ? 0 : rows.findIndex((r) => compareKeys(key(r), after) > 0)
    const from = start < 0 ? rows.length : start
    const data = rows.slice(from, from + size)
    const last = data[data.length - 1]
    const more = from + size < rows.length
    return more && last !== undefined ? { data, offset: encodeOffset(key(last)) } : { data }
  }

  begin(): void {
    if (this.#log !== null) throw new StoreError('DATABASE_ERROR', 'a transaction is already open')
    this.#log = []
    this.#savepoints = []
  }

  commit(): void {
    this.#log = null
    this.#savepoints = []
  }

  rollback(): void {
    this.#undoTo(0)
    this.#log = null
    this.#savepoints = []
  }

  savepoint(name: string): void {
    this.#savepoints.push({ name, at: this.#log?.length ?? 0 })
  }

  release(name: string): void {
    const at = this.#savepoints.findLastIndex((s) => s.name === name)
    if (at >= 0) this.#savepoints.length = at
  }

  rollbackTo(name: string): void {
    const at = this.#savepoints.findLastIndex((s) => s.name === name)
    const sp = this.#savepoints[at]
    if (sp === undefined) return
    this.#undoTo(sp.at)
    this.#savepoints.length = at
  }

  #undoTo(length: number): void {
    const log = this.#log
    if (log === null) return
    while (log.length > length) (log.pop() as Undo)()
  }
}

/** Lexicographic comparison of string tuples with plain (code unit) string order. */
function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? ''
    const y = b[i] ?? ''
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}
