/**
 * Validates a declarative configuration and flattens it into rows per entity, as Kong's
 * `declarative_config` schema does: nested entities get their parent reference, references by
 * name or id are resolved, ids are generated (Kong's deterministic UUIDv5 when there is a name
 * or cache key), defaults are filled in and every entity is validated with the same schema as
 * the Admin API. Every problem is reported with its location, entity and field; nothing in the
 * file is silently dropped.
 *
 * Generic over the entity registry: a new entity with a `foreign` field nests under its parent
 * with no code here.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { subschemaErrors } from '../dao/index.js'
import { isUuid } from '../ids/uuid.js'
import { normalizeUri } from '../schema/index.js'
import { validateEntity } from '../schema/index.js'
import { deprecatedShorthandWarnings, setOwn, splitTransient } from '../schema/index.js'
import type { EntitySchema, FieldErrors } from '../schema/index.js'
import type { Row } from '../store/index.js'
import type { EntityProblem, Location } from './errors.js'
import { type EntityGraph, type ForeignLink, KONG_ENTITY_NAMES } from './graph.js'
import { declarativeId } from './declarative-id.js'

export const FORMAT_VERSIONS = ['1.1', '2.1', '3.0'] as const

/** Top-level keys that are not entities. */
export interface DeclarativeMeta {
  _format_version: string
  _transform: boolean
  _comment?: string
  /** decK's `_info` (`select_tags`, `default_lookup_tags`). */
  _info?: { select_tags?: string[]; default_lookup_tags?: Record<string, string[]> }
}

/** A validated configuration: every entity's rows (defaults filled in), in file order. */
export interface FlatConfig {
  readonly meta: DeclarativeMeta
  readonly entities: Record<string, Row[]>
  /** Kong's deprecation warnings for what the file uses (`path_handling: v1`), for the log. */
  readonly warnings?: readonly string[]
}

/** Kong 3.9's deprecation text for `path_handling: v1` (`kong/db/schema/entities/routes.lua`, default router flavor). */
export const PATH_V1_DEPRECATION =
  "path_handling='v1' is deprecated and will not work under 'expressions' or 'traditional_compatible' router_flavor, please use path_handling='v0' instead (deprecated after 3.0)"

export type FlattenResult = { readonly ok: true; readonly config: FlatConfig } | { readonly ok: false; readonly problems: EntityProblem[] }

export interface FlattenOptions {
  /** Epoch seconds for `created_at`/`updated_at` left out of the file. */
  readonly now?: number
  /**
   * `partial` (db_import, sync): references may point at entities outside the file; they are
   * checked by `resolveExternal` instead of failing.
   */
  readonly resolveExternal?: (entity: string, key: string) => string | undefined
  /**
   * Apply the entities' write transforms (basic-auth password hashing) as Kong's `_transform`
   * says (default true). The sync planner turns it off: it compares stored forms itself and
   * sends the values as written.
   */
  readonly applyTransforms?: boolean
}

interface Entry {
  readonly entity: string
  readonly location: Location
  readonly input: Record<string, unknown>
  readonly data: Record<string, unknown>
  readonly parent?: { readonly link: ForeignLink; readonly entry: Entry }
  readonly errors: FieldErrors
  id: string
  /** Kong's second stage: a duplicate (a plain string at `uniqueAt` in Kong's tree). */
  unique?: { readonly message: string; readonly at: Location }
  /** Kong's second stage: references to entities that are not declared. */
  readonly refs: string[]
}

const META_KEYS = new Set(['_format_version', '_transform', '_comment', '_ignore', '_info', '_workspace'])

/**
 * Kong's `parameters` entity (`kong config db_export` writes the node's `cluster_id` there):
 * checked as Kong's schema does (`key` and `value` required strings) and otherwise not used.
 */
