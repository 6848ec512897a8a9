/**
 * `POST /trace` and `turnpike trace` against a real gateway: for a table of requests over
 * overlapping routes (hosts with wildcards, regex paths with regex_priority, prefixes of several
 * lengths, headers, methods, snis, https-only), the route the trace names is the route the proxy
 * really takes (read from `Kong-Debug` headers on the same request sent through the proxy to a
 * real echo upstream); then plugin decisions, the upstream request, the balancer's pick, `--send`
 * and hostile input.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'
import { closedPort } from '../../helpers/ports.js'
import { startTlsUpstream, type TlsUpstream } from '../../helpers/misbehaving.js'
import { runTurnpike } from '../../helpers/cli.js'
import { admin, rawRequest, rawText, settle } from '../proxy/helpers.js'
import type { TraceResult } from '../../../src/doctor/trace.js'

type Req = { method: string; host: string; path: string; headers?: [string, string][] }

/** [request, the route the trace must name (null: none)] */
const TABLE: ReadonlyArray<readonly [Req, string | null]> = [
  [{ method: 'GET', host: 'api.example.com', path: '/x' }, 'host-exact'],
  [{ method: 'GET', host: 'foo.example.com', path: '/x' }, 'host-wild'],
  [{ method: 'GET', host: 'foo.example.com', path: '/v1/users' }, 'host-wild-v1'],
  // plain hosts outrank wildcards before path length counts
  [{ method: 'GET', host: 'api.example.com', path: '/v1/users' }, 'host-exact'],
  [{ method: 'GET', host: 'other.test', path: '/p/long/x' }, 'prefix-long'],
  [{ method: 'GET', host: 'other.test', path: '/p/x' }, 'prefix-short'],
  [{ method: 'GET', host: 'other.test', path: '/r/5' }, 'regex-high'],
  [{ method: 'GET', host: 'other.test', path: '/r/x' }, 'regex-vs-prefix'],
  [{ method: 'POST', host: 'other.test', path: '/m' }, 'method-post'],
  [{ method: 'GET', host: 'other.test', path: '/m' }, 'method-any'],
  [{ method: 'GET', host: 'other.test', path: '/h', headers: [['X-Version', 'v2']] }, 'hdr-v2'],
  [{ method: 'GET', host: 'other.test', path: '/h', headers: [['X-Version', 'v3']] }, 'hdr-none'],
  [{ method: 'GET', host: 'other.test', path: '/h' }, 'hdr-none'],
  // snis do not filter plain-http requests, but count for priority
  [{ method: 'GET', host: 'other.test', path: '/sni' }, 'sni-route'],
  [{ method: 'GET', host: 'other.test', path: '/strip/a' }, 'strip'],
  [{ method: 'GET', host: 'other.test', path: '/keep/a' }, 'nostrip'],
  [{ method: 'GET', host: 'other.test', path: '/nothing-here' }, null],
  [{ method: 'GET', host: 'other.test', path: '/secure' }, 'https-only'],
  [{ method: 'GET', host: 'other.test', path: '/pool' }, 'pool'],
  [{ method: 'GET', host: 'other.test', path: '/P/long' }, null],
]

