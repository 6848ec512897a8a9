/**
 * Node and metadata endpoints: `/`, `/status`, `/endpoints`, `/schemas/{name}`,
 * `/schemas/{name}/validate`, `/tags`, `/tags/{tags}`.
 *
 * @module
 */
import type { Dao } from '../dao/index.js'
import { invalidUnique, schemaViolation } from '../errors/db-errors.js'
import { schemaToJson, validateTag } from '../schema/index.js'
import type { Store } from '../store/index.js'
import type { EntitySchema } from '../schema/index.js'
import { parseSizeParam, DEFAULT_PAGE_SIZE, invalidOffset } from '../dao/index.js'
import { StoreError } from '../store/index.js'
import { KONG_COMPAT_VERSION } from '../version.js'
import { AdminHttpError } from './errors.js'
import { byteFormatter } from './memory-units.js'
import { inputFor, ok, pageBody } from './respond.js'
import type { AdminContext, AdminRoute } from './router.js'
import type { NodeInfo } from './types.js'

/** Our product name, reported beside Kong's keys in `GET /`. */
export const PRODUCT_NAME = 'turnpike'

/** The hash Kong reports for an empty DB-less configuration. */
const EMPTY_CONFIG_HASH = '00000000000000000000000000000000'

export interface InfoRouteDeps {
  readonly dao: Dao
  readonly store: Store
  readonly nodeInfo: NodeInfo
  readonly database: 'sqlite' | 'off' | 'postgres'
  /** Every registered path, for `/endpoints`. */
  readonly paths: () => string[]
  /** Current DB-less configuration hash, for `/status`. */
  readonly configurationHash?: () => string
}

function noSuchEntity(name: string): AdminHttpError {
  return new AdminHttpError(404, { message: `No entity named '${name}'` })
}

/** The schema of an entity named in a path: own names only (`/schemas/__proto__` is no entity). */
function entitySchema(dao: Dao, name: string): EntitySchema {
  const schema = Object.hasOwn(dao.entities, name) ? dao.entities[name] : undefined
  if (schema === undefined) throw noSuchEntity(name)
  return schema
}

async function enabledPlugins(dao: Dao): Promise<string[]> {
  if (dao.entities['plugins'] === undefined) return []
  const names = new Set<string>()
  for (const row of await dao.all('plugins')) if (typeof row['name'] === 'string') names.add(row['name'])
  return [...names]
}

async function tagsPage(store: Store, ctx: AdminContext, tag: string | undefined): Promise<Record<string, unknown>> {
  const rawSize = ctx.query.get('size') ?? undefined
  const size = parseSizeParam(rawSize) ?? DEFAULT_PAGE_SIZE
  const offset = ctx.query.get('offset') ?? undefined
  let page
  try {
    page = await store.tags({ size, ...(offset === undefined ? {} : { offset }), ...(tag === undefined ? {} : { tag }) })
  } catch (err) {
    if (err instanceof StoreError && err.code === 'INVALID_OFFSET') throw invalidOffset(offset ?? '')
    throw err
  }
  const base = tag === undefined ? '/tags' : `/tags/${ctx.rawParams['tags'] ?? ''}`
  const next =
    page.offset === undefined
      ? null
      : `${base}?offset=${encodeURIComponent(page.offset)}` + (tag === undefined && rawSize !== undefined ? `&size=${rawSize}` : '')
  return pageBody(page, next)
}

/** The node-level routes. */
export function infoRoutes(deps: InfoRouteDeps): AdminRoute[] {
  const { dao, store, nodeInfo } = deps
  return [
    {
      path: '/',
      methods: {
        // Kong's keys are kept (clients such as decK parse them); our own name goes in extra keys.
        GET: async () =>
          ok({
            tagline: 'Welcome to kong',
            // Clients pick features by this version: the Kong release whose behaviour we follow.
            version: KONG_COMPAT_VERSION,
            edition: 'community',
            product: PRODUCT_NAME,
            turnpike_version: nodeInfo.version,
            hostname: nodeInfo.hostname,
            node_id: nodeInfo.node_id,
            timers: { running: 0, pending: 0 },
            plugins: { available_on_server: nodeInfo.plugins, enabled_in_cluster: await enabledPlugins(dao) },
            lua_version: null,
            node_version: process.version,
            configuration: nodeInfo.configuration,
            pids: { master: nodeInfo.pids.master, workers: [...nodeInfo.pids.workers] },
          }),
      },
    },
    {
      path: '/status',
      methods: {
        GET: async (ctx) => {
          const format = byteFormatter(ctx.query.get('unit'), ctx.query.get('scale'))
          // Kong leaves `database` out in DB-less mode: there is no database to reach.
          const body: Record<string, unknown> = {
            ...(deps.database === 'off' ? {} : { database: { reachable: await store.reachable().catch(() => false) } }),
            memory: {
              // Kong: one entry per nginx worker's Lua VM; here each proxy worker's V8 heap.
              workers_lua_vms: nodeInfo.workers().map((w) => ({ http_allocated_gc: format(w.heapUsed), pid: w.pid })),
              lua_shared_dicts: Object.fromEntries(
                Object.entries(nodeInfo.sharedDicts()).map(([name, d]) => [
                  name,
                  { allocated_slabs: format(d.allocated), capacity: format(d.capacity) },
                ]),
              ),
            },
            server: nodeInfo.serverStatus(),
            // Turnpike's: each proxy worker's share of `server` (Kong reports only the node's totals).
            workers: nodeInfo.workers().map((w) => ({
              pid: w.pid,
              connections_accepted: w.connectionsAccepted,
              connections_active: w.connectionsActive,
              total_requests: w.totalRequests,
            })),
          }
          if (deps.database === 'off') body['configuration_hash'] = deps.configurationHash?.() ?? EMPTY_CONFIG_HASH
          return ok(body)
        },
      },
    },
    { path: '/endpoints', methods: { GET: async () => ok({ data: deps.paths() }) } },
    {
      path: '/schemas/{name}',
      methods: {
        GET: async (ctx) => {
          const name = ctx.params['name'] ?? ''
          const schema = entitySchema(dao, name)
          return ok(schemaToJson(schema))
        },
      },
    },
    {
      path: '/schemas/{name}/validate',
      methods: {
        POST: async (ctx) => {
          const name = ctx.params['name'] ?? ''
          const schema = entitySchema(dao, name)
          const errors = dao.validateInput(name, inputFor(ctx, schema))
          if (errors !== null) throw schemaViolation(errors)
          return ok({ message: 'schema validation successful' })
        },
      },
    },
    { path: '/tags', methods: { GET: async (ctx) => ok(await tagsPage(store, ctx, undefined)) } },
    {
      path: '/tags/{tags}',
      methods: {
        GET: async (ctx) => {
          // Kong 3.9.3 (db/dao/tags.lua): the tag is checked as a tag field is, code 10 when refused.
          const tag = ctx.params['tags'] ?? ''
          const problem = validateTag(tag)
          if (problem !== undefined) throw invalidUnique('tag', problem)
          return ok(await tagsPage(store, ctx, tag))
        },
      },
    },
  ]
}
