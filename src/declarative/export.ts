/**
 * From stored rows back to a declarative file, in two styles:
 *
 * - **Kong's** (`kong config db_export`, `GET /config`): `_format_version: "3.0"`,
 *   `_transform: false`, one flat array per entity, every field including nulls and
 *   timestamps, foreign keys as ids.
 * - **decK's** (`turnpike config dump`): nested under the single parent (routes inside their
 *   service), keys sorted, nulls, timestamps and (unless asked) ids left out, references by
 *   name, selected tags moved to `_info.select_tags`. Loading it back gives the same
 *   configuration; dumping again gives the same file. Hashed values (basic-auth passwords)
 *   are dumped as stored under `_transform: false`, with their consumers' ids (the salt).
 *
 * @module
 */
import { stringify } from 'yaml'
import type { EntitySchema, Field } from '../schema/index.js'
import type { Row } from '../store/index.js'
import type { EntityGraph } from './graph.js'

/** YAML as Kong writes it (`~` for null), block style, long strings kept on one line. */
export function toYaml(doc: unknown): string {
  return stringify(doc, { nullStr: '~', lineWidth: 0, aliasDuplicateObjects: false, indentSeq: false })
}

/** Kong's `db_export` document. */
export function kongExport(rows: Readonly<Record<string, readonly Row[]>>, graph: EntityGraph): Record<string, unknown> {
  const doc: Record<string, unknown> = { _format_version: '3.0', _transform: false }
  for (const entity of graph.order) {
    const list = rows[entity] ?? []
    if (list.length === 0) continue
    const schema = graph.schemas[entity]
    if (schema === undefined) continue
    doc[entity] = list.map((row) => {
      const out: Record<string, unknown> = {}
      for (const [name, field] of Object.entries(schema.fields)) {
        const v = row[name]
        if (v === undefined) continue
        out[name] = field.type === 'foreign' && v !== null && typeof v === 'object' ? (v as Record<string, unknown>)['id'] : v
      }
      return out
    })
  }
  return doc
}

export interface DumpOptions {
  /** Keep entity ids (decK's `--with-id`). */
  readonly withId?: boolean
  /** Tags that select what was dumped: recorded in `_info`, removed from each entity. */
  readonly selectTags?: readonly string[]
}

function sortKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(obj).sort()) out[k] = obj[k]
  return out
}

function sortKey(o: Record<string, unknown>): string {
  return `${typeof o['name'] === 'string' ? o['name'] : '\uffff'}\u0000${JSON.stringify(o)}`
}

/**
 * A record's value without what Kong OSS would not take back: fields whose `dumped` says no
 * (deprecated fields left null, Turnpike-only fields at their defaults), at any depth.
 */
function kongValue(fields: Readonly<Record<string, Field>> | undefined, value: unknown, depth = 0): unknown {
  if (fields === undefined || depth > 32 || value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const field = Object.hasOwn(fields, k) ? fields[k] : undefined
    if (field?.dumped !== undefined && !field.dumped(v)) continue
    out[k] = field?.type === 'record' ? kongValue(field.fields, v, depth + 1) : v
  }
  return out
}

/** The fields a row is checked with: the entity's, with its subschema's overrides (a plugin's `config`). */
function rowFields(schema: EntitySchema, row: Readonly<Record<string, unknown>>): Readonly<Record<string, Field>> {
  const key = schema.subschema_key
  const pick = key === undefined ? undefined : row[key]
  const sub =
    typeof pick === 'string' && schema.subschemas !== undefined && Object.hasOwn(schema.subschemas, pick)
      ? schema.subschemas[pick]
      : undefined
  return sub === undefined ? schema.fields : { ...schema.fields, ...sub.fields }
}

