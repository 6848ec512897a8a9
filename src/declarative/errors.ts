/**
 * Declarative configuration errors in the three shapes users meet: Kong's nested error tree
 * (`fields` of the 400 `declarative config is invalid: …`), Kong's `flattened_errors`
 * (`POST /config?flatten_errors=1`), and one human line per problem naming the entity, where it
 * is in the file and the field (CLI, start-up).
 *
 * @module
 */
import { luaPretty } from '../dao/index.js'
import { DB_ERRORS } from '../errors/db-errors.js'
import { isUuid } from '../ids/uuid.js'
import type { FieldErrors } from '../schema/index.js'
import { setOwn } from '../schema/index.js'

/** A location in the file: entity arrays and 0-based indices, `['services', 0, 'routes', 2]`. */
export type Location = readonly (string | number)[]

/** The problems of one entity (or of the top level, when `entity` is undefined). */
export interface EntityProblem {
  readonly location: Location
  /** Entity type (`routes`), undefined for top-level keys. */
  readonly entity?: string
  /** The entity as written in the file. */
  readonly input?: unknown
  readonly errors: FieldErrors
  /** The entity's id (as given, or the one it would get), for `flattened_errors`' `entity_id`. */
  readonly id?: string
  /** A nested entity's reference to its parent (`{ service: { id } }`), as Kong adds it to the entity. */
  readonly foreign?: Readonly<Record<string, { readonly id: string }>>
  /**
   * Where and what Kong's nested tree shows when it is not the entity's field errors at its
   * location: a duplicate is a plain string at its index, a dangling reference a list under the
   * referring entity's name and endpoint key.
   */
  readonly tree?: { readonly at: Location; readonly value: string | readonly string[] }
  /**
   * Kong's validation stage (1 schema, 2 duplicates and references, 3 other unique fields):
   * Kong stops at the first stage with errors, so its 400 body shows only those.
   */
  readonly stage?: 2 | 3
}

/** Thrown (or returned) when a declarative configuration cannot be used. */
export class DeclarativeError extends Error {
  readonly problems: readonly EntityProblem[]
  constructor(problems: readonly EntityProblem[], message?: string) {
    super(message ?? describeProblems(problems).join('\n'))
    this.name = 'DeclarativeError'
    this.problems = problems
  }
}

