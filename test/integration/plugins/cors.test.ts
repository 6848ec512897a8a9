/**
 * cors against the real gateway: preflights answered 200 by the gateway (the upstream never sees
 * them) or passed on with preflight_continue, allow-all, a single origin, lists and regexes with
 * `Vary: Origin`, credentials with `*` echoing the origin, exposed headers, max_age, private
 * network access, and the headers on an ordinary proxied response.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { call } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'

describe('cors plugin', () => {
  const fx = pluginSuite({}, async () => {
    const routes: Record<string, unknown> = {
      all: {},
      single: {
        origins: ['https://app.example.com'],
        methods: ['GET', 'POST'],
        headers: ['X-One', 'X-Two'],
        exposed_headers: ['X-Total'],
        max_age: 3600,
        credentials: true,
      },
      list: { origins: ['https://a.example.com', 'http://b.example.com:8080', '(.*)\\.example\\.org'] },
      star: { origins: ['https://a.example.com', '*'] },
      creds: { credentials: true },
      pna: { private_network: true },
      cont: { preflight_continue: true },
    }
    for (const [name, config] of Object.entries(routes)) await fx.route(name, [{ name: 'cors', config }])
  })

  const preflight = (path: string, origin: string, extra: Record<string, string> = {}) =>
    call('OPTIONS', `${fx.gw.proxyUrl}${path}`, undefined, { origin, 'access-control-request-method': 'POST', ...extra })

  test('preflight with defaults: 200 from the gateway, * and all methods, requested headers echoed', async () => {
    const before = fx.up.received.length
    const res = await preflight('/all', 'https://x.test', { 'access-control-request-headers': 'X-Custom, Content-Type' })
    assert.equal(res.status, 200)
    assert.equal(res.text, '')
    assert.equal(res.headers['access-control-allow-origin'], '*')
    assert.equal(res.headers['access-control-allow-methods'], 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT')
    assert.equal(res.headers['access-control-allow-headers'], 'X-Custom, Content-Type')
    assert.equal(res.headers['vary'], undefined, 'no Vary for allow-all')
    assert.equal(res.headers['access-control-allow-credentials'], undefined)
    assert.equal(res.headers['access-control-max-age'], undefined)
    assert.equal(fx.up.received.length, before, 'the upstream never saw the preflight')
  })

  test('an OPTIONS without Access-Control-Request-Method is not a preflight: proxied', async () => {
    const before = fx.up.received.length
    const res = await call('OPTIONS', `${fx.gw.proxyUrl}/all`, undefined, { origin: 'https://x.test' })
    assert.equal(res.status, 200)
    assert.equal(fx.up.received.length, before + 1)
    assert.equal(res.headers['access-control-allow-origin'], '*')
  })

  test('single origin: sent as is with Vary, configured methods/headers, max_age, credentials', async () => {
    const res = await preflight('/single', 'https://other.test')
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com')
    assert.equal(res.headers['vary'], 'Origin')
    assert.equal(res.headers['access-control-allow-methods'], 'GET,POST')
    assert.equal(res.headers['access-control-allow-headers'], 'X-One,X-Two')
    assert.equal(res.headers['access-control-max-age'], '3600')
    assert.equal(res.headers['access-control-allow-credentials'], 'true')
  })

  test('proxied response: origin, Vary appended to the upstream’s, exposed headers, credentials', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/single`, undefined, { origin: 'https://app.example.com' })
    assert.equal(res.status, 200)
    assert.equal(res.body.url, '/', 'reached the upstream')
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com')
    assert.equal(res.headers['access-control-expose-headers'], 'X-Total')
    assert.equal(res.headers['access-control-allow-credentials'], 'true')
    assert.equal(res.headers['vary'], 'Origin')
    assert.equal(res.headers['access-control-allow-methods'], undefined, 'preflight-only header')
  })

  test('Kong 3.9 adds the headers even without an Origin header', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/all`)
    assert.equal(res.headers['access-control-allow-origin'], '*')
  })

  test('origin list: exact (default port normalized), with port, regex by host; others get no ACAO', async () => {
    const a = await call('GET', `${fx.gw.proxyUrl}/list`, undefined, { origin: 'https://a.example.com:443' })
    assert.equal(a.headers['access-control-allow-origin'], 'https://a.example.com')
    assert.equal(a.headers['vary'], 'Origin')
    const b = await call('GET', `${fx.gw.proxyUrl}/list`, undefined, { origin: 'http://b.example.com:8080' })
    assert.equal(b.headers['access-control-allow-origin'], 'http://b.example.com:8080')
    const wrongPort = await call('GET', `${fx.gw.proxyUrl}/list`, undefined, { origin: 'http://b.example.com:9090' })
    assert.equal(wrongPort.headers['access-control-allow-origin'], undefined)
    const re = await preflight('/list', 'https://shop.example.org')
    assert.equal(re.headers['access-control-allow-origin'], 'https://shop.example.org')
    const reNo = await call('GET', `${fx.gw.proxyUrl}/list`, undefined, { origin: 'https://example.org.evil.test' })
    assert.equal(reNo.headers['access-control-allow-origin'], undefined, 'regexes are anchored at the end')
    assert.equal(reNo.headers['vary'], 'Origin')
    const none = await call('GET', `${fx.gw.proxyUrl}/list`, undefined, { origin: 'https://c.example.com' })
    assert.equal(none.status, 200, 'cors never refuses a request')
    assert.equal(none.headers['access-control-allow-origin'], undefined)
  })

  test('a * among several origins allows all (Kong 3.8 fix)', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/star`, undefined, { origin: 'https://anything.test' })
    assert.equal(res.headers['access-control-allow-origin'], '*')
  })

  test('credentials with allow-all: the origin is echoed, with Vary', async () => {
    const res = await preflight('/creds', 'https://spa.test')
    assert.equal(res.headers['access-control-allow-origin'], 'https://spa.test')
    assert.equal(res.headers['access-control-allow-credentials'], 'true')
    assert.equal(res.headers['vary'], 'Origin')
    const get = await call('GET', `${fx.gw.proxyUrl}/creds`, undefined, { origin: 'https://spa.test' })
    assert.equal(get.headers['access-control-allow-origin'], 'https://spa.test')
    assert.equal(get.headers['access-control-allow-credentials'], 'true')
  })

  test('private network access only when asked and enabled', async () => {
    const yes = await preflight('/pna', 'https://x.test', { 'access-control-request-private-network': 'true' })
    assert.equal(yes.headers['access-control-allow-private-network'], 'true')
    const notAsked = await preflight('/pna', 'https://x.test')
    assert.equal(notAsked.headers['access-control-allow-private-network'], undefined)
    const disabled = await preflight('/all', 'https://x.test', { 'access-control-request-private-network': 'true' })
    assert.equal(disabled.headers['access-control-allow-private-network'], undefined)
  })

  test('preflight_continue: the upstream answers the preflight and no CORS header is added', async () => {
    const before = fx.up.received.length
    const res = await preflight('/cont', 'https://x.test')
    assert.equal(res.status, 200)
    assert.equal(fx.up.received.length, before + 1)
    assert.equal(res.body.method, 'OPTIONS')
    assert.equal(res.headers['access-control-allow-origin'], undefined)
  })

  test('configuration: origins must be * or a valid regex; methods are checked; cors cannot be consumer-scoped', async () => {
    const bad = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'cors', config: { origins: ['(unclosed'] } })
    assert.equal(bad.status, 400)
    assert.match(bad.text, /'\(unclosed' is not a valid regex/)
    const method = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'cors', config: { methods: ['FETCH'] } })
    assert.equal(method.status, 400)
    const ok = await call('POST', `${fx.gw.adminUrl}/routes/all/plugins`, { name: 'cors' })
    assert.equal(ok.status, 409, 'one cors per route')
    const defaults = await call('GET', `${fx.gw.adminUrl}/routes/all/plugins`)
    const conf = defaults.body.data[0].config
    assert.deepEqual(conf.methods, ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'])
    assert.equal(conf.credentials, false)
    assert.equal(conf.private_network, false)
    assert.equal(conf.preflight_continue, false)
    assert.equal(conf.max_age, null)
    const consumer = await fx.admin('/consumers', { username: 'someone' })
    const scoped = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'cors', consumer: { id: consumer.body.id } })
    assert.equal(scoped.status, 400)
  })
})
