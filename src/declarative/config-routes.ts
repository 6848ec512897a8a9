/**
 * `GET /config` and `POST /config` (DB-less), as Kong's `kong/api/routes/config.lua`:
 * JSON, YAML or form (`config=`) bodies; `check_hash=1` → 304 when unchanged;
 * `flatten_errors=1` → `flattened_errors`; 400 `declarative config is invalid: …` (code 14);
 * 429 while a previous configuration is still loading; 201 with the loaded entities.
 *
 * @module
 */
import { badRequest } from '../admin/index.js'
import { headerValue, parseRequestBody } from '../admin/index.js'
import type { AdminRoute } from '../admin/index.js'
import type { AdminResponse } from '../admin/index.js'
import type { Row } from '../store/index.js'
import { invalidConfigBody } from './errors.js'
import { childKeys, type FlatConfig } from './flatten.js'
import type { EntityGraph } from './graph.js'
import { type LoadResult, loadDeclarativeObject, loadDeclarativeText, md5 } from './load.js'

export interface ConfigRouteDeps {
  readonly database: 'sqlite' | 'off' | 'postgres'
  readonly graph: EntityGraph
  /** The hash of what is loaded now. */
  readonly currentHash: () => string
  /** Replaces the configuration (store + workers); `text` is what was posted, for persistence. */
  readonly apply: (config: FlatConfig, hash: string, text: string) => Promise<void>
  /** Whether the configuration fits in `lmdb_map_size` (Kong answers 413 and keeps the running one). */
  readonly fits?: (config: FlatConfig) => boolean
  /** The current configuration as Kong's export YAML. */
  readonly exportYaml: () => Promise<string>
}

const ONLY_DBLESS = { message: 'this endpoint is only available when Kong is configured to not use a database' }

function truthy(v: unknown): boolean {
  const s = typeof v === 'string' ? v.toLowerCase() : v
  return s === true || s === 1 || s === 'true' || s === '1' || s === 'on' || s === 'yes'
}

/** The `/config` route. */
export function configRoutes(deps: ConfigRouteDeps): AdminRoute[] {
  let loading = false
  const post = async (ctx: Parameters<NonNullable<AdminRoute['methods']['POST']>>[0]): Promise<AdminResponse> => {
    if (deps.database !== 'off') return { status: 400, headers: {}, body: ONLY_DBLESS }
    const type = (headerValue(ctx.req, 'content-type') ?? '').toLowerCase()
    let fields: Record<string, unknown> = {}
    if (
      type.startsWith('application/json') ||
      type.startsWith('application/x-www-form-urlencoded') ||
      type.startsWith('multipart/form-data')
    ) {
      fields = (await parseRequestBody(ctx.req)).value
    }
    const param = (name: string): unknown => ctx.query.get(name) ?? fields[name]
    const flatten = truthy(param('flatten_errors'))
    const checkHash = String(param('check_hash')) === '1'
    delete fields['flatten_errors']
    delete fields['check_hash']

    let result: LoadResult
    let text: string
    if (fields['_format_version'] !== undefined) {
      text = ctx.req.body.toString('utf8')
      result = loadDeclarativeObject(fields, deps.graph, md5(ctx.req.body))
    } else {
      const config = fields['config']
      if (typeof config === 'string') text = config
      else if (config !== undefined && config !== null && typeof config === 'object') text = JSON.stringify(config)
      else if (ctx.req.body.length > 0 && !type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('multipart/form-data'))
        text = ctx.req.body.toString('utf8')
      else throw badRequest('expected a declarative configuration')
      if (checkHash && md5(text) === deps.currentHash()) return { status: 304, headers: {} }
      result = loadDeclarativeText(text, deps.graph)
    }
    if (!result.ok) return { status: 400, headers: {}, body: invalidConfigBody(result.problems, flatten, childKeys(deps.graph)) }
    if (checkHash && result.hash === deps.currentHash()) return { status: 304, headers: {} }
    if (deps.fits !== undefined && !deps.fits(result.config))
      return {
        status: 413,
        headers: {},
        body: { message: 'Configuration does not fit in LMDB database, consider raising the "lmdb_map_size" config for Kong' },
      }
    if (loading) return { status: 429, headers: { 'Retry-After': '1' }, body: { message: 'Currently loading previous configuration' } }
    loading = true
    try {
      await deps.apply(result.config, result.hash, text)
    } finally {
      loading = false
    }
    const body: Record<string, Record<string, Row>> = {}
    for (const [entity, rows] of Object.entries(result.config.entities)) {
      if (rows.length === 0) continue
      const byId: Record<string, Row> = {}
      for (const row of rows) byId[row.id] = row
      body[entity] = byId
    }
    return { status: 201, headers: {}, body }
  }
  return [
    {
      path: '/config',
      rawBody: true,
      methods: {
        GET: async () => {
          if (deps.database !== 'off') return { status: 400, headers: {}, body: ONLY_DBLESS }
          return { status: 200, headers: {}, body: { config: await deps.exportYaml() } }
        },
        POST: post,
      },
    },
  ]
}
