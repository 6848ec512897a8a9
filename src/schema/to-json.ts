/**
 * `GET /schemas/{entity}`: the schema rendered like Kong's `schema_to_jsonable` — fields as an
 * ordered array of one-key objects, nested `fields` likewise, functions dropped, and the
 * entity checks (minus their functions). RegExps are shown by their source.
 *
 * @module
 */
import type { EntitySchema, Field, Shorthand } from './types.js'

function toJsonValue(value: unknown): unknown {
  if (typeof value === 'function') return undefined
  if (value instanceof RegExp) return value.source
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v) ?? null)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const j = toJsonValue(v)
      if (j !== undefined) out[k] = j
    }
    return out
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf'
  return value
}

function fieldToJson(field: Field): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(field)) {
    if (typeof v === 'function' || v === undefined) continue
    // `restrict` is Kong's behaviour when `on_delete` is absent; Kong does not print it.
    if (k === 'on_delete' && v === 'restrict') continue
    if (k === 'fields' && field.type === 'record') out[k] = fieldsToJson(field.fields)
    // Kong lists a record's shorthands as one-key objects, their functions dropped.
    else if (k === 'shorthand_fields' && field.type === 'record')
      out[k] = Object.entries(v as Record<string, Shorthand>).map(([name, sh]) => ({ [name]: shorthandToJson(sh) }))
    else if ((k === 'elements' || k === 'keys' || k === 'values') && typeof v === 'object' && v !== null) out[k] = fieldToJson(v as Field)
    else out[k] = toJsonValue(v)
  }
  return out
}

function shorthandToJson(sh: Shorthand): unknown {
  const { nullable: _turnpikeOnly, ...kong } = sh
  return toJsonValue(kong)
}

function fieldsToJson(fields: Readonly<Record<string, Field>>): Record<string, unknown>[] {
  return Object.entries(fields).map(([name, f]) => ({ [name]: fieldToJson(f) }))
}

/** The body of `GET /schemas/{entity}`: `entity_checks` always there (empty when none), as Kong's `schema_to_jsonable`. */
export function schemaToJson(schema: EntitySchema): unknown {
  return { fields: fieldsToJson(schema.fields), entity_checks: toJsonValue(schema.entity_checks ?? []) }
}
