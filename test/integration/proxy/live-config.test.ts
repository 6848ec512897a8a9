/**
 * Configuration changes without restarts: Admin API writes become visible on every worker's proxy
 * while traffic flows, and not one request fails during the swaps. Also measures the time from an
 * Admin API write to proxy visibility (reported as a diagnostic, not asserted: speed targets live in
 * benchmarks).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Agent, request } from 'undici'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

describe('live configuration changes', () => {
  let gw: TestGateway
  let up: TestUpstream
  before(async () => {
    up = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok')
    })
    gw = await startTestGateway({ workers: 2 })
    assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 'stable', url: up.url })).status, 201)
    assert.equal((await call('POST', `${gw.adminUrl}/services/stable/routes`, { name: 'stable', paths: ['/stable'] })).status, 201)
    // The load starts once both workers serve the route: a request answered before a worker has
    // its first configuration is a start-up race, not a swap.
    await gw.waitForLog(/\(1 routes\) live on all 2 workers/, 10_000)
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  test('writes under load: zero failed requests, every change visible', async (t) => {
    // Several keep-alive connections so both workers carry the load.
    const agent = new Agent({ connections: 8, pipelining: 1 })
    let running = true
    let ok = 0
    const failures: string[] = []
    const deadline = Date.now() + 15_000
    const load = Array.from({ length: 6 }, async () => {
      while (running && Date.now() < deadline) {
        try {
          const res = await request(`${gw.proxyUrl}/stable/x`, { dispatcher: agent })
          const body = await res.body.text()
          if (res.statusCode === 200 && body === 'ok') ok++
          else failures.push(`${res.statusCode} ${body.slice(0, 80)}`)
        } catch (err) {
          failures.push(String(err))
        }
      }
    })

    const visibility: number[] = []
    for (let i = 0; i < 15; i++) {
      const started = performance.now()
      const created = await call('POST', `${gw.adminUrl}/services/stable/routes`, { name: `r${i}`, paths: [`/new-${i}`] })
      assert.equal(created.status, 201)
      // Visible through the proxy: poll until the route answers (each worker is hit in turn).
      for (;;) {
        const res = await request(`${gw.proxyUrl}/new-${i}`, { dispatcher: agent })
        await res.body.dump()
        if (res.statusCode === 200) break
        assert.equal(res.statusCode, 404)
        if (performance.now() - started > 5000) assert.fail(`route /new-${i} not visible after 5 s`)
      }
      visibility.push(performance.now() - started)
      // Touch the stable service and route too: their swaps must not drop a request.
      assert.equal((await call('PATCH', `${gw.adminUrl}/services/stable`, { read_timeout: 30000 + i })).status, 200)
      assert.equal((await call('PATCH', `${gw.adminUrl}/routes/stable`, { tags: [`v${i}`] })).status, 200)
    }
    running = false
    await Promise.all(load)
    await agent.close()
    visibility.sort((a, b) => a - b)
    t.diagnostic(
      `write→proxy visibility over 15 writes (2 workers): median ${visibility[7]?.toFixed(1)} ms, max ${visibility[14]?.toFixed(1)} ms; ${ok} proxied requests during the changes, ${failures.length} failed`,
    )
    assert.deepEqual(failures, [])
    assert.ok(ok > 100, `load ran (${ok} requests)`)
    const line = await gw.waitForLog(/live on all 2 workers .* ms after the change/)
    assert.match(line, /\[info\]/)
  })
})
