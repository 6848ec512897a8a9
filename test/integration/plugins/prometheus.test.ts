/**
 * prometheus against the real gateway with two worker processes: Kong's metric names, labels and
 * buckets on `GET /metrics` of the Admin API and of the status listener, counts summed exactly
 * across workers (requests on separate connections spread over both), per-consumer labels,
 * `source` kong for gateway-made responses, the config flags (a route-level instance with every
 * flag off records nothing), node metrics and upstream target health.
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { call, eventually, type TestGateway } from '../../helpers/gateway.js'
import { type PluginFixture, withGateway } from '../../helpers/plugin-fixture.js'
import type { TestUpstream } from '../../helpers/upstream.js'

/** One request on its own connection (so the cluster spreads them over the workers). */
function fresh(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { ...headers, connection: 'close' } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `) || (labels === '' && l.startsWith(`${name} `)))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('prometheus plugin', () => {
  let fx: PluginFixture
  let gw: TestGateway
  let up: TestUpstream

  before(async () => {
    fx = await withGateway({ workers: 2 })
    ;({ gw, up } = fx)
    await fx.route('r')
    await fx.route('auth')
    await fx.route('quiet')
    await fx.admin('/routes/auth/plugins', { name: 'key-auth' })
    await fx.admin('/consumers', { username: 'alice' })
    await fx.admin('/consumers/alice/key-auth', { key: 'alice-key' })
    await fx.admin('/plugins', {
      name: 'prometheus',
      config: {
        per_consumer: true,
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        upstream_health_metrics: true,
      },
    })
    await fx.admin('/routes/quiet/plugins', { name: 'prometheus', config: {} })
    await fx.admin('/upstreams', { name: 'pool' })
    await fx.admin('/upstreams/pool/targets', { target: `127.0.0.1:${up.port}` })
    await fx.settle()
  })
  after(() => fx.stop())

  test("counts are summed across worker processes, with Kong's names and labels", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => fresh(`${gw.proxyUrl}/r`)))
    assert.deepEqual(new Set(results), new Set([200]))
    const labels = 'service="svc",route="r",code="200",source="service",workspace="default",consumer=""'
    let text = ''
    await eventually(
      async () => {
        text = (await call('GET', `${gw.adminUrl}/metrics`)).text
        return sample(text, 'kong_http_requests_total', labels) === 20
      },
      5000,
      `20 requests counted; last scrape:\n${text}`,
    )
    // Both workers answered the scrape (each reports its own memory gauge).
    const pids = text.split('\n').filter((l) => l.startsWith('kong_memory_workers_lua_vms_bytes{'))
    assert.equal(pids.length, 2, pids.join('\n'))
    assert.match(text, /# TYPE kong_http_requests_total counter/)
  })

  test("latency histograms with Kong's buckets and bandwidth counters", async () => {
    const text = (await call('GET', `${gw.adminUrl}/metrics`)).text
    const l = 'service="svc",route="r",workspace="default"'
    assert.equal(sample(text, 'kong_request_latency_ms_count', l), 20)
    assert.equal(sample(text, 'kong_upstream_latency_ms_count', l), 20)
    assert.equal(sample(text, 'kong_kong_latency_ms_count', l), 20)
    for (const le of ['1', '2', '5', '7', '10', '15', '20', '30', '50', '75', '100', '200', '500', '750', '1000', '+Inf']) {
      assert.ok(sample(text, 'kong_kong_latency_ms_bucket', `le="${le}",${l}`) !== undefined, `kong latency bucket ${le}`)
    }
    for (const le of ['25', '50', '80', '100', '250', '400', '700', '1000', '2000', '5000', '10000', '30000', '60000', '+Inf']) {
      assert.ok(sample(text, 'kong_upstream_latency_ms_bucket', `le="${le}",${l}`) !== undefined, `upstream latency bucket ${le}`)
      assert.ok(sample(text, 'kong_request_latency_ms_bucket', `le="${le}",${l}`) !== undefined, `request latency bucket ${le}`)
    }
    assert.ok(
      (sample(text, 'kong_bandwidth_bytes', 'service="svc",route="r",direction="ingress",workspace="default",consumer=""') ?? 0) > 20 * 20,
    )
    assert.ok(
      (sample(text, 'kong_bandwidth_bytes', 'service="svc",route="r",direction="egress",workspace="default",consumer=""') ?? 0) > 20 * 100,
    )
  })

  test('per_consumer: the consumer label; responses the gateway made: source="kong"', async () => {
    assert.equal(await fresh(`${gw.proxyUrl}/auth`, { apikey: 'alice-key' }), 200)
    assert.equal(await fresh(`${gw.proxyUrl}/auth`), 401)
    let text = ''
    await eventually(
      async () => {
        text = (await call('GET', `${gw.adminUrl}/metrics`)).text
        return (
          sample(
            text,
            'kong_http_requests_total',
            'service="svc",route="auth",code="401",source="kong",workspace="default",consumer=""',
          ) === 1
        )
      },
      5000,
      'the 401',
    )
    assert.equal(
      sample(
        text,
        'kong_http_requests_total',
        'service="svc",route="auth",code="200",source="service",workspace="default",consumer="alice"',
      ),
      1,
    )
  })

  test('an instance with every flag off records nothing for its route', async () => {
    assert.equal(await fresh(`${gw.proxyUrl}/quiet`), 200)
    await new Promise((r) => setTimeout(r, 200))
    const text = (await call('GET', `${gw.adminUrl}/metrics`)).text
    assert.doesNotMatch(text, /route="quiet"/)
  })

  test('node metrics and upstream target health; the status listener serves the same /metrics', async () => {
    const res = await call('GET', `${gw.statusUrl}/metrics`)
    assert.equal(res.status, 200)
    assert.match(String(res.headers['content-type']), /^text\/plain/)
    const text = res.text
    assert.equal(sample(text, 'kong_datastore_reachable', ''), 1)
    assert.match(text, /^kong_node_info\{node_id="[0-9a-f-]{36}",version="[^"]+"\} 1$/m)
    assert.match(text, /^kong_nginx_connections_total\{node_id="[0-9a-f-]{36}",subsystem="http",state="accepted"\} \d+$/m)
    assert.match(text, /^kong_nginx_requests_total\{node_id="[0-9a-f-]{36}",subsystem="http"\} \d+$/m)
    assert.match(text, /^kong_nginx_metric_errors_total 0$/m)
    const target = `127.0.0.1:${up.port}`
    assert.equal(
      sample(
        text,
        'kong_upstream_target_health',
        `upstream="pool",target="${target}",address="${target}",state="healthchecks_off",subsystem="http"`,
      ),
      1,
    )
    assert.equal(
      sample(
        text,
        'kong_upstream_target_health',
        `upstream="pool",target="${target}",address="${target}",state="healthy",subsystem="http"`,
      ),
      0,
    )
    assert.match(text, /kong_http_requests_total\{service="svc",route="r"/)
    const other = await call('GET', `${gw.statusUrl}/nope`)
    assert.equal(other.status, 404)
  })
})
