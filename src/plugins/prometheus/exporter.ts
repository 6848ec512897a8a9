/**
 * The worker side of the prometheus plugin: each proxy worker counts its own requests in a
 * prom-client registry (Kong's metric names, labels and buckets, from
 * `kong/plugins/prometheus/exporter.lua`); the primary collects every worker's registry at scrape
 * time (the `metrics` op the plugin's init registers; see ./api.ts and docs/plugins.md). prom-client is loaded on first
 * use (the first request the plugin logs, or the first scrape): a worker of a node that does not
 * use the plugin does not hold it in memory.
 *
 * @module
 */
import type { Counter, Histogram, Registry } from 'prom-client'
import type { Pdk } from '../../pdk/types.js'
import type { PrometheusConfig } from './schema.js'

/** Kong's `KONG_LATENCY_BUCKETS`. */
export const KONG_LATENCY_BUCKETS = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000]
/** Kong's `UPSTREAM_LATENCY_BUCKETS` (also used for `request_latency_ms`). */
export const UPSTREAM_LATENCY_BUCKETS = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000]

/** Kong's workspace label: Kong OSS runs everything in the `default` workspace. */
export const WORKSPACE = 'default'

/** The prom-client module, as `import('prom-client')` gives it. */
export type PromClient = typeof import('prom-client')

/** The node id label of the memory gauge (set by the plugin's init). */
let nodeId = ''
export function setNodeId(id: string): void {
  nodeId = id
}

/** What one worker counts. */
export class WorkerMetrics {
  readonly registry: Registry
  readonly status: Counter<'service' | 'route' | 'code' | 'source' | 'workspace' | 'consumer'>
  readonly kongLatency: Histogram<'service' | 'route' | 'workspace'>
  readonly upstreamLatency: Histogram<'service' | 'route' | 'workspace'>
  readonly totalLatency: Histogram<'service' | 'route' | 'workspace'>
  readonly bandwidth: Counter<'service' | 'route' | 'direction' | 'workspace' | 'consumer'>

  constructor(pc: PromClient) {
    const { Counter, Gauge, Histogram, Registry } = pc
    this.registry = new Registry()
    const registers = [this.registry]
    this.status = new Counter({
      name: 'kong_http_requests_total',
      help: 'HTTP status codes per consumer/service/route in Kong',
      labelNames: ['service', 'route', 'code', 'source', 'workspace', 'consumer'],
      registers,
    })
    this.kongLatency = new Histogram({
      name: 'kong_kong_latency_ms',
      help: 'Latency added by Kong and enabled plugins for each service/route in Kong',
      labelNames: ['service', 'route', 'workspace'],
      buckets: KONG_LATENCY_BUCKETS,
      registers,
    })
    this.upstreamLatency = new Histogram({
      name: 'kong_upstream_latency_ms',
      help: 'Latency added by upstream response for each service/route in Kong',
      labelNames: ['service', 'route', 'workspace'],
      buckets: UPSTREAM_LATENCY_BUCKETS,
      registers,
    })
    this.totalLatency = new Histogram({
      name: 'kong_request_latency_ms',
      help: 'Total latency incurred during requests for each service/route in Kong',
      labelNames: ['service', 'route', 'workspace'],
      buckets: UPSTREAM_LATENCY_BUCKETS,
      registers,
    })
    this.bandwidth = new Counter({
      name: 'kong_bandwidth_bytes',
      help: 'Total bandwidth (ingress/egress) throughput in bytes',
      labelNames: ['service', 'route', 'direction', 'workspace', 'consumer'],
      registers,
    })
    new Gauge({
      name: 'kong_memory_workers_lua_vms_bytes',
      help: "Allocated bytes in worker Lua VM (Turnpike: the worker process's JavaScript heap in use)",
      labelNames: ['node_id', 'pid', 'kong_subsystem'],
      registers,
      collect() {
        this.set({ node_id: nodeId, pid: String(process.pid), kong_subsystem: 'http' }, process.memoryUsage().heapUsed)
      },
    })
  }

  /** Kong's `exporter.log(message, serialized)` for one request (the log phase). */
  record(message: Record<string, unknown>, source: string, conf: PrometheusConfig): void {
    const service = message['service'] as Record<string, unknown> | undefined
    // Kong: no service, no stats.
    if (service === undefined) return
    const route = message['route'] as Record<string, unknown> | undefined
    const serviceName = String(service['name'] ?? service['host'] ?? '')
    const routeName = route === undefined ? '' : String(route['name'] ?? route['id'] ?? '')
    let consumer = ''
    if (conf.per_consumer) {
      const c = message['consumer'] as Record<string, unknown> | undefined
      if (c !== undefined) consumer = typeof c['username'] === 'string' ? c['username'] : ''
    }
    const response = message['response'] as { status: number; size: number }
    const request = message['request'] as { size: number }
    if (conf.bandwidth_metrics) {
      if (request.size > 0)
        this.bandwidth.inc({ service: serviceName, route: routeName, direction: 'ingress', workspace: WORKSPACE, consumer }, request.size)
      if (response.size > 0)
        this.bandwidth.inc({ service: serviceName, route: routeName, direction: 'egress', workspace: WORKSPACE, consumer }, response.size)
    }
    if (conf.status_code_metrics) {
      this.status.inc({
        service: serviceName,
        route: routeName,
        code: String(response.status),
        source: source === 'service' ? 'service' : 'kong',
        workspace: WORKSPACE,
        consumer,
      })
    }
    if (conf.latency_metrics) {
      const l = message['latencies'] as { request?: number; proxy?: number; kong?: number }
      const labels = { service: serviceName, route: routeName, workspace: WORKSPACE }
      if (typeof l.request === 'number' && l.request >= 0) this.totalLatency.observe(labels, l.request)
      if (typeof l.proxy === 'number' && l.proxy >= 0) this.upstreamLatency.observe(labels, l.proxy)
      if (typeof l.kong === 'number' && l.kong >= 0) this.kongLatency.observe(labels, l.kong)
    }
  }

  /** This worker's metrics, in prom-client's JSON form (what AggregatorRegistry.aggregate sums). */
  snapshot(): Promise<object[]> {
    return this.registry.getMetricsAsJSON()
  }
}

/** This process's metrics (one per worker), once made. */
let workerMetrics: WorkerMetrics | null = null
let loading: Promise<WorkerMetrics> | null = null

export function loadWorkerMetrics(): Promise<WorkerMetrics> {
  loading ??= import('prom-client').then((pc) => (workerMetrics = new WorkerMetrics(pc)))
  return loading
}

/** The op the primary sends to collect a worker's metrics (each worker answers its snapshot). */
export const METRICS_OP = 'metrics'

/** The plugin's log handler. */
export function prometheusLog(kong: Pdk, conf: PrometheusConfig): void | Promise<void> {
  if (!conf.status_code_metrics && !conf.latency_metrics && !conf.bandwidth_metrics) return
  const message = kong.serialize()
  const source = kong.response.getSource()
  if (workerMetrics !== null) return workerMetrics.record(message, source, conf)
  // The first request logged by this worker: recorded once prom-client is loaded.
  return loadWorkerMetrics().then((m) => m.record(message, source, conf))
}
