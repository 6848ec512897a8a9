/**
 * What a read of an entity shows beyond what is stored: Kong 3.9's `process_auto_fields` in the
 * "select" context fills each deprecated shorthand that has a `replaced_with` (rate-limiting's
 * `config.redis_host`, now `config.redis.host`) from its new place, in every Admin API answer
 * (GET, lists, and the rows POST/PUT/PATCH return). Kong skips that only for its own
 * read-before-write (`hide_shorthands`); here the stored rows never hold the filled values, and
 * clients that read rows to write them back (`config dump`, `config sync`) drop them again.
 *
 * @module
 */
import { isPlainObject } from './field-spec.js'
import { dropReplacedShorthands, fillReplacedShorthands } from './process.js'
import { getSubschema, resolveField } from './schema-like.js'
import type { EntitySchema, RecordField } from './types.js'

type Rewrite = (record: RecordField, value: Readonly<Record<string, unknown>>) => Record<string, unknown>

function rewriteRecords(schema: EntitySchema, row: Readonly<Record<string, unknown>>, rewrite: Rewrite): Record<string, unknown> {
  const subschema = getSubschema(schema, row)
  let out: Record<string, unknown> | null = null
  for (const name of Object.keys(schema.fields)) {
    const field = resolveField(schema, name, subschema)
    const value = row[name]
    if (field?.type !== 'record' || field.shorthand_fields === undefined || !isPlainObject(value)) continue
    out ??= { ...row }
    out[name] = rewrite(field, value)
  }
  return out ?? (row as Record<string, unknown>)
}

/** A row as the Admin API shows it (see the module comment). */
export function shownRow<R extends Readonly<Record<string, unknown>>>(schema: EntitySchema, row: R): R {
  return rewriteRecords(schema, row, fillReplacedShorthands) as R
}

/** A row read from the Admin API, without what {@link shownRow} added. */
export function storedRow<R extends Readonly<Record<string, unknown>>>(schema: EntitySchema, row: R): R {
  return rewriteRecords(schema, row, dropReplacedShorthands) as R
}

/**
 * Kong's deprecation warnings for the deprecated shorthands an input uses (kong/db/schema's
 * `validate_field` → kong.deprecation): `<message> (deprecated after <version>)`, for the log.
 */
export function deprecatedShorthandWarnings(schema: EntitySchema, input: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = []
  const subschema = getSubschema(schema, input)
  for (const name of Object.keys(schema.fields)) {
    const field = resolveField(schema, name, subschema)
    const value = input[name]
    if (field?.type !== 'record' || field.shorthand_fields === undefined || !isPlainObject(value)) continue
    for (const [key, sh] of Object.entries(field.shorthand_fields)) {
      const used = Object.hasOwn(value, key) ? value[key] : undefined
      if (sh.deprecation !== undefined && used !== undefined && used !== null)
        out.push(`${sh.deprecation.message} (deprecated after ${sh.deprecation.removal_in_version})`)
    }
  }
  return out
}
