/**
 * How row values become index keys, identically in every store, so that uniqueness, cache
 * keys and `where`/`foreign` lookups agree between memory and SQLite.
 *
 * @module
 */
import { StoreError, type Row, type StoreEntity } from '../types.js'

/** A value as stored in an index column: SQLite-friendly scalars, or null for "absent". */
export type IndexValue = string | number | null

/** The id inside a foreign reference (`{ id }`), or null when the reference is absent. */
export function foreignId(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (value !== null && typeof value === 'object') {
    const id = (value as { id?: unknown }).id
    if (typeof id === 'string') return id
  }
  return null
}

/**
 * Normalises a unique-field value: foreign references compare by id, booleans as 0/1, other
 * objects by their JSON text. `undefined` and `null` are null (and never collide).
 */
export function indexValue(value: unknown): IndexValue {
  if (value === undefined || value === null) return null
  if (typeof value === 'string' || typeof value === 'number') return value
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'object') {
    const id = foreignId(value)
    if (id !== null && Object.keys(value).length === 1) return id
    return JSON.stringify(value)
  }
  return String(value)
}

/**
 * The values of the cache-key fields of a row, in `cacheKey` order: foreign fields as ids,
 * everything else through {@link indexValue}; absent values are null (they take part).
 */
export function cacheKeyValues(entity: StoreEntity, row: Row): IndexValue[] {
  const fields = entity.cacheKey ?? []
  return fields.map((f) => (entity.foreign.includes(f) ? foreignId(row[f]) : indexValue(row[f])))
}

/** The single string stored in the `cache_key` column for these key values. */
export function cacheKeyString(values: readonly unknown[]): string {
  return JSON.stringify(values.map((v) => indexValue(v)))
}

/**
 * The `fields` of a cache-key UNIQUE_VIOLATION: every cache-key field, foreign ones as `{ id }`
 * (or null), as Kong reports them.
 */
export function cacheKeyFields(entity: StoreEntity, row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of entity.cacheKey ?? []) {
    if (entity.foreign.includes(f)) {
      const id = foreignId(row[f])
      out[f] = id === null ? null : { id }
    } else out[f] = row[f] ?? null
  }
  return out
}

/** The distinct string tags of a row (empty when the entity has no tags). */
export function rowTags(entity: StoreEntity, row: Row): string[] {
  if (!entity.tags || !Array.isArray(row['tags'])) return []
  return [...new Set(row['tags'].filter((t): t is string => typeof t === 'string'))]
}

/**
 * Renders values the way Kong's messages show them: `{name="x",service={id="..."}}`, keys
 * sorted, strings double-quoted, null as `null`.
 */
export function kongLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (Array.isArray(value)) return `{${value.map(kongLiteral).join(',')}}`
  if (typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${k}=${kongLiteral(v)}`).join(',')}}`
  }
  return String(value)
}

/** Builds the UNIQUE_VIOLATION error for a single unique field. */
export function uniqueViolation(field: string, value: unknown): StoreError {
  const fields = { [field]: value ?? null }
  return new StoreError('UNIQUE_VIOLATION', `UNIQUE violation detected on '${kongLiteral(fields)}'`, fields)
}

/** Builds the UNIQUE_VIOLATION error for the composite cache key. */
export function cacheKeyViolation(entity: StoreEntity, row: Row): StoreError {
  const fields = cacheKeyFields(entity, row)
  return new StoreError('UNIQUE_VIOLATION', `UNIQUE violation detected on '${kongLiteral(fields)}'`, fields)
}

/** Builds the PRIMARY_KEY_VIOLATION error for a duplicate id. */
export function primaryKeyViolation(id: string): StoreError {
  return new StoreError('PRIMARY_KEY_VIOLATION', `primary key violation on key '${kongLiteral({ id })}'`, { id })
}
