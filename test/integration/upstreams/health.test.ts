/**
 * Health checks end to end: passive circuit breaking from proxied traffic, active probes bringing
 * a target back, `/upstreams/{u}/health` at each step, manual healthy/unhealthy, and one health
 * view per node shared by two workers (active probes run once per node).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { closedPort } from '../../helpers/ports.js'

/** An upstream answering `name`, counting proxied requests and health probes apart. */
interface Backend {
  readonly name: string
  port: number
  served: number
  probes: number
  server: Server
  start(): Promise<void>
  stop(): Promise<void>
}

function backend(name: string): Backend {
  const b: Backend = {
    name,
    port: 0,
    served: 0,
    probes: 0,
    server: null as unknown as Server,
    async start() {
      // Restarts reuse the port, so take one no other test's server can get meanwhile.
      if (b.port === 0) b.port = await closedPort()
      b.server = createServer((req, res) => {
        if (req.url === '/status') b.probes++
        else b.served++
        res.writeHead(200, { 'x-served-by': name, connection: 'close' })
        res.end(name)
      })
      await new Promise<void>((resolve, reject) => {
        b.server.once('error', reject)
        b.server.listen(b.port, '127.0.0.1', () => resolve())
      })
      b.port = (b.server.address() as AddressInfo).port
    },
    async stop() {
      b.server.closeAllConnections()
      await new Promise<void>((resolve) => b.server.close(() => resolve()))
    },
  }
  return b
}

const healthchecks = (interval: number) => ({
  active: {
    type: 'http',
    http_path: '/status',
    timeout: 1,
    healthy: { interval, successes: 2 },
    unhealthy: { interval, tcp_failures: 2, timeouts: 2, http_failures: 2 },
  },
  passive: { unhealthy: { tcp_failures: 2, timeouts: 2 } },
})

async function healthOf(gw: TestGateway, upstream: string): Promise<Record<string, string>> {
  const res = await call('GET', `${gw.adminUrl}/upstreams/${upstream}/health`)
  assert.equal(res.status, 200, res.text)
  return Object.fromEntries((res.body.data as { target: string; health: string }[]).map((t) => [t.target, t.health]))
}

