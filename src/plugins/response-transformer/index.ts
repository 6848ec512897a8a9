/**
 * The `response-transformer` plugin (Kong 3.9, priority 800, `kong/plugins/response-transformer`):
 * changes response headers (header_filter) and the top-level keys of JSON response bodies
 * (body_filter), in the order remove → rename → replace → add → append.
 *
 * - Headers: `remove` clears, `rename` moves a present header, `replace` sets a present one, `add`
 *   sets an absent one, `append` adds a value.
 * - JSON: only when the response's Content-Type is `application/json` (parameters allowed) and a
 *   JSON transformation is configured. The body is held until its end, transformed, and sent whole;
 *   `Content-Length` is dropped in header_filter (the response is then chunked). A body that is not
 *   valid JSON goes out unchanged (logged at warn). Values are strings unless `json_types` (same
 *   position) says `number` or `boolean`. Kong tests Lua truthiness: `replace` skips a key whose
 *   value is `false`, `add` overwrites one.
 *
 * @module
 */
import { typedefs as t, validateHeaderName } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { Pdk } from '../../pdk/types.js'
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin, PluginSchema } from '../types.js'
import { JSON_MAX_DEPTH, jsonDeeperThan } from '../../codec/json-depth.js'

/** `name:value` → [name, value] as Kong's `^([^:]+):*(.-)$` splits it (value '' → undefined). */
export function splitPair(entry: string): [string, string | undefined] {
  const m = /^([^:]+):*([\s\S]*)$/.exec(entry)
  if (m === null) return [entry, undefined]
  const value = m[2] as string
  return [m[1] as string, value === '' ? undefined : value]
}

function validateHeaderPair(pair: unknown, checkValue: boolean): string | undefined {
  if (typeof pair !== 'string') return undefined
  const [name, value] = splitPair(pair)
  if (validateHeaderName(name) !== undefined) return `'${name}' is not a valid header`
  if (checkValue && validateHeaderName(value ?? '') !== undefined) return `'${value ?? ''}' is not a valid header`
  return undefined
}

const COLON = /^[^:]+:.*$/s
const stringArray = { type: 'array', required: true, default: [], elements: { type: 'string' } } as const satisfies Field
const colonStringArray = { type: 'array', required: true, default: [], elements: { type: 'string', match: COLON } } as const satisfies Field
const colonHeadersArray = {
  type: 'array',
  required: true,
  default: [],
  elements: { type: 'string', match: COLON, custom_validator: (v) => validateHeaderPair(v, true) },
} as const satisfies Field
const jsonTypes = {
  type: 'array',
  required: true,
  default: [],
  elements: { type: 'string', one_of: ['boolean', 'number', 'string'] },
  description:
    'List of JSON type names. Specify the types of the JSON values returned when appending\nJSON properties. Each string element can be one of: boolean, number, or string.',
} as const satisfies Field
const colonStringRecord = {
  type: 'record',
  required: true,
  fields: { json: colonStringArray, json_types: jsonTypes, headers: colonStringArray },
} as const satisfies Field

export const responseTransformerConfigFields = {
  remove: { type: 'record', required: true, fields: { json: stringArray, headers: stringArray } },
  rename: { type: 'record', required: true, fields: { headers: colonHeadersArray, json: colonStringArray } },
  replace: colonStringRecord,
  add: colonStringRecord,
  append: colonStringRecord,
} as const satisfies Record<string, Field>

export const responseTransformerSchema: PluginSchema = {
  config: responseTransformerConfigFields,
  protocols: t.HTTP_PROTOCOLS,
}

interface Lists {
  readonly json?: readonly string[]
  readonly headers?: readonly string[]
  readonly json_types?: readonly string[]
}

/** The validated `config`, inferred from its schema. */
export type ResponseTransformerConfig = InferFields<typeof responseTransformerConfigFields>

export interface ResponseTransformerPrepared extends ResponseTransformerConfig {
  readonly transformsJson: boolean
}

export function prepareResponseTransformer(conf: ResponseTransformerConfig): ResponseTransformerPrepared {
  const n = (l: Lists): number => l.json?.length ?? 0
  return { ...conf, transformsJson: n(conf.remove) + n(conf.rename) + n(conf.replace) + n(conf.add) + n(conf.append) > 0 }
}

