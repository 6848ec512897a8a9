/**
 * `validateEntity`: the single entry point the DAO uses to turn client input into a valid row,
 * with Kong's messages and error shape.
 *
 * @module
 */
import type { EntitySchema, FieldErrors, ValidationResult } from './types.js'
import { isPlainObject } from './field-spec.js'
import { mergeValues } from './merge.js'
import { processFields } from './process.js'
import { validateObject } from './record.js'

export interface ValidateOptions {
  /** insert = POST, upsert = PUT (whole entity), update = PATCH (merged over `existing`). */
  readonly mode: 'insert' | 'upsert' | 'update'
  /** The stored row, for `update`. */
  readonly existing?: Record<string, unknown>
  /** Every entity's schema: a foreign record without its key is then checked field by field. */
  readonly schemas?: Readonly<Record<string, EntitySchema>>
}

/**
 * Validates an entity write the way Kong 3.9 does.
 *
 * - insert/upsert: shorthands are expanded, defaults filled for absent fields (explicit `null`
 *   stays `null`), sets deduplicated, then the whole entity is validated.
 * - update: the input is processed without defaults, merged over `existing` (records merged key
 *   by key), and the merged row is validated with Kong's update wording
 *   (`when updating, at least one of …`).
 *
 * Auto fields (`id`, `created_at`, `updated_at`) are optional and never generated here; the
 * resulting row leaves them absent when the client did not send them. A `ttl` key on entities
 * with `ttl: true` passes through unvalidated for the DAO.
 */
export function validateEntity(schema: EntitySchema, input: unknown, opts: ValidateOptions): ValidationResult<Record<string, unknown>> {
  if (!isPlainObject(input)) return { ok: false, errors: { '@entity': ['expected an input table'] } }
  const data = structuredClone(input)
  if (opts.mode === 'update') {
    const processed = processFields(schema, data, 'update')
    if (!processed.ok) return { ok: false, errors: processed.errors }
    const merged = mergeValues(schema, processed.data, opts.existing)
    return finish(validateObject(schema, merged, false, { updating: true, ...schemaOf(opts) }), merged)
  }
  const processed = processFields(schema, data, opts.mode)
  if (!processed.ok) return { ok: false, errors: processed.errors }
  return finish(validateObject(schema, processed.data, true, { updating: false, ...schemaOf(opts) }), processed.data)
}

function schemaOf(opts: ValidateOptions): { schemaOf?: (entity: string) => EntitySchema | undefined } {
  const schemas = opts.schemas
  if (schemas === undefined) return {}
  return { schemaOf: (entity) => (Object.hasOwn(schemas, entity) ? schemas[entity] : undefined) }
}

function finish(errors: FieldErrors | undefined, row: Record<string, unknown>): ValidationResult<Record<string, unknown>> {
  return errors ? { ok: false, errors } : { ok: true, row }
}
