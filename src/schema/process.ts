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
      return Buffer.byteLength(value, 'utf8') < (sh.len_min ?? 1) ? lenMinMessage(sh.len_min ?? 1) : undefined
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : MSG.INTEGER
    case 'boolean':
      return typeof value === 'boolean' ? undefined : MSG.BOOLEAN
    case 'array':
      return Array.isArray(value) ? undefined : MSG.ARRAY
    case 'record':
      return isPlainObject(value) ? undefined : MSG.RECORD
  }
}

/** The path a deprecated shorthand stands for (Kong's `deprecation.replaced_with[1].path`). */
function replacedPath(sh: Shorthand): readonly string[] | undefined {
  return sh.deprecation?.replaced_with?.[0].path
}

/** Kong's `table_path`: the value at `path` in `data`, undefined when a step is missing. */
function valueAt(data: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let v: unknown = data
  for (const step of path) {
    if (!isPlainObject(v) || !Object.hasOwn(v, step)) return undefined
    v = v[step]
  }
  return v
}

/** Lua's `tostring` of a JSON scalar, for Kong's mismatch message. */
function luaText(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'object' ? 'table' : String(v)
}

/** Kong's `validate_deprecation_exclusiveness`: the shorthand and its new field, both set, must agree. */
function deprecationMismatch(name: string, sh: Shorthand, value: unknown, data: Readonly<Record<string, unknown>>): string | undefined {
  const path = replacedPath(sh)
  if (path === undefined || value === null) return undefined
  const current = valueAt(data, path)
  if (current === undefined || current === null || JSON.stringify(current) === JSON.stringify(value)) return undefined
  return `both deprecated and new field are used but their values mismatch: ${name} = ${luaText(value)} vs ${path.join('.')} = ${luaText(current)}`
}

/** Shorthand values replace the fields they expand to; errors stop processing, as in Kong. */
function expandShorthands(shorthands: Readonly<Record<string, Shorthand>>, data: Record<string, unknown>): FieldErrors | undefined {
  const errors: FieldErrors = {}
  let failed = false
  for (const [name, sh] of Object.entries(shorthands)) {
    const value = data[name]
    if (value === undefined) continue
    const typeError = value === null ? undefined : (shorthandTypeError(sh, value) ?? deprecationMismatch(name, sh, value, data))
    if (typeError) {
      errors[name] = typeError
      failed = true
      continue
    }
    delete data[name]
    const deprecated = sh.deprecation !== undefined
    if (value === null && sh.nullable !== true && !deprecated) continue
    const expanded = sh.expand(value)
    if ('error' in expanded && typeof expanded.error === 'string' && Object.keys(expanded).length === 1) {
      errors[name] = expanded.error
      failed = true
      continue
    }
    for (const [k, v] of Object.entries(expanded)) {
      const current = data[k]
      if (!deprecated) data[k] = isPlainObject(v) && isPlainObject(current) ? { ...current, ...v } : v
      // Kong's `null_aware_table_merge`: for a deprecated shorthand, what the input already holds
      // at the new place wins unless it is null.
      else if (isPlainObject(v)) data[k] = isPlainObject(current) ? nullAwareMerge(v, current) : v
      else if (current === undefined || current === null) data[k] = v
    }
  }
  return failed ? errors : undefined
}

function nullAwareMerge(below: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...below }
  // `over` is the input: its keys are defined as own fields (an assignment to `__proto__` would
  // set the prototype, hiding the key from validation and lending its fields to the record).
  for (const [k, v] of Object.entries(over))
    if (!Object.hasOwn(out, k) || out[k] === undefined || v !== null)
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
  return out
}

/** The deprecated shorthands of a record that Kong shows on reads, filled from their new place. */
function replacedShorthands(record: SchemaLike): [string, readonly string[]][] {
  const out: [string, readonly string[]][] = []
  for (const [name, sh] of Object.entries(record.shorthand_fields ?? {})) {
    const path = replacedPath(sh)
    if (path !== undefined) out.push([name, path])
  }
  return out
}

/**
 * Kong 3.9's `process_auto_fields` in the "select" context: a read of the record shows each
 * deprecated shorthand with `replaced_with` (rate-limiting's `redis_host`) holding the value of
 * the field it was replaced with (`redis.host`), `null` when that is unset. A value still stored
 * under the old name (a row an earlier Turnpike wrote; writes now never store it) is what that
 * row meant, so it is shown.
 */
export function fillReplacedShorthands(record: SchemaLike, value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value }
  for (const [name, path] of replacedShorthands(record)) {
    const stored = value[name]
    out[name] = stored ?? valueAt(value, path) ?? null
  }
  return out
}

/**
 * The record without the shorthands a read filled in (what a client sends back, and what a
 * dump writes: the new fields only). A value under the old name is moved to its new place (it
 * equals it in what the Admin API shows; in a row an earlier Turnpike stored, it is what counted).
 */
export function dropReplacedShorthands(record: SchemaLike, value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  let out: Record<string, unknown> | null = null
  for (const [name, path] of replacedShorthands(record)) {
    if (!Object.hasOwn(value, name)) continue
    out ??= { ...value }
    const old = out[name]
    delete out[name]
    if (old !== null && old !== undefined) out = withValueAt(out, path, old)
  }
  return out ?? (value as Record<string, unknown>)
}

function withValueAt(data: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path as [string, ...string[]]
  if (rest.length === 0) return { ...data, [head]: value }
  const below = data[head]
  return { ...data, [head]: withValueAt(isPlainObject(below) ? below : {}, rest, value) }
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
