/**
 * The Admin API as pure logic: `handle(AdminRequest) → AdminResponse`. The node:http adapter
 * lives in `src/http/`. Routes are generated from the entity registry, plus node endpoints;
 * errors become Kong's bodies; every answer carries Kong's Admin API headers.
 *
 * @module
 */
import { performance } from 'node:perf_hooks'
import type { Dao } from '../dao/index.js'
import { DbError, invalidUnique } from '../errors/db-errors.js'
import { UNEXPECTED } from '../errors/registry.js'
import { type NodeServices, pluginEndpoints } from '../plugins/endpoints.js'
import type { PluginRegistry } from '../plugins/registry.js'
import type { Store } from '../store/index.js'
import { withCertificateSniKeys } from './certificate-routes.js'
import { entityRoutes } from './entity-routes.js'
import { EntityWriter } from './entity-writer.js'
import { AdminHttpError, methodNotAllowed, notFound } from './errors.js'
import { infoRoutes, PRODUCT_NAME } from './info-routes.js'
import { pluginRoutes } from './plugin-routes.js'
import { upstreamRoutes } from './upstream-routes.js'
import { vaultRoutes } from './vault-routes.js'
import type { UpstreamHealthProvider } from '../balancer/health-model.js'
import { headerValue, parseRequestBody, tooManyArguments, type ParsedBody } from './request-body.js'
import { ADMIN_MAX_ARGS, countFields } from '../codec/form-decode.js'
import { AdminRouter, BadPathError, type AdminRoute, type RouteMatch } from './router.js'
import type { AdminRequest, AdminResponse, NodeInfo } from './types.js'

export interface AdminApiOptions {
  readonly dao: Dao
  readonly store: Store
  readonly nodeInfo: NodeInfo
  /** `off` = DB-less: reads work, writes are refused with Kong's code 12 (405). */
  readonly database: 'sqlite' | 'off' | 'postgres'
  /**
   * The plugins this node loaded: enables `/plugins/enabled`, `/schemas/plugins/{name}` and
   * `POST /schemas/plugins/validate` (the `plugins` entity itself comes with the DAO's registry).
   */
  readonly plugins?: PluginRegistry
  /**
   * What the loaded plugins' own endpoints (their `api`, Kong's `api.lua`) may use: with it, the
   * endpoints of every plugin in `plugins` are mounted.
   */
  readonly pluginServices?: NodeServices
  /** The node's health checker, for `/upstreams/{u}/health` and manual healthy/unhealthy. */
  readonly upstreamHealth?: UpstreamHealthProvider
  /** Extra or overriding routes (`/config` …), registered after the generated and plugin ones. */
  readonly extraRoutes?: readonly AdminRoute[]
  /** Current DB-less configuration hash for `/status`. */
  readonly configurationHash?: () => string
  /** DB-less only: allow entity writes (persisted by the caller) instead of Kong's 405. */
  readonly dbLessWritable?: boolean
  /**
   * Origins allowed to call the Admin API from a browser (Kong's `admin_gui_origin`, from
   * `admin_gui_url`): a request from another origin is answered with the first one. Empty: the
   * request's own Origin (or `*`) is echoed, as Kong does without `admin_gui_url`.
   */
  readonly corsOrigins?: readonly string[]
  /** Told about every unexpected (500) error; the client only sees Kong's generic message. */
  readonly onError?: (err: unknown, req: AdminRequest) => void
  /**
   * While the database is known to be unreachable: the message a request the store failed gets,
   * as 503 (Kong answers 500 `An unexpected error occurred`). The node logged the outage once,
   * so these failures are not logged again (`onError` is not told).
   */
  readonly databaseUnavailable?: () => string | null
}

export interface AdminApi {
  handle(req: AdminRequest): Promise<AdminResponse>
}

const NEEDS_BODY = new Set(['POST', 'PUT', 'PATCH'])
const NO_BODY: ParsedBody = { kind: 'none', value: {} }

function unexpected(): AdminResponse {
  return { status: 500, headers: {}, body: { message: UNEXPECTED.message } }
}

function preflight(match: RouteMatch, req: AdminRequest): AdminResponse {
  const methods = new Set(Object.keys(match.route.methods))
  if (methods.has('GET')) methods.add('HEAD')
  methods.add('OPTIONS')
  const allow = [...methods].sort().join(', ')
  return {
    status: 204,
    headers: {
      Allow: allow,
      'Access-Control-Allow-Methods': allow,
      'Access-Control-Allow-Headers': headerValue(req, 'access-control-request-headers') ?? 'Content-Type',
    },
  }
}

/** Kong's `cors_filter`: the request's Origin when allowed (any, without a list), else the first allowed one. */
function allowedOrigin(allowed: readonly string[], origin: string | undefined): string {
  if (allowed.length === 0) return origin ?? '*'
  return origin !== undefined && allowed.includes(origin) ? origin : (allowed[0] as string)
}

