/**
 * prometheus's configuration, as Kong 3.9's `kong/plugins/prometheus/schema.lua`: every metric
 * group is off by default (node-level metrics are always exported).
 *
 * @module
 */
import { typedefs } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { PluginSchema } from '../types.js'

const flag = (description: string) => ({ type: 'boolean', default: false, description }) as const satisfies Field

export const prometheusConfigFields = {
  per_consumer: flag(
    'A boolean value that determines if per-consumer metrics should be collected. If enabled, the `kong_http_requests_total` and `kong_bandwidth_bytes` metrics fill in the consumer label when available.',
  ),
  status_code_metrics: flag(
    'A boolean value that determines if status code metrics should be collected. If enabled, `http_requests_total`, `stream_sessions_total` metrics will be exported.',
  ),
  ai_metrics: flag(
    'A boolean value that determines if ai metrics should be collected. If enabled, the `ai_llm_requests_total`, `ai_llm_cost_total` and `ai_llm_tokens_total` metrics will be exported. (Turnpike has no AI plugins: accepted for compatibility.)',
  ),
  latency_metrics: flag(
    'A boolean value that determines if latency metrics should be collected. If enabled, `kong_latency_ms`, `upstream_latency_ms` and `request_latency_ms` metrics will be exported.',
  ),
  bandwidth_metrics: flag(
    'A boolean value that determines if bandwidth metrics should be collected. If enabled, `bandwidth_bytes` and `stream_sessions_total` metrics will be exported.',
  ),
  upstream_health_metrics: flag(
    'A boolean value that determines if upstream metrics should be collected. If enabled, `upstream_target_health` metric will be exported.',
  ),
} as const satisfies Record<string, Field>

export const prometheusSchema: PluginSchema = {
  config: prometheusConfigFields,
  // Kong: `typedefs.protocols` (every protocol).
  protocols: typedefs.PROTOCOLS,
}

/** The validated `config`, inferred from its schema. */
export type PrometheusConfig = InferFields<typeof prometheusConfigFields>
