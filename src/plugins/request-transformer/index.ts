/**
 * The `request-transformer` plugin (Kong 3.9, priority 801, `kong/plugins/request-transformer`):
 * changes the request before it goes upstream. Kong's order: `replace.uri`, `http_method`,
 * headers, body, querystring; within each: remove → rename → replace → add → append.
 *
 * - Headers: `replace` may change `Host`; `add` never adds it; `append` adds a value.
 * - Body (only `application/json`, `application/x-www-form-urlencoded`, `multipart/form-data`
 *   requests): remove/rename/replace only when the body is not empty; `add` and `append` also
 *   create one (multipart has no `append`, as in Kong). An unparsable JSON body is left alone.
 * - `http_method` GET/HEAD/TRACE moves a form-encoded body into the query string.
 * - Values may be templates (`$(headers.x)`, `$(query_params.y)`, `$(uri_captures.z)`,
 *   `$(shared.k)`, `or` defaults…): see ./template.ts. A value that cannot be rendered (a
 *   repeated header as a whole, say) fails the request with a 500 and an error-log line, as Kong.
 *
 * @module
 */
import { typedefs as t, validateHeaderName } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { HeaderValue, Pdk } from '../../pdk/types.js'
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin, PluginSchema } from '../types.js'
import { compileTemplate, renderTemplate, type Template, type TemplateEnv } from './template.js'
import { decodeArgs, encodeArgs, parseMultipart, serializeMultipart, type Args } from './body.js'
import { JSON_MAX_DEPTH, jsonDeeperThan } from '../../codec/json-depth.js'

/** `name:value` split as Kong's `^([^:]+):*(.-)$` (an empty value → undefined). */
export function splitPair(entry: string): [string, string | undefined] {
  const m = /^([^:]+):*([\s\S]*)$/.exec(entry)
  if (m === null) return [entry, undefined]
  const value = m[2] as string
  return [m[1] as string, value === '' ? undefined : value]
}

/** Kong's check_for_value: a non-empty value that compiles as a template. */
export function checkForValue(entry: unknown): string | undefined {
  if (typeof entry !== 'string') return undefined
  const [name, value] = splitPair(entry)
  if (value === undefined) return `key '${name}' has no value`
  try {
    compileTemplate(value)
  } catch (err) {
    return `value '${value}' is not in supported format, error:${(err as Error).message}`
  }
  return undefined
}

function validateHeaderPair(entry: unknown, checkValue: boolean): string | undefined {
  if (typeof entry !== 'string') return undefined
  const [name, value] = splitPair(entry)
  if (validateHeaderName(name) !== undefined) return `'${name}' is not a valid header`
  if (checkValue && validateHeaderName(value ?? '') !== undefined) return `'${value ?? ''}' is not a valid header`
  return undefined
}

const COLON = /^[^:]+:.*$/s
const stringsArray = { type: 'array', required: true, default: [], elements: { type: 'string' } } as const satisfies Field
const headersArray = {
  type: 'array',
  required: true,
  default: [],
  elements: { type: 'string', custom_validator: (v) => validateHeaderPair(v, false) },
} as const satisfies Field
const colonStringsArray = {
  type: 'array',
  required: true,
  default: [],
  elements: { type: 'string', custom_validator: checkForValue },
} as const satisfies Field
const colonHeaderValueArray = {
  type: 'array',
  required: true,
  default: [],
  elements: { type: 'string', match: COLON, custom_validator: (v) => validateHeaderPair(v, false) ?? checkForValue(v) },
} as const satisfies Field
const colonHeadersArray = {
  type: 'array',
  required: true,
  default: [],
  elements: { type: 'string', match: COLON, custom_validator: (v) => validateHeaderPair(v, true) },
} as const satisfies Field
const colonRecord = {
  type: 'record',
  required: true,
  fields: { body: colonStringsArray, headers: colonHeaderValueArray, querystring: colonStringsArray },
} as const satisfies Field

export const requestTransformerConfigFields = {
  http_method: {
    ...t.http_method,
    description: 'A string representing an HTTP method, such as GET, POST, PUT, or DELETE. The string must contain only uppercase letters.',
  },
  remove: { type: 'record', required: true, fields: { body: stringsArray, headers: headersArray, querystring: stringsArray } },
  rename: {
    type: 'record',
    required: true,
    fields: { body: colonStringsArray, headers: colonHeadersArray, querystring: colonStringsArray },
  },
  replace: {
    type: 'record',
    required: true,
    fields: { body: colonStringsArray, headers: colonHeaderValueArray, querystring: colonStringsArray, uri: { type: 'string' } },
  },
  add: colonRecord,
  append: colonRecord,
} as const satisfies Record<string, Field>