function checkParameters(value: unknown, problems: EntityProblem[], top: FieldErrors): void {
  if (!Array.isArray(value)) {
    top['parameters'] = 'expected an array'
    return
  }
  value.forEach((item, i) => {
    const errors: FieldErrors = {}
    if (!isObject(item)) errors['@entity'] = ['expected a record']
    else {
      for (const key of ['key', 'value']) {
        if (item[key] === undefined || item[key] === null) errors[key] = 'required field missing'
        else if (typeof item[key] !== 'string') errors[key] = 'expected a string'
      }
      const created = item['created_at']
      if (created !== undefined && created !== null && typeof created !== 'number') errors['created_at'] = 'expected an integer'
      for (const key of Object.keys(item))
        if (!['key', 'value', 'created_at', ...ENTITY_META_KEYS].includes(key)) setOwn(errors, key, 'unknown field')
    }
    if (Object.keys(errors).length > 0) problems.push({ location: ['parameters', i], entity: 'parameters', input: item, errors })
  })
}
const ENTITY_META_KEYS = ['_comment', '_ignore']

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function addError(errors: FieldErrors, field: string, message: string): void {
  const current = errors[field]
  if (current === undefined) errors[field] = message
  else if (typeof current === 'string') errors[field] = [current, message]
  else if (Array.isArray(current)) (current as unknown[]).push(message)
}

/** Kong's `migrate_path_280_300`: 1.1/2.1 regex paths get the `~` prefix 3.0 requires. */
export function migrateRoutePath(path: unknown): unknown {
  if (typeof path !== 'string') return path
  if (/^[a-zA-Z0-9.\-_~/%]*$/.test(path)) return normalizeUri(path, true)
  const decoded = path.includes('%')
    ? path.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
        const code = Number.parseInt(hex, 16)
        if ("!#$%&'()*+,/:;=?@[]".includes(String.fromCharCode(code))) return m.toUpperCase()
        const chr = String.fromCharCode(code)
        return '.^-{}\\|'.includes(chr) ? `\\${chr}` : chr
      })
    : path
  return `~${decoded}`
}

/** The routes with migrated paths (copies: the caller's document is never modified). */
function migrateRoutes(routes: unknown): unknown {
  if (!Array.isArray(routes)) return routes
  return routes.map((route) =>
    isObject(route) && Array.isArray(route['paths']) ? { ...route, paths: route['paths'].map(migrateRoutePath) } : route,
  )
}

function checkMeta(input: Record<string, unknown>, top: FieldErrors): DeclarativeMeta {
  const version = input['_format_version']
  if (version === undefined || version === null) top['_format_version'] = 'required field missing'
  else if (typeof version !== 'string') top['_format_version'] = 'expected a string'
  else if (!(FORMAT_VERSIONS as readonly string[]).includes(version))
    top['_format_version'] = `expected one of: ${FORMAT_VERSIONS.join(', ')}`
  const transform = input['_transform'] ?? true
  if (typeof transform !== 'boolean') top['_transform'] = 'expected a boolean'
  const comment = input['_comment']
  if (comment !== undefined && typeof comment !== 'string') top['_comment'] = 'expected a string'
  if (input['_ignore'] !== undefined && !Array.isArray(input['_ignore'])) top['_ignore'] = 'expected an array'
  const meta: DeclarativeMeta = { _format_version: typeof version === 'string' ? version : '3.0', _transform: transform === true }
  if (typeof comment === 'string') meta._comment = comment
  const info = input['_info']
  if (info !== undefined && info !== null) {
    if (!isObject(info)) top['_info'] = 'expected a record'
    else {
      const infoErrors: FieldErrors = {}
      for (const [key, value] of Object.entries(info)) {
        if (key === 'select_tags') {
          if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) infoErrors[key] = 'expected an array of strings'
          else if (value.length > 5) infoErrors[key] = 'at most 5 tags can be selected'
          else meta._info = { ...meta._info, select_tags: [...new Set(value as string[])] }
        } else if (key === 'default_lookup_tags') {
          if (!isObject(value)) infoErrors[key] = 'expected a record'
          else meta._info = { ...meta._info, default_lookup_tags: value as Record<string, string[]> }
        } else if (key === 'defaults') {
          infoErrors[key] = "'_info.defaults' is not supported yet: write the values in the entities"
        } else infoErrors[key] = 'unknown field'
      }
      if (Object.keys(infoErrors).length > 0) top['_info'] = infoErrors
    }
  }
  return meta
}

