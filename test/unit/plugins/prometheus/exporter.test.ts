/** prometheus: what one worker records under each flag, and cross-worker summing. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as promClient from 'prom-client'
import { AggregatorRegistry } from 'prom-client'
import { WorkerMetrics } from '../../../../src/plugins/prometheus/exporter.js'
import { dropEmptyFamilies } from '../../../../src/plugins/prometheus/api.js'

const all = {
  per_consumer: true,
  status_code_metrics: true,
  ai_metrics: false,
  latency_metrics: true,
  bandwidth_metrics: true,
  upstream_health_metrics: false,
}
const msg = {
  service: { name: 's', host: 'h' },
  route: { id: 'rid' },
  consumer: { username: 'alice' },
  request: { size: 100 },
  response: { status: 200, size: 300 },
  latencies: { request: 12, proxy: 10, kong: 2 },
}

describe('prometheus worker metrics', () => {
  test('labels: service name (or host), route name (or id), consumer username with per_consumer', async () => {
    const m = new WorkerMetrics(promClient)
    m.record(msg, 'service', all)
    m.record({ ...msg, service: { host: 'h2' } }, 'exit', { ...all, per_consumer: false })
    const text = await m.registry.metrics()
    assert.match(
      text,
      /kong_http_requests_total\{service="s",route="rid",code="200",source="service",workspace="default",consumer="alice"\} 1/,
    )
    assert.match(text, /kong_http_requests_total\{service="h2",route="rid",code="200",source="kong",workspace="default",consumer=""\} 1/)
    assert.match(text, /kong_bandwidth_bytes\{service="s",route="rid",direction="egress",workspace="default",consumer="alice"\} 300/)
  })
  test('no service: nothing recorded; flags off: nothing recorded', async () => {
    const m = new WorkerMetrics(promClient)
    m.record({ ...msg, service: undefined }, 'service', all)
    m.record(msg, 'service', { ...all, status_code_metrics: false, latency_metrics: false, bandwidth_metrics: false })
    const text = dropEmptyFamilies(await m.registry.metrics())
    assert.doesNotMatch(text, /kong_http_requests_total|kong_bandwidth_bytes|latency_ms/)
  })
  test("two workers' registries sum into one", async () => {
    const a = new WorkerMetrics(promClient)
    const b = new WorkerMetrics(promClient)
    a.record(msg, 'service', all)
    b.record(msg, 'service', all)
    b.record(msg, 'service', all)
    const text = await AggregatorRegistry.aggregate([await a.snapshot(), await b.snapshot()]).metrics()
    assert.match(
      text,
      /kong_http_requests_total\{service="s",route="rid",code="200",source="service",workspace="default",consumer="alice"\} 3/,
    )
    assert.match(text, /kong_kong_latency_ms_count\{service="s",route="rid",workspace="default"\} 3/)
  })
})
