/**
 * decK's `diff` and `sync` over the Admin API: compare a declarative file with what a gateway
 * holds (defaults filled in on both sides, so there are no phantom changes), within the
 * selected tags, and apply creates, updates and deletes in dependency order. Running it twice
 * changes nothing the second time.
 *
 * @module
 */
import {
  DeclarativeError,
  type EntityGraph,
  type FlatConfig,
  flattenConfig,
  kongExport,
  parseDeclarativeText,
} from '../../declarative/index.js'
import type { EntitySchema } from '../../schema/index.js'
import { setOwn, splitTransient, storedRow } from '../../schema/index.js'
import type { Row } from '../../store/index.js'
import type { AdminClient } from './admin-client.js'

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
  /** The row as the gateway stores it (basic-auth: the password's digest), for `POST /config`. */
  readonly stored?: Row
  /**
   * The stored form cannot be produced through the Admin API (a hashed password from a
   * `_transform: false` file would be hashed again): only a DB-less target can take it.
   */
  readonly storedOnly?: true
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
      if (current === undefined) setOwn(merged, key, value)
      else if (Array.isArray(current) && Array.isArray(value)) merged[key] = [...current, ...value]
      else if (key === '_info' && typeof current === 'object' && typeof value === 'object') {
        const a = current as Record<string, unknown>
        const b = value as Record<string, unknown>
        if (JSON.stringify(a['select_tags'] ?? null) !== JSON.stringify(b['select_tags'] ?? null)) {
          throw new DeclarativeError([
            { location: ['_info', 'select_tags'], errors: { error: `files disagree on _info.select_tags (${name})` } },
          ])
        }
      } else if (JSON.stringify(current) !== JSON.stringify(value)) {
        throw new DeclarativeError([
          {
            location: [key],
            errors: {
              error: `files disagree on ${key}: ${JSON.stringify(current)} in an earlier file, ${JSON.stringify(value)} in ${name}`,
            },
          },
        ])
      }
    }
  }
  return merged
}

const SKIP = new Set(['created_at', 'updated_at', 'id'])

function canonical(schema: EntitySchema, row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(schema.fields)) {
    // transient fields (a certificate's `snis` list) are not stored: their rows are compared
    if (SKIP.has(name) || field.transient === true) continue
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

/** The values of an entity's cache key (`plugins`: name, route, service, consumer), foreign keys as ids. */
export function cacheKeyOf(schema: EntitySchema, row: Readonly<Record<string, unknown>>): string | undefined {
  const key = schema.cache_key
  if (key === undefined) return undefined
  return key
    .map((k) => {
      const v = row[k]
      if (schema.fields[k]?.type === 'foreign')
        return v !== null && typeof v === 'object' ? String((v as { id?: unknown }).id ?? '') : typeof v === 'string' ? v : ''
      return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v)
    })
    .join('\u0000')
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** The changed leaves of two values: records are compared key by key (`config.minute`). */
function changedPaths(path: string, a: unknown, b: unknown, out: Record<string, [unknown, unknown]>, depth = 0): void {
  if (equal(a, b)) return
  if (isRecord(a) && isRecord(b) && depth < 8) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      changedPaths(`${path}.${k}`, a[k] ?? null, b[k] ?? null, out, depth + 1)
    return
  }
  out[path] = [a, b]
}

/** Lookups over the gateway's rows of one entity, built once. */
class CurrentIndex {
  readonly byId = new Map<string, Row>()
  readonly byEndpoint = new Map<string, Row>()
  readonly byCacheKey = new Map<string, Row>()
  constructor(schema: EntitySchema | undefined, rows: readonly Row[]) {
    const endpoint = schema?.endpoint_key
    for (const r of rows) {
      this.byId.set(r.id, r)
      const e = endpoint === undefined ? undefined : r[endpoint]
      if (typeof e === 'string' || typeof e === 'number') this.byEndpoint.set(String(e), r)
      const c = schema === undefined ? undefined : cacheKeyOf(schema, r)
      if (c !== undefined) this.byCacheKey.set(c, r)
    }
  }
}

/** Fields of `schema` a client never sends (secrets derived on write): shown as changed, not printed. */
function hiddenFields(schema: EntitySchema): Set<string> {
  const out = new Set<string>()
  if (schema.transform === undefined) return out
  for (const [name, f] of Object.entries(schema.fields))
    if ((f as { encrypted?: boolean }).encrypted === true && f.type === 'string') out.add(name)
  return out
}

