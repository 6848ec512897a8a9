/**
 * decK's `diff` and `sync` over the Admin API: compare a declarative file with what a gateway
 * holds (defaults filled in on both sides, so there are no phantom changes), within the
 * selected tags, and apply creates, updates and deletes in dependency order. Running it twice
 * changes nothing the second time.
 *
 * @module
 */
import type { EntitySchema } from '../schema/types.js'
import type { Row } from '../store/types.js'
import { AdminClient } from './admin-client.js'
import { DeclarativeError } from './errors.js'
import { kongExport } from './export.js'
import { type FlatConfig, flattenConfig } from './flatten.js'
import type { EntityGraph } from './graph.js'
import { parseDeclarativeText } from './parse-text.js'

export interface Change {
  readonly op: 'create' | 'update' | 'delete'
  readonly entity: string
  readonly id: string
  /** A readable name: the entity's name, else its id. */
  readonly label: string
  /** The full row to write (create/update). */
  readonly row?: Row
  /** Changed fields: name → [current, desired] (update). */
  readonly fields?: Record<string, [unknown, unknown]>
}

export interface Plan {
  readonly changes: Change[]
  /** Rows the gateway should hold afterwards (for DB-less targets). */
  readonly target: Record<string, Row[]>
  readonly selectTags: readonly string[]
}

/** Reads and merges several declarative files (decK merges multiple `-s` files). */
export function readDocuments(texts: readonly { name: string; text: string }[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {}
  for (const { name, text } of texts) {
    const doc = parseDeclarativeText(text, name)
    for (const [key, value] of Object.entries(doc)) {
      const current = merged[key]
      if (current === undefined) merged[key] = value
      else if (Array.isArray(current) && Array.isArray(value)) merged[key] = [...current, ...value]
      else if (key === '_info' && typeof current === 'object' && typeof value === 'object') {
        const a = current as Record<string, unknown>
        const b = value as Record<string, unknown>
        if (JSON.stringify(a['select_tags'] ?? null) !== JSON.stringify(b['select_tags'] ?? null)) {
          throw new DeclarativeError([{ location: ['_info', 'select_tags'], errors: { error: `files disagree on _info.select_tags (${name})` } }])
        }
      } else if (JSON.stringify(current) !== JSON.stringify(value)) {
        throw new DeclarativeError([{ location: [key], errors: { error: `files disagree on ${key}: ${JSON.stringify(current)} in an earlier file, ${JSON.stringify(value)} in ${name}` } }])
      }
    }
  }
  return merged
}

const SKIP = new Set(['created_at', 'updated_at', 'id'])

function canonical(schema: EntitySchema, row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(schema.fields)) {
    if (SKIP.has(name)) continue
    let v = row[name] ?? null
    if (field.type === 'foreign' && v !== null && typeof v === 'object') v = (v as { id?: unknown }).id ?? null
    if (field.type === 'set' && Array.isArray(v)) v = [...v].sort()
    if (Array.isArray(v) && v.length === 0 && (field.type === 'set' || field.type === 'array') && field.default === undefined) v = null
    out[name] = v
  }
  return out
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortDeep(a)) === JSON.stringify(sortDeep(b))
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep)
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) out[k] = sortDeep((v as Record<string, unknown>)[k])
    return out
  }
  return v
}

function hasTags(row: Row, tags: readonly string[]): boolean {
  const t = Array.isArray(row['tags']) ? (row['tags'] as unknown[]) : []
  return tags.every((x) => t.includes(x))
}

function labelOf(schema: EntitySchema, row: Readonly<Record<string, unknown>>): string {
  const key = schema.endpoint_key
  const v = key === undefined ? undefined : row[key]
  return typeof v === 'string' || typeof v === 'number' ? String(v) : String(row['id'])
}

/**
 * Computes the changes that make the gateway's `current` rows match the file, within
 * `selectTags` (entities outside the selection are never touched).
 */