describe('health checks (1 worker)', () => {
  let gw: TestGateway
  const a = backend('a')
  const b = backend('b')
  before(async () => {
    await a.start()
    await b.start()
    gw = await startTestGateway()
  })
  after(async () => {
    await gw.stop()
    await a.stop().catch(() => {})
    await b.stop().catch(() => {})
  })
  const admin = (m: string, p: string, body?: unknown) => call(m, gw.adminUrl + p, body)

  test('a target killed mid-load is taken out by passive checks and brought back by active checks', async () => {
    assert.equal((await admin('POST', '/upstreams', { name: 'hc.test', healthchecks: healthchecks(0.2) })).status, 201)
    const ta = `127.0.0.1:${a.port}`
    const tb = `127.0.0.1:${b.port}`
    await admin('POST', '/upstreams/hc.test/targets', { target: ta })
    await admin('POST', '/upstreams/hc.test/targets', { target: tb })
    await admin('POST', '/services', { name: 'hc', host: 'hc.test', path: '/' })
    await admin('POST', '/services/hc/routes', { paths: ['/hc'] })

    // Step 1: both healthy, /health in Kong's shape.
    const h0 = await admin('GET', '/upstreams/hc.test/health')
    assert.equal(h0.status, 200)
    assert.equal(typeof h0.body.node_id, 'string')
    assert.equal(h0.body.next, null)
    const entry = (h0.body.data as Record<string, any>[]).find((t) => t.target === ta) // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.ok(entry !== undefined)
    assert.equal(entry.health, 'HEALTHY')
    assert.deepEqual(entry.data.addresses, [{ ip: '127.0.0.1', port: a.port, weight: 100, health: 'HEALTHY' }])
    assert.equal(entry.data.host, '127.0.0.1')
    assert.equal(entry.data.port, a.port)
    assert.deepEqual(entry.data.weight, { total: 100, available: 100, unavailable: 0 })
    const bh = await admin('GET', '/upstreams/hc.test/health?balancer_health=1')
    assert.equal(bh.body.data.health, 'HEALTHY')
    assert.equal(bh.body.data.balancer_health, 'HEALTHY')
    assert.equal(bh.body.data.details.weight.total, 200)

    // Step 2: kill a mid-load; every client request still succeeds (retries move to b).
    let failedForClients = 0
    const statuses: number[] = []
    for (let i = 0; i < 60; i++) {
      if (i === 10) await a.stop()
      const res = await call('GET', gw.proxyUrl + '/hc')
      statuses.push(res.status)
      if (res.status !== 200) failedForClients++
    }
    assert.equal(failedForClients, 0, `statuses: ${statuses.join(',')}`)
    await gw.waitForLog(
      /\[healthchecks\] balancer hc\.test reported health status changed to UNHEALTHY for target 127\.0\.0\.1:\d+ \(127\.0\.0\.1:\d+\), caused by (passive|active) tcp_failures 2\/2/,
    )
    const refused = (gw.errorLog().match(/connect\(\) failed \(111: Connection refused\)[^\n]*retrying/g) ?? []).length
    assert.ok(refused >= 1 && refused <= 4, `failed attempts hidden by retries: ${refused}`)
    assert.deepEqual(await healthOf(gw, 'hc.test'), { [ta]: 'UNHEALTHY', [tb]: 'HEALTHY' })

    // Step 3: a comes back on the same port; active probes (2 successes) mark it healthy again.
    await a.start()
    await eventually(async () => (await healthOf(gw, 'hc.test'))[ta] === 'HEALTHY', 5000, 'a healthy again')
    await gw.waitForLog(
      /reported health status changed to HEALTHY for target 127\.0\.0\.1:\d+ .*caused by active successes 2\/2 \(active http probe: GET \/status answered 200\)/,
    )
    a.served = 0
    for (let i = 0; i < 20; i++) await call('GET', gw.proxyUrl + '/hc')
    assert.ok(a.served >= 5, `a got ${a.served} of 20 after recovery`)
  })

  test('manual unhealthy/healthy: 204, no traffic while unhealthy, /health follows', async () => {
    // Passive checks only: active probes would override a manual setting at their next run (as in Kong).
    const hc = { passive: { unhealthy: { tcp_failures: 2 } } }
    assert.equal((await admin('POST', '/upstreams', { name: 'manual.test', healthchecks: hc })).status, 201)
    const ta = `127.0.0.1:${a.port}`
    const tb = `127.0.0.1:${b.port}`
    await admin('POST', '/upstreams/manual.test/targets', { target: ta })
    await admin('POST', '/upstreams/manual.test/targets', { target: tb })
    await admin('POST', '/services', { name: 'manual', host: 'manual.test', path: '/' })
    await admin('POST', '/services/manual/routes', { paths: ['/manual'] })
    await eventually(async () => (await call('GET', gw.proxyUrl + '/manual')).status === 200, 5000, 'route /manual')
    const off = await admin('PUT', `/upstreams/manual.test/targets/${ta}/unhealthy`)
    assert.equal(off.status, 204, off.text)
    assert.deepEqual(await healthOf(gw, 'manual.test'), { [ta]: 'UNHEALTHY', [tb]: 'HEALTHY' })
    a.served = 0
    for (let i = 0; i < 20; i++) assert.equal((await call('GET', gw.proxyUrl + '/manual')).status, 200)
    assert.equal(a.served, 0)
    // Both unhealthy (the second by address): 503 from the balancer.
    assert.equal((await admin('PUT', `/upstreams/manual.test/targets/${tb}/127.0.0.1:${b.port}/unhealthy`)).status, 204)
    const none = await call('GET', gw.proxyUrl + '/manual')
    assert.equal(none.status, 503)
    assert.equal(none.body.message, 'failure to get a peer from the ring-balancer')
    const bh = await admin('GET', '/upstreams/manual.test/health?balancer_health=1')
    assert.equal(bh.body.data.health, 'UNHEALTHY')
    assert.equal(bh.body.data.details.weight.available, 0)
    await gw.waitForLog(/\[healthchecks\] balancer manual\.test reported health status changed to UNHEALTHY$/m)
    assert.equal((await admin('PUT', `/upstreams/manual.test/targets/${ta}/healthy`)).status, 204)
    assert.equal((await admin('PUT', `/upstreams/manual.test/targets/${tb}/healthy`)).status, 204)
    assert.deepEqual(await healthOf(gw, 'manual.test'), { [ta]: 'HEALTHY', [tb]: 'HEALTHY' })
    a.served = 0
    for (let i = 0; i < 20; i++) assert.equal((await call('GET', gw.proxyUrl + '/manual')).status, 200)
    assert.ok(a.served >= 5, `a got ${a.served} of 20 once healthy again`)
  })

  test('health checks off: HEALTHCHECKS_OFF, manual change refused with 400', async () => {
    await admin('POST', '/upstreams', { name: 'off.test' })
    await admin('POST', '/upstreams/off.test/targets', { target: `127.0.0.1:${a.port}` })
    const h = await admin('GET', '/upstreams/off.test/health')
    assert.equal(h.body.data[0].health, 'HEALTHCHECKS_OFF')
    assert.equal(h.body.data[0].data.addresses[0].health, 'HEALTHCHECKS_OFF')
    const res = await admin('PUT', `/upstreams/off.test/targets/127.0.0.1:${a.port}/unhealthy`)
    assert.equal(res.status, 400)
    assert.equal(res.body.message, 'no healthchecker found for off.test')
  })
})

