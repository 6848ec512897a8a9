/**
 * Validation of a whole object against a schema-like definition (Kong's `Schema:validate`):
 * subschema selection, per-field checks, required fields, then entity checks. Shared by
 * entities and nested `record` fields.
 *
 * @module
 */
import type { FieldErrors, RecordField } from './types.js'
import { runEntityChecks } from './entity-checks.js'
import { MSG, unknownTypeMessage } from './messages.js'
import { processFields } from './process.js'
import { setOwn } from './field-spec.js'
import { type SchemaLike, getSubschema, resolveField } from './schema-like.js'
import { type ValidateContext, validateField } from './validate-field.js'

/** Validates a processed object; returns the errors or undefined. `full` is false on update. */
export function validateObject(
  schema: SchemaLike,
  input: Record<string, unknown>,
  full: boolean,
  ctx: ValidateContext,
): FieldErrors | undefined {
  if (schema.subschema_key) {
    const key = input[schema.subschema_key]
    if (key === null || key === undefined) return { [schema.subschema_key]: MSG.REQUIRED }
    if ((typeof key === 'string' || Array.isArray(key)) && !getSubschema(schema, input)) {
      // Kong formats the first element of a set key; an empty set formats Lua's nil.
      const shown = typeof key === 'string' ? key : key.length === 0 ? 'nil' : String(key[0])
      return { [schema.subschema_key]: unknownTypeMessage(shown) }
    }
  }
  const subschema = getSubschema(schema, input)
  const errors: FieldErrors = {}
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue
    if (name === 'ttl' && schema.ttl) continue
    const field = resolveField(schema, name, subschema)
    if (!field) {
      setOwn(errors, name, MSG.UNKNOWN)
      continue
    }
    const err = validateField(field, value, ctx)
    if (err !== undefined) errors[name] = err
  }
  for (const [name, field] of Object.entries(schema.fields)) {
    const value = input[name]
    if (field.required && !field.auto && (value === null || (full && value === undefined))) errors[name] = MSG.REQUIRED
  }
  runEntityChecks(schema, schema.entity_checks, input, full, errors, ctx)
  if (subschema)
    runEntityChecks({ ...schema, fields: { ...schema.fields, ...subschema.fields } }, subschema.entity_checks, input, full, errors, ctx)
  return Object.keys(errors).length > 0 ? errors : undefined
}

/** A `record` field's value: defaults are filled in (as on insert) and the record is validated. */
export function validateRecordValue(field: RecordField, value: Record<string, unknown>, ctx: ValidateContext): FieldErrors | undefined {
  const res = processFields(field, structuredClone(value), 'insert')
  if (!res.ok) return res.errors
  return validateObject(field, res.data, true, ctx)
}