export function planSync(doc: Record<string, unknown>, current: Readonly<Record<string, readonly Row[]>>, graph: EntityGraph, cliSelectTags: readonly string[] = []): Plan {
  const input = structuredClone(doc)
  const info = (input['_info'] ?? {}) as Record<string, unknown>
  const fileTags = Array.isArray(info['select_tags']) ? (info['select_tags'] as string[]) : []
  const selectTags = [...new Set([...fileTags, ...cliSelectTags])]
  if (selectTags.length > 0) input['_info'] = { ...info, select_tags: selectTags }

  // references to entities the file does not declare resolve against the gateway
  const resolveExternal = (entity: string, key: string): string | undefined => {
    const schema = graph.schemas[entity]
    const rows = current[entity] ?? []
    const endpoint = schema?.endpoint_key
    return rows.find((r) => r.id === key || (endpoint !== undefined && r[endpoint] === key))?.id
  }
  const result = flattenConfig(input, graph, { resolveExternal })
  if (!result.ok) throw new DeclarativeError(result.problems)
  const desired: FlatConfig = result.config

  const changes: Change[] = []
  const idMap = new Map<string, string>() // desired id → id on the gateway
  const target: Record<string, Row[]> = {}
  const explicitIds = collectExplicitIds(input, graph)

  for (const entity of graph.order) {
    const schema = graph.schemas[entity] as EntitySchema
    const all = current[entity] ?? []
    const selected = all.filter((r) => hasTags(r, selectTags))
    const unmatched = new Set(selected.map((r) => r.id))
    const endpoint = schema.endpoint_key
    const keep: Row[] = all.filter((r) => !hasTags(r, selectTags))
    for (const want of desired.entities[entity] ?? []) {
      // map references to the ids the gateway uses
      const row: Row = { ...want }
      for (const link of graph.foreign[entity] ?? []) {
        const v = row[link.field] as { id?: string } | null | undefined
        if (v?.id !== undefined) row[link.field] = { id: idMap.get(`${link.reference}:${v.id}`) ?? v.id }
      }
      let match: Row | undefined
      if (explicitIds.has(`${entity}:${want.id}`)) match = all.find((r) => r.id === want.id)
      else if (endpoint !== undefined && want[endpoint] !== null && want[endpoint] !== undefined) match = all.find((r) => r[endpoint] === want[endpoint])
      else {
        const c = canonical(schema, row)
        match = selected.find((r) => unmatched.has(r.id) && equal(canonical(schema, r), c))
      }
      if (match !== undefined && !unmatched.has(match.id) && hasTags(match, selectTags)) match = undefined // already taken
      const id = match?.id ?? want.id
      idMap.set(`${entity}:${want.id}`, id)
      row.id = id
      if (match !== undefined) {
        unmatched.delete(match.id)
        row['created_at'] = match['created_at'] ?? row['created_at']
        const a = canonical(schema, match)
        const b = canonical(schema, row)
        const fields: Record<string, [unknown, unknown]> = {}
        for (const k of Object.keys(b)) if (!equal(a[k], b[k])) fields[k] = [a[k], b[k]]
        if (Object.keys(fields).length > 0) changes.push({ op: 'update', entity, id, label: labelOf(schema, row), row, fields })
        if (!hasTags(match, selectTags)) keep.splice(keep.findIndex((r) => r.id === match.id), 1)
      } else changes.push({ op: 'create', entity, id, label: labelOf(schema, row), row })
      keep.push(row)
    }
    for (const r of selected) if (unmatched.has(r.id)) changes.push({ op: 'delete', entity, id: r.id, label: labelOf(schema, r), row: r })
    target[entity] = keep
  }
  return { changes, target, selectTags }
}

/** Ids written in the file (not generated), so that they are matched by id. */
function collectExplicitIds(doc: Record<string, unknown>, graph: EntityGraph): Set<string> {
  const out = new Set<string>()
  const visit = (entity: string, items: unknown): void => {
    if (!Array.isArray(items)) return
    for (const item of items) {
      if (item === null || typeof item !== 'object') continue
      const o = item as Record<string, unknown>
      if (typeof o['id'] === 'string') out.add(`${entity}:${o['id']}`)
      for (const link of graph.children[entity] ?? []) visit(link.entity, o[link.entity])
    }
  }
  for (const entity of graph.order) visit(entity, doc[entity])
  return out
}

/** Where an entity lives in the Admin API: its collection, or under its parent (targets). */
interface AdminLocation {
  readonly collection: (row?: Row) => string
  readonly nestedUnder?: { readonly parent: string; readonly field: string; readonly segment: string }
}

function adminLocation(graph: EntityGraph, entity: string): AdminLocation {
  const schema = graph.schemas[entity] as EntitySchema
  const own = schema.admin_path ?? schema.name
  const parentName = schema.admin_nested_only
  if (parentName === undefined) return { collection: () => `/${own}` }
  const parent = graph.schemas[parentName] as EntitySchema
  const field = (graph.foreign[entity] ?? []).find((l) => l.reference === parentName)?.field ?? ''
  const nested = schema.admin_nested_path
  const segment = nested !== undefined && nested.parent === parentName ? nested.segment : own
  const parentPath = parent.admin_path ?? parent.name
  return {
    nestedUnder: { parent: parentName, field, segment },
    collection: (row) => `/${parentPath}/${(row?.[field] as { id?: string } | undefined)?.id ?? ''}/${segment}`,
  }
}

