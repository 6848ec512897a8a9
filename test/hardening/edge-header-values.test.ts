/**
 * Hardening, HTTP edge: configuration values that become headers (finding 9). Kong writes them as
 * the bytes they are (UTF-8 text stays UTF-8 on the wire); no entity name may make a request fail
 * or hang.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { admin, settle } from '../integration/proxy/helpers.js'
import { countingUpstream, exchange, responses, type CountingUpstream } from './edge-helpers.js'

let gw: TestGateway
let up: CountingUpstream

/** A header value as received (node reads header bytes one per character) decoded as UTF-8. */
function utf8(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? Buffer.from(value, 'latin1').toString('utf8') : undefined
}

before(async () => {
  up = await countingUpstream()
  gw = await startTestGateway({ settings: { allow_debug_header: 'on' } })
  await admin(gw, '/services', { name: '服务', url: `http://127.0.0.1:${up.port}` })
  await admin(gw, `/services/${encodeURIComponent('服务')}/routes`, { name: '测试中文', paths: ['/cn'] })
  await admin(gw, `/routes/${encodeURIComponent('测试中文')}/plugins`, { name: 'key-auth' })
  const consumer = await admin(gw, '/consumers', { username: '测试用户', custom_id: 'Müller 测试' })
  const id = (consumer.body as { id: string }).id
  await admin(gw, `/consumers/${id}/key-auth`, { key: 'secret-key' })
  const evil = await admin(gw, '/consumers', { username: 'evil', custom_id: 'a\r\nX-Injected: 1\u0000' })
  await admin(gw, `/consumers/${(evil.body as { id: string }).id}/key-auth`, { key: 'evil-key' })
  await settle(gw)
})

after(async () => {
  await gw?.stop()
  await up?.close()
})

describe('non-ASCII configuration values as headers (finding 9)', () => {
  test('a consumer named 测试用户 is proxied, its name sent upstream as UTF-8 bytes', async () => {
    const x = await exchange(gw.proxyPort, 'GET /cn/x HTTP/1.1\r\nHost: x\r\napikey: secret-key\r\nConnection: close\r\n\r\n', {
      waitMs: 5000,
    })
    const r = responses(x.text)[0]
    assert.equal(r?.status, 200, x.text.slice(0, 400))
    const seen = up.completed.at(-1)
    assert.equal(utf8(seen?.headers['x-consumer-username']), '测试用户')
    assert.equal(utf8(seen?.headers['x-consumer-custom-id']), 'Müller 测试')
  })

  test('Kong-Debug on a route named 测试中文 answers, with the names as UTF-8 bytes', async () => {
    const x = await exchange(
      gw.proxyPort,
      'GET /cn/y HTTP/1.1\r\nHost: x\r\napikey: secret-key\r\nKong-Debug: 1\r\nConnection: close\r\n\r\n',
      { waitMs: 5000 },
    )
    const r = responses(x.text)[0]
    assert.equal(r?.status, 200, x.text.slice(0, 400))
    assert.equal(utf8(r?.headers['kong-route-name']), '测试中文')
    assert.equal(utf8(r?.headers['kong-service-name']), '服务')
  })

  test('gateway-made answers carry them too (401 without a key, Kong-Debug on)', async () => {
    const x = await exchange(gw.proxyPort, 'GET /cn/z HTTP/1.1\r\nHost: x\r\nKong-Debug: 1\r\nConnection: close\r\n\r\n', { waitMs: 5000 })
    const r = responses(x.text)[0]
    assert.equal(r?.status, 401, x.text.slice(0, 400))
    assert.equal(utf8(r?.headers['kong-route-name']), '测试中文')
  })

  test('a configured value with CR, LF or NUL is sent escaped (%0D%0A), never splitting the header block', async () => {
    const x = await exchange(gw.proxyPort, 'GET /cn/w HTTP/1.1\r\nHost: x\r\napikey: evil-key\r\nConnection: close\r\n\r\n', {
      waitMs: 5000,
    })
    assert.equal(responses(x.text)[0]?.status, 200, x.text.slice(0, 400))
    const seen = up.completed.at(-1)
    assert.equal(seen?.headers['x-consumer-custom-id'], 'a%0D%0AX-Injected: 1%00')
    assert.equal(seen?.headers['x-injected'], undefined)
  })
})
