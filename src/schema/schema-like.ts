/**
 * The part of a schema the engine walks: entities, subschemas and `record` fields all look like
 * this, so nested records are validated with the same code as whole entities.
 *
 * @module
 */
import type { EntityCheck, Field, Shorthand, Subschema } from './types.js'

export interface SchemaLike {
  readonly fields: Readonly<Record<string, Field>>
  readonly entity_checks?: readonly EntityCheck[]
  readonly shorthand_fields?: Readonly<Record<string, Shorthand>>
  readonly subschema_key?: string
  readonly subschemas?: Readonly<Record<string, Subschema>>
  readonly ttl?: boolean
}

/** Kong's `get_subschema`: a string key, or the first element of a set key that names one. */
export function getSubschema(schema: SchemaLike, input: Readonly<Record<string, unknown>>): Subschema | undefined {
  const { subschema_key: key, subschemas } = schema
  if (!key || !subschemas) return undefined
  const value = input[key]
  if (typeof value === 'string') return Object.hasOwn(subschemas, value) ? subschemas[value] : undefined
  if (Array.isArray(value)) {
    for (const v of value) {
      if (typeof v === 'string' && Object.hasOwn(subschemas, v)) return subschemas[v]
    }
  }
  return undefined
}

/** The definition of `name`, with the subschema's override when there is one. */
export function resolveField(schema: SchemaLike, name: string, subschema: Subschema | undefined): Field | undefined {
  if (!Object.hasOwn(schema.fields, name)) return undefined
  if (subschema && Object.hasOwn(subschema.fields, name)) return subschema.fields[name]
  return schema.fields[name]
}