/**
 * Computes the changes that make the gateway's `current` rows match the file, within
 * `selectTags` (entities outside the selection are never touched).
 *
 * Matching, as decK does: by id when the file gives one; else by the endpoint key (name,
 * username, instance_name…); else by the cache key (plugins by name and scope — route,
 * service, consumer —, targets by upstream and address, acls by consumer and group), so that a
 * changed plugin configuration is an update, not a delete and a create; else (unnamed routes)
 * by content.
 *
 * Write transforms (basic-auth password hashing) follow the file's `_transform`: with `true`
 * (default) passwords are clear text, compared by their digest with what the gateway stores and
 * sent as written; with `false` (a dump) they are digests, compared as they are and only
 * loadable where the stored form can be written (a DB-less gateway's `POST /config`).
 */
export function planSync(
  doc: Record<string, unknown>,
  current: Readonly<Record<string, readonly Row[]>>,
  graph: EntityGraph,
  cliSelectTags: readonly string[] = [],
): Plan {
  const input: Record<string, unknown> = { ...doc }
  const info = (input['_info'] ?? {}) as Record<string, unknown>
  const fileTags = Array.isArray(info['select_tags']) ? (info['select_tags'] as string[]) : []
  const selectTags = [...new Set([...fileTags, ...cliSelectTags])]
  if (selectTags.length > 0) input['_info'] = { ...info, select_tags: selectTags }

  const indexes = new Map<string, CurrentIndex>()
  const indexOf = (entity: string): CurrentIndex => {
    let idx = indexes.get(entity)
    if (idx === undefined) {
      idx = new CurrentIndex(graph.schemas[entity], current[entity] ?? [])
      indexes.set(entity, idx)
    }
    return idx
  }
  // references to entities the file does not declare resolve against the gateway
  const resolveExternal = (entity: string, key: string): string | undefined => {
    const idx = indexOf(entity)
    return idx.byId.get(key)?.id ?? idx.byEndpoint.get(key)?.id
  }
  const result = flattenConfig(input, graph, { resolveExternal, applyTransforms: false })
  if (!result.ok) throw new DeclarativeError(result.problems)
  const desired: FlatConfig = result.config
  const transformMode = desired.meta._transform

  const changes: Change[] = []
  const idMap = new Map<string, string>() // desired id → id on the gateway
  const labels = new Map<string, string>() // entity:gateway id → label, for references in labels
  const target: Record<string, Row[]> = {}
  const explicitIds = collectExplicitIds(input, graph)
  const labelFor = (schema: EntitySchema, row: Readonly<Record<string, unknown>>): string => {
    const key = schema.endpoint_key
    const v = key === undefined ? undefined : row[key]
    const secret = key !== undefined && (schema.fields[key] as { encrypted?: boolean } | undefined)?.encrypted === true
    if ((typeof v === 'string' || typeof v === 'number') && !secret) return String(v)
    if (schema.cache_key === undefined && !secret) return String(row['id'])
    const own = (schema.cache_key ?? [])
      .filter((k) => schema.fields[k]?.type !== 'foreign')
      .map((k) => row[k])
      .filter((x) => typeof x === 'string')
    const scope: string[] = []
    for (const link of graph.foreign[schema.name] ?? []) {
      const ref = row[link.field] as { id?: string } | null | undefined
      if (ref?.id === undefined) continue
      scope.push(`${singular(link.reference)} ${labels.get(`${link.reference}:${ref.id}`) ?? ref.id}`)
    }
    const head = own.length > 0 ? own.join(' ') : String(row['id'])
    if (schema.name === 'plugins' && scope.length === 0) return `${head} (global)`
    return scope.length > 0 ? `${head} for ${scope.join(', ')}` : head
  }

  for (const entity of graph.order) {
    const schema = graph.schemas[entity] as EntitySchema
    const all = current[entity] ?? []
    const idx = indexOf(entity)
    const selectedIds = new Set(all.filter((r) => hasTags(r, selectTags)).map((r) => r.id))
    const taken = new Set<string>()
    const endpoint = schema.endpoint_key
    const hidden = hiddenFields(schema)
    const keep = new Map<string, Row>()
    for (const r of all) if (!selectedIds.has(r.id)) keep.set(r.id, r)
    for (const r of all) labels.set(`${entity}:${r.id}`, labelFor(schema, r))
    let contentIndex: Map<string, Row[]> | undefined // canonical form → unmatched selected rows (unnamed entities)
    for (const want of desired.entities[entity] ?? []) {
      // map references to the ids the gateway uses
      const row: Row = { ...want }
      for (const link of graph.foreign[entity] ?? []) {
        const v = row[link.field] as { id?: string } | null | undefined
        if (v?.id !== undefined) row[link.field] = { id: idMap.get(`${link.reference}:${v.id}`) ?? v.id }
      }
      let match: Row | undefined
      const endpointValue = endpoint === undefined ? undefined : row[endpoint]
      if (explicitIds.has(`${entity}:${want.id}`)) match = idx.byId.get(want.id)
      else if (typeof endpointValue === 'string' || typeof endpointValue === 'number') match = idx.byEndpoint.get(String(endpointValue))
      if (match === undefined && !explicitIds.has(`${entity}:${want.id}`) && schema.cache_key !== undefined) {
        match = idx.byCacheKey.get(cacheKeyOf(schema, row) ?? '')
      }
      if (
        match === undefined &&
        !explicitIds.has(`${entity}:${want.id}`) &&
        (endpointValue === undefined || endpointValue === null) &&
        schema.cache_key === undefined
      ) {
        if (contentIndex === undefined) {
          contentIndex = new Map()
          for (const r of all) {
            if (!selectedIds.has(r.id)) continue
            const k = JSON.stringify(sortDeep(canonical(schema, r)))
            contentIndex.set(k, [...(contentIndex.get(k) ?? []), r])
          }
        }
        const candidates = contentIndex.get(JSON.stringify(sortDeep(canonical(schema, row)))) ?? []
        match = candidates.find((r) => !taken.has(r.id))
      }
      if (match !== undefined && taken.has(match.id)) match = undefined // already taken by an earlier entry
      const id = match?.id ?? want.id
      idMap.set(`${entity}:${want.id}`, id)
      row.id = id
      if (match !== undefined) {
        taken.add(match.id)
        row['created_at'] = match['created_at'] ?? row['created_at']
        // generated values (a key-auth key, a jwt secret) left out of the file are kept
        for (const [name, f] of Object.entries(schema.fields)) {
          if (
            (f as { auto?: boolean }).auto === true &&
            !SKIP.has(name) &&
            (row[name] === undefined || row[name] === null) &&
            match[name] !== undefined
          )
            row[name] = match[name]
        }
      }
      // the form the gateway stores (basic-auth: the password's digest), and whether the
      // Admin API produces it from what we send
      let stored: Row = row
      let adminWritable = true
      if (schema.transform !== undefined) {
        const sentAsIs = { ...schema.transform(row, { op: match === undefined ? 'insert' : 'upsert', input: row, existing: match }), id }
        stored = transformMode ? sentAsIs : { ...schema.transform(row, { op: 'insert', input: row, existing: row }), id }
        adminWritable = equal(canonical(schema, sentAsIs), canonical(schema, stored))
      }
      labels.set(`${entity}:${id}`, labelFor(schema, stored))
      const label = labelFor(schema, stored)
      const extra = adminWritable ? {} : { storedOnly: true as const }
      if (match !== undefined) {
        const a = canonical(schema, match)
        const b = canonical(schema, stored)
        const fields: Record<string, [unknown, unknown]> = {}
        for (const k of Object.keys(b)) {
          if (equal(a[k], b[k])) continue
          if (hidden.has(k)) fields[k] = ['(hidden)', '(changed)']
          else changedPaths(k, a[k], b[k], fields)
        }
        if (Object.keys(fields).length > 0) changes.push({ op: 'update', entity, id, label, row, stored, fields, ...extra })
        keep.delete(match.id)
      } else changes.push({ op: 'create', entity, id, label, row, stored, ...extra })
      keep.set(id, stored)
    }
    for (const r of all)
      if (selectedIds.has(r.id) && !taken.has(r.id))
        changes.push({ op: 'delete', entity, id: r.id, label: labels.get(`${entity}:${r.id}`) ?? r.id, row: r })
    target[entity] = [...keep.values()]
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

/**
 * Where an entity lives in the Admin API: `collection` lists it (`/services`, `/key-auths`, or
 * per parent for nested-only entities such as targets); `item` addresses one row for writes,
 * under its parent when the entity has a nested path (`/consumers/{c}/key-auth/{id}`,
 * `/upstreams/{u}/targets/{id}`), the paths Kong has for every credential.
 */
interface AdminLocation {
  readonly collection: (row?: Row) => string
  readonly item: (row: Row, id: string) => string
  readonly nestedUnder?: { readonly parent: string; readonly field: string; readonly segment: string }
}

function adminLocation(graph: EntityGraph, entity: string): AdminLocation {
  const schema = graph.schemas[entity] as EntitySchema
  const own = schema.admin_path ?? schema.name
  const parentPathOf = (name: string): string => {
    const p = graph.schemas[name]
    return p?.admin_path ?? p?.name ?? name
  }
  const refId = (row: Row | undefined, field: string): string => (row?.[field] as { id?: string } | undefined)?.id ?? ''
  const parentName = schema.admin_nested_only
  if (parentName === undefined) {
    const nested = schema.admin_nested_path
    if (nested !== undefined && graph.schemas[nested.parent] !== undefined) {
      return {
        collection: () => `/${own}`,
        item: (row, id) =>
          refId(row, nested.field) === ''
            ? `/${own}/${id}`
            : `/${parentPathOf(nested.parent)}/${refId(row, nested.field)}/${nested.segment}/${id}`,
      }
    }
    return { collection: () => `/${own}`, item: (_row, id) => `/${own}/${id}` }
  }
  const field = (graph.foreign[entity] ?? []).find((l) => l.reference === parentName)?.field ?? ''
  const nested = schema.admin_nested_path
  const segment = nested !== undefined && nested.parent === parentName ? nested.segment : own
  const collection = (row?: Row): string => `/${parentPathOf(parentName)}/${refId(row, field)}/${segment}`
  return { nestedUnder: { parent: parentName, field, segment }, collection, item: (row, id) => `${collection(row)}/${id}` }
}

/** Every row of an entity through the Admin API (per parent for nested-only entities such as targets). */
export async function listEntity(
  client: AdminClient,
  graph: EntityGraph,
  entity: string,
  tags: readonly string[] = [],
  parents?: readonly Row[],
): Promise<Row[]> {
  const where = adminLocation(graph, entity)
  if (where.nestedUnder === undefined) return client.listAll(where.collection().slice(1), tags)
  const out: Row[] = []
  for (const p of parents ?? [])
    out.push(...(await client.listAll(where.collection({ id: p.id, [where.nestedUnder.field]: { id: p.id } }).slice(1), tags)))
  return out
}

/** The gateway's rows of every entity (only those with all `tags`, when given). */
export async function fetchCurrent(client: AdminClient, graph: EntityGraph, tags: readonly string[] = []): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {}
  for (const entity of graph.order) {
    const parent = graph.schemas[entity]?.admin_nested_only
    const schema = graph.schemas[entity] as EntitySchema
    // pseudo-fields the Admin API adds (a certificate's `snis` names, deprecated shorthands filled
    // from their new place: rate-limiting's `redis_host`) are not part of the state
    const rows = await listEntity(client, graph, entity, tags, parent === undefined ? undefined : (out[parent] ?? []))
    out[entity] = rows.map((row) => storedRow(schema, splitTransient(schema, row).row))
  }
  return out
}

function body(schema: EntitySchema, row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(schema.fields)) {
    if (SKIP.has(name) || field.transient === true) continue
    if (row[name] !== undefined) out[name] = row[name]
  }
  return out
}