describe('health checks (2 workers share one view)', () => {
  let gw: TestGateway
  const a = backend('a')
  const b = backend('b')
  before(async () => {
    await a.start()
    await b.start()
    gw = await startTestGateway({ workers: 2 })
  })
  after(async () => {
    await gw.stop()
    await a.stop().catch(() => {})
    await b.stop().catch(() => {})
  })

  test('active probes run once per node; their verdict reaches both workers', async () => {
    const admin = (m: string, p: string, body?: unknown) => call(m, gw.adminUrl + p, body)
    assert.equal((await admin('POST', '/upstreams', { name: 'two.test', healthchecks: healthchecks(0.25) })).status, 201)
    await admin('POST', '/upstreams/two.test/targets', { target: `127.0.0.1:${a.port}` })
    await admin('POST', '/upstreams/two.test/targets', { target: `127.0.0.1:${b.port}` })
    await admin('POST', '/services', { name: 'two', host: 'two.test', path: '/' })
    await admin('POST', '/services/two/routes', { paths: ['/two'] })
    const start = a.probes
    await new Promise((r) => setTimeout(r, 2000))
    const probes = a.probes - start
    // 2 s / 0.25 s = 8 probes for one prober; two per-worker probers would make ~16.
    assert.ok(probes >= 5 && probes <= 10, `probes of a in 2 s: ${probes}`)

    // a goes down: the active probes (run by the primary) mark it unhealthy once, for the node.
    await a.stop()
    await eventually(async () => (await healthOf(gw, 'two.test'))[`127.0.0.1:${a.port}`] === 'UNHEALTHY', 5000, 'a unhealthy')
    const refusedBefore = (gw.errorLog().match(/Connection refused/g) ?? []).length
    // New connection each time (the backend closes them too): both workers serve, none tries a.
    for (let i = 0; i < 40; i++) {
      const res = await call('GET', gw.proxyUrl + '/two', undefined, { connection: 'close' })
      assert.equal(res.status, 200)
    }
    const refusedAfter = (gw.errorLog().match(/Connection refused/g) ?? []).length
    assert.equal(refusedAfter, refusedBefore, 'a worker still sent traffic to the unhealthy target')
  })
})