describe('turnpike trace', () => {
  let gw: TestGateway
  let up: TestUpstream
  let dead: number
  let tls: TlsUpstream

  async function trace(body: Record<string, unknown>): Promise<TraceResult> {
    const res = await call('POST', `${gw.adminUrl}/trace`, body)
    assert.equal(res.status, 200, res.text)
    return res.body as TraceResult
  }

  function traceOf(r: Req, extra: Record<string, unknown> = {}): Promise<TraceResult> {
    return trace({
      method: r.method,
      url: `http://${r.host}:${gw.proxyPort}${r.path}`,
      headers: (r.headers ?? []).map(([n, v]) => `${n}: ${v}`),
      ...extra,
    })
  }

  before(async () => {
    up = await startUpstream()
    dead = await closedPort()
    tls = await startTlsUpstream()
    gw = await startTestGateway({ settings: { allow_debug_header: 'on' } })
    await admin(gw, '/services', { name: 'echo', url: up.url })
    await admin(gw, '/services', { name: 'based', url: `${up.url}/base` })
    await admin(gw, '/upstreams', { name: 'pool', healthchecks: { passive: { unhealthy: { tcp_failures: 1 } } } })
    await admin(gw, '/upstreams/pool/targets', { target: `127.0.0.1:${up.port}`, weight: 100 })
    await admin(gw, '/upstreams/pool/targets', { target: `127.0.0.1:${dead}`, weight: 100 })
    await admin(gw, '/services', { name: 'pooled', host: 'pool', port: 80 })
    const r = (body: Record<string, unknown>, service = 'echo'): Promise<unknown> => admin(gw, `/services/${service}/routes`, body)
    await r({ name: 'host-exact', hosts: ['api.example.com'], paths: ['/'] })
    await r({ name: 'host-wild', hosts: ['*.example.com'], paths: ['/'] })
    await r({ name: 'host-wild-v1', hosts: ['*.example.com'], paths: ['/v1'] })
    await r({ name: 'prefix-short', paths: ['/p'] })
    await r({ name: 'prefix-long', paths: ['/p/long'] })
    await r({ name: 'regex-low', paths: ['~/r/\\d+$'], regex_priority: 1 })
    await r({ name: 'regex-high', paths: ['~/r/[0-9]+$'], regex_priority: 10 })
    await r({ name: 'regex-vs-prefix', paths: ['/r'] })
    await r({ name: 'method-post', paths: ['/m'], methods: ['POST'] })
    await r({ name: 'method-any', paths: ['/m'] })
    await r({ name: 'hdr-v2', paths: ['/h'], headers: { 'x-version': ['v2'] } })
    await r({ name: 'hdr-none', paths: ['/h'] })
    await r({ name: 'sni-route', paths: ['/sni'], snis: ['a.example.com'], protocols: ['http', 'https'] })
    await r({ name: 'sni-plain', paths: ['/sni'] })
    await r({ name: 'https-only', paths: ['/secure'], protocols: ['https'] })
    await r({ name: 'strip', paths: ['/strip'], strip_path: true }, 'based')
    await r({ name: 'nostrip', paths: ['/keep'], strip_path: false }, 'based')
    await r({ name: 'pool', paths: ['/pool'] }, 'pooled')
    // plugins
    await r({ name: 'auth', paths: ['/auth'] })
    await admin(gw, '/routes/auth/plugins', { name: 'key-auth' })
    await admin(gw, '/routes/auth/plugins', { name: 'acl', config: { allow: ['gold'] } })
    await admin(gw, '/consumers', { username: 'alice' })
    await admin(gw, '/consumers/alice/key-auth', { key: 'alice-secret-key' })
    await admin(gw, '/consumers/alice/acls', { group: 'gold' })
    await admin(gw, '/consumers', { username: 'bob' })
    await admin(gw, '/consumers/bob/key-auth', { key: 'bob-secret-key' })
    await admin(gw, '/consumers/bob/acls', { group: 'silver' })
    await r({ name: 'ip', paths: ['/ip'] })
    await admin(gw, '/routes/ip/plugins', { name: 'ip-restriction', config: { allow: ['10.0.0.0/8'] } })
    await r({ name: 'term', paths: ['/term'] })
    await admin(gw, '/routes/term/plugins', { name: 'request-termination', config: { status_code: 503, message: 'down for maintenance' } })
    await r({ name: 'limited', paths: ['/limited'] })
    await admin(gw, '/routes/limited/plugins', { name: 'rate-limiting', config: { minute: 5 } })
    await r({ name: 'cors', paths: ['/cors'] })
    await admin(gw, '/routes/cors/plugins', { name: 'cors', config: { origins: ['http://app.test'] } })
    await r({ name: 'size', paths: ['/size'] })
    await admin(gw, '/routes/size/plugins', { name: 'request-size-limiting', config: { allowed_payload_size: 1, size_unit: 'kilobytes' } })
    await admin(gw, '/services', { name: 'secure-svc', url: `https://127.0.0.1:${tls.port}/` })
    await r({ name: 'tls', paths: ['/tls'] }, 'secure-svc')
    await admin(gw, '/services', { name: 'refusing', url: `http://127.0.0.1:${dead}` })
    await r({ name: 'refused', paths: ['/refused'] }, 'refusing')
    await r({ name: 'basic', paths: ['/basic'] })
    await admin(gw, '/routes/basic/plugins', { name: 'basic-auth' })
    await admin(gw, '/consumers/bob/basic-auth', { username: 'bob', password: 'open sesame' })
    await r({ name: 'transform', paths: ['/transform'] })
    await admin(gw, '/routes/transform/plugins', {
      name: 'request-transformer',
      config: { add: { headers: ['x-added:yes'], querystring: ['v:2'] }, remove: { headers: ['x-drop'] } },
    })
    const unhealthy = await call('PUT', `${gw.adminUrl}/upstreams/pool/targets/127.0.0.1:${dead}/unhealthy`)
    assert.equal(unhealthy.status, 204, unhealthy.text)
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
    await up?.close()
    await tls?.close()
  })

  test('for every request of the table, the trace names the route the proxy takes', async () => {
    for (const [req, expected] of TABLE) {
      const t = await traceOf(req)
      const what = `${req.method} ${req.host}${req.path}`
      assert.equal(t.route?.name ?? null, expected, `${what}: trace route`)
      const res = await rawRequest(
        gw.proxyPort,
        rawText(req.method, req.path, [['Host', req.host], ['Kong-Debug', '1'], ['Connection', 'close'], ...(req.headers ?? [])]),
      )
      const status = t.response?.status ?? 200
      assert.equal(res.status, status, `${what}: proxy status ${res.status}, trace says ${status}`)
      if (res.status === 200) assert.equal(res.headers['kong-route-name'], expected, `${what}: proxy route`)
      if (expected === null) assert.equal(t.response?.message, 'no Route matched with those values')
      assert.equal(t.ok, res.status === 200, `${what}: ok`)
    }
  })

  test('near misses say why each route missed, in priority order', async () => {
    const t = await traceOf({ method: 'GET', host: 'other.test', path: '/m' })
    const post = t.near_misses.find((m) => m.name === 'method-post')
    assert.deepEqual(post?.reasons, ['method GET not in [POST]'])
    const positions = t.near_misses.map((m) => m.position)
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
    )
    assert.ok(t.near_misses.length <= 10)

    const h = await traceOf({ method: 'GET', host: 'other.test', path: '/h' })
    assert.ok(h.near_misses.find((m) => m.name === 'hdr-v2')?.reasons.some((x) => x.startsWith('header x-version missing')))

    const host = await traceOf({ method: 'GET', host: 'example.org', path: '/x' })
    assert.equal(host.route, null)
    assert.equal(host.response?.status, 404)
    const exact = host.near_misses.find((m) => m.name === 'host-exact')
    assert.deepEqual(exact?.reasons, ['host example.org not in [api.example.com]'])

    const v1 = await traceOf({ method: 'GET', host: 'foo.example.com', path: '/v2/x' })
    assert.equal(v1.route?.name, 'host-wild')
    assert.deepEqual(v1.near_misses.find((m) => m.name === 'host-wild-v1')?.reasons, ['path /v2/x does not start with /v1'])

    const secure = await traceOf({ method: 'GET', host: 'other.test', path: '/secure' })
    assert.equal(secure.response?.status, 426)
    assert.match(secure.route?.notes[0] ?? '', /^protocol http not in \[https\] → 426/)

    const r = await traceOf({ method: 'GET', host: 'other.test', path: '/r/5' })
    assert.equal(r.route?.priority.regex, true)
    assert.equal(r.route?.priority.regex_priority, 10)
    assert.ok(r.near_misses.find((m) => m.name === 'regex-low')?.reasons[0]?.startsWith('would match too, but ranks after'))
  })

  test('https requests: snis count, https-only routes are served; the listener port stands in for a URL without one', async () => {
    const a = await trace({ method: 'GET', url: 'https://a.example.com/sni' })
    assert.equal(a.route?.name, 'sni-route')
    const b = await trace({ method: 'GET', url: 'https://b.test/sni' })
    assert.equal(b.route?.name, 'sni-plain')
    assert.deepEqual(b.near_misses.find((m) => m.name === 'sni-route')?.reasons, ['sni b.test not in [a.example.com]'])
    const secure = await trace({ method: 'GET', url: 'https://other.test/secure' })
    assert.equal(secure.route?.name, 'https-only')
    assert.deepEqual(secure.route?.notes, [])
    assert.equal(secure.upstream_request?.headers.find(([n]) => n === 'x-forwarded-proto')?.[1], 'https')

    const noPort = await trace({ method: 'GET', url: 'http://other.test/m' })
    assert.equal(noPort.upstream_request?.headers.find(([n]) => n === 'x-forwarded-port')?.[1], String(gw.proxyPort))
    assert.equal(noPort.upstream_request?.headers.find(([n]) => n === 'x-forwarded-host')?.[1], 'other.test')
  })

  test('key-auth and acl decisions: no key, unknown key, allowed and refused consumers', async () => {
    const none = await traceOf({ method: 'GET', host: 'other.test', path: '/auth' })
    assert.equal(none.response?.status, 401)
    assert.equal(none.response?.message, 'No API key found in request')
    const ka = none.plugins.find((p) => p.name === 'key-auth')
    assert.equal(ka?.outcome, 'refuses')
    assert.match(ka?.decision ?? '', /looked for "apikey"/)
    assert.equal(none.plugins.find((p) => p.name === 'acl')?.outcome, 'skipped')
    assert.equal(none.ok, false)

    const bad = await traceOf({ method: 'GET', host: 'other.test', path: '/auth', headers: [['apikey', 'not-a-real-key']] })
    assert.equal(bad.response?.status, 401)
    assert.equal(bad.response?.message, 'Unauthorized')
    const badDecision = bad.plugins.find((p) => p.name === 'key-auth')?.decision ?? ''
    assert.match(badDecision, /sha256:[0-9a-f]{8}/)
    assert.ok(!JSON.stringify(bad.plugins).includes('not-a-real-key'), 'the key is never shown in clear')

    const alice = await traceOf({ method: 'GET', host: 'other.test', path: '/auth', headers: [['apikey', 'alice-secret-key']] })
    assert.equal(alice.ok, true)
    assert.equal(alice.response, null)
    const aka = alice.plugins.find((p) => p.name === 'key-auth')
    assert.equal(aka?.outcome, 'authenticates')
    assert.match(aka?.decision ?? '', /consumer alice/)
    assert.equal(alice.plugins.find((p) => p.name === 'acl')?.outcome, 'passes')
    assert.deepEqual(
      alice.plugins.map((p) => p.name),
      ['key-auth', 'acl'],
      'access order: key-auth (1250) before acl (950)',
    )
    assert.equal(alice.upstream_request?.headers.find(([n]) => n.toLowerCase() === 'x-consumer-username')?.[1], 'alice')

    const bob = await traceOf({ method: 'GET', host: 'other.test', path: '/auth', headers: [['apikey', 'bob-secret-key']] })
    assert.equal(bob.response?.status, 403)
    assert.equal(bob.plugins.find((p) => p.name === 'acl')?.outcome, 'refuses')
    // the proxy agrees
    const real = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/auth', [
        ['Host', 'other.test'],
        ['apikey', 'bob-secret-key'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal(real.status, 403)
  })

  test('basic-auth decisions and request-transformer changes, as the proxy makes them', async () => {
    const basic = (password: string): [string, string] => ['Authorization', `Basic ${Buffer.from(`bob:${password}`).toString('base64')}`]
    const wrong = await traceOf({ method: 'GET', host: 'other.test', path: '/basic', headers: [basic('nope')] })
    assert.equal(wrong.response?.status, 401)
    assert.equal(wrong.plugins[0]?.outcome, 'refuses')
    assert.ok(!JSON.stringify(wrong).includes(Buffer.from('bob:nope').toString('base64')), 'the Authorization value is fingerprinted')
    const right = await traceOf({ method: 'GET', host: 'other.test', path: '/basic', headers: [basic('open sesame')] })
    assert.equal(right.plugins[0]?.outcome, 'authenticates')
    assert.match(right.plugins[0]?.decision ?? '', /consumer bob/)

    const t = await traceOf({ method: 'GET', host: 'other.test', path: '/transform?a=1', headers: [['X-Drop', '1']] })
    const u = t.upstream_request
    assert.equal(u?.headers.find(([n]) => n.toLowerCase() === 'x-added')?.[1], 'yes')
    assert.ok(u?.removed_headers.includes('x-drop'))
    assert.equal(t.plugins[0]?.outcome, 'passes')
    // the proxy sends the same
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/transform?a=1', [
        ['Host', 'other.test'],
        ['X-Drop', '1'],
        ['Connection', 'close'],
      ]),
    )
    const echo = JSON.parse(res.body.toString()) as { url: string; headers: Record<string, string> }
    assert.equal(echo.headers['x-added'], 'yes')
    assert.equal(echo.headers['x-drop'], undefined)
    assert.equal(u?.path, echo.url)
  })

  test('ip-restriction, request-termination and rate-limiting decisions', async () => {
    const local = await traceOf({ method: 'GET', host: 'other.test', path: '/ip' })
    assert.equal(local.response?.status, 403)
    assert.equal(local.plugins[0]?.outcome, 'refuses')
    const allowed = await traceOf({ method: 'GET', host: 'other.test', path: '/ip' }, { client_ip: '10.1.2.3' })
    assert.equal(allowed.plugins[0]?.outcome, 'passes')
    assert.match(allowed.plugins[0]?.decision ?? '', /10\.1\.2\.3/)
    assert.equal(allowed.ok, true)

    const term = await traceOf({ method: 'GET', host: 'other.test', path: '/term' })
    assert.equal(term.response?.status, 503)
    assert.equal(term.response?.message, 'down for maintenance')
    assert.equal(term.plugins[0]?.outcome, 'refuses')

    const before = up.received.length
    const limited = await traceOf({ method: 'GET', host: 'other.test', path: '/limited' })
    assert.equal(limited.plugins[0]?.outcome, 'not-run')
    assert.match(limited.plugins[0]?.decision ?? '', /5\/minute/)
    assert.equal(up.received.length, before, 'a trace sends nothing upstream')
  })

  test('cors preflight and request-size-limiting decisions', async () => {
    const preflight = await traceOf({
      method: 'OPTIONS',
      host: 'other.test',
      path: '/cors',
      headers: [
        ['Origin', 'http://app.test'],
        ['Access-Control-Request-Method', 'POST'],
      ],
    })
    assert.equal(preflight.plugins[0]?.outcome, 'answers')
    assert.equal(preflight.response?.status, 200)
    assert.equal(preflight.response?.headers['access-control-allow-origin'], 'http://app.test')
    assert.equal(preflight.ok, true)

    const big = await traceOf({ method: 'POST', host: 'other.test', path: '/size' }, { body: 'x'.repeat(2000) })
    assert.equal(big.response?.status, 413)
    assert.equal(big.plugins[0]?.outcome, 'refuses')
    const small = await traceOf({ method: 'POST', host: 'other.test', path: '/size' }, { body: 'x'.repeat(10) })
    assert.equal(small.plugins[0]?.outcome, 'passes')
    assert.equal(small.upstream_request?.body_bytes, 10)
  })

  test('the upstream request: strip_path and the service path, forwarded headers, hop-by-hop removed', async () => {
    const strip = await traceOf({
      method: 'GET',
      host: 'other.test',
      path: '/strip/a?q=1',
      headers: [
        ['Connection', 'keep-alive, x-hop'],
        ['X-Hop', '1'],
      ],
    })
    const u = strip.upstream_request
    assert.equal(u?.path, '/base/a?q=1')
    assert.equal(u?.url, `http://127.0.0.1:${up.port}/base/a?q=1`)
    assert.equal(u?.host_header, `127.0.0.1:${up.port}`)
    assert.ok(u?.added_headers.includes('x-forwarded-for'))
    assert.ok(u?.added_headers.includes('x-forwarded-prefix'))
    assert.ok(u?.removed_headers.includes('x-hop'))
    assert.equal(u?.target.balancer, null)
    const keep = await traceOf({ method: 'GET', host: 'other.test', path: '/keep/a' })
    assert.equal(keep.upstream_request?.path, '/base/keep/a')
    // the proxy sends the same path
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/strip/a?q=1', [
        ['Host', 'other.test'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal((JSON.parse(res.body.toString()) as { url: string }).url, '/base/a?q=1')
  })

  test('the balancer picks the healthy target and says the other is unhealthy', async () => {
    for (let i = 0; i < 3; i++) {
      const t = await traceOf({ method: 'GET', host: 'other.test', path: '/pool' })
      const b = t.upstream_request?.target.balancer
      assert.equal(b?.upstream, 'pool')
      assert.equal(t.upstream_request?.target.port, up.port)
      assert.deepEqual(
        b?.addresses.map((a) => [a.address, a.healthy, a.picked]),
        [
          [`127.0.0.1:${up.port}`, true, true],
          [`127.0.0.1:${dead}`, false, false],
        ],
      )
      assert.match(b?.why ?? '', /unhealthy, not picked/)
    }
  })

  test('send: the request goes out and each phase is timed', async () => {
    const before = up.received.length
    const t = await traceOf({ method: 'GET', host: 'api.example.com', path: '/sent' }, { send: true })
    const s = t.sent
    assert.ok(s !== null)
    assert.equal(s.error, null)
    assert.equal(s.status, 200)
    assert.equal(s.dns_ms, null, 'an IP literal needs no DNS')
    assert.equal(typeof s.connect_ms, 'number')
    assert.equal(s.tls_ms, null)
    assert.equal(typeof s.first_byte_ms, 'number')
    assert.ok(s.total_ms >= (s.first_byte_ms ?? 0))
    assert.equal(up.received.length, before + 1)
    assert.equal(up.received.at(-1)?.url, '/sent')
    assert.match(s.body_preview, /"url":"\/sent"/)

    const secure = await traceOf({ method: 'GET', host: 'other.test', path: '/tls' }, { send: true })
    assert.equal(secure.sent?.status, 200, JSON.stringify(secure.sent))
    assert.equal(typeof secure.sent?.tls_ms, 'number')
    assert.ok((secure.sent?.tls_ms ?? 0) >= (secure.sent?.connect_ms ?? Infinity))
    assert.match(secure.sent?.tls?.protocol ?? '', /^TLSv1\.[23]$/)
    assert.equal(secure.sent?.body_preview, '{"tls":true}')

    const down = await traceOf({ method: 'GET', host: 'other.test', path: '/refused' }, { send: true })
    assert.equal(down.ok, true, 'the trace itself sees nothing wrong before sending')
    assert.equal(down.sent?.error, 'ECONNREFUSED')
    assert.equal(down.sent?.status, null)

    const refused = await trace({ method: 'GET', url: `http://x:${gw.proxyPort}/dead-end-${Date.now()}`, send: true })
    assert.equal(refused.sent, null, 'nothing is sent when the gateway answers itself')
  })

  test('hostile input: 400 with a message, never 500', async () => {
    const cases: Record<string, unknown>[] = [
      { method: 'G E T', url: 'http://x/' },
      { method: 'GET' },
      { method: 'GET', url: 'ftp://x/' },
      { method: 'GET', url: `http://x/${'a'.repeat(9000)}` },
      { method: 'GET', url: 'http://x/ space' },
      { method: 'GET', url: 'http://x/', headers: ['X-Bad: a\r\nb: c'] },
      { method: 'GET', url: 'http://x/', headers: ['no colon'] },
      { method: 'GET', url: 'http://x/', headers: Array.from({ length: 101 }, (_, i) => `x-${i}: 1`) },
      { method: 'GET', url: 'http://x/', body: 'a'.repeat(1024 * 1024 + 1) },
      { method: 'GET', url: 'http://x/', client_ip: 'nope' },
      { method: 'GET', url: 'http://x/', send: 'yes' },
      { method: 7, url: 'http://x/' },
    ]
    for (const c of cases) {
      const res = await call('POST', `${gw.adminUrl}/trace`, JSON.stringify(c), { 'content-type': 'application/json' })
      assert.equal(res.status, 400, `${JSON.stringify(c).slice(0, 80)} → ${res.status} ${res.text.slice(0, 200)}`)
      assert.equal(typeof res.body.message, 'string')
    }
    const bad = await call('POST', `${gw.adminUrl}/trace`, '{"method":', { 'content-type': 'application/json' })
    assert.equal(bad.status, 400)
    // what nginx refuses before routing, the trace refuses the same way
    const twoHosts = await trace({ method: 'GET', url: `http://other.test:${gw.proxyPort}/m`, headers: ['Host: a.test', 'Host: b.test'] })
    assert.equal(twoHosts.response?.status, 400)
    assert.equal(twoHosts.upstream_request, null)
    assert.equal(twoHosts.ok, false)
    const real = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/m', [
        ['Host', 'a.test'],
        ['Host', 'b.test'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal(real.status, 400)
    // a header named like a prototype key is just a header
    const proto = await trace({ method: 'GET', url: `http://other.test:${gw.proxyPort}/m`, headers: ['__proto__: x', 'constructor: y'] })
    assert.equal(proto.route?.name, 'method-any')
  })

  test('CLI: human output and --json, exit codes', async () => {
    const env = { TURNPIKE_PREFIX: gw.prefix }
    const human = await runTurnpike(
      ['trace', 'GET', `http://localhost:${gw.proxyPort}/auth`, '-H', 'apikey: alice-secret-key', '-p', gw.prefix],
      env,
    )
    assert.equal(human.status, 0, human.stderr)
    assert.match(human.stdout, /route\s+auth → service echo/)
    assert.match(human.stdout, /✓ key-auth \(route, priority 1250\): authenticated: consumer alice/)
    assert.match(human.stdout, /upstream request\n {2}GET http:\/\/127\.0\.0\.1:\d+\/\n/)
    assert.ok(!human.stdout.includes('\x1b['), 'plain when piped')
    assert.ok(!human.stdout.includes('alice-secret-key'), 'the key is shown fingerprinted')
    assert.match(human.stdout, /apikey: alic… \(sha256:[0-9a-f]{8}\)/)

    const refused = await runTurnpike(['trace', 'GET', `http://localhost:${gw.proxyPort}/auth`, '-p', gw.prefix], env)
    assert.equal(refused.status, 1)
    assert.match(refused.stdout, /✗ key-auth .*refuses the request/)
    assert.match(refused.stdout, /answer\s+401 No API key found in request/)

    const json = await runTurnpike(
      ['trace', 'GET', `http://localhost:${gw.proxyPort}/auth`, '-H', 'apikey: k', '--json', '-p', gw.prefix],
      env,
    )
    assert.equal(json.status, 1)
    const parsed = JSON.parse(json.stdout) as TraceResult
    assert.equal(parsed.route?.name, 'auth')
    assert.equal(parsed.response?.status, 401)

    const usage = await runTurnpike(['trace', 'GET', '-p', gw.prefix], env)
    assert.equal(usage.status, 2)
    const invalid = await runTurnpike(['trace', 'GET', 'not-a-url', '-p', gw.prefix], env)
    assert.equal(invalid.status, 2)
    assert.match(invalid.stderr, /400 url: expected an absolute http/)
  })
})
