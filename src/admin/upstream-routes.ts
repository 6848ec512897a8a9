/**
 * Upstream endpoints that are not generated from the entity registry (Kong's
 * `kong/api/routes/upstreams.lua`):
 *
 * - `GET /upstreams/{u}/targets/all` → every target of the upstream (weight 0 included);
 * - `GET /upstreams/{u}/health` → the targets with `health` and Kong's `data` block (the
 *   addresses actually used, with their health), `?balancer_health=1` → the balancer's health;
 * - `PUT /upstreams/{u}/targets/{t}[/{address}]/healthy|unhealthy` → 204, sets the health of the
 *   target's addresses (or one address, `ip:port`) on this node.
 *
 * Top-level `/targets` does not exist (the entity is `admin_nested_only`): 404 as in Kong.
 *
 * @module
 */
import type { Dao } from '../dao/index.js'
import { isUuid } from '../ids/uuid.js'
import { normalizeTarget } from '../entities/index.js'
import type { UpstreamHealthProvider } from '../balancer/health-model.js'
import { normalizeIp } from '../schema/index.js'
import type { Row } from '../store/index.js'
import { AdminHttpError } from './errors.js'
import { notFound } from './errors.js'
import { noContent, ok, pageBody } from './respond.js'
import type { AdminContext, AdminRoute } from './router.js'

export interface UpstreamRouteDeps {
  readonly dao: Dao
  /** The node's health checker; absent → every target reports HEALTHCHECKS_OFF. */
  readonly health?: UpstreamHealthProvider
  readonly nodeId?: string
}

async function upstreamOf(dao: Dao, ctx: AdminContext): Promise<Row> {
  const row = await dao.select('upstreams', ctx.params['upstreams'] ?? '')
  if (row === null) throw notFound()
  return row
}

async function allTargets(dao: Dao, upstreamId: string): Promise<Row[]> {
  const out: Row[] = []
  let offset: string | undefined
  for (let i = 0; i < 1000; i++) {
    const page = await dao.pageForForeign('targets', 'upstream', upstreamId, { size: 1000, ...(offset === undefined ? {} : { offset }) })
    out.push(...(page.data as Row[]))
    if (page.offset === undefined) break
    offset = page.offset
  }
  return out
}

/** A target of the upstream given by id or by `host:port`. */
async function targetOf(dao: Dao, upstream: Row, key: string): Promise<Row> {
  const rows = await allTargets(dao, upstream.id)
  const wanted = isUuid(key) ? null : normalizeTarget(key)
  const row = rows.find((r) => r.id === key || (wanted !== null && r['target'] === wanted))
  if (row === undefined) throw notFound()
  return row
}

export function upstreamRoutes({ dao, health, nodeId }: UpstreamRouteDeps): AdminRoute[] {
  const node = (): string => health?.nodeId ?? nodeId ?? ''
  const setHealth = (healthy: boolean, withAddress: boolean) => async (ctx: AdminContext) => {
    const upstream = await upstreamOf(dao, ctx)
    const target = await targetOf(dao, upstream, ctx.params['targets'] ?? '')
    let address: { ip: string; port: number } | null = null
    if (withAddress) {
      const raw = ctx.params['address'] ?? ''
      const r = normalizeIp(raw)
      if ('error' in r || r.type === 'name') throw new AdminHttpError(400, { message: `invalid address '${raw}': expected ip:port` })
      const ip = r.type === 'ipv6' ? raw.replace(/^\[|\](:\d+)?$/g, '') : r.host
      address = { ip, port: r.port ?? Number(String(target['target']).split(':').pop()) }
    }
    if (health === undefined) throw new AdminHttpError(400, { message: `no healthchecker found for ${String(upstream['name'])}` })
    const err = await health.setHealth(upstream.id, String(target['target']), address, healthy)
    if (err !== null) throw new AdminHttpError(400, { message: err })
    return noContent()
  }
  return [
    {
      path: '/upstreams/{upstreams}/targets/all',
      methods: {
        GET: async (ctx) => {
          const upstream = await upstreamOf(dao, ctx)
          return ok(pageBody({ data: await allTargets(dao, upstream.id) }, null))
        },
      },
    },
    {
      path: '/upstreams/{upstreams}/health',
      methods: {
        GET: async (ctx) => {
          const upstream = await upstreamOf(dao, ctx)
          const flag = ctx.query.get('balancer_health')
          if (flag !== null && flag !== '0' && flag !== 'false') {
            const data = health === undefined ? null : await health.balancerHealth(upstream.id)
            if (data === null) throw new AdminHttpError(404, { message: 'balancer not found' })
            return ok({ data, next: null, node_id: node() })
          }
          const rows = await allTargets(dao, upstream.id)
          const info = health === undefined ? null : await health.targetsHealth(upstream.id)
          const data = rows.map((r) => {
            const h = info?.get(r.id)
            return h === undefined ? { ...r, health: 'HEALTHCHECKS_OFF' } : { ...r, health: h.health, data: h.data }
          })
          return ok({ data, next: null, node_id: node() })
        },
      },
    },
    { path: '/upstreams/{upstreams}/targets/{targets}/healthy', methods: { PUT: setHealth(true, false), POST: setHealth(true, false) } },
    {
      path: '/upstreams/{upstreams}/targets/{targets}/unhealthy',
      methods: { PUT: setHealth(false, false), POST: setHealth(false, false) },
    },
    {
      path: '/upstreams/{upstreams}/targets/{targets}/{address}/healthy',
      methods: { PUT: setHealth(true, true), POST: setHealth(true, true) },
    },
    {
      path: '/upstreams/{upstreams}/targets/{targets}/{address}/unhealthy',
      methods: { PUT: setHealth(false, true), POST: setHealth(false, true) },
    },
  ]
}