/**
 * The body of an update: transient fields as the gateway shows them now, so that the PUT leaves
 * what they manage alone (a certificate PUT without `snis` removes its SNIs, as in Kong); the
 * plan changes those rows itself.
 */
async function updateBody(client: AdminClient, schema: EntitySchema, path: string, row: Row): Promise<Record<string, unknown>> {
  const out = body(schema, row)
  const transient = Object.entries(schema.fields)
    .filter(([, f]) => f.transient === true)
    .map(([n]) => n)
  if (transient.length === 0) return out
  const current = (await client.expect('GET', path, [200])) as Record<string, unknown>
  for (const name of transient) if (current[name] !== undefined) out[name] = current[name]
  return out
}

/** A sync that cannot be applied as asked (nothing was changed). */
export class SyncError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SyncError'
  }
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
    // the stored forms (hashed passwords) go as they are: `_transform: false`
    await client.expect('POST', '/config', [201], kongExport(plan.target, graph))
    options.progress?.(total, total)
    return
  }
  const storedOnly = plan.changes.filter((c) => c.storedOnly === true)
  if (storedOnly.length > 0) {
    const lines = storedOnly.map((c) => `  ${c.op === 'create' ? 'creating' : 'updating'} ${singular(c.entity)} ${c.label}`)
    throw new SyncError(
      `nothing was changed: ${storedOnly.length} entit${storedOnly.length === 1 ? 'y holds' : 'ies hold'} an already hashed value (the file says '_transform: false'), which the Admin API would hash again:\n${lines.join('\n')}\n` +
        "Write the clear-text password in a file without '_transform: false', or load the file with 'turnpike config db_import' or into a DB-less node (POST /config keeps hashed values).",
    )
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
  const deleteAll = async (deletes: readonly Change[]): Promise<void> => {
    for (const entity of [...graph.order].reverse()) {
      await run(
        deletes.filter((c) => c.entity === entity),
        async (c) => {
          await client.expect('DELETE', adminLocation(graph, entity).item(c.row as Row, c.id), [204, 404])
        },
      )
    }
  }
  // decK's order: first the rows a created one replaces (same name, another id), then creates and
  // updates, then the other deletes (a kept row may still point at them until it is updated).
  const replaced = replacedRows(graph, plan.changes)
  await deleteAll(plan.changes.filter((c) => replaced.has(c)))
  for (const entity of graph.order) {
    const schema = graph.schemas[entity] as EntitySchema
    const writes = plan.changes.filter((c) => c.entity === entity && c.op !== 'delete')
    await run(writes, async (c) => {
      const path = adminLocation(graph, entity).item(c.row as Row, c.id)
      await client.expect(
        'PUT',
        path,
        [200, 201],
        c.op === 'update' ? await updateBody(client, schema, path, c.row as Row) : body(schema, c.row as Row),
      )
    })
  }
  await deleteAll(plan.changes.filter((c) => c.op === 'delete' && !replaced.has(c)))
}