/** Kong's `get_key_for_uuid_gen`: the name to hash, or undefined for a random id. */
function idKey(schema: EntitySchema, entity: string, item: Record<string, unknown>, parent: Entry['parent']): string | undefined {
  if (schema.primary_key.length !== 1 || schema.primary_key[0] !== 'id') return undefined
  if (schema.cache_key !== undefined) {
    const parts = [entity, '*']
    for (const k of schema.cache_key) {
      const field = schema.fields[k]
      const v = item[k]
      if (field?.auto === true) return undefined
      if (typeof v === 'string') parts.push(v)
      else if (v === undefined) {
        if (parent !== undefined && k === parent.link.field) parts.push(parent.entry.id)
        else if (field?.required === true) return undefined
        else parts.push('')
      }
    }
    return parts.join(':')
  }
  const endpoint = schema.endpoint_key
  if (endpoint === undefined) return undefined
  const v = item[endpoint]
  if (v === undefined || v === null) return undefined
  let key = String(v)
  const field = schema.fields[endpoint]
  if (field?.unique !== true) {
    for (const [fname, f] of Object.entries(schema.fields)) {
      if (f.type !== 'foreign' || f.on_delete !== 'cascade') continue
      if (parent !== undefined) key += `:${parent.entry.id}`
      else key += `:${String(isObject(item[fname]) ? (item[fname] as Record<string, unknown>)['id'] : item[fname])}`
    }
    key += ':*'
  }
  return key
}

/**
 * Validates and flattens a parsed declarative document. Never throws for bad input: problems
 * come back with their location, entity and field.
 */
