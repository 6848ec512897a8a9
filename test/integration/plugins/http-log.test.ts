/**
 * http-log against the real gateway: Kong's payload (one object, or an array when batching),
 * method, content type, custom headers and Basic credentials from the URL; retries with backoff
 * on a failing log server; a bounded queue that drops the oldest entries with a warning; and the
 * guarantee that a log server that never answers, or is down, does not slow proxied requests.
 */
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { closedPort } from '../../helpers/ports.js'
import { startUpstream, type Echo, type TestUpstream } from '../../helpers/upstream.js'
import { admin, settle } from '../proxy/helpers.js'

describe('http-log plugin', () => {
  let gw: TestGateway
  let up: TestUpstream
  let logs: TestUpstream
  let flaky: TestUpstream
  let flakyCalls = 0
  let blackhole: Server
  const held: Socket[] = []
  let blackholePort = 0
  let deadPort = 0

  before(async () => {
    up = await startUpstream()
    logs = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok')
    })
    flaky = await startUpstream((_req, res) => {
      flakyCalls++
      res.writeHead(flakyCalls <= 2 ? 500 : 200, { 'content-type': 'text/plain' })
      res.end(flakyCalls <= 2 ? 'log store unavailable' : 'ok')
    })
    // Accepts connections and never answers.
    blackhole = createServer((s) => {
      held.push(s)
      s.on('error', () => {})
    })
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r))
    blackholePort = (blackhole.address() as AddressInfo).port
    deadPort = await closedPort()
    gw = await startTestGateway()
    await admin(gw, '/services', { name: 'svc', url: up.url })
    for (const name of ['one', 'batch', 'retry', 'slow', 'down', 'full', 'plain'])
      await admin(gw, '/services/svc/routes', { name, paths: [`/${name}`] })
    const logUrl = `http://loguser:s3cret@127.0.0.1:${logs.port}/ingest?src=gw`
    await admin(gw, '/routes/one/plugins', {
      name: 'http-log',
      config: { http_endpoint: logUrl, method: 'PUT', headers: { 'X-Log-Token': 'abc' } },
    })
    await admin(gw, '/routes/batch/plugins', {
      name: 'http-log',
      config: { http_endpoint: `${logs.url}/batch`, queue: { max_batch_size: 5, max_coalescing_delay: 2 } },
    })
    await admin(gw, '/routes/retry/plugins', {
      name: 'http-log',
      config: { http_endpoint: `${flaky.url}/retry`, queue: { initial_retry_delay: 0.05, max_retry_delay: 0.2 } },
    })
    await admin(gw, '/routes/slow/plugins', {
      name: 'http-log',
      config: { http_endpoint: `http://127.0.0.1:${blackholePort}/never`, timeout: 10000 },
    })
    await admin(gw, '/routes/down/plugins', {
      name: 'http-log',
      config: { http_endpoint: `http://127.0.0.1:${deadPort}/down`, queue: { initial_retry_delay: 0.01, max_retry_time: 1 } },
    })
    await admin(gw, '/routes/full/plugins', {
      name: 'http-log',
      config: { http_endpoint: `http://127.0.0.1:${blackholePort}/full`, timeout: 10000, queue: { max_entries: 5 } },
    })
    await settle(gw)
  })
  after(async () => {
    await gw.stop()
    for (const s of held) s.destroy()
    blackhole.close()
    await Promise.all([up.close(), logs.close(), flaky.close()])
  })

  const posted = (path: string): Echo[] => logs.received.filter((e) => e.url.startsWith(path))

  test("one entry per request: Kong's serializer object, method, content type, headers, Basic credentials", async () => {
    const res = await call('GET', `${gw.proxyUrl}/one?x=1`, undefined, { authorization: 'Bearer t0ken' })
    assert.equal(res.status, 200)
    await eventually(async () => posted('/ingest').length === 1, 5000, 'the log POST')
    const [e] = posted('/ingest')
    assert.ok(e !== undefined)
    assert.equal(e.method, 'PUT')
    assert.equal(e.url, '/ingest?src=gw')
    assert.equal(e.headers['content-type'], 'application/json')
    assert.equal(e.headers['x-log-token'], 'abc')
    assert.equal(e.headers['authorization'], `Basic ${Buffer.from('loguser:s3cret').toString('base64')}`)
    const m = JSON.parse(e.body)
    assert.ok(!Array.isArray(m), 'max_batch_size 1: a single object')
    assert.equal(m.request.id, res.headers['x-kong-request-id'])
    assert.equal(m.request.headers.authorization, 'REDACTED')
    assert.deepEqual(m.request.querystring, { x: '1' })
    assert.equal(m.response.status, 200)
    assert.equal(m.route.name, 'one')
    assert.equal(m.service.name, 'svc')
  })

  test('max_batch_size > 1: entries go out together as a JSON array', async () => {
    await Promise.all(Array.from({ length: 5 }, (_, i) => call('GET', `${gw.proxyUrl}/batch/${i}`)))
    await eventually(async () => posted('/batch').length >= 1, 5000, 'the batch')
    const [e] = posted('/batch')
    assert.ok(e !== undefined)
    const batch = JSON.parse(e.body)
    assert.ok(Array.isArray(batch))
    assert.equal(batch.length, 5, 'a full batch goes out without waiting for max_coalescing_delay')
    assert.deepEqual(
      new Set(batch.map((m: { request: { uri: string } }) => m.request.uri)),
      new Set([0, 1, 2, 3, 4].map((i) => `/batch/${i}`)),
    )
  })

  test('a failing log server: the batch is retried with backoff until it is accepted', async () => {
    assert.equal((await call('GET', `${gw.proxyUrl}/retry`)).status, 200)
    await eventually(async () => flakyCalls >= 3, 5000, 'three attempts')
    const bodies = flaky.received.map((r) => JSON.parse(r.body).request.id)
    assert.equal(new Set(bodies).size, 1, 'the same entry each time')
    await gw.waitForLog(
      /\[http-log\].*handler could not process entries: request to 127\.0\.0\.1:\d+ returned status code 500 and body log store unavailable/,
    )
  })

  test('a log server that is down: retries stop after max_retry_time and the loss is logged', async () => {
    assert.equal((await call('GET', `${gw.proxyUrl}/down`)).status, 200)
    await gw.waitForLog(/\[http-log\].*failed request to 127\.0\.0\.1:\d+: ECONNREFUSED/)
    await gw.waitForLog(/\[http-log\].*could not send entries due to max_retry_time exceeded\. 1 queue entries were lost/, 8000)
  })

  test('a log server that never answers, or is down, does not slow proxied requests', async () => {
    const timed = async (path: string, n: number): Promise<number[]> => {
      const out: number[] = []
      for (let i = 0; i < n; i++) {
        const t = performance.now()
        const res = await call('GET', `${gw.proxyUrl}${path}`)
        out.push(performance.now() - t)
        assert.equal(res.status, 200)
      }
      return out
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
    await timed('/plain', 5) // warm-up
    const base = await timed('/plain', 30)
    const slow = await timed('/slow', 30)
    const down = await timed('/down', 30)
    const bound = median(base) * 5 + 50
    assert.ok(
      median(slow) < bound,
      `never-answering log server: median ${median(slow).toFixed(1)} ms vs ${median(base).toFixed(1)} ms without the plugin`,
    )
    assert.ok(
      median(down) < bound,
      `log server down: median ${median(down).toFixed(1)} ms vs ${median(base).toFixed(1)} ms without the plugin`,
    )
    assert.ok(Math.max(...slow) < 1000 && Math.max(...down) < 1000, 'no request waits for the log server')
  })

  test('a full queue drops the oldest entries with a warning', async () => {
    for (let i = 0; i < 12; i++) assert.equal((await call('GET', `${gw.proxyUrl}/full`)).status, 200)
    await gw.waitForLog(/\[http-log\].*queue [0-9a-f-]+: queue full, dropping old entries until processing is successful again/)
  })

  test("Kong's schema: method, content_type and headers are checked", async () => {
    const bad = await call('POST', `${gw.adminUrl}/plugins`, { name: 'http-log', config: { http_endpoint: logs.url, method: 'GET' } })
    assert.equal(bad.status, 400)
    assert.ok(bad.body.fields.config.method)
    const hdr = await call('POST', `${gw.adminUrl}/plugins`, {
      name: 'http-log',
      config: { http_endpoint: logs.url, headers: { Host: 'x' } },
    })
    assert.equal(hdr.status, 400)
    const missing = await call('POST', `${gw.adminUrl}/plugins`, { name: 'http-log', config: {} })
    assert.equal(missing.status, 400)
    assert.equal(missing.body.fields.config.http_endpoint, 'required field missing')
    const ok = await call('POST', `${gw.adminUrl}/schemas/plugins/validate`, { name: 'http-log', config: { http_endpoint: logs.url } })
    assert.equal(ok.status, 200)
  })
})
