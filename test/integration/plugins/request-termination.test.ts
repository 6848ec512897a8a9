/**
 * request-termination against the real gateway: Kong's default 503 body, default messages per
 * status, custom message, raw body with content_type, echo (Kong's shape), trigger by header or
 * query argument, and the configuration checks. The upstream is never called.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { call } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'

describe('request-termination plugin', () => {
  const fx = pluginSuite({}, async () => {
    const routes: Record<string, unknown> = {
      dflt: {},
      s401: { status_code: 401 },
      s502: { status_code: 502 },
      s418: { status_code: 418 },
      msg: { status_code: 403, message: 'Go away' },
      raw: { status_code: 200, body: '<h1>maintenance</h1>', content_type: 'text/html' },
      echo: { status_code: 200, echo: true },
      trig: { trigger: 'x-terminate' },
    }
    for (const [name, config] of Object.entries(routes)) await fx.route(name, [{ name: 'request-termination', config }])
  })

  test('default: 503 {"message":"Service unavailable"}, upstream not called', async () => {
    const before = fx.up.received.length
    const res = await call('GET', `${fx.gw.proxyUrl}/dflt`)
    assert.equal(res.status, 503)
    assert.deepEqual(res.body, { message: 'Service unavailable' })
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(fx.up.received.length, before)
  })

  test("Kong's default message per status; none for other statuses", async () => {
    assert.deepEqual((await call('GET', `${fx.gw.proxyUrl}/s401`)).body, { message: 'Unauthorized' })
    assert.deepEqual((await call('GET', `${fx.gw.proxyUrl}/s502`)).body, { message: 'Bad Gateway' })
    const teapot = await call('GET', `${fx.gw.proxyUrl}/s418`)
    assert.equal(teapot.status, 418)
    assert.equal(teapot.text, '')
  })

  test('custom message; raw body with its content type', async () => {
    const msg = await call('GET', `${fx.gw.proxyUrl}/msg`)
    assert.equal(msg.status, 403)
    assert.deepEqual(msg.body, { message: 'Go away' })
    const raw = await call('GET', `${fx.gw.proxyUrl}/raw`)
    assert.equal(raw.status, 200)
    assert.equal(raw.text, '<h1>maintenance</h1>')
    assert.equal(raw.headers['content-type'], 'text/html')
  })

  test('echo: the request as Kong shows it', async () => {
    const res = await call('POST', `${fx.gw.proxyUrl}/echo?a=1&flag`, { hello: 'world' }, { 'x-test': 'yes' })
    assert.equal(res.status, 200)
    const b = res.body
    assert.equal(b.message, undefined, 'no default message for 200')
    assert.equal(b.request.method, 'POST')
    assert.equal(b.request.scheme, 'http')
    assert.equal(b.request.host, '127.0.0.1')
    assert.equal(b.request.port, Number(new URL(fx.gw.proxyUrl).port))
    assert.equal(b.request.path, '/echo')
    assert.deepEqual(b.request.query, { a: '1', flag: true })
    assert.equal(b.request.headers['x-test'], 'yes')
    assert.deepEqual(b.request.body, { hello: 'world' })
    assert.equal(b.request.raw_body, '{"hello":"world"}')
    assert.equal(b.matched_route.name, 'echo')
    assert.equal(b.matched_service.name, 'svc')
    assert.equal(typeof b.kong.node_id, 'string')
    assert.equal(typeof b.kong.worker_pid, 'number')
    assert.equal(typeof b.kong.hostname, 'string')
  })

  test('trigger: only requests with the header or query argument are terminated', async () => {
    const before = fx.up.received.length
    assert.equal((await call('GET', `${fx.gw.proxyUrl}/trig`)).status, 200)
    assert.equal(fx.up.received.length, before + 1)
    assert.equal((await call('GET', `${fx.gw.proxyUrl}/trig`, undefined, { 'X-Terminate': '1' })).status, 503)
    assert.equal((await call('GET', `${fx.gw.proxyUrl}/trig?x-terminate`)).status, 503)
    assert.equal(fx.up.received.length, before + 1)
  })

  test("configuration: Kong's checks and messages", async () => {
    const cases: [unknown, RegExp][] = [
      [{ message: 'x', body: 'y' }, /message cannot be used with content_type or body/],
      [{ content_type: 'text/plain' }, /content_type requires a body/],
      [{ echo: true, body: 'y' }, /echo cannot be used with content_type and body/],
      [{ status_code: 600 }, /value should be between 100 and 599/],
    ]
    for (const [config, message] of cases) {
      const res = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'request-termination', config })
      assert.equal(res.status, 400, JSON.stringify(config))
      assert.match(res.text, message)
    }
    const res = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'request-termination', config: { message: 'x', body: 'y' } })
    assert.equal(res.body.fields.config, 'message cannot be used with content_type or body')
  })
})
