/**
 * Kong's `Schema:merge_values`, used for PATCH: top-level fields of the update replace the
 * stored ones, `record` fields are merged key by key (recursively), arrays/sets/maps are
 * replaced whole, and `null` replaces (clears) a value.
 *
 * @module
 */
import { isPlainObject } from './field-spec.js'
import { type SchemaLike, getSubschema, resolveField } from './schema-like.js'
import { dropReplacedShorthands } from './process.js'

export function mergeValues(
  schema: SchemaLike,
  top: Record<string, unknown>,
  bottom: Readonly<Record<string, unknown>> | null | undefined,
): Record<string, unknown> {
  // A row stored with a deprecated shorthand (written before the field moved) is merged as if
  // written at the new place, so that the shorthand is not refused as an unknown field.
  const base =
    bottom === null || bottom === undefined ? {} : schema.shorthand_fields === undefined ? bottom : dropReplacedShorthands(schema, bottom)
  const out: Record<string, unknown> = { ...base, ...top }
  const subschema = getSubschema(schema, base)
  for (const name of Object.keys(schema.fields)) {
    const field = resolveField(schema, name, subschema)
    const topValue = top[name]
    if (topValue === undefined) {
      if (base[name] !== undefined) out[name] = base[name]
    } else if (field?.type === 'record' && isPlainObject(topValue)) {
      const below = base[name]
      out[name] = mergeValues(field, topValue, isPlainObject(below) ? below : null)
    } else out[name] = topValue
  }
  return out
}