export const requestTransformerSchema: PluginSchema = {
  config: requestTransformerConfigFields,
  protocols: t.HTTP_PROTOCOLS,
}

interface Lists {
  readonly body?: readonly string[]
  readonly headers?: readonly string[]
  readonly querystring?: readonly string[]
  readonly uri?: string | null
}

/** The validated `config`, inferred from its schema. */
export type RequestTransformerConfig = InferFields<typeof requestTransformerConfigFields>

/** One `name:value` entry with its value compiled. */
interface Pair {
  readonly name: string
  readonly value: Template | null
}

interface PreparedLists {
  readonly body: readonly Pair[]
  readonly headers: readonly Pair[]
  readonly querystring: readonly Pair[]
}

export interface RequestTransformerPrepared {
  readonly conf: RequestTransformerConfig
  readonly method: string | null
  readonly uri: Template | null
  readonly remove: PreparedLists
  readonly rename: PreparedLists
  readonly replace: PreparedLists
  readonly add: PreparedLists
  readonly append: PreparedLists
}

function pairs(list: readonly string[] | undefined): Pair[] {
  return (list ?? []).map((entry) => {
    const [name, value] = splitPair(entry)
    return { name, value: value === undefined ? null : compileTemplate(value) }
  })
}

const prepLists = (l: Lists): PreparedLists => ({ body: pairs(l.body), headers: pairs(l.headers), querystring: pairs(l.querystring) })

export function prepareRequestTransformer(conf: RequestTransformerConfig): RequestTransformerPrepared {
  return {
    conf,
    method: conf.http_method ?? null,
    uri: conf.replace.uri != null ? compileTemplate(conf.replace.uri) : null,
    remove: prepLists(conf.remove),
    rename: prepLists(conf.rename),
    replace: prepLists(conf.replace),
    add: prepLists(conf.add),
    append: prepLists(conf.append),
  }
}

type Value = string | true | (string | true)[]

/** Kong's append_value: string → [old, new], array → pushed, nothing → [new]. */
function appendValue(current: Value | undefined, value: string): Value {
  if (typeof current === 'string' || current === true) return [current, value]
  if (Array.isArray(current)) return [...current, value]
  return [value]
}

type BodyKind = 'json' | 'multi' | 'form'

export function bodyKind(contentType: string | undefined): BodyKind | null {
  if (contentType === undefined) return null
  const ct = contentType.toLowerCase()
  if (ct.includes('application/json')) return 'json'
  if (ct.includes('multipart/form-data')) return 'multi'
  if (ct.includes('application/x-www-form-urlencoded')) return 'form'
  return null
}

/** Percent-encodes what may not appear in a path, keeping existing escapes. */
export function escapePath(path: string): string {
  return path.replace(/%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu, (c) => encodeURIComponent(c))
}

/** The per-request state the transformations share. */
class Run {
  readonly #kong: Pdk
  #query: Args | null = null
  #headers: Record<string, HeaderValue> | null = null
  readonly env: TemplateEnv