/** Kong's is_json_body: one of the (comma-separated) media types is exactly application/json. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  for (const part of contentType.split(',')) {
    const media = (part.split(';')[0] ?? '').trim().toLowerCase()
    if (media === 'application/json') return true
  }
  return false
}

/** A config value with its `json_types` cast (Kong: `tonumber`, `value == "true"`). */
function castValue(value: string, type: string | undefined): unknown {
  if (type === 'number') {
    const s = value.trim()
    if (s === '') return undefined
    const n = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : Number(s)
    return Number.isFinite(n) ? n : undefined
  }
  if (type === 'boolean') return value === 'true'
  return value
}

/** Lua truthiness of a decoded JSON value (`null` decodes to a truthy sentinel in Kong). */
const truthy = (v: unknown): boolean => v !== undefined && v !== false

/**
 * Kong's transform_json_body over a parsed top-level object. Returns the new body, or null when
 * the body is not a JSON object (left unchanged).
 */
export function transformJson(conf: ResponseTransformerConfig, body: string): string | null {
  // Deeper than cjson decodes: Kong leaves such a body unchanged too.
  if (jsonDeeperThan(body, JSON_MAX_DEPTH)) return null
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return null
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return null
  const obj = json as Record<string, unknown>
  for (const entry of conf.remove.json ?? []) delete obj[splitPair(entry)[0]]
  for (const entry of conf.rename.json ?? []) {
    const [from, to] = splitPair(entry)
    if (obj[from] !== undefined && to !== undefined) {
      const value = obj[from]
      delete obj[from]
      obj[to] = value
    }
  }
  const each = (l: Lists, fn: (name: string, v: unknown) => void): void => {
    ;(l.json ?? []).forEach((entry, i) => {
      const [name, value] = splitPair(entry)
      const v = value === undefined ? undefined : castValue(value, l.json_types?.[i])
      if (v !== undefined) fn(name, v)
    })
  }
  each(conf.replace, (name, v) => {
    if (truthy(obj[name])) obj[name] = v
  })
  each(conf.add, (name, v) => {
    if (!truthy(obj[name])) obj[name] = v
  })
  each(conf.append, (name, v) => {
    const cur = obj[name]
    if (typeof cur === 'string') obj[name] = [cur, v]
    else if (Array.isArray(cur)) cur.push(v)
    else obj[name] = [v]
  })
  return JSON.stringify(obj)
}

export function responseTransformerHeaderFilter(kong: Pdk, conf: ResponseTransformerPrepared): void {
  const r = kong.response
  for (const entry of conf.remove.headers ?? []) r.clearHeader(splitPair(entry)[0])
  for (const entry of conf.rename.headers ?? []) {
    const [from, to] = splitPair(entry)
    const value = r.getHeaders()[from.toLowerCase()]
    if (value !== undefined && to !== undefined) {
      r.clearHeader(from)
      r.setHeader(to, value)
    }
  }
  for (const entry of conf.replace.headers ?? []) {
    const [name, value] = splitPair(entry)
    if (r.getHeader(name) !== undefined && value !== undefined) r.setHeader(name, value)
  }
  for (const entry of conf.add.headers ?? []) {
    const [name, value] = splitPair(entry)
    if (r.getHeader(name) === undefined && value !== undefined) r.setHeader(name, value)
  }
  for (const entry of conf.append.headers ?? []) {
    const [name, value] = splitPair(entry)
    if (value !== undefined) r.addHeader(name, value)
  }
  const json = conf.transformsJson && isJsonContentType(r.getHeader('content-type'))
  kong.ctx.plugin['json'] = json
  // The body is going to change: its length is not known any more.
  if (json) r.clearHeader('content-length')
}

export function responseTransformerBodyFilter(
  kong: Pdk,
  conf: ResponseTransformerPrepared,
  chunk: Buffer,
  eof: boolean,
): Buffer | undefined {
  if (kong.ctx.plugin['json'] !== true) return undefined
  const held = (kong.ctx.plugin['chunks'] ??= []) as Buffer[]
  if (chunk.length > 0) held.push(chunk)
  if (!eof) return Buffer.alloc(0)
  const body = Buffer.concat(held)
  kong.ctx.plugin['chunks'] = []
  const out = transformJson(conf, body.toString('utf8'))
  if (out === null) {
    kong.log.warn('body transform failed: failed parsing json body (the response body is not a JSON object; sent unchanged)')
    return body
  }
  return Buffer.from(out)
}

export const responseTransformer: Plugin<ResponseTransformerConfig, ResponseTransformerPrepared> = {
  name: 'response-transformer',
  version: KONG_COMPAT_VERSION,
  priority: 800,
  schema: responseTransformerSchema,
  prepare: prepareResponseTransformer,
  headerFilter: responseTransformerHeaderFilter,
  bodyFilter: responseTransformerBodyFilter,
}

export default responseTransformer