/**
 * Deletes that must run before the creates: a row whose unique value (a service's `name`, a
 * route's `name` …) a created row takes, and, with it, the deleted rows that point at it (its
 * routes must go before it can).
 */
function replacedRows(graph: EntityGraph, changes: readonly Change[]): Set<Change> {
  const deletes = changes.filter((c) => c.op === 'delete' && c.row !== undefined)
  const taken = new Set<string>()
  for (const c of changes) {
    if (c.op !== 'create' || c.row === undefined) continue
    for (const [field, spec] of Object.entries(graph.schemas[c.entity]?.fields ?? {})) {
      const v = c.row[field]
      if ('unique' in spec && spec.unique === true && v !== null && v !== undefined)
        taken.add(`${c.entity}\0${field}\0${JSON.stringify(v)}`)
    }
  }
  const out = new Set<Change>()
  for (const c of deletes) {
    for (const [field, spec] of Object.entries(graph.schemas[c.entity]?.fields ?? {})) {
      const v = (c.row as Row)[field]
      if ('unique' in spec && spec.unique === true && taken.has(`${c.entity}\0${field}\0${JSON.stringify(v)}`)) out.add(c)
    }
  }
  // the deleted rows that reference a replaced one go first too (bounded: each pass adds rows)
  for (let grew = true; grew;) {
    grew = false
    const ids = new Set([...out].map((c) => c.id))
    for (const c of deletes) {
      if (out.has(c)) continue
      const refs = Object.entries(graph.schemas[c.entity]?.fields ?? {}).filter(([, spec]) => spec.type === 'foreign')
      if (refs.some(([field]) => ids.has(((c.row as Row)[field] as { id?: string } | null)?.id ?? ''))) {
        out.add(c)
        grew = true
      }
    }
  }
  return out
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
    for (const [field, [from, to]] of Object.entries(c.fields ?? {}))
      lines.push(`  ${field}: ${JSON.stringify(from)} → ${JSON.stringify(to)}`)
  }
  const count = (op: Change['op']): number => plan.changes.filter((c) => c.op === op).length
  lines.push('Summary:', `  Created: ${count('create')}`, `  Updated: ${count('update')}`, `  Deleted: ${count('delete')}`)
  return lines
}