/**
 * The field a path parameter looks up: a tag, or the entity's endpoint key (`name`, `username` …,
 * else `id`); null for a parameter that names no entity (`/schemas/{name}`).
 */
function pathKeyField(dao: Dao, param: string): string | null {
  if (param === 'tags') return 'tag'
  if (!Object.hasOwn(dao.entities, param)) return null
  return dao.entities[param]?.endpoint_key ?? 'id'
}

/**
 * Creates the Admin API over a DAO.
 *
 * @example
 * const api = createAdminApi({ dao, store, nodeInfo, database: 'sqlite' })
 * const res = await api.handle({ method: 'GET', path: '/services', query: '', headers: {}, body: Buffer.alloc(0) })
 */
export function createAdminApi(options: AdminApiOptions): AdminApi {
  const { dao, store, nodeInfo, database } = options
  const router = new AdminRouter()
  const writer = new EntityWriter(dao, database === 'off' && options.dbLessWritable !== true)
  for (const route of withCertificateSniKeys(dao, entityRoutes({ dao, writer }))) router.add(route)
  const info = infoRoutes({
    dao,
    store,
    nodeInfo,
    database,
    paths: () => router.paths(),
    ...(options.configurationHash === undefined ? {} : { configurationHash: options.configurationHash }),
  })
  for (const route of info) router.add(route)
  if (options.plugins !== undefined && dao.entities['plugins'] !== undefined) {
    for (const route of pluginRoutes({ dao, plugins: options.plugins, database })) router.add(route)
  }
  if (dao.entities['upstreams'] !== undefined && dao.entities['targets'] !== undefined) {
    for (const route of upstreamRoutes({
      dao,
      nodeId: nodeInfo.node_id,
      ...(options.upstreamHealth === undefined ? {} : { health: options.upstreamHealth }),
    }))
      router.add(route)
  }
  if (dao.entities['vaults'] !== undefined) for (const route of vaultRoutes(dao)) router.add(route)
  if (options.plugins !== undefined && options.pluginServices !== undefined) {
    for (const route of pluginEndpoints(options.plugins.all(), options.pluginServices, 'api')) router.add(route)
  }
  for (const route of options.extraRoutes ?? []) router.add(route)

  const toResponse = (err: unknown, req: AdminRequest): AdminResponse => {
    if (err instanceof AdminHttpError) {
      return err.body === undefined ? { status: err.status, headers: {} } : { status: err.status, headers: {}, body: err.body }
    }
    // A key that is not UTF-8: Kong's unique-key check on the field the segment names.
    if (err instanceof BadPathError) {
      const field = pathKeyField(options.dao, err.param)
      if (field === null) return { status: 400, headers: {}, body: { message: err.message } }
      err = invalidUnique(field, err.message)
    }
    if (err instanceof DbError && err.status < 500) {
      const body: Record<string, unknown> = { ...err.toBody() }
      if (err.kind === 'INVALID_OPTIONS' && body['fields'] !== undefined) {
        // Kong reports option errors under `options`.
        body['options'] = body['fields']
        delete body['fields']
      }
      return { status: err.status, headers: {}, body }
    }
    const outage = err instanceof DbError && err.kind === 'DATABASE_ERROR' ? (options.databaseUnavailable?.() ?? null) : null
    if (outage !== null) return { status: 503, headers: {}, body: { ...new DbError('DATABASE_ERROR', outage).toBody() } }
    options.onError?.(err, req)
    return unexpected()
  }

  const dispatch = async (req: AdminRequest): Promise<AdminResponse> => {
    const method = req.method.toUpperCase()
    const match = router.match(req.path)
    if (match === null) throw notFound()
    if (method === 'OPTIONS') return preflight(match, req)
    const handler = match.route.methods[method === 'HEAD' ? 'GET' : method]
    if (handler === undefined) throw methodNotAllowed()
    if (countFields(req.query) > ADMIN_MAX_ARGS) throw tooManyArguments()
    const body = NEEDS_BODY.has(method) && match.route.rawBody !== true ? await parseRequestBody(req) : NO_BODY
    const res = await handler({ req, params: match.params, rawParams: match.rawParams, query: new URLSearchParams(req.query), body })
    if (method === 'HEAD') delete res.body
    return res
  }

  return {
    async handle(req) {
      const started = performance.now()
      let res: AdminResponse
      try {
        res = await dispatch(req)
      } catch (err) {
        res = toResponse(err, req)
      }
      const headers: Record<string, string> = {}
      if (res.status !== 204) headers['Content-Type'] = 'application/json; charset=utf-8'
      headers['Access-Control-Allow-Origin'] = allowedOrigin(options.corsOrigins ?? [], headerValue(req, 'origin'))
      headers['Access-Control-Allow-Credentials'] = 'true'
      headers['X-Kong-Admin-Latency'] = String(Math.round(performance.now() - started))
      headers['Server'] = `${PRODUCT_NAME}/${nodeInfo.version}`
      res.headers = { ...headers, ...res.headers }
      return res
    },
  }
}