export function flattenConfig(input: Record<string, unknown>, graph: EntityGraph, options: FlattenOptions = {}): FlattenResult {
  const problems: EntityProblem[] = []
  const top: FieldErrors = {}
  // no deep copy: entity data is copied field by field below and validateEntity copies again
  const doc: Record<string, unknown> = { ...input }
  const meta = checkMeta(doc, top)
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const selectTags = meta._info?.select_tags ?? []
  const supported = new Set(graph.order)
  const transforms = options.applyTransforms !== false

  if (meta._format_version === '1.1' || meta._format_version === '2.1') {
    doc['routes'] = migrateRoutes(doc['routes'])
    if (Array.isArray(doc['services']))
      doc['services'] = doc['services'].map((s: unknown) =>
        isObject(s) && s['routes'] !== undefined ? { ...s, routes: migrateRoutes(s['routes']) } : s,
      )
  }

  const entries: Entry[] = []
  const byId = new Map<string, Map<string, Entry>>()
  const byKey = new Map<string, Map<string, Entry>>()
  const warnings = new Set<string>()
  // every item of a kind Turnpike does not implement is listed, not just the first
  const unsupported = (location: Location, name: string, items: readonly unknown[]): void => {
    items.forEach((input, i) =>
      problems.push({ location: [...location, i], entity: name, input, errors: { '@entity': [`entity '${name}' is not supported yet`] } }),
    )
  }

  const walk = (entity: string, items: unknown, location: Location, parent: Entry['parent']): void => {
    if (!Array.isArray(items)) {
      if (parent === undefined) top[entity] = 'expected an array'
      else addError(parent.entry.errors, entity, 'expected an array')
      return
    }
    const schema = graph.schemas[entity] as EntitySchema
    const childLinks = new Map((graph.children[entity] ?? []).map((l) => [l.entity, l]))
    const fields = schema.fields
    const shorthands = schema.shorthand_fields
    items.forEach((item, i) => {
      const loc = [...location, entity, i]
      if (!isObject(item)) {
        problems.push({ location: loc, entity, input: item, errors: { '@entity': ['expected a record'] } })
        return
      }
      const data: Record<string, unknown> = {}
      const nested: [string, unknown][] = []
      for (const [key, value] of Object.entries(item)) {
        if (ENTITY_META_KEYS.includes(key)) continue
        // A nested entity wins over a field of the same name (certificates' `snis` list is the
        // Admin API's shorthand; in a file, `snis` are SNI entities, as in Kong).
        if (childLinks.has(key)) nested.push([key, value])
        else if (Object.hasOwn(fields, key) || (shorthands !== undefined && Object.hasOwn(shorthands, key))) data[key] = value
        else if (KONG_ENTITY_NAMES.has(key) && !supported.has(key)) {
          if (Array.isArray(value)) unsupported([...loc, key], key, value)
        } else setOwn(data, key, value) // unknown fields: validation reports them
      }
      const entry: Entry = {
        entity,
        location: loc,
        input: item,
        data,
        errors: {},
        refs: [],
        id: '',
        ...(parent === undefined ? {} : { parent }),
      }
      if (parent !== undefined) {
        const given = data[parent.link.field]
        const ref = isObject(given) ? given['id'] : given
        if (
          given !== undefined &&
          given !== null &&
          ref !== parent.entry.id &&
          ref !== parent.entry.data[graph.schemas[parent.entry.entity]?.endpoint_key ?? '']
        ) {
          addError(entry.errors, parent.link.field, 'value must be null')
        }
        delete data[parent.link.field]
      }
      if (selectTags.length > 0 && Object.hasOwn(schema.fields, 'tags')) {
        const tags = Array.isArray(data['tags']) ? (data['tags'] as unknown[]) : []
        data['tags'] = [...tags, ...selectTags.filter((t) => !tags.includes(t))]
      }
      // ids: as given, else Kong's deterministic id, else random (unnamed entities)
      const given = data['id']
      if (given === undefined || given === null) {
        const key = idKey(schema, entity, data, parent)
        entry.id = key === undefined ? randomUUID() : declarativeId(entity, key)
      } else entry.id = typeof given === 'string' ? given : String(given)
      data['id'] = given ?? entry.id
      entries.push(entry)

      // Kong checks the endpoint key first; a duplicate name is not also reported as a duplicate id
      let failed = false
      const endpoint = schema.endpoint_key
      const keyValue = endpoint === undefined ? undefined : data[endpoint]
      if (
        endpoint !== undefined &&
        schema.fields[endpoint]?.unique === true &&
        (typeof keyValue === 'string' || typeof keyValue === 'number')
      ) {
        const keys = byKey.get(entity) ?? new Map<string, Entry>()
        byKey.set(entity, keys)
        if (keys.has(String(keyValue))) {
          // Kong reports it at the item's index in the entity's own list, even when nested
          entry.unique = {
            message: `uniqueness violation: '${entity}' entity with ${endpoint} set to '${String(keyValue)}' already declared`,
            at: [entity, i],
          }
          failed = true
        } else keys.set(String(keyValue), entry)
      }
      const ids = byId.get(entity) ?? new Map<string, Entry>()
      byId.set(entity, ids)
      if (ids.has(entry.id)) {
        if (!failed)
          entry.unique = {
            message: `uniqueness violation: '${entity}' entity with primary key set to '${entry.id}' already declared`,
            at: parent === undefined ? [entity, i] : [parent.entry.entity, parent.entry.location.at(-1) as number, entity, i],
          }
      } else ids.set(entry.id, entry)
      for (const [child, value] of nested) {
        const link = childLinks.get(child) as ForeignLink
        walk(child, value, loc, { link, entry })
      }
    })
  }

  for (const [key, value] of Object.entries(doc)) {
    if (META_KEYS.has(key)) continue
    if (supported.has(key)) continue
    if (key === 'parameters' && value !== null) {
      checkParameters(value, problems, top)
      continue
    }
    if (key.startsWith('_')) setOwn(top, key, 'unknown field')
    else if (KONG_ENTITY_NAMES.has(key)) {
      if (!Array.isArray(value)) top[key] = 'expected an array'
      else unsupported([key], key, value)
    } else setOwn(top, key, 'unknown field')
  }
  for (const entity of graph.order) {
    if (doc[entity] !== undefined && doc[entity] !== null) walk(entity, doc[entity], [], undefined)
  }

  // references, then validation with the Admin API's schema
  const find = (entity: string, key: string): string | undefined =>
    byKey.get(entity)?.get(key)?.id ?? byId.get(entity)?.get(key)?.id ?? options.resolveExternal?.(entity, key)
  const rows: Record<string, Row[]> = {}
  for (const entity of graph.order) rows[entity] = []
  for (const entry of entries) {
    const schema = graph.schemas[entry.entity] as EntitySchema
    const data = entry.data
    for (const link of graph.foreign[entry.entity] ?? []) {
      if (entry.parent !== undefined && link.field === entry.parent.link.field) {
        data[link.field] = { id: entry.parent.entry.id }
        continue
      }
      const value = data[link.field]
      if (value === undefined || value === null) continue
      const refKey = graph.schemas[link.reference]?.endpoint_key
      const key = isObject(value) ? (value['id'] ?? (refKey === undefined ? undefined : value[refKey])) : value
      if (typeof key !== 'string' && typeof key !== 'number') continue // validation reports the type
      if (!supported.has(link.reference)) {
        addError(entry.errors, link.field, `entity '${link.reference}' is not supported yet`)
        continue
      }
      const id = find(link.reference, String(key))
      if (id === undefined) {
        entry.refs.push(
          `invalid reference '${link.field}: ${typeof value === 'string' ? value : JSON.stringify(value)}' (no such entry in '${link.reference}')`,
        )
        data[link.field] = { id: isUuid(String(key)) ? String(key) : '00000000-0000-0000-0000-000000000000' }
      } else data[link.field] = { id }
    }
    for (const [field, entity] of Object.entries(schema.id_list_refs ?? {})) {
      const ids = data[field]
      if (!Array.isArray(ids)) continue
      for (const id of ids) {
        if (typeof id === 'string' && find(entity, id) === undefined)
          entry.refs.push(`invalid reference '${field}: ${id}' (no such entry in '${entity}')`)
      }
    }
    for (const auto of ['created_at', 'updated_at']) {
      if (schema.fields[auto] !== undefined && (data[auto] === undefined || data[auto] === null)) data[auto] = now
    }
    const deprecations = deprecatedShorthandWarnings(schema, data)
    const result = validateEntity(schema, data, { mode: 'insert' })
    const errors: FieldErrors = { ...entry.errors }
    if (!result.ok) {
      for (const [k, v] of Object.entries(subschemaErrors(schema, result.errors))) {
        if (k === '@entity' && errors['@entity'] !== undefined)
          errors['@entity'] = [...(errors['@entity'] as string[]), ...(Array.isArray(v) ? (v as string[]) : [v as string])]
        else setOwn(errors, k, v)
      }
    }
    if (Object.keys(errors).length > 0) {
      problems.push(entryProblem(entry, errors))
      continue
    }
    if (entry.entity === 'routes' && data['path_handling'] === 'v1') warnings.add(PATH_V1_DEPRECATION)
    for (const d of deprecations) warnings.add(d)
    if (!result.ok) continue
    let row = splitTransient(schema, result.row as Row).row
    if (transforms && schema.transform !== undefined) {
      // `_transform: true` (the default): values are as a client sends them (clear-text
      // basic-auth passwords) and get their stored form, as on an Admin API insert.
      // `_transform: false` (db_export, dumps): values are already in stored form; the row is
      // passed as the existing one, so only idempotent rewrites (target normalization) apply.
      row = { ...schema.transform(row, { op: 'insert', input: data, existing: meta._transform ? undefined : row }), id: row.id }
    }
    rows[entry.entity]?.push(row)
  }

  // Kong's stages: schema errors first; then duplicates and dangling references; then the
  // other unique fields. All are listed here; Kong's 400 body shows the first stage with errors.
  {
    for (const entry of entries) {
      if (entry.unique !== undefined)
        problems.push({
          ...entryProblem(entry, { '@entity': [entry.unique.message] }, 2),
          tree: { at: entry.unique.at, value: entry.unique.message },
        })
      if (entry.refs.length > 0) {
        const endpoint = graph.schemas[entry.entity]?.endpoint_key
        const key =
          endpoint !== undefined && graph.schemas[entry.entity]?.fields[endpoint]?.unique === true ? entry.data[endpoint] : undefined
        const at = typeof key === 'string' && key !== '' ? key : (entry.location.at(-1) as number)
        problems.push({
          ...entryProblem(entry, { '@entity': [...entry.refs] }, 2),
          tree: { at: [entry.entity, at], value: [...entry.refs] },
        })
      }
    }
  }
  // other unique fields (endpoint keys were checked above)
  for (const entity of graph.order) {
    const schema = graph.schemas[entity] as EntitySchema
    const uniques = Object.entries(schema.fields).filter(([n, f]) => f.unique === true && n !== schema.endpoint_key && n !== 'id')
    for (const [name] of uniques) {
      const seen = new Set<string>()
      for (const row of rows[entity] ?? []) {
        const v = row[name]
        if (v === null || v === undefined) continue
        const key = isObject(v) ? String(v['id']) : String(v)
        if (seen.has(key)) {
          const entry = entries.find((e) => e.entity === entity && e.id === row.id)
          const message = `uniqueness violation: '${entity}' entity with ${name} set to '${key}' already declared`
          const endpoint = schema.endpoint_key === undefined ? undefined : row[schema.endpoint_key]
          problems.push({
            location: entry?.location ?? [entity],
            entity,
            input: entry?.input,
            id: row.id,
            errors: { '@entity': [message] },
            tree: { at: [entity, typeof endpoint === 'string' ? endpoint : row.id], value: message },
            stage: 3,
          })
        }
        seen.add(key)
      }
    }
  }

  if (Object.keys(top).length > 0) problems.unshift({ location: [], errors: top })
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) }
  return { ok: true, config: { meta, entities: rows, ...(warnings.size === 0 ? {} : { warnings: [...warnings] }) } }
}

