/**
 * Kong's `process_auto_fields` for writes: expands shorthands, fills defaults (insert/upsert),
 * removes duplicates from sets and recurses into records, arrays and maps.
 *
 * Explicit JSON `null` is kept as `null` (Kong only defaults *absent* fields), so `null` on a
 * field with a default stores `null`, and `null` on a required field fails validation with
 * `required field missing`.
 *
 * Auto fields (`id`, `created_at`, `updated_at`) are left absent — an explicit `null` is dropped
 * too — so that the DAO fills them, as Kong does before validation.
 *
 * @module
 */
import type { Field, FieldErrors, RecordField, Shorthand } from './types.js'
import { type FieldSpec, isPlainObject } from './field-spec.js'
import { MSG, lenMinMessage } from './messages.js'
import { type SchemaLike, getSubschema, resolveField } from './schema-like.js'

export type WriteContext = 'insert' | 'upsert' | 'update'

export type ProcessResult =
  { readonly ok: true; readonly data: Record<string, unknown> } | { readonly ok: false; readonly errors: FieldErrors }

/** Processes a (copied) input object in place and returns it. */
export function processFields(schema: SchemaLike, data: Record<string, unknown>, context: WriteContext): ProcessResult {
  if (schema.shorthand_fields) {
    const errors = expandShorthands(schema.shorthand_fields, data)
    if (errors) return { ok: false, errors }
  }
  const subschema = getSubschema(schema, data)
  for (const name of Object.keys(schema.fields)) {
    const field = resolveField(schema, name, subschema) as Field
    if (field.auto) {
      if (data[name] === null) delete data[name]
      continue
    }
    const value = adjust(field, data[name], context)
    if (value === undefined) delete data[name]
    else data[name] = value
  }
  return { ok: true, data }
}

function shorthandTypeError(sh: Shorthand, value: unknown): string | undefined {
  switch (sh.type) {
    case 'string':
      if (typeof value !== 'string') return MSG.STRING
      return value.length === 0 ? lenMinMessage(1) : undefined
    case 'array':
      return Array.isArray(value) ? undefined : MSG.ARRAY
    case 'record':
      return isPlainObject(value) ? undefined : MSG.RECORD
  }
}

/** Shorthand values replace the fields they expand to; errors stop processing, as in Kong. */
function expandShorthands(shorthands: Readonly<Record<string, Shorthand>>, data: Record<string, unknown>): FieldErrors | undefined {
  const errors: FieldErrors = {}
  let failed = false
  for (const [name, sh] of Object.entries(shorthands)) {
    const value = data[name]
    if (value === undefined) continue
    const typeError = value === null ? undefined : shorthandTypeError(sh, value)
    if (typeError) {
      errors[name] = typeError
      failed = true
      continue
    }
    delete data[name]
    if (value === null && sh.nullable !== true) continue
    const expanded = sh.expand(value)
    if ('error' in expanded && typeof expanded.error === 'string' && Object.keys(expanded).length === 1) {
      errors[name] = expanded.error
      failed = true
      continue
    }
    for (const [k, v] of Object.entries(expanded)) {
      const current = data[k]
      data[k] = isPlainObject(v) && isPlainObject(current) ? { ...current, ...v } : v
    }
  }
  return failed ? errors : undefined
}

/** Kong's `adjust_field_for_context`. */
function adjust(field: Field, value: unknown, context: WriteContext): unknown {
  if (field.type === 'record') {
    const recurse = value !== null && (value !== undefined || (context !== 'update' && field.required === true))
    if (recurse) {
      const v = value === undefined ? handleMissing(field) : value
      if (isPlainObject(v)) {
        const res = processFields(field, v, context)
        return res.ok ? res.data : v
      }
      // An empty JSON array is an empty Lua table: a valid, empty record.
      if (Array.isArray(v) && v.length === 0) return recordDefaults(field, context)
      value = v
    }
  } else if (value !== null && typeof value === 'object') {
    if (field.type === 'set' && Array.isArray(value)) value = dedupe(value)
    if ((field.type === 'array' || field.type === 'set') && Array.isArray(value)) {
      value = value.map((e) => adjust(field.elements, e, context) ?? e)
    } else if (field.type === 'map' && isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) value[k] = adjust(field.values, v, context) ?? v
    }
  }
  if (value === undefined && context !== 'update') return handleMissing(field)
  return value
}

function recordDefaults(field: RecordField, context: WriteContext): Record<string, unknown> {
  const res = processFields(field, {}, context)
  return res.ok ? res.data : {}
}

/** Kong's `make_set`: scalars are deduplicated; tables compare by identity, so never merge. */
function dedupe(values: unknown[]): unknown[] {
  const seen = new Set<unknown>()
  const out: unknown[] = []
  for (const v of values) {
    if (v !== null && typeof v === 'object') out.push(v)
    else if (!seen.has(v)) {
      seen.add(v)
      out.push(v)
    }
  }
  return out
}

/** Kong's `handle_missing_field`: default, else null when optional, else nested record defaults. */
export function handleMissing(field: Field | FieldSpec): unknown {
  if (field.default !== undefined) return structuredClone(field.default)
  if (field.required !== true) return null
  if (field.type === 'record') return recordDefaults(field, 'insert')
  return undefined
}
