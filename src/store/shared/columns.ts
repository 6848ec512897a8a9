/**
 * Column naming shared by the SQL stores (SQLite, PostgreSQL): each entity's table keeps the row
 * as a document plus one indexed column per unique field (`u_<field>`), per foreign field
 * (`f_<field>`) and, when it has one, the composite `cache_key`.
 *
 * @module
 */
import { StoreError, type StoreEntity } from '../types.js'

const IDENT = /^[a-z][a-z0-9_]*$/

/** Quotes a validated identifier for SQL. */
export function q(name: string): string {
  return `"${name}"`
}

/** Column holding a unique field's normalised value. */
export function uniqueColumn(field: string): string {
  return `u_${field}`
}

/** Column holding a foreign field's referenced id. */
export function foreignColumn(field: string): string {
  return `f_${field}`
}

/**
 * Throws unless every identifier of the entity is safe to splice into SQL and is not one of the
 * store's own table names (`reserved`).
 */
export function checkEntity(def: StoreEntity, store: string, reserved: ReadonlySet<string>): void {
  const bad = (what: string): never => {
    throw new StoreError('DATABASE_ERROR', `invalid ${what} for the ${store} store in entity '${def.name}'`)
  }
  if (!IDENT.test(def.name) || reserved.has(def.name)) bad(`entity name '${def.name}'`)
  for (const f of [...def.unique, ...def.foreign, ...(def.cacheKey ?? [])]) if (!IDENT.test(f)) bad(`field name '${f}'`)
}

/** The index columns written on every insert/update, in a fixed order. */
export function indexColumns(def: StoreEntity): string[] {
  const cols = [...def.unique.map(uniqueColumn), ...def.foreign.map(foreignColumn)]
  if (def.cacheKey !== undefined) cols.push('cache_key')
  return cols
}
