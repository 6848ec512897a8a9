/**
 * Vault references (`{vault://<vault>/<resource>[/<key>][?prefix=…][#version]}`) in referenceable
 * fields, resolved when a configuration is compiled into a snapshot, never on the request path;
 * the stored rows (and so the Admin API) keep the reference as written. Kong 3.9's
 * `kong/pdk/vault.lua` and `kong/vaults/env`:
 *
 * - `<vault>` is a loaded vault backend's name (`env`, configured by kong.conf's
 *   `vault_env_prefix`) or the `prefix` of a `vaults` entity (its backend and `config`);
 * - the query overrides the vault's config (`?prefix=SSL_`); a value its schema refuses is ignored;
 * - env: the variable is `config.prefix` + resource, upper-cased, `-` replaced by `_` (version 2:
 *   `_PREVIOUS` appended); read from the gateway's environment;
 * - `/<key>`: the value is a JSON object, the key's string value is used.
 *
 * A reference that cannot be resolved leaves the field empty (`""`), as Kong does, and is reported
 * (Kong logs `unable to resolve reference … (…)` at warn) with a hint.
 *
 * @module
 */
import { envVaultConfig } from '../entities/index.js'
import { VAULT_REFERENCE_UNRESOLVED, type VaultReferenceHintInput } from '../errors/registry.js'
import { isVaultReference } from '../schema/index.js'
import type { EntitySchema, Field } from '../schema/index.js'
import type { ConfigPayload, PayloadEntities, StoredRow } from './snapshot.js'

