/**
 * Foreign references in DAO input: resolving `{ "name": "x" }` to `{ "id": … }` (Kong accepts
 * any unique field or the endpoint key of the referenced entity), and checking that every
 * `{ id }` points at a row.
 *
 * @module
 */
import type { EntitySchema, ForeignField } from '../schema/index.js'
import type { Row, Store } from '../store/index.js'
import { foreignKeyInvalidReference, foreignKeysUnresolved, referencedByOthers, type UnresolvedForeign } from './dao-errors.js'
import { isUuid } from '../ids/uuid.js'

/** The foreign fields of a schema, as `[name, field]` pairs. */
export function foreignFields(schema: EntitySchema): [string, ForeignField][] {
  const out: [string, ForeignField][] = []
  for (const [name, field] of Object.entries(schema.fields)) if (field.type === 'foreign') out.push([name, field])
  return out
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Fields of `schema` that can identify a row: its unique fields and its endpoint key. */
function lookupFields(schema: EntitySchema): string[] {
  const names = Object.entries(schema.fields)
    .filter(([name, field]) => field.unique === true && name !== 'id')
    .map(([name]) => name)
  if (schema.endpoint_key !== undefined && !names.includes(schema.endpoint_key)) names.unshift(schema.endpoint_key)
  return names
}

/**
 * Replaces, in place, every foreign reference given without a valid `id` by the `{ id }` of the
 * row its unique field names. Throws code 13 (foreign keys unresolved) when a named row is
 * missing. References that name nothing usable are left for schema validation to report.
 */
export async function resolveForeignRefs(
  db: Store,
  entities: Readonly<Record<string, EntitySchema>>,
  schema: EntitySchema,
  input: Record<string, unknown>,
): Promise<void> {
  const unresolved: UnresolvedForeign[] = []
  for (const [name, field] of foreignFields(schema)) {
    const value = input[name]
    if (!isRecord(value) || isUuid(value['id'])) continue
    const parent = entities[field.reference]
    if (parent === undefined) continue
    for (const uniqueField of lookupFields(parent)) {
      const key = value[uniqueField]
      if (typeof key !== 'string' && typeof key !== 'number') continue
      const row = await db.selectByUnique(parent.name, uniqueField, key)
      if (row !== null) {
        input[name] = { id: row.id }
        break
      }
      unresolved.push({ field: name, uniqueField, value: key, parent: parent.name })
    }
  }
  if (unresolved.length > 0) throw foreignKeysUnresolved(unresolved)
}

/**
 * Throws code 4 when a foreign `{ id }` of the validated row references no existing row. An
 * entity missing from the registry has no rows: every reference to it is invalid.
 */
export async function checkForeignRefs(
  db: Store,
  entities: Readonly<Record<string, EntitySchema>>,
  schema: EntitySchema,
  row: Row,
): Promise<void> {
  for (const [name, field] of foreignFields(schema)) {
    const value = row[name]
    if (!isRecord(value) || typeof value['id'] !== 'string') continue
    const id = value['id']
    if (entities[field.reference] === undefined || (await db.select(field.reference, id)) === null)
      throw foreignKeyInvalidReference(name, { id }, field.reference)
  }
}

/**
 * Throws code 4 when an id in one of the schema's `id_list_refs` fields (services'
 * `ca_certificates`) names no row of the referenced entity.
 */
export async function checkIdListRefs(db: Store, schema: EntitySchema, row: Row): Promise<void> {
  for (const [field, entity] of Object.entries(schema.id_list_refs ?? {})) {
    const ids = row[field]
    if (!Array.isArray(ids)) continue
    for (const id of ids) {
      if (typeof id === 'string' && (await db.select(entity, id)) === null) throw foreignKeyInvalidReference(field, { id }, entity)
    }
  }
}

/**
 * Throws code 19 (Kong's `referenced by others`) when a row of another entity still lists `row`
 * in one of its `id_list_refs` fields: `ca certificate … is still referenced by services (id = …)`.
 */
export async function checkNotListed(
  db: Store,
  entities: Readonly<Record<string, EntitySchema>>,
  schema: EntitySchema,
  row: Row,
): Promise<void> {
  for (const other of Object.values(entities)) {
    for (const [field, entity] of Object.entries(other.id_list_refs ?? {})) {
      if (entity !== schema.name) continue
      const user = (await db.all(other.name)).find((r) => Array.isArray(r[field]) && (r[field] as unknown[]).includes(row.id))
      if (user !== undefined) throw referencedByOthers(schema.name, row.id, other.name, user.id)
    }
  }
}