/** Every row of an entity through the Admin API (per parent for nested-only entities such as targets). */
export async function listEntity(client: AdminClient, graph: EntityGraph, entity: string, tags: readonly string[] = [], parents?: readonly Row[]): Promise<Row[]> {
  const where = adminLocation(graph, entity)
  if (where.nestedUnder === undefined) return client.listAll(where.collection().slice(1), tags)
  const out: Row[] = []
  for (const p of parents ?? []) out.push(...(await client.listAll(where.collection({ id: p.id, [where.nestedUnder.field]: { id: p.id } }).slice(1), tags)))
  return out
}

/** The gateway's rows of every entity (only those with all `tags`, when given). */
export async function fetchCurrent(client: AdminClient, graph: EntityGraph, tags: readonly string[] = []): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {}
  for (const entity of graph.order) {
    const parent = graph.schemas[entity]?.admin_nested_only
    out[entity] = await listEntity(client, graph, entity, tags, parent === undefined ? undefined : (out[parent] ?? []))
  }
  return out
}

function body(schema: EntitySchema, row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const name of Object.keys(schema.fields)) {
    if (SKIP.has(name)) continue
    if (row[name] !== undefined) out[name] = row[name]
  }
  return out
}

export interface ApplyOptions {
  /** Called after each change, for progress output. */
  readonly progress?: (done: number, total: number) => void
  /** Concurrent requests (decK's `--parallelism`, default 10). */
  readonly parallelism?: number
}

/**
 * Applies a plan through the Admin API: creates and updates (`PUT /{entity}/{id}`) parents
 * first, deletes children first. A DB-less gateway (`database = off`) gets the whole resulting
 * configuration in one `POST /config` instead.
 */
export async function applyPlan(client: AdminClient, graph: EntityGraph, plan: Plan, options: ApplyOptions = {}): Promise<void> {
  const info = await client.info()
  const database = (info['configuration'] as Record<string, unknown> | undefined)?.['database']
  const total = plan.changes.length
  let done = 0
  if (database === 'off') {
    if (total === 0) return
    await client.expect('POST', '/config', [201], kongExport(plan.target, graph))
    options.progress?.(total, total)
    return
  }
  const parallelism = Math.max(1, options.parallelism ?? 10)
  const run = async (items: Change[], fn: (c: Change) => Promise<void>): Promise<void> => {
    let next = 0
    const workers = Array.from({ length: Math.min(parallelism, items.length) }, async () => {
      while (next < items.length) {
        const c = items[next++] as Change
        await fn(c)
        options.progress?.(++done, total)
      }
    })
    await Promise.all(workers)
  }
  for (const entity of graph.order) {
    const schema = graph.schemas[entity] as EntitySchema
    const writes = plan.changes.filter((c) => c.entity === entity && c.op !== 'delete')
    await run(writes, async (c) => {
      await client.expect('PUT', `${adminLocation(graph, entity).collection(c.row)}/${c.id}`, [200, 201], body(schema, c.row as Row))
    })
  }
  for (const entity of [...graph.order].reverse()) {
    const deletes = plan.changes.filter((c) => c.entity === entity && c.op === 'delete')
    await run(deletes, async (c) => {
      await client.expect('DELETE', `${adminLocation(graph, entity).collection(c.row)}/${c.id}`, [204, 404])
    })
  }
}

function singular(name: string): string {
  return name.endsWith('s') ? name.slice(0, -1) : name
}

/** decK-style report lines: `creating service svc1`, field changes, then the summary. */
export function describePlan(plan: Plan): string[] {
  const lines: string[] = []
  for (const c of plan.changes) {
    const verb = c.op === 'create' ? 'creating' : c.op === 'update' ? 'updating' : 'deleting'
    lines.push(`${verb} ${singular(c.entity)} ${c.label}`)
    for (const [field, [from, to]] of Object.entries(c.fields ?? {})) lines.push(`  ${field}: ${JSON.stringify(from)} → ${JSON.stringify(to)}`)
  }
  const count = (op: Change['op']): number => plan.changes.filter((c) => c.op === op).length
  lines.push('Summary:', `  Created: ${count('create')}`, `  Updated: ${count('update')}`, `  Deleted: ${count('delete')}`)
  return lines
}
