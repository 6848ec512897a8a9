/**
 * The `cors` plugin (Kong 3.9, priority 2000, `kong/plugins/cors`): answers CORS preflights itself
 * and adds the CORS headers to every other response.
 *
 * - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered **200**
 *   by the gateway without calling the upstream, unless `preflight_continue` (then the upstream
 *   answers and the plugin adds nothing).
 * - `origins`: empty or `["*"]` → `Access-Control-Allow-Origin: *`. One entry that looks like a
 *   plain origin (`^[A-Za-z0-9.:/-]+$`) is sent as is. Otherwise each entry is compared with the
 *   request's `Origin`: plain entries after normalization (default port dropped), regex entries
 *   anchored at the end (and at the start through an `^`), matched against the origin's host only
 *   when the entry has no `:` in it. A `*` among several entries allows all. `Vary: Origin` is set
 *   whenever the answer depends on the origin.
 * - `credentials` with an allow-all configuration echoes the request's origin (a browser refuses
 *   `*` with credentials), as Kong does.
 * - Kong 3.9 adds the headers to non-preflight responses even without an `Origin` header.
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { Pdk } from '../../pdk/types.js'
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin, PluginSchema } from '../types.js'
import { boundedRegex, type BoundedRegex } from '../../regex/bounded-regex.js'

export const CORS_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const

function validateOrigin(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '*') return undefined
  try {
    new RegExp(v)
    return undefined
  } catch {
    return `'${v}' is not a valid regex`
  }
}

export const corsConfigFields = {
  origins: {
    type: 'array',
    elements: { type: 'string', custom_validator: validateOrigin },
    description:
      'List of allowed domains for the `Access-Control-Allow-Origin` header. If you want to allow all origins, add `*` as a single value to this configuration field. The accepted values can either be flat strings or PCRE regexes.',
  },
  headers: { type: 'array', elements: { type: 'string' }, description: 'Value for the `Access-Control-Allow-Headers` header.' },
  exposed_headers: {
    type: 'array',
    elements: { type: 'string' },
    description: 'Value for the `Access-Control-Expose-Headers` header. If not specified, no custom headers are exposed.',
  },
  methods: {
    type: 'array',
    default: CORS_METHODS,
    elements: { type: 'string', one_of: CORS_METHODS },
    description:
      "'Value for the `Access-Control-Allow-Methods` header. Available options include `GET`, `HEAD`, `PUT`, `PATCH`, `POST`, `DELETE`, `OPTIONS`, `TRACE`, `CONNECT`. By default, all options are allowed.'",
  },
  max_age: { type: 'number', description: 'Indicates how long the results of the preflight request can be cached, in `seconds`.' },
  credentials: {
    type: 'boolean',
    required: true,
    default: false,
    description: 'Flag to determine whether the `Access-Control-Allow-Credentials` header should be sent with `true` as the value.',
  },
  private_network: {
    type: 'boolean',
    required: true,
    default: false,
    description: 'Flag to determine whether the `Access-Control-Allow-Private-Network` header should be sent with `true` as the value.',
  },
  preflight_continue: {
    type: 'boolean',
    required: true,
    default: false,
    description: 'A boolean value that instructs the plugin to proxy the `OPTIONS` preflight request to the Upstream service.',
  },
} as const satisfies Record<string, Field>

export const corsSchema: PluginSchema = {
  config: corsConfigFields,
  no_consumer: true,
  protocols: t.HTTP_PROTOCOLS,
}

/** The validated `config`, inferred from its schema. */
export type CorsConfig = InferFields<typeof corsConfigFields>

/** One configured origin, compiled. */
export type OriginRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'exact'; readonly domain: string; readonly byHost: boolean }
  | { readonly kind: 'regex'; readonly regex: BoundedRegex; readonly byHost: boolean }

export interface CorsPrepared extends CorsConfig {
  /** Allow-all: no origins, or only `*`. */
  readonly allowAll: boolean
  /** A single plain origin sent as is. */
  readonly single: string | null
  readonly rules: readonly OriginRule[]
  readonly methodsHeader: string
  readonly exposedHeader: string | null
}

/** A normalized origin: `scheme://host[:port]` without a default port, and its host. */
export interface NormalizedOrigin {
  readonly domain: string
  readonly host: string
}

