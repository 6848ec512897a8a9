/**
 * Hostile bodies on the proxy (hardening issue, findings 1 and 2): a form array index of four
 * billion, and a prototype-polluting form key, sent without credentials to a route whose plugin
 * reads the body, must not cost other clients their outcome. Also the Admin API's body limit is a
 * setting (nginx_admin_client_max_body_size).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { call, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { form, send, stopWithin } from './input-helpers.js'

describe('hardening: proxy body decoding', () => {
  let gw: TestGateway
  let up: TestUpstream
  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway({ settings: { nginx_admin_client_max_body_size: '64k' } })
    const admin = async (path: string, body: unknown): Promise<void> => {
      const res = await call('POST', `${gw.adminUrl}${path}`, body)
      assert.equal(res.status, 201, `${path}: ${res.text}`)
    }
    await admin('/services', { name: 'svc', url: up.url })
    await admin('/services/svc/routes', { name: 'echo', paths: ['/echo'] })
    await admin('/services/svc/routes', { name: 'secure', paths: ['/secure'] })
    await admin('/routes/echo/plugins', { name: 'request-termination', config: { status_code: 200, echo: true } })
    await admin('/routes/secure/plugins', { name: 'key-auth', config: { key_in_body: true } })
    await admin('/consumers', { username: 'victim' })
    await admin('/consumers/victim/key-auth', { key: 'victim-secret-key' })
    await eventually(async () => (await call('GET', `${gw.proxyUrl}/secure`)).status === 401, 5000, 'key-auth on /secure')
  })
  after(async () => {
    await stopWithin(gw)
    await up.close()
  })

  test('a body __proto__.apikey=<valid key> does not let later requests without a key pass key-auth', async () => {
    const hostile = await form(`${gw.proxyUrl}/echo`, '__proto__.apikey=victim-secret-key&constructor.prototype.apikey=victim-secret-key')
    assert.equal(hostile.status, 200)
    const keylessFirst = await send('GET', `${gw.proxyUrl}/secure`, undefined)
    assert.equal(keylessFirst.status, 401, `without a key: ${keylessFirst.text}`)
    assert.equal(hostile.body.request.body['__proto__.apikey'], 'victim-secret-key', 'read flat, as Kong get_body')
    const keyless = await send('GET', `${gw.proxyUrl}/secure`, undefined)
    assert.equal(keyless.status, 401, `without a key: ${keyless.text}`)
    const keylessBody = await form(`${gw.proxyUrl}/secure`, 'other=1')
    assert.equal(keylessBody.status, 401)
    const hostileOnSecure = await form(`${gw.proxyUrl}/secure`, '__proto__.apikey=victim-secret-key')
    assert.equal(hostileOnSecure.status, 401, 'a dotted name is not the key name')
    const keyed = await form(`${gw.proxyUrl}/secure`, 'apikey=victim-secret-key')
    assert.equal(keyed.status, 200, 'the real key still works')
  })

  test('get_body reads the first 100 form arguments (lua_max_post_args), as Kong', async () => {
    const fields = Array.from({ length: 150 }, (_, i) => `k${i}=v`).join('&')
    const res = await form(`${gw.proxyUrl}/echo`, fields)
    assert.equal(res.status, 200)
    assert.equal(Object.keys(res.body.request.body).length, 100)
  })

  test('a JSON body nested 100,000 deep is not decoded (cjson refuses it in Kong): the echo answers 200 without it', async () => {
    const deep = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`
    const res = await send('POST', `${gw.proxyUrl}/echo`, deep, { 'content-type': 'application/json' })
    assert.equal(res.status, 200, res.text.slice(0, 200))
    assert.equal(res.body.request.body, undefined)
    assert.equal(res.body.request.raw_body.length, deep.length)
  })

  test('the Admin API body limit follows nginx_admin_client_max_body_size', async () => {
    const res = await send('POST', `${gw.adminUrl}/consumers`, Buffer.alloc(65 * 1024, 'a'), { 'content-type': 'application/json' })
    assert.equal(res.status, 413)
    assert.equal((await call('POST', `${gw.adminUrl}/consumers`, { username: 'small' })).status, 201)
  })

  test('a form array index of 4294967294 is answered at once and other clients are served meanwhile', async () => {
    const hostile = form(`${gw.proxyUrl}/echo`, 'x[4294967294]=1', 'POST', 10_000)
    const other = send('GET', `${gw.proxyUrl}/secure?apikey=victim-secret-key`, undefined, {}, 10_000)
    const [h, o] = await Promise.all([hostile, other])
    assert.equal(h.status, 200)
    assert.ok(h.ms < 2000, `hostile body answered in ${Math.round(h.ms)} ms`)
    assert.equal(h.body.request.body['x[4294967294]'], '1')
    assert.equal(o.status, 200)
    assert.ok(o.ms < 2000, `other client answered in ${Math.round(o.ms)} ms`)
  })
})