/** An entity's problem with the id it has (given or generated) and its parent's reference, for `flattened_errors`. */
function entryProblem(entry: Entry, errors: FieldErrors, stage?: 2): EntityProblem {
  // Kong generates ids only after its schema stage: before, a nested entity carries its parent's
  // reference only when the parent's id was written in the file
  const parent = entry.parent
  const withParent = parent !== undefined && (stage !== undefined || parent.entry.input['id'] !== undefined)
  return {
    location: entry.location,
    entity: entry.entity,
    input: entry.input,
    errors,
    id: entry.id,
    ...(withParent ? { foreign: { [parent.link.field]: { id: parent.entry.id } } } : {}),
    ...(stage === undefined ? {} : { stage }),
  }
}

function sortProblems(problems: EntityProblem[]): EntityProblem[] {
  const cmp = (a: Location, b: Location): number => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const x = a[i] as string | number
      const y = b[i] as string | number
      if (x === y) continue
      if (typeof x === 'number' && typeof y === 'number') return x - y
      return String(x) < String(y) ? -1 : 1
    }
    return a.length - b.length
  }
  return problems.sort((a, b) => cmp(a.location, b.location))
}

/** Every entity name that can appear as a nested array somewhere (for flattened errors). */
export function childKeys(graph: EntityGraph): Set<string> {
  const out = new Set<string>(KONG_ENTITY_NAMES)
  for (const links of Object.values(graph.children)) for (const l of links) out.add(l.entity)
  return out
}
