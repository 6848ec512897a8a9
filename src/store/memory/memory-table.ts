/**
 * One entity's rows in memory with the indexes a Store needs: ids kept sorted (keyset
 * paging), one map per unique field, one for the cache key. Rows are kept as JSON text so
 * callers never share objects with the store (and values behave exactly as in SQLite).
 *
 * @module
 */
import type { Row, StoreEntity } from '../types.js'
import { cacheKeyString, cacheKeyValues, foreignId, indexValue, rowTags, type IndexValue } from '../shared/keys.js'

/** A stored row and its precomputed index keys. */
export interface MemoryRecord {
  readonly id: string
  readonly json: string
  readonly tags: readonly string[]
  /** Epoch milliseconds, or null for rows that never expire. */
  readonly expiresAt: number | null
  /** Unique-field keys by field (absent when the value is null). */
  readonly unique: ReadonlyMap<string, string>
  readonly cacheKey: string | null
  /** Referenced ids by foreign field (absent when null). */
  readonly foreign: ReadonlyMap<string, string>
}

/** Map key of an index value that keeps 1 and '1' apart, as a typeless SQLite column does. */
export function mapKey(value: IndexValue): string | null {
  if (value === null) return null
  return typeof value === 'number' ? `n:${value}` : `s:${value}`
}

/** Builds the record (JSON text plus index keys) for a row. */
export function makeRecord(def: StoreEntity, row: Row, expiresAt: number | null): MemoryRecord {
  const unique = new Map<string, string>()
  for (const field of def.unique) {
    const key = mapKey(indexValue(row[field]))
    if (key !== null) unique.set(field, key)
  }
  const foreign = new Map<string, string>()
  for (const field of def.foreign) {
    const id = foreignId(row[field])
    if (id !== null) foreign.set(field, id)
  }
  return {
    id: row.id,
    foreign,
    json: JSON.stringify(row),
    tags: rowTags(def, row),
    expiresAt,
    unique,
    cacheKey: def.cacheKey === undefined ? null : cacheKeyString(cacheKeyValues(def, row)),
  }
}

/** Binary search: index of the first id greater than (or, with `inclusive`, equal to) `id`. */
export function lowerBound(ids: readonly string[], id: string, inclusive: boolean): number {
  let lo = 0
  let hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const at = ids[mid] as string
    if (at < id || (!inclusive && at === id)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Rows of one entity with their indexes. Methods do no validation: the core checks first. */
export class MemoryTable {
  readonly def: StoreEntity
  readonly rows = new Map<string, MemoryRecord>()
  /** Sorted ascending with plain string comparison, the same order as SQLite's BINARY collation. */
  readonly ids: string[] = []
  readonly unique = new Map<string, Map<string, string>>()
  readonly cacheKeys = new Map<string, string>()

  constructor(def: StoreEntity) {
    this.def = def
    for (const f of def.unique) this.unique.set(f, new Map())
  }

  /** Adds a record (its id must be new). */
  put(rec: MemoryRecord): void {
    this.rows.set(rec.id, rec)
    this.ids.splice(lowerBound(this.ids, rec.id, true), 0, rec.id)
    for (const [field, key] of rec.unique) this.unique.get(field)?.set(key, rec.id)
    if (rec.cacheKey !== null) this.cacheKeys.set(rec.cacheKey, rec.id)
  }

  /** Removes a record by id; returns it. */
  remove(id: string): MemoryRecord | undefined {
    const rec = this.rows.get(id)
    if (rec === undefined) return undefined
    this.rows.delete(id)
    const at = lowerBound(this.ids, id, true)
    if (this.ids[at] === id) this.ids.splice(at, 1)
    for (const [field, key] of rec.unique) {
      const index = this.unique.get(field)
      if (index?.get(key) === id) index.delete(key)
    }
    if (rec.cacheKey !== null && this.cacheKeys.get(rec.cacheKey) === id) this.cacheKeys.delete(rec.cacheKey)
    return rec
  }
}