/** `services[0].routes[2]`. */
export function formatLocation(location: Location): string {
  let out = ''
  for (const part of location) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`
  return out
}

/** Kong's field error pairs, in Kong's order (keys sorted, then taken from the end); array elements are 1-based. */
export function fieldErrorPairs(errors: unknown, ns = ''): { field?: string; message: string }[] {
  if (typeof errors === 'string') return [{ ...(ns === '' ? {} : { field: ns }), message: errors }]
  const out: { field?: string; message: string }[] = []
  if (errors === null || typeof errors !== 'object') return out
  const entries: [string, unknown][] = Array.isArray(errors)
    ? errors.map((v, i) => [String(i + 1), v] as [string, unknown])
    : Object.entries(errors as Record<string, unknown>)
  entries.sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0))
  for (const [key, value] of entries) {
    if (value === null || value === undefined) continue
    if (key === '@entity' && ns === '') {
      for (const m of Array.isArray(value) ? value : [value]) if (typeof m === 'string') out.push({ message: m })
      continue
    }
    out.push(...fieldErrorPairs(value, ns === '' ? key : `${ns}.${key}`))
  }
  return out
}

function entityLabel(input: unknown): string {
  if (input === null || typeof input !== 'object') return ''
  const o = input as Record<string, unknown>
  for (const key of ['name', 'username', 'id']) if (typeof o[key] === 'string' && o[key] !== '') return ` (${key} '${o[key] as string}')`
  return ''
}

/** One line per problem: `services[0].routes[1] (name 'r1'): field 'paths.1': should start with: / …`. */
export function describeProblems(problems: readonly EntityProblem[]): string[] {
  const lines: string[] = []
  for (const p of problems) {
    const where = p.location.length === 0 ? 'top level' : formatLocation(p.location)
    const label = entityLabel(p.input)
    for (const { field, message } of fieldErrorPairs(p.errors).reverse()) {
      lines.push(`${where}${label}: ${field === undefined ? '' : `field '${field}': `}${message}`)
    }
  }
  return lines
}

type Tree = Record<string, unknown>

/** Kong's nested error tree: entity arrays become JSON arrays (holes are null). */
export function errorTree(problems: readonly EntityProblem[]): Tree {
  const root: Tree = {}
  for (const p of problems) {
    let node: Record<string | number, unknown> = root
    const location = p.tree?.at ?? p.location
    for (const [i, part] of location.entries()) {
      if (p.tree !== undefined && i === location.length - 1) {
        setOwn(node, String(part), structuredClone(p.tree.value))
        break
      }
      const next = Object.hasOwn(node, part) ? node[part] : undefined
      if (next === undefined || next === null || typeof next !== 'object') {
        const created: Record<string | number, unknown> = {}
        setOwn(node, String(part), created)
        node = created
      } else node = next as Record<string | number, unknown>
    }
    if (p.tree !== undefined) continue
    // Own keys as they are: an unknown field called `__proto__` is reported, not assigned.
    for (const [k, v] of Object.entries(structuredClone(p.errors))) setOwn(node, k, v)
  }
  return arrayify(root) as Tree
}

function arrayify(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj)
  const numeric = keys.length > 0 && keys.every((k) => /^\d+$/.test(k))
  if (numeric) {
    const arr: unknown[] = []
    for (const k of keys) arr[Number(k)] = arrayify(obj[k])
    for (let i = 0; i < arr.length; i++) if (!(i in arr)) arr[i] = null
    return arr
  }
  const out: Record<string, unknown> = {}
  for (const k of keys) setOwn(out, k, arrayify(obj[k]))
  return out
}

function singular(name: string): string {
  return name.endsWith('s') ? name.slice(0, -1) : name
}

/** Kong's `flattened_errors` entries (`kong/db/errors.lua` `declarative_config_flattened`). */
export function flattenedErrors(problems: readonly EntityProblem[], childKeys: ReadonlySet<string>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const p of [...problems].reverse()) {
    if (p.entity === undefined) continue
    const input =
      p.input !== null && typeof p.input === 'object' && !Array.isArray(p.input) ? { ...(p.input as Record<string, unknown>) } : {}
    for (const key of childKeys) delete input[key]
    for (const [field, ref] of Object.entries(p.foreign ?? {})) if (input[field] === undefined) setOwn(input, field, { ...ref })
    // Kong generates ids before its second stage only: a schema error's entity keeps the input's id
    if (input['id'] === undefined && p.stage !== undefined && p.id !== undefined && isUuid(p.id)) input['id'] = p.id
    const errors = fieldErrorPairs(p.errors).map((e) =>
      e.field === undefined ? { type: 'entity', message: e.message } : { type: 'field', field: e.field, message: e.message },
    )
    if (errors.length === 0) continue
    const entry: Record<string, unknown> = { entity_type: singular(p.entity), entity: input, errors }
    if (typeof input['name'] === 'string' && input['name'] !== '') entry['entity_name'] = input['name']
    if (isUuid(input['id'])) entry['entity_id'] = input['id']
    if (Array.isArray(input['tags']) && input['tags'].every((t) => typeof t === 'string')) entry['entity_tags'] = input['tags']
    out.push(entry)
  }
  return out
}

/**
 * `luaPretty`, with Penlight's rendering of a list with holes: the items before the first hole,
 * then the others by 1-based index (`{services={[2]="uniqueness violation: …"}}`).
 */
function luaTable(value: unknown): string {
  if (Array.isArray(value)) {
    let run = 0
    while (run < value.length && value[run] !== null && value[run] !== undefined) run++
    const parts = value.slice(0, run).map(luaTable)
    for (let i = run; i < value.length; i++) if (value[i] !== null && value[i] !== undefined) parts.push(`[${i + 1}]=${luaTable(value[i])}`)
    return `{${parts.join(',')}}`
  }
  if (value === null || typeof value !== 'object') return luaPretty(value)
  const obj = value as Record<string, unknown>
  const parts = Object.keys(obj)
    .sort()
    .map((key) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `[${JSON.stringify(key)}]`}=${luaTable(obj[key])}`)
  return `{${parts.join(',')}}`
}

/**
 * The 400 body of `POST /config`: code 14, `declarative config is invalid: {…}`, the tree in
 * `fields`; with `flatten`, entity problems move to `flattened_errors` (and, as in Kong, leave
 * the tree).
 */
export function invalidConfigBody(
  problems: readonly EntityProblem[],
  flatten: boolean,
  childKeys: ReadonlySet<string>,
): Record<string, unknown> {
  const stage = Math.min(...problems.map((p) => p.stage ?? 1))
  const first = problems.filter((p) => (p.stage ?? 1) === stage)
  const kept = flatten ? first.filter((p) => p.entity === undefined) : first
  const tree = errorTree(kept)
  const body: Record<string, unknown> = {
    code: DB_ERRORS.DECLARATIVE_CONFIG.code,
    name: DB_ERRORS.DECLARATIVE_CONFIG.name,
    message: `declarative config is invalid: ${luaTable(tree)}`,
    fields: tree,
  }
  if (flatten) body['flattened_errors'] = flattenedErrors(first, childKeys)
  return body
}