/** Kong's `normalize_origin` (LuaSocket's url.parse): the default port goes, the rest stays. */
export function normalizeOrigin(origin: string): NormalizedOrigin {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?\/\/([^/?#]*)/.exec(origin)
  if (m === null) return { domain: origin, host: origin }
  const scheme = m[1]
  let authority = m[2] ?? ''
  const at = authority.lastIndexOf('@')
  if (at !== -1) authority = authority.slice(at + 1)
  let host = authority
  let port: string | undefined
  const v6 = /^(\[[^\]]*\])(?::(\d*))?$/.exec(authority)
  if (v6 !== null) {
    host = v6[1] as string
    port = v6[2]
  } else {
    const colon = authority.lastIndexOf(':')
    if (colon !== -1) {
      host = authority.slice(0, colon)
      port = authority.slice(colon + 1)
    }
  }
  if (host === '') return { domain: origin, host: origin }
  if ((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')) port = undefined
  return { domain: `${scheme !== undefined ? `${scheme}://` : ''}${host}${port !== undefined && port !== '' ? `:${port}` : ''}`, host }
}

const PLAIN = /^[A-Za-z0-9.:/-]+$/

export function prepareCors(conf: CorsConfig): CorsPrepared {
  const origins = conf.origins ?? []
  const allowAll = origins.length === 0 || (origins.length === 1 && origins[0] === '*')
  const single = origins.length === 1 && !allowAll && PLAIN.test(origins[0] as string) ? (origins[0] as string) : null
  const rules: OriginRule[] = []
  for (const entry of origins) {
    if (entry === '*') {
      rules.push({ kind: 'any' })
      continue
    }
    const byHost = !entry.includes(':')
    if (PLAIN.test(entry)) {
      rules.push({ kind: 'exact', domain: normalizeOrigin(entry).domain, byHost })
      continue
    }
    // Kong 0.x did not anchor origin regexes: the end is anchored, the start only through `^`.
    let source = entry.endsWith('$') ? entry : `${entry}$`
    if (source.startsWith('^')) source = source.slice(1)
    rules.push({ kind: 'regex', regex: boundedRegex(`^(?:${source})`), byHost })
  }
  return {
    ...conf,
    allowAll,
    single,
    rules,
    methodsHeader: (conf.methods ?? CORS_METHODS).join(','),
    exposedHeader: conf.exposed_headers != null && conf.exposed_headers.length > 0 ? conf.exposed_headers.join(',') : null,
  }
}

/**
 * The `Access-Control-Allow-Origin` decision for a request origin: the value (null: no header),
 * whether it is allow-all, and whether it varies by origin.
 */
export function allowOrigin(conf: CorsPrepared, origin: string | undefined): { value: string | null; allowAll: boolean; vary: boolean } {
  if (conf.allowAll) return { value: '*', allowAll: true, vary: false }
  if (conf.single !== null) return { value: conf.single, allowAll: false, vary: true }
  if (origin !== undefined) {
    if (conf.rules.some((r) => r.kind === 'any')) return { value: '*', allowAll: true, vary: true }
    const req = normalizeOrigin(origin)
    for (const rule of conf.rules) {
      const found =
        rule.kind === 'exact'
          ? req.domain === rule.domain
          : rule.kind === 'regex'
            ? rule.regex.test(rule.byHost ? req.host : req.domain)
            : true
      if (found) return { value: req.domain, allowAll: false, vary: true }
    }
  }
  return { value: null, allowAll: false, vary: true }
}

function addVary(kong: Pdk, headerFilter: boolean): void {
  if (!headerFilter) {
    kong.response.setHeader('Vary', 'Origin')
    return
  }
  kong.response.addHeader('Vary', 'Origin')
}

/** Kong's configure_origin + configure_credentials. */
function applyOrigin(kong: Pdk, conf: CorsPrepared, origin: string | undefined, headerFilter: boolean): void {
  const decision = allowOrigin(conf, origin)
  if (decision.vary) addVary(kong, headerFilter)
  if (decision.value !== null) kong.response.setHeader('Access-Control-Allow-Origin', decision.value)
  else kong.response.clearHeader('Access-Control-Allow-Origin')
  if (!conf.credentials) return
  if (!decision.allowAll) {
    kong.response.setHeader('Access-Control-Allow-Credentials', 'true')
    return
  }
  // `*` cannot go with credentials: echo the origin instead.
  if (origin !== undefined) {
    addVary(kong, headerFilter)
    kong.response.setHeader('Access-Control-Allow-Origin', origin)
    kong.response.setHeader('Access-Control-Allow-Credentials', 'true')
  }
}

export function corsAccess(kong: Pdk, conf: CorsPrepared): void {
  const origin = kong.request.getHeader('origin')
  if (
    kong.request.getMethod() !== 'OPTIONS' ||
    origin === undefined ||
    kong.request.getHeader('access-control-request-method') === undefined
  )
    return
  // A preflight: either the upstream answers it (no headers added), or the gateway does here.
  kong.ctx.plugin['skip'] = true
  if (conf.preflight_continue) return
  applyOrigin(kong, conf, origin, false)
  if (conf.headers != null && conf.headers.length > 0) kong.response.setHeader('Access-Control-Allow-Headers', conf.headers.join(','))
  else {
    const requested = kong.request.getHeader('access-control-request-headers')
    if (requested !== undefined) kong.response.setHeader('Access-Control-Allow-Headers', requested)
    else kong.response.clearHeader('Access-Control-Allow-Headers')
  }
  kong.response.setHeader('Access-Control-Allow-Methods', conf.methodsHeader)
  if (conf.max_age != null) kong.response.setHeader('Access-Control-Max-Age', String(conf.max_age))
  if (conf.private_network && kong.request.getHeader('access-control-request-private-network') === 'true') {
    kong.response.setHeader('Access-Control-Allow-Private-Network', 'true')
  }
  kong.response.exit(200)
}

export function corsHeaderFilter(kong: Pdk, conf: CorsPrepared): void {
  if (kong.ctx.plugin['skip'] === true) return
  applyOrigin(kong, conf, kong.request.getHeader('origin'), true)
  if (conf.exposedHeader !== null) kong.response.setHeader('Access-Control-Expose-Headers', conf.exposedHeader)
}

export const cors: Plugin<CorsConfig, CorsPrepared> = {
  name: 'cors',
  version: KONG_COMPAT_VERSION,
  priority: 2000,
  schema: corsSchema,
  prepare: prepareCors,
  access: corsAccess,
  headerFilter: corsHeaderFilter,
}

export default cors
