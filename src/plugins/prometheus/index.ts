/**
 * The `prometheus` plugin (Kong 3.9, priority 13, log phase): counts requests, latencies and
 * bandwidth per service/route (and consumer) with Kong's metric names, and serves them with node
 * metrics on `GET /metrics` of the Admin API and of the status listener, summed across all worker
 * processes of the node.
 *
 * @module
 */
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin } from '../types.js'
import { metricsRoutes } from './api.js'
import { loadWorkerMetrics, METRICS_OP, prometheusLog, setNodeId } from './exporter.js'
import { prometheusSchema, type PrometheusConfig } from './schema.js'

export const prometheus: Plugin<PrometheusConfig> = {
  name: 'prometheus',
  version: KONG_COMPAT_VERSION,
  priority: 13,
  schema: prometheusSchema,
  init(ctx) {
    setNodeId(ctx.nodeId)
    ctx.onPrimaryCall(METRICS_OP, async () => (await loadWorkerMetrics()).snapshot())
  },
  log: prometheusLog,
  api: metricsRoutes,
  statusApi: metricsRoutes,
}

export default prometheus