  constructor(kong: Pdk) {
    this.#kong = kong
    this.env = {
      headers: () => this.templateHeaders(),
      query_params: () => (this.#query ??= decodeArgs(kong.service.request.getRawQuery())),
      uri_captures: () => kong.router.getCaptures() ?? {},
      shared: () => kong.ctx.shared,
    }
  }

  /** Kong's `headers` table: the request headers as earlier plugins left them, with the client's Host. */
  templateHeaders(): Record<string, HeaderValue> {
    if (this.#headers !== null) return this.#headers
    const h: Record<string, HeaderValue> = { ...this.#kong.service.request.getHeaders() }
    const host = this.#kong.request.getHeaders()['host']
    if (host !== undefined) h['host'] = host
    else delete h['host']
    return (this.#headers = h)
  }

  render(pair: Pair): string | undefined {
    return pair.value === null ? undefined : renderTemplate(pair.value, this.env)
  }

  query(): Args {
    return (this.#query ??= decodeArgs(this.#kong.service.request.getRawQuery()))
  }
}

function transformUri(kong: Pdk, conf: RequestTransformerPrepared, run: Run): void {
  if (conf.uri === null) return
  const path = renderTemplate(conf.uri, run.env)
  if (!path.startsWith('/')) throw new Error(`replace.uri rendered to "${path}", which is not a path (it must start with "/")`)
  kong.service.request.setPath(escapePath(path))
}

async function transformMethod(kong: Pdk, conf: RequestTransformerPrepared, run: Run): Promise<void> {
  if (conf.method === null) return
  kong.service.request.setMethod(conf.method)
  if (conf.method !== 'GET' && conf.method !== 'HEAD' && conf.method !== 'TRACE') return
  if (bodyKind(kong.service.request.getHeader('content-type')) !== 'form') return
  const body = decodeArgs((await kong.request.getRawBody()).toString('utf8'))
  if (Object.keys(body).length === 0) return
  const q = { ...run.query() }
  for (const [name, value] of Object.entries(body)) {
    const cur = q[name]
    q[name] = cur === undefined ? value : [...(Array.isArray(cur) ? cur : [cur]), ...(Array.isArray(value) ? value : [value])]
  }
  kong.service.request.setRawQuery(encodeArgs(q))
  // Later template lookups see the new arguments.
  Object.assign(run.query(), q)
}

function transformHeaders(kong: Pdk, conf: RequestTransformerPrepared, run: Run): void {
  const touched =
    conf.remove.headers.length +
    conf.rename.headers.length +
    conf.replace.headers.length +
    conf.add.headers.length +
    conf.append.headers.length
  if (touched === 0) return
  const headers: Record<string, HeaderValue | undefined> = { ...kong.service.request.getHeaders() }
  delete headers['host']
  const remove = new Set<string>()
  const changed = new Set<string>()
  for (const p of conf.remove.headers) {
    const name = p.name.toLowerCase()
    if (headers[name] !== undefined) {
      delete headers[name]
      remove.add(name)
    }
  }
  for (const p of conf.rename.headers) {
    const from = p.name.toLowerCase()
    const to = run.render(p)?.toLowerCase()
    const value = headers[from]
    if (value !== undefined && to !== undefined) {
      delete headers[from]
      remove.add(from)
      headers[to] = value
      remove.delete(to)
      changed.add(to)
    }
  }
  for (const p of conf.replace.headers) {
    const name = p.name.toLowerCase()
    if (headers[name] !== undefined || name === 'host') {
      const v = run.render(p)
      if (v === undefined) continue
      headers[name] = v
      changed.add(name)
    }
  }
  for (const p of conf.add.headers) {
    const name = p.name.toLowerCase()
    if (headers[name] === undefined && name !== 'host') {
      const v = run.render(p)
      if (v === undefined) continue
      headers[name] = v
      changed.add(name)
    }
  }
  for (const p of conf.append.headers) {
    const name = p.name.toLowerCase()
    const v = run.render(p)
    if (v === undefined) continue
    const cur = headers[name]
    headers[name] = cur === undefined ? [v] : [...(Array.isArray(cur) ? cur : [cur]), v]
    changed.add(name)
  }
  for (const name of remove) kong.service.request.clearHeader(name)
  for (const name of changed) {
    const v = headers[name]
    if (v === undefined) continue
    // nginx drops a header set to an empty value.
    const values = (Array.isArray(v) ? v : [v]).filter((x) => x !== '')
    if (values.length === 0) kong.service.request.clearHeader(name)
    else kong.service.request.setHeader(name, values.length === 1 ? (values[0] as string) : values)
  }
}

/** Applies the body lists to decoded arguments (JSON object or form). Returns whether anything ran. */
function transformArgs(
  conf: RequestTransformerPrepared,
  run: Run,
  args: Record<string, unknown>,
  hasBody: boolean,
  form: boolean,
): boolean {
  let done = false
  const truthy = (v: unknown): boolean => v !== undefined && v !== false
  if (hasBody) {
    for (const p of conf.remove.body) {
      delete args[p.name]
      done = true
    }
    for (const p of conf.rename.body) {
      const to = run.render(p)
      const value = args[p.name]
      delete args[p.name]
      if (to !== undefined) {
        if (value === undefined) delete args[to]
        else args[to] = value
      }
      done = true
    }
    for (const p of conf.replace.body) {
      if (truthy(args[p.name])) {
        const v = run.render(p)
        if (v === undefined) delete args[p.name]
        else args[p.name] = v
        done = true
      }
    }
  }
  for (const p of conf.add.body) {
    const absent = form ? args[p.name] === undefined : !truthy(args[p.name])
    if (absent) {
      const v = run.render(p)
      if (v !== undefined) args[p.name] = v
      done = true
    }
  }
  for (const p of conf.append.body) {
    const v = run.render(p)
    if (v !== undefined) args[p.name] = appendValue(args[p.name] as Value | undefined, v)
    done = true
  }
  return done
}

async function transformBody(kong: Pdk, conf: RequestTransformerPrepared, run: Run): Promise<void> {
  const ops = conf.remove.body.length + conf.rename.body.length + conf.replace.body.length + conf.add.body.length + conf.append.body.length
  if (ops === 0) return
  const contentType = kong.service.request.getHeader('content-type')
  const kind = bodyKind(contentType)
  if (kind === null) return
  const raw = await kong.request.getRawBody()
  const hasBody = raw.length > 0
  let out: string | Buffer | null = null
  if (kind === 'json') {
    let parsed: unknown = {}
    if (hasBody) {
      try {
        const text = raw.toString('utf8')
        // Deeper than cjson decodes (Kong leaves such a body unchanged too).
        if (jsonDeeperThan(text, JSON_MAX_DEPTH)) throw new RangeError('nested too deep')
        parsed = JSON.parse(text)
      } catch {
        kong.log.debug('the JSON body does not parse: left unchanged')
        return
      }
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return
    if (transformArgs(conf, run, parsed as Record<string, unknown>, hasBody, false)) out = JSON.stringify(parsed)
  } else if (kind === 'form') {
    const args = decodeArgs(raw.toString('utf8')) as Record<string, unknown>
    if (transformArgs(conf, run, args, hasBody, true)) out = encodeArgs(args as Args)
  } else {
    const form = parseMultipart(raw, contentType as string)
    if (form === null) return
    let done = false
    if (hasBody) {
      for (const p of conf.rename.body) {
        const to = run.render(p)
        if (to !== undefined && form.get(p.name) !== undefined) {
          form.set(to, form.get(p.name) as Buffer)
          form.delete(p.name)
          done = true
        }
      }
      for (const p of conf.remove.body) {
        form.delete(p.name)
        done = true
      }
      for (const p of conf.replace.body) {
        const v = run.render(p)
        if (form.get(p.name) !== undefined && v !== undefined) {
          form.delete(p.name)
          form.set(p.name, Buffer.from(v))
          done = true
        }
      }
    }
    for (const p of conf.add.body) {
      const v = run.render(p)
      if (form.get(p.name) === undefined && v !== undefined) {
        form.set(p.name, Buffer.from(v))
        done = true
      }
    }
    if (done) out = serializeMultipart(form)
  }
  if (out !== null) kong.service.request.setRawBody(out)
}

function transformQuerystring(kong: Pdk, conf: RequestTransformerPrepared, run: Run): void {
  const ops =
    conf.remove.querystring.length +
    conf.rename.querystring.length +
    conf.replace.querystring.length +
    conf.add.querystring.length +
    conf.append.querystring.length
  if (ops === 0) return
  const q: Record<string, Value | undefined> = { ...run.query() }
  for (const p of conf.remove.querystring) delete q[p.name]
  for (const p of conf.rename.querystring) {
    const to = run.render(p)
    const value = q[p.name]
    delete q[p.name]
    if (to !== undefined) {
      if (value === undefined) delete q[to]
      else q[to] = value
    }
  }
  for (const p of conf.replace.querystring) {
    if (q[p.name] !== undefined) {
      const v = run.render(p)
      if (v === undefined) delete q[p.name]
      else q[p.name] = v
    }
  }
  for (const p of conf.add.querystring) {
    if (q[p.name] === undefined) {
      const v = run.render(p)
      if (v !== undefined) q[p.name] = v
    }
  }
  for (const p of conf.append.querystring) {
    const v = run.render(p)
    if (v !== undefined) q[p.name] = appendValue(q[p.name], v)
  }
  const clean: Args = {}
  for (const [k, v] of Object.entries(q)) if (v !== undefined) clean[k] = v
  kong.service.request.setRawQuery(encodeArgs(clean))
}

export async function requestTransformerAccess(kong: Pdk, conf: RequestTransformerPrepared): Promise<void> {
  const run = new Run(kong)
  transformUri(kong, conf, run)
  await transformMethod(kong, conf, run)
  transformHeaders(kong, conf, run)
  await transformBody(kong, conf, run)
  transformQuerystring(kong, conf, run)
}

export const requestTransformer: Plugin<RequestTransformerConfig, RequestTransformerPrepared> = {
  name: 'request-transformer',
  version: KONG_COMPAT_VERSION,
  priority: 801,
  schema: requestTransformerSchema,
  prepare: prepareRequestTransformer,
  access: requestTransformerAccess,
}

export default requestTransformer
