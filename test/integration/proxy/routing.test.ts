/**
 * Routing through the real proxy, table-driven from Kong 3.9's documented behaviour
 * (traditional_compatible router): strip_path × service path (v0 path handling), priorities,
 * hosts, methods, headers, path normalization, and the gateway's own routing answers
 * (404, 426 / 301, 503, disabled services). Which route matched is read from the debug headers
 * (`allow_debug_header=on`, `Kong-Debug: 1`).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'
import { admin, rawRequest, rawText, REQUEST_ID, settle } from './helpers.js'

/** Spec §2.2 (Kong's v0 path handling): [strip, route path, request path, S=none, S=/svc, S=/svc/]. */
const STRIP_TABLE: ReadonlyArray<readonly [boolean, string, string, string, string, string]> = [
  [true, '/foo', '/foo', '/', '/svc', '/svc'],
  [true, '/foo', '/foo/', '/', '/svc/', '/svc/'],
  [true, '/foo', '/foo/bar', '/bar', '/svc/bar', '/svc/bar'],
  [true, '/foo', '/foobar', '/bar', '/svc/bar', '/svc/bar'],
  [true, '/', '/x', '/x', '/svc/x', '/svc/x'],
  [false, '/foo', '/foo/bar', '/foo/bar', '/svc/foo/bar', '/svc/foo/bar'],
  [false, '/', '/', '/', '/svc', '/svc/'],
]
const SERVICE_PATHS = ['', '/svc', '/svc/'] as const

