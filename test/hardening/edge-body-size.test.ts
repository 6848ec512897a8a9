/**
 * Hardening, HTTP edge: `nginx_http_client_max_body_size` (nginx's client_max_body_size) is
 * enforced on the proxy. A declared Content-Length over it is refused before any byte is read; a
 * chunked body is counted as it arrives and refused as soon as it passes the limit. Either way
 * the client gets 413 with Kong's `Payload too large` body, the connection is closed and the
 * upstream never gets a whole request. The limit is 1k here.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { TestGateway } from '../helpers/gateway.js'
import { exchange, responses, startEdgeGateway, type CountingUpstream } from './edge-helpers.js'

let gw: TestGateway
let up: CountingUpstream
let stop: () => Promise<void>

before(async () => {
  ;({ gw, up, stop } = await startEdgeGateway({ nginx_http_client_max_body_size: '1k' }))
})

after(async () => {
  await stop?.()
})

function chunked(parts: string[]): string {
  return parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n'
}

describe('nginx_http_client_max_body_size', () => {
  test('a Content-Length over the limit: 413 before the body is read, connection closed', async () => {
    const before = up.started()
    const x = await exchange(gw.proxyPort, 'POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n0123456789', { waitMs: 8000 })
    const r = responses(x.text)
    assert.equal(r[0]?.status, 413, x.text.slice(0, 300))
    assert.match(r[0]?.body ?? '', /Payload too large/)
    assert.equal(r[0]?.headers['connection'], 'close')
    assert.ok(x.closed, 'the connection is closed')
    assert.equal(up.started(), before, 'the upstream saw nothing')
    await gw.waitForLog(/client intended to send too large body: 2000 bytes/)
  })

  test('a chunked body that grows past the limit: 413, closed, the upstream gets no whole request', async () => {
    const completed = up.completed.length
    const head = 'POST /chunked-big HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'
    const x = await exchange(gw.proxyPort, [head, `258\r\n${'a'.repeat(600)}\r\n`, `258\r\n${'b'.repeat(600)}\r\n`], {
      gapMs: 100,
      waitMs: 8000,
    })
    const r = responses(x.text)
    assert.equal(r[0]?.status, 413, x.text.slice(0, 300))
    assert.deepEqual(JSON.parse(r[0]?.body ?? '{}').message, 'Payload too large')
    assert.ok(x.closed, 'the connection is closed')
    assert.equal(up.completed.slice(completed).filter((c) => c.url === '/chunked-big').length, 0)
    await gw.waitForLog(/client intended to send too large chunked body/)
  })

  test('bodies within the limit pass, declared or chunked', async () => {
    const a = await exchange(
      gw.proxyPort,
      `POST /fits HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n${'c'.repeat(1024)}`,
      { waitMs: 8000 },
    )
    assert.equal(responses(a.text)[0]?.status, 200, a.text.slice(0, 300))
    const b = await exchange(
      gw.proxyPort,
      `POST /fits-chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked(['d'.repeat(500), 'e'.repeat(500)])}`,
      { waitMs: 8000 },
    )
    assert.equal(responses(b.text)[0]?.status, 200, b.text.slice(0, 300))
    assert.equal(up.completed.find((c) => c.url === '/fits-chunked')?.body, 'd'.repeat(500) + 'e'.repeat(500))
  })
})