/** What a node's settings say about vaults. */
export interface VaultSettings {
  /** Loaded vault backends (kong.conf `vaults`): `['env']` or none. */
  readonly loaded: readonly string[]
  /** kong.conf `vault_env_prefix`. */
  readonly envPrefix: string | null
  /** The environment the env vault reads (the gateway's own). */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** A reference that could not be resolved, where it is, why, and the fix. */
export interface ReferenceProblem {
  readonly entity: string
  readonly id: string
  /** The field's path: `cert`, `config.headers.Authorization`. */
  readonly field: string
  readonly reference: string
  /** Kong's wording: `could not get value from external vault (no value found)`. */
  readonly error: string
  readonly code: string
  readonly hint: string
}

/** A reference split into its parts (Kong's `parse_reference`). */
export interface ParsedReference {
  readonly name: string
  readonly resource: string
  readonly key: string | null
  readonly config: Readonly<Record<string, string>>
  readonly version: number | null
}

function unescape(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Parses a reference; a string is Kong's error message. */
export function parseReference(reference: string): ParsedReference | string {
  if (!isVaultReference(reference)) return `not a reference [${reference}]`
  let rest = reference.slice('{vault://'.length, -1)
  let version: number | null = null
  const hash = rest.indexOf('#')
  if (hash >= 0) {
    const v = rest.slice(hash + 1)
    rest = rest.slice(0, hash)
    if (!/^[0-9]+$/.test(v)) return `reference url has invalid version [${reference}]`
    version = Number(v)
  }
  const config: Record<string, string> = {}
  const q = rest.indexOf('?')
  if (q >= 0) {
    for (const pair of rest
      .slice(q + 1)
      .split('&')
      .slice(0, 100)) {
      if (pair === '') continue
      const eq = pair.indexOf('=')
      const k = unescape(eq < 0 ? pair : pair.slice(0, eq))
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue
      config[k] = unescape(eq < 0 ? '' : pair.slice(eq + 1))
    }
    rest = rest.slice(0, q)
  }
  const slash = rest.indexOf('/')
  const name = slash < 0 ? rest : rest.slice(0, slash)
  if (name === '') return `reference url is missing host [${reference}]`
  if (slash < 0) return `reference url is missing path [${reference}]`
  const path = rest.slice(slash + 1)
  if (path === '') return `reference url has empty path [${reference}]`
  const parts = path.split('/').filter((p) => p !== '')
  if (parts.length === 0) return `reference url has invalid path [${reference}]`
  const last = parts.length === 1 || path.endsWith('/') ? null : (parts.pop() as string)
  return { name, resource: unescape(parts.join('/')), key: last === null ? null : unescape(last), config, version }
}

type Resolution = { readonly value: string } | { readonly error: string; readonly hint: VaultReferenceHintInput }

const ENV_PREFIX_RULE = envVaultConfig.fields.prefix.match

/** Resolves references against a configuration's `vaults` rows and the node's vault settings. */
export class VaultResolver {
  readonly #settings: VaultSettings
  readonly #byPrefix = new Map<string, StoredRow>()

  constructor(settings: VaultSettings, vaults: readonly StoredRow[]) {
    this.#settings = settings
    for (const v of vaults) if (typeof v['prefix'] === 'string') this.#byPrefix.set(v['prefix'], v)
  }

  resolve(reference: string): Resolution {
    const loaded = this.#settings.loaded
    const parsed = parseReference(reference)
    const hint = (problem: VaultReferenceHintInput['problem'], more: Partial<VaultReferenceHintInput> = {}): VaultReferenceHintInput => ({
      problem,
      vault: typeof parsed === 'string' ? '' : parsed.name,
      variable: null,
      key: null,
      loaded,
      ...more,
    })
    if (typeof parsed === 'string') return { error: parsed, hint: hint('syntax') }
    let backend: string
    let base: Readonly<Record<string, unknown>>
    if (loaded.includes(parsed.name)) {
      backend = parsed.name
      base = { prefix: this.#settings.envPrefix }
    } else {
      const row = this.#byPrefix.get(parsed.name)
      if (row === undefined) return { error: `could not find vault (${parsed.name})`, hint: hint('vault') }
      backend = String(row['name'])
      const c = row['config']
      base = typeof c === 'object' && c !== null ? (c as Record<string, unknown>) : {}
    }
    if (backend !== 'env' || !loaded.includes(backend)) return { error: `could not find vault (${backend})`, hint: hint('vault') }
    // Kong's get_vault_config_and_hash: the reference's query wins; a value the schema refuses is dropped.
    const wanted = Object.hasOwn(parsed.config, 'prefix') ? parsed.config['prefix'] : base['prefix']
    const prefix = typeof wanted === 'string' && wanted !== '' && ENV_PREFIX_RULE.test(wanted) ? wanted : ''
    let variable = (prefix + parsed.resource).toUpperCase().replaceAll('-', '_')
    if (parsed.version === 2) variable += '_PREVIOUS'
    const raw = Object.hasOwn(this.#settings.env, variable) ? this.#settings.env[variable] : undefined
    if (raw === undefined)
      return { error: 'could not get value from external vault (no value found)', hint: hint('variable', { variable }) }
    if (parsed.key === null) return { value: raw }
    const inner = subfield(raw, parsed.key)
    if (typeof inner === 'string') return { value: inner }
    return {
      error: `could not get value from external vault (could not get subfield value: ${inner.error})`,
      hint: hint('json', { variable, key: parsed.key }),
    }
  }
}

/** Kong's `extract_key_from_json_string`: flat JSON objects only. */
function subfield(json: string, key: string): string | { error: string } {
  let decoded: unknown
  try {
    decoded = JSON.parse(json)
  } catch (err) {
    return { error: `unable to json decode value (nil): ${(err as Error).message}` }
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded))
    return { error: `unable to json decode value (${String(decoded)}): not an object` }
  const value = Object.hasOwn(decoded, key) ? (decoded as Record<string, unknown>)[key] : undefined
  if (value === undefined || value === null) return { error: `subfield ${key} not found in JSON secret` }
  if (typeof value !== 'string') return { error: `unexpected ${luaType(value)} value in JSON secret for subfield ${key}` }
  return value
}

function luaType(v: unknown): string {
  if (typeof v === 'object') return 'table'
  return typeof v
}

/** True when a field (or anything inside it) may hold a reference. */
function mayHoldReference(field: Field, depth = 0): boolean {
  if (depth > 16) return false
  switch (field.type) {
    case 'string':
      return field.referenceable === true
    case 'array':
    case 'set':
      return mayHoldReference(field.elements, depth + 1)
    case 'map':
      return mayHoldReference(field.values, depth + 1)
    case 'record':
      return Object.values(field.fields).some((f) => mayHoldReference(f, depth + 1))
    default:
      return false
  }
}

function schemaMayHoldReference(schema: EntitySchema): boolean {
  const subs = Object.values(schema.subschemas ?? {})
  return [schema.fields, ...subs.map((s) => s.fields)].some((fields) => Object.values(fields).some((f) => mayHoldReference(f)))
}

type Report = (path: string, reference: string, error: string, hint: VaultReferenceHintInput) => void

/** The value with its references resolved; the same object when nothing changed. */
function resolveValue(field: Field, value: unknown, path: string, r: VaultResolver, report: Report, depth: number): unknown {
  if (value === null || value === undefined || depth > 16) return value
  if (field.type === 'string') {
    if (field.referenceable !== true || typeof value !== 'string' || !isVaultReference(value)) return value
    const res = r.resolve(value)
    if ('value' in res) return res.value
    report(path, value, res.error, res.hint)
    return ''
  }
  if ((field.type === 'array' || field.type === 'set') && Array.isArray(value)) {
    let out: unknown[] | null = null
    value.forEach((v, i) => {
      const nv = resolveValue(field.elements, v, `${path}.${i + 1}`, r, report, depth + 1)
      if (nv !== v) (out ??= [...value])[i] = nv
    })
    return out ?? value
  }
  if (field.type === 'map' && typeof value === 'object' && !Array.isArray(value)) {
    let out: Record<string, unknown> | null = null
    for (const [k, v] of Object.entries(value)) {
      const nv = resolveValue(field.values, v, `${path}.${k}`, r, report, depth + 1)
      if (nv !== v) (out ??= { ...value })[k] = nv
    }
    return out ?? value
  }
  if (field.type === 'record' && typeof value === 'object' && !Array.isArray(value)) {
    return resolveFields(field.fields, value as Readonly<Record<string, unknown>>, `${path}.`, r, report, depth + 1)
  }
  return value
}

const REFERENCE_FIELDS = new WeakMap<object, readonly (readonly [string, Field])[]>()

/** The fields of a record that may hold a reference, computed once per definition. */
function referenceFields(fields: Readonly<Record<string, Field>>): readonly (readonly [string, Field])[] {
  let list = REFERENCE_FIELDS.get(fields)
  if (list === undefined) {
    list = Object.entries(fields).filter(([, f]) => mayHoldReference(f))
    REFERENCE_FIELDS.set(fields, list)
  }
  return list
}

function resolveFields(
  fields: Readonly<Record<string, Field>>,
  row: Readonly<Record<string, unknown>>,
  prefix: string,
  r: VaultResolver,
  report: Report,
  depth: number,
): Readonly<Record<string, unknown>> {
  let out: Record<string, unknown> | null = null
  for (const [name, field] of referenceFields(fields)) {
    if (!Object.hasOwn(row, name)) continue
    const v = row[name]
    const nv = resolveValue(field, v, `${prefix}${name}`, r, report, depth)
    if (nv !== v) (out ??= { ...row })[name] = nv
  }
  return out ?? row
}

const MERGED = new WeakMap<object, Readonly<Record<string, Field>>>()

/** The entity's fields with a subschema's (a plugin's `config`) in their place, as in validation. */
function mergedFields(schema: EntitySchema, sub: { readonly fields: Readonly<Record<string, Field>> }): Readonly<Record<string, Field>> {
  let fields = MERGED.get(sub)
  if (fields === undefined) {
    fields = { ...schema.fields, ...sub.fields }
    MERGED.set(sub, fields)
  }
  return fields
}

/** One row of `schema` with its references resolved (a subschema's fields win, as in validation). */
function resolveRow(schema: EntitySchema, row: StoredRow, r: VaultResolver, report: Report): StoredRow {
  const key = schema.subschema_key
  const selector = key === undefined ? undefined : row[key]
  const sub =
    typeof selector === 'string' && schema.subschemas !== undefined && Object.hasOwn(schema.subschemas, selector)
      ? schema.subschemas[selector]
      : undefined
  return resolveFields(sub === undefined ? schema.fields : mergedFields(schema, sub), row, '', r, report, 0) as StoredRow
}

/**
 * Resolves the references of a configuration before it is compiled: compiled once per
 * configuration, with the node's entity schemas (plugins' `config` through their subschemas).
 */
export class ReferenceResolver {
  readonly #schemas: readonly EntitySchema[]
  readonly #settings: VaultSettings

  /** `schemas`: the node's entity registry; only entities with referenceable fields are walked. */
  constructor(schemas: Readonly<Record<string, EntitySchema>>, settings: VaultSettings) {
    this.#schemas = Object.values(schemas).filter(schemaMayHoldReference)
    this.#settings = settings
  }

  /** The payload with every reference resolved (rows without references are shared, not copied). */
  resolve(payload: ConfigPayload, onProblem: (p: ReferenceProblem) => void): ConfigPayload {
    const entities = payload.entities ?? {}
    const resolver = new VaultResolver(this.#settings, entities['vaults'] ?? [])
    let nextEntities: Record<string, readonly StoredRow[] | undefined> | null = null
    let plugins = payload.plugins
    for (const schema of this.#schemas) {
      const rows: readonly StoredRow[] | undefined =
        schema.name === 'plugins' ? (payload.plugins as readonly StoredRow[] | undefined) : entities[schema.name]
      if (rows === undefined || rows.length === 0) continue
      let changed = false
      const out = rows.map((row) => {
        const report: Report = (field, reference, error, hint) =>
          onProblem({
            entity: schema.name,
            id: row.id,
            field,
            reference,
            error,
            code: VAULT_REFERENCE_UNRESOLVED.code,
            hint: VAULT_REFERENCE_UNRESOLVED.hint(hint),
          })
        const next = resolveRow(schema, row, resolver, report)
        if (next !== row) changed = true
        return next
      })
      if (!changed) continue
      if (schema.name === 'plugins') plugins = out as unknown as ConfigPayload['plugins']
      else (nextEntities ??= { ...entities })[schema.name] = out
    }
    if (nextEntities === null && plugins === payload.plugins) return payload
    const out: ConfigPayload = { ...payload, ...(plugins === undefined ? {} : { plugins }) }
    return nextEntities === null ? out : { ...out, entities: nextEntities as PayloadEntities }
  }
}