describe('routing through the proxy', () => {
  let gw: TestGateway
  let up: TestUpstream

  /** GET with a Host header and Kong-Debug; returns status, matched route name and upstream URL. */
  async function get(
    path: string,
    host: string,
    headers: ReadonlyArray<readonly [string, string]> = [],
    method = 'GET',
  ): Promise<{ status: number; route: string | undefined; url: string | undefined; body: string; headers: Record<string, string> }> {
    const res = await rawRequest(
      gw.proxyPort,
      rawText(method, path, [['Host', host], ['Kong-Debug', '1'], ['Connection', 'close'], ...headers]),
    )
    const body = res.body.toString()
    let url: string | undefined
    if (res.status === 200) url = (JSON.parse(body) as { url: string }).url
    return { status: res.status, route: res.headers['kong-route-name'], url, body, headers: res.headers }
  }

  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway({ settings: { allow_debug_header: 'on' } })
    // strip_path table: one service per service path, routes told apart by host.
    for (const [i, sp] of SERVICE_PATHS.entries()) {
      await admin(gw, '/services', { name: `svc${i}`, url: `${up.url}${sp}` })
      await admin(gw, `/services/svc${i}/routes`, {
        name: `strip-foo-${i}`,
        hosts: [`strip.s${i}.test`],
        paths: ['/foo'],
        strip_path: true,
      })
      await admin(gw, `/services/svc${i}/routes`, { name: `strip-root-${i}`, hosts: [`root.s${i}.test`], paths: ['/'], strip_path: true })
      await admin(gw, `/services/svc${i}/routes`, {
        name: `keep-${i}`,
        hosts: [`keep.s${i}.test`],
        paths: ['/foo', '/'],
        strip_path: false,
      })
    }
    await admin(gw, '/services', { name: 'echo', url: up.url })
    const r = (body: Record<string, unknown>): Promise<unknown> => admin(gw, '/services/echo/routes', body)
    // priorities (all on host prio.test unless said otherwise)
    await r({ name: 'prefix-api', hosts: ['prio.test'], paths: ['/api'] })
    await r({ name: 'prefix-api-users', hosts: ['prio.test'], paths: ['/api/users'] })
    await r({ name: 'regex-api-version', hosts: ['prio.test'], paths: ['~/api/v\\d+'] })
    await r({ name: 'regex-low', hosts: ['prio.test'], paths: ['~/items/\\d+$'], regex_priority: 1 })
    await r({ name: 'regex-high', hosts: ['prio.test'], paths: ['~/items/[0-9]+$'], regex_priority: 10 })
    await r({ name: 'path-only', hosts: ['prio.test'], paths: ['/weight'] })
    await r({ name: 'path-and-method', hosts: ['prio.test'], paths: ['/weight'], methods: ['POST'] })
    await r({ name: 'header-v2', hosts: ['prio.test'], paths: ['/hv'], headers: { 'x-version': ['v2', 'v3'] } })
    await r({ name: 'header-none', hosts: ['prio.test'], paths: ['/hv'] })
    // hosts
    await r({ name: 'host-plain', hosts: ['api.example.com'], paths: ['/h'] })
    await r({ name: 'host-suffix', hosts: ['*.example.com'], paths: ['/h'] })
    await r({ name: 'host-prefix', hosts: ['shop.*'], paths: ['/h'] })
    await r({ name: 'host-port', hosts: ['ports.test:8000'], paths: ['/h'] })
    await r({ name: 'host-listener-port', hosts: [`listener.test:${gw.proxyPort}`], paths: ['/h'] })
    // methods
    await r({ name: 'only-delete', hosts: ['methods.test'], methods: ['DELETE'] })
    // normalization
    await r({ name: 'public', hosts: ['norm.test'], paths: ['/public'], strip_path: false })
    await r({ name: 'admin', hosts: ['norm.test'], paths: ['/admin'], strip_path: false })
    // gateway answers
    await r({ name: 'https-only', hosts: ['secure.test'], protocols: ['https'] })
    await r({ name: 'https-301', hosts: ['moved.test'], protocols: ['https'], https_redirect_status_code: 301 })
    await admin(gw, '/routes', { name: 'no-service', hosts: ['orphan.test'] })
    await admin(gw, '/services', { name: 'off', url: up.url, enabled: false })
    await admin(gw, '/services/off/routes', { name: 'disabled-route', hosts: ['disabled.test'] })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
    await up?.close()
  })

  test('strip_path × service path: Kong v0 table, through the proxy', async () => {
    for (const [strip, routePath, reqPath, ...expected] of STRIP_TABLE) {
      for (const [i, want] of expected.entries()) {
        const host = strip ? (routePath === '/' ? `root.s${i}.test` : `strip.s${i}.test`) : `keep.s${i}.test`
        const res = await get(`${reqPath}?k=v`, host)
        const row = `strip=${strip} R=${routePath} P=${reqPath} S=${SERVICE_PATHS[i] || '(none)'}`
        assert.equal(res.status, 200, row)
        assert.equal(res.url, `${want}?k=v`, row)
      }
    }
  })

  test('prefix vs regex priority, regex_priority, longest prefix, match weight, headers', async () => {
    const cases: ReadonlyArray<readonly [string, string, string, ReadonlyArray<readonly [string, string]>?]> = [
      ['GET', '/api/v2/things', 'regex-api-version'], // a regex path beats a plain one
      ['GET', '/api/users/7', 'prefix-api-users'], // the longer prefix wins
      ['GET', '/api/other', 'prefix-api'],
      ['GET', '/apiary', 'prefix-api'], // a prefix is a plain string prefix
      ['GET', '/items/42', 'regex-high'], // higher regex_priority wins
      ['POST', '/weight', 'path-and-method'], // more matched fields win
      ['GET', '/weight', 'path-only'],
      ['GET', '/hv', 'header-v2', [['X-Version', 'V3']]], // header values are case-insensitive
      ['GET', '/hv', 'header-none', [['X-Version', 'v9']]],
      ['GET', '/hv', 'header-none'],
    ]
    for (const [method, path, want, headers] of cases) {
      const res = await get(path, 'prio.test', headers ?? [], method)
      assert.equal(res.status, 200, `${method} ${path}`)
      assert.equal(res.route, want, `${method} ${path}`)
    }
  })

  test('hosts: exact beats wildcard, suffix wildcard any depth, prefix wildcard, ports', async () => {
    const cases: ReadonlyArray<readonly [string, string | null]> = [
      ['api.example.com', 'host-plain'],
      ['API.Example.COM', 'host-plain'],
      ['www.example.com', 'host-suffix'],
      ['a.b.example.com', 'host-suffix'],
      ['shop.example.org', 'host-prefix'],
      ['ports.test:8000', 'host-port'],
      ['ports.test:9000', null],
      ['ports.test', null], // no port in Host: the listener port is compared, and it is not 8000
      ['listener.test', 'host-listener-port'],
      [`listener.test:${gw.proxyPort}`, 'host-listener-port'],
      ['example.com', null],
    ]
    for (const [host, want] of cases) {
      const res = await get('/h', host)
      if (want === null) assert.equal(res.status, 404, host)
      else assert.equal(res.route, want, host)
    }
  })

  test('methods: a DELETE-only route does not take GET', async () => {
    assert.equal((await get('/anything', 'methods.test', [], 'DELETE')).route, 'only-delete')
    const miss = await get('/anything', 'methods.test')
    assert.equal(miss.status, 404)
    assert.equal(miss.route, undefined)
  })

  test('path normalization: dot segments (plain and percent-encoded) cannot reach around a route', async () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ['/public/../admin', 'admin', '/admin'],
      ['/public/%2e%2e/admin', 'admin', '/admin'],
      ['/public/%2E%2E/admin', 'admin', '/admin'],
      ['/public/./x/../y', 'public', '/public/y'],
      ['//public//a', 'public', '/public/a'],
      ['/public/..%2Fadmin', 'public', '/public/..%2Fadmin'], // an encoded slash stays encoded: no dot segment
      ['/%70ublic/x', 'public', '/public/x'], // unreserved characters are decoded
    ]
    for (const [path, route, upstream] of cases) {
      const res = await get(path, 'norm.test')
      assert.equal(res.route, route, path)
      assert.equal(res.url, upstream, path)
    }
    assert.equal((await get('/public/%zz', 'norm.test')).status, 400, 'broken percent-encoding is refused')
  })

  test('no route → 404 `no Route matched with those values`', async () => {
    const res = await call('GET', `${gw.proxyUrl}/nowhere`, undefined, { host: 'nothing.test' })
    assert.equal(res.status, 404)
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    assert.match(res.text, /^\{\n {2}"message":"no Route matched with those values",\n {2}"request_id":"[0-9a-f]{32}"\n\}$/)
    assert.equal(res.body.request_id, res.headers['x-kong-request-id'])
  })

  test('https-only route over http → 426 `Please use HTTPS protocol` with Connection/Upgrade headers', async () => {
    const res = await get('/pay?x=1', 'secure.test')
    assert.equal(res.status, 426)
    assert.equal(res.headers['upgrade'], 'TLS/1.2, HTTP/1.1')
    assert.equal(res.headers['connection'], 'Upgrade')
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(res.route, 'https-only')
    const body = JSON.parse(res.body) as { message: string; request_id: string }
    assert.equal(body.message, 'Please use HTTPS protocol')
    assert.match(body.request_id, REQUEST_ID)
  })

  test('https_redirect_status_code=301 → Location https://<host without port><request uri>', async () => {
    const res = await get('/cart/../checkout?step=2', `Moved.Test:${gw.proxyPort}`)
    assert.equal(res.status, 301)
    assert.equal(res.headers['location'], 'https://moved.test/cart/../checkout?step=2')
    assert.equal(res.headers['content-length'], '0')
    assert.match(res.headers['x-kong-request-id'] ?? '', REQUEST_ID)
  })

  test('route without a service → 503 `no Service found with those values`', async () => {
    const res = await call('GET', `${gw.proxyUrl}/x`, undefined, { host: 'orphan.test' })
    assert.equal(res.status, 503)
    assert.equal(res.body.message, 'no Service found with those values')
  })

  test("a disabled service's routes are not routed → 404", async () => {
    const res = await call('GET', `${gw.proxyUrl}/x`, undefined, { host: 'disabled.test' })
    assert.equal(res.status, 404)
    assert.equal(res.body.message, 'no Route matched with those values')
  })
})
