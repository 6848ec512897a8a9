/**
 * write_timeout: an upstream that stops reading the request body (a stuck service, a full load
 * balancer queue) gets a 504 after write_timeout, with nginx's words and a hint, and the client
 * gets its answer instead of a cut connection.
 */
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { Readable } from 'node:stream'
import { request } from 'undici'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

let gw: TestGateway
let stuck: Server
const sockets: Socket[] = []

before(async () => {
  // Reads the request head, then never reads again: the body piles up in the kernel buffers.
  stuck = createServer((socket) => {
    sockets.push(socket)
    socket.once('data', () => socket.pause())
  })
  await new Promise<void>((r) => stuck.listen(0, '127.0.0.1', r))
  gw = await startTestGateway()
  const port = (stuck.address() as AddressInfo).port
  assert.equal(
    (
      await call('POST', `${gw.adminUrl}/services`, {
        name: 'stuck',
        url: `http://127.0.0.1:${port}`,
        write_timeout: 500,
        read_timeout: 30000,
        retries: 0,
      })
    ).status,
    201,
  )
  assert.equal((await call('POST', `${gw.adminUrl}/services/stuck/routes`, { paths: ['/upload'] })).status, 201)
  await eventually(
    async () =>
      (await call('GET', `${gw.proxyUrl}/nothing`)).status === 404 && (await call('GET', `${gw.adminUrl}/routes`)).body.data.length === 1,
    5000,
    'route',
  )
  await new Promise((r) => setTimeout(r, 200))
})

after(async () => {
  for (const s of sockets) s.destroy()
  stuck.close()
  await gw.stop()
})

test('an upstream that stops reading the body → 504 after write_timeout, with the hint', async () => {
  // 64 MiB streamed: far more than loopback socket buffers hold.
  const chunk = Buffer.alloc(1024 * 1024, 0x61)
  let sent = 0
  const body = Readable.from(
    (function* () {
      for (let i = 0; i < 64; i++) {
        sent++
        yield chunk
      }
    })(),
  )
  const started = Date.now()
  const res = await request(`${gw.proxyUrl}/upload`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/octet-stream', accept: 'application/json' },
  })
  const text = await res.body.text()
  const elapsed = Date.now() - started
  assert.equal(res.statusCode, 504)
  assert.match(text, /"message":"The upstream server is timing out"/)
  assert.ok(elapsed >= 450 && elapsed < 15_000, `answered after ${elapsed} ms for write_timeout=500`)
  assert.ok(sent < 64, 'the gateway stopped taking the body once the upstream stalled')
  const id = res.headers['x-kong-request-id'] as string
  const line = await gw.waitForLog(new RegExp(`while sending request to upstream.*request_id: "${id}"`))
  assert.match(line, /upstream timed out \(110: Connection timed out\) while sending request to upstream/)
  assert.match(line, /hint: ".*stopped reading the request body for more than write_timeout=500ms/)
})
