/**
 * Defaults outside writes: a field's default where a row or plugin configuration holds an
 * explicit `null`, and the fields a stored row lacks because it was written before they existed.
 *
 * Defaults are filled in when a field is absent (on every write: Admin API, declarative load), but
 * an explicit JSON `null` is stored as `null`, as in Kong, so the inferred type of a field that is
 * not `required` stays `T | null` even when it has a default. Code that needs a value takes the
 * schema's default then (Kong's runloop does the same: `service.retries or 5`), from the schema
 * rather than a literal written again.
 *
 * @module
 */
import type { Row } from '../store/index.js'
import { handleMissing } from './process.js'
import type { EntitySchema } from './types.js'

/** `value`, or `field.default` when `value` is null. */
export function orDefault<T>(value: T | null, field: { readonly default: T }): T {
  return value ?? field.default
}

/**
 * Kong's `select` context: a stored row that lacks a field (written before the field was added to
 * the schema) gets the field's default, or null, as Kong's DAO does on every read. Top-level
 * fields only; auto fields are left alone. Returns `row` itself when nothing is missing.
 */
export function completeRow(schema: EntitySchema, row: Row): Row {
  let out: Row | null = null
  for (const [name, field] of Object.entries(schema.fields)) {
    if (field.auto === true || field.transient === true || Object.hasOwn(row, name)) continue
    out ??= { ...row }
    out[name] = handleMissing(field) ?? null
  }
  return out ?? row
}

/**
 * Splits a validated row into what is stored and its transient fields (never stored). `sent`
 * names the keys the client gave: a transient field it left out is not reported.
 */
export function splitTransient(
  schema: EntitySchema,
  row: Row,
  sent?: Readonly<Record<string, unknown>>,
): { row: Row; transient: Record<string, unknown> } {
  const transient: Record<string, unknown> = {}
  let out = row
  for (const [name, field] of Object.entries(schema.fields)) {
    if (field.transient !== true || !Object.hasOwn(row, name)) continue
    if (out === row) out = { ...row }
    if (sent === undefined || Object.hasOwn(sent, name)) transient[name] = row[name]
    delete out[name]
  }
  return { row: out, transient }
}
