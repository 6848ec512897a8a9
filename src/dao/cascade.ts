/**
 * Deleting a row and applying each referencing foreign field's `on_delete`: `cascade` deletes
 * the children (recursively), `null` clears the reference, `restrict` (the default, as with
 * Kong's PostgreSQL foreign keys) refuses while any child exists.
 *
 * @module
 */
import type { EntitySchema } from '../schema/index.js'
import type { Row, Store } from '../store/index.js'
import { foreignKeyRestricted } from './dao-errors.js'
import { foreignFields } from './foreign-refs.js'
import { MAX_PAGE_SIZE } from './page-options.js'

/** A write performed by a DAO operation, reported to listeners after commit. */
export interface PendingEvent {
  readonly entity: string
  readonly op: 'create' | 'update' | 'delete'
  readonly row: Row
  readonly old: Row | null
}

interface Reference {
  readonly child: EntitySchema
  readonly field: string
  readonly onDelete: 'cascade' | 'null' | 'restrict'
}

function referencesTo(entities: Readonly<Record<string, EntitySchema>>, parent: string): Reference[] {
  const refs: Reference[] = []
  for (const child of Object.values(entities)) {
    for (const [field, def] of foreignFields(child)) {
      if (def.reference === parent) refs.push({ child, field, onDelete: def.on_delete ?? 'restrict' })
    }
  }
  return refs
}

/** Every row of `entity` whose `field` points at `id`. */
export async function rowsReferencing(db: Store, entity: string, field: string, id: string): Promise<Row[]> {
  const rows: Row[] = []
  let offset: string | undefined
  do {
    const page = await db.page(entity, { size: MAX_PAGE_SIZE, foreign: { field, id }, ...(offset === undefined ? {} : { offset }) })
    rows.push(...page.data)
    offset = page.offset
  } while (offset !== undefined)
  return rows
}

/**
 * Deletes `row` of `schema` inside the open transaction `db`, applying `on_delete` rules, and
 * appends the resulting events. Restrictions are checked before anything is changed.
 */
export async function deleteWithReferences(
  db: Store,
  entities: Readonly<Record<string, EntitySchema>>,
  schema: EntitySchema,
  row: Row,
  events: PendingEvent[],
): Promise<void> {
  const refs = referencesTo(entities, schema.name)
  for (const ref of refs) {
    if (ref.onDelete !== 'restrict') continue
    const page = await db.page(ref.child.name, { size: 1, foreign: { field: ref.field, id: row.id } })
    if (page.data.length > 0) throw foreignKeyRestricted(schema.name, ref.child.name)
  }
  for (const ref of refs) {
    if (ref.onDelete === 'restrict') continue
    for (const child of await rowsReferencing(db, ref.child.name, ref.field, row.id)) {
      if (ref.onDelete === 'cascade') {
        await deleteWithReferences(db, entities, ref.child, child, events)
      } else {
        const cleared: Row = { ...child, [ref.field]: null }
        const saved = await db.update(ref.child.name, cleared)
        if (saved !== null) events.push({ entity: ref.child.name, op: 'update', row: saved, old: child })
      }
    }
  }
  await db.delete(schema.name, row.id)
  events.push({ entity: schema.name, op: 'delete', row, old: null })
}