/** decK-style document (see the module comment). */
export function deckDump(
  rows: Readonly<Record<string, readonly Row[]>>,
  graph: EntityGraph,
  options: DumpOptions = {},
): Record<string, unknown> {
  const select = options.selectTags ?? []
  const byId = new Map<string, { entity: string; row: Row }>()
  for (const entity of graph.order) for (const row of rows[entity] ?? []) byId.set(`${entity}:${row.id}`, { entity, row })
  const rendered = new Map<string, Record<string, unknown>>()
  const nestedUnder = new Map<string, { parentKey: string; entity: string }>()

  // Rows whose stored value a client cannot send back (a basic-auth password's digest: writing
  // it would hash it again) make the dump `_transform: false`, as Kong's db_export; the digest is
  // salted with the consumer's id, so the rows they reference keep their ids.
  let hashed = false
  const keepId = new Set<string>()
  for (const entity of graph.order) {
    const schema = graph.schemas[entity]
    if (schema?.transform === undefined) continue
    for (const row of rows[entity] ?? []) {
      const again = schema.transform(row, { op: 'insert', input: row, existing: undefined })
      if (Object.keys(row).every((k) => JSON.stringify(again[k]) === JSON.stringify(row[k]))) continue
      hashed = true
      for (const l of graph.foreign[entity] ?? []) {
        const ref = row[l.field] as { id?: string } | null | undefined
        if (ref?.id !== undefined) keepId.add(`${l.reference}:${ref.id}`)
      }
    }
  }

  // which parent each row nests under: its only foreign reference to a row that is dumped too
  for (const entity of graph.order) {
    const links = graph.foreign[entity] ?? []
    for (const row of rows[entity] ?? []) {
      const present = links.filter((l) => {
        const v = row[l.field] as { id?: string } | null | undefined
        return v?.id !== undefined && byId.has(`${l.reference}:${v.id}`)
      })
      const refs = links.filter((l) => row[l.field] !== null && row[l.field] !== undefined)
      if (present.length === 1 && refs.length === 1) {
        const l = present[0] as (typeof present)[number]
        nestedUnder.set(`${entity}:${row.id}`, { parentKey: `${l.reference}:${(row[l.field] as { id: string }).id}`, entity })
      }
    }
  }

  const render = (entity: string, row: Row): Record<string, unknown> => {
    const schema = graph.schemas[entity]
    const out: Record<string, unknown> = {}
    if (schema === undefined) return out
    const nestedKey = nestedUnder.get(`${entity}:${row.id}`)
    const fields = rowFields(schema, row)
    for (const [name, field] of Object.entries(schema.fields)) {
      const v = row[name]
      if (v === undefined || v === null) continue
      if (field.dumped !== undefined && !field.dumped(v)) continue
      if (name === 'created_at' || name === 'updated_at') continue
      if (name === 'id' && options.withId !== true && !keepId.has(`${entity}:${row.id}`)) continue
      if (field.type === 'foreign') {
        if (nestedKey !== undefined && nestedKey.parentKey.startsWith(`${field.reference}:`)) continue
        const target = byId.get(`${field.reference}:${(v as { id: string }).id}`)
        const key = graph.schemas[field.reference]?.endpoint_key
        const name2 = target !== undefined && key !== undefined ? target.row[key] : undefined
        out[name] = typeof name2 === 'string' && options.withId !== true ? name2 : (v as { id: string }).id
        continue
      }
      if (name === 'tags' && Array.isArray(v)) {
        const tags = v.filter((t) => !select.includes(t as string))
        if (tags.length > 0) out[name] = tags
        continue
      }
      const actual = fields[name] ?? field
      out[name] = actual.type === 'record' ? kongValue(actual.fields, v) : v
    }
    return out
  }

  for (const entity of graph.order) for (const row of rows[entity] ?? []) rendered.set(`${entity}:${row.id}`, render(entity, row))
  // attach children to parents, deepest entities last in registry order so grandchildren come along
  for (const entity of [...graph.order].reverse()) {
    for (const row of rows[entity] ?? []) {
      const key = `${entity}:${row.id}`
      const nest = nestedUnder.get(key)
      if (nest === undefined) continue
      const parent = rendered.get(nest.parentKey)
      const child = rendered.get(key)
      if (parent === undefined || child === undefined) continue
      const list = (parent[entity] ??= []) as Record<string, unknown>[]
      list.push(child)
    }
  }
  const finish = (o: Record<string, unknown>): Record<string, unknown> => {
    for (const [k, v] of Object.entries(o)) {
      if (Array.isArray(v) && graph.order.includes(k))
        o[k] = (v as Record<string, unknown>[]).map(finish).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1))
    }
    return sortKeys(o)
  }

  const doc: Record<string, unknown> = { _format_version: '3.0' }
  if (hashed) doc['_transform'] = false
  if (select.length > 0) doc['_info'] = { select_tags: [...select] }
  for (const entity of graph.order) {
    const top = (rows[entity] ?? [])
      .filter((r) => !nestedUnder.has(`${entity}:${r.id}`))
      .map((r) => finish(rendered.get(`${entity}:${r.id}`) ?? {}))
    if (top.length > 0) doc[entity] = top.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1))
  }
  return doc
}
