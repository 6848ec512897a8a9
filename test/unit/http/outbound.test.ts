/**
 * The outbound HTTP client adapter against real servers on 127.0.0.1: answers, refused
 * connections, read timeouts to the millisecond, the body size cap, and status-only requests.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { originOf, outbound } from '../../../src/http/outbound.js'

let server: Server
let origin = ''

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') {
      setTimeout(() => res.end('late'), 1500)
      return
    }
    if (req.url === '/big') {
      res.end(Buffer.alloc(4096, 97))
      return
    }
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      res.setHeader('x-seen-host', req.headers.host ?? '')
      res.statusCode = 201
      res.end(`${req.method} ${req.url} ${body}`)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  origin = originOf('http', '127.0.0.1', (server.address() as AddressInfo).port)
})
after(() => {
  server.closeAllConnections()
  server.close()
})

const base = { connectTimeoutMs: 2000, readTimeoutMs: 2000 }

describe('outbound requests', () => {
  test('sends method, path (as it is), host header and body; returns status, headers and body', async () => {
    for (const keepAlive of [undefined, { idleMs: 1000, connections: 2 }]) {
      const r = await outbound.request({
        ...base,
        method: 'POST',
        origin,
        path: '/a/../b?x=1',
        headers: { host: 'example.test' },
        body: 'hi',
        ...(keepAlive ? { keepAlive } : {}),
      })
      assert.ok(r.ok)
      assert.equal(r.status, 201)
      assert.equal(r.headers['x-seen-host'], 'example.test')
      assert.equal(r.body.toString(), 'POST /a/../b?x=1 hi')
    }
  })

  test('a refused connection is a typed failure with the system code', async () => {
    const probe = createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const port = (probe.address() as AddressInfo).port
    await new Promise<void>((r) => probe.close(() => r()))
    const r = await outbound.request({ ...base, method: 'GET', origin: originOf('http', '127.0.0.1', port), path: '/' })
    assert.ok(!r.ok)
    assert.equal(r.failure.kind, 'refused')
    assert.equal(r.failure.code, 'ECONNREFUSED')
    assert.equal(r.failure.phase, 'request')
  })

  test('the read timeout fires on time (not on a coarse clock)', async () => {
    const t0 = performance.now()
    const r = await outbound.request({ connectTimeoutMs: 2000, readTimeoutMs: 150, method: 'GET', origin, path: '/slow' })
    const took = performance.now() - t0
    assert.ok(!r.ok)
    assert.equal(r.failure.kind, 'timeout')
    assert.ok(took >= 140 && took < 600, `took ${took} ms`)
  })

  test('the total timeout bounds the whole exchange', async () => {
    const t0 = performance.now()
    const r = await outbound.request({
      connectTimeoutMs: 2000,
      readTimeoutMs: 2000,
      totalTimeoutMs: 120,
      method: 'GET',
      origin,
      path: '/slow',
    })
    assert.ok(!r.ok)
    assert.equal(r.failure.kind, 'timeout')
    assert.ok(performance.now() - t0 < 600)
  })

  test('a body over maxBodyBytes fails as too_large; discardBody returns the status only', async () => {
    const big = await outbound.request({ ...base, method: 'GET', origin, path: '/big', maxBodyBytes: 1000 })
    assert.ok(!big.ok)
    assert.equal(big.failure.kind, 'too_large')
    const head = await outbound.request({ ...base, method: 'GET', origin, path: '/big', discardBody: true })
    assert.ok(head.ok)
    assert.equal(head.status, 200)
    assert.equal(head.body.length, 0)
  })
})
