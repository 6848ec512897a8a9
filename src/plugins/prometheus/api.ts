/**
 * The primary side of the prometheus plugin: `GET /metrics` on the Admin API and on the status
 * listener. Request metrics come from the workers (each keeps a prom-client registry; the
 * primary asks all of them over IPC at scrape time and sums counters and histograms with
 * prom-client's `AggregatorRegistry.aggregate`); node metrics (connections, datastore, node info,
 * upstream target health) are the primary's own, as Kong computes them at scrape time.
 *
 * @module
 */
import type { Registry } from 'prom-client'
import type { Dao } from '../../dao/index.js'
import type { ApiResponse, ApiRoute, PluginApiContext } from '../endpoints.js'
import { METRICS_OP, type PromClient } from './exporter.js'

/** Kong answers `/metrics` with this type. */
export const METRICS_CONTENT_TYPE = 'text/plain; charset=UTF-8'

const HEALTH_STATES = ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error'] as const

/** Drops metric families that have no sample (Kong prints only metrics that have values). */
export function dropEmptyFamilies(text: string): string {
  const out: string[] = []
  let block: string[] = []
  let samples = 0
  const flush = (): void => {
    if (samples > 0) out.push(...block)
    block = []
    samples = 0
  }
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('# HELP ')) flush()
    block.push(line)
    if (!line.startsWith('#')) samples++
  }
  flush()
  return out.length === 0 ? '' : `${out.join('\n')}\n`
}

async function upstreamHealthWanted(dao: Dao): Promise<boolean> {
  if (dao.entities['plugins'] === undefined) return false
  const rows = await dao.all('plugins')
  return rows.some(
    (r) =>
      r['name'] === 'prometheus' &&
      r['enabled'] !== false &&
      (r['config'] as Record<string, unknown> | undefined)?.['upstream_health_metrics'] === true,
  )
}

async function nodeRegistry(src: PluginApiContext, { Counter, Gauge, Registry }: PromClient): Promise<Registry> {
  const reg = new Registry()
  const registers = [reg]
  const nodeId = src.node.node_id
  const s = src.node.serverStatus()
  const connections = new Gauge({
    name: 'kong_nginx_connections_total',
    help: 'Number of connections by subsystem',
    labelNames: ['node_id', 'subsystem', 'state'],
    registers,
  })
  const states: [string, number][] = [
    ['accepted', s.connections_accepted],
    ['active', s.connections_active],
    ['handled', s.connections_handled],
    ['reading', s.connections_reading],
    ['total', s.total_requests],
    ['waiting', s.connections_waiting],
    ['writing', s.connections_writing],
  ]
  for (const [state, v] of states) connections.set({ node_id: nodeId, subsystem: 'http', state }, v)
  new Gauge({ name: 'kong_nginx_requests_total', help: 'Number of requests total', labelNames: ['node_id', 'subsystem'], registers }).set(
    { node_id: nodeId, subsystem: 'http' },
    s.total_requests,
  )
  let reachable = false
  try {
    reachable = await src.store.reachable()
  } catch {
    reachable = false
  }
  new Gauge({ name: 'kong_datastore_reachable', help: 'Datastore reachable from Kong, 0 is unreachable', registers }).set(reachable ? 1 : 0)
  new Gauge({ name: 'kong_node_info', help: 'Kong Node metadata information', labelNames: ['node_id', 'version'], registers }).set(
    { node_id: nodeId, version: src.node.version },
    1,
  )
  if (src.health !== undefined && (await upstreamHealthWanted(src.dao))) {
    const g = new Gauge({
      name: 'kong_upstream_target_health',
      help: 'Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.',
      labelNames: ['upstream', 'target', 'address', 'state', 'subsystem'],
      registers,
    })
    const targets = await src.dao.all('targets')
    for (const u of await src.dao.all('upstreams')) {
      const info = await src.health.targetsHealth(String(u['id']))
      if (info === null) continue
      for (const t of targets) {
        if ((t['upstream'] as { id?: unknown } | null)?.id !== u['id']) continue
        const h = info.get(String(t['id']))
        if (h === undefined) continue
        const set = (address: string, status: string): void => {
          for (const state of HEALTH_STATES)
            g.set({ upstream: String(u['name']), target: String(t['target']), address, state, subsystem: 'http' }, state === status ? 1 : 0)
        }
        const addresses = (h.data['addresses'] as { ip: string; port: number; health: string }[] | undefined) ?? []
        if (addresses.length === 0) set('', 'dns_error')
        else for (const a of addresses) set(`${a.ip}:${a.port}`, a.health.toLowerCase())
      }
    }
  }
  new Counter({ name: 'kong_nginx_metric_errors_total', help: 'Number of nginx-lua-prometheus errors', registers }).inc(0)
  return reg
}

/** The whole `/metrics` text for this node: workers' request metrics summed, plus node metrics. */
export async function renderMetrics(src: PluginApiContext): Promise<string> {
  const { answers } = await src.workers.call<object[]>(METRICS_OP, null, 2000)
  // Loaded at the first scrape: a node that never serves /metrics does not hold prom-client.
  const pc = await import('prom-client')
  const perWorker = answers.map((a) => a.result)
  const workers = perWorker.length === 0 ? '' : await pc.AggregatorRegistry.aggregate(perWorker).metrics()
  const node = await (await nodeRegistry(src, pc)).metrics()
  return dropEmptyFamilies(`${workers}\n${node}`)
}

async function metricsResponse(src: PluginApiContext): Promise<ApiResponse> {
  return { status: 200, headers: { 'Content-Type': METRICS_CONTENT_TYPE }, body: await renderMetrics(src) }
}

/**
 * Kong's `api.lua` and `status_api.lua`: `GET /metrics`, the plugin's endpoint on the Admin API
 * and on the status listener.
 */
export function metricsRoutes(src: PluginApiContext): ApiRoute[] {
  return [{ path: '/metrics', methods: { GET: () => metricsResponse(src) } }]
}
