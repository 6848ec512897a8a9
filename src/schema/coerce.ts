/**
 * Kong's Admin API type inference for form-encoded and multipart bodies
 * (`kong/api/arguments.lua` `infer`): strings become numbers, booleans, arrays … according to
 * the schema. The body parser has already built nested objects and arrays.
 *
 * @module
 */
import type { EntitySchema, Field } from './types.js'
import { isPlainObject } from './field-spec.js'
import { type SchemaLike, getSubschema, resolveField } from './schema-like.js'

/** Lua's `tonumber` on a string: decimal (with exponent) or hexadecimal, surrounding spaces ok. */
export function luaToNumber(s: string): number | undefined {
  const t = s.trim()
  // One way to split each number (no `\d+\.?\d*`): linear on a long run of digits.
  if (/^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/.test(t)) return Number(t)
  const hex = /^([-+]?)0[xX]([0-9a-fA-F]+)$/.exec(t)
  if (hex) return (hex[1] === '-' ? -1 : 1) * parseInt(hex[2] as string, 16)
  return undefined
}

function inferValue(value: unknown, field: Field): unknown {
  if (value === undefined || value === null || value === false) return value
  if (value === '') return null
  switch (field.type) {
    case 'integer':
    case 'number':
      return typeof value === 'string' ? (luaToNumber(value) ?? value) : value
    case 'boolean':
      if (value === 'true') return true
      if (value === 'false') return false
      return value
    case 'array':
    case 'set': {
      const list = Array.isArray(value) ? value : [value]
      return list.map((item) => inferValue(item, field.elements))
    }
    case 'foreign':
      if (!isPlainObject(value)) return value
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === '' ? null : v]))
    case 'map':
      if (!isPlainObject(value)) return value
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inferValue(v, field.values)]))
    case 'record':
      return isPlainObject(value) ? inferObject(field, value) : value
    default:
      return value
  }
}

function inferObject(schema: SchemaLike, input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input }
  const subschema = getSubschema(schema, input)
  for (const name of Object.keys(schema.fields)) {
    const value = out[name]
    if (value === undefined) continue
    out[name] = inferValue(value, resolveField(schema, name, subschema) as Field)
  }
  return out
}

/**
 * Converts form values to the types the schema expects: `"80"` → 80, `"true"` → true, a single
 * value → one-element array for array/set fields, `""` → null. Unknown fields pass through.
 */
export function coerceFormInput(schema: EntitySchema, input: Record<string, unknown>): Record<string, unknown> {
  const out = inferObject(schema, input)
  if (schema.ttl && typeof out['ttl'] === 'string') out['ttl'] = luaToNumber(out['ttl']) ?? out['ttl']
  return out
}
