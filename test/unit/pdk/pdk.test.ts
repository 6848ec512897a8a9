/**
 * The PDK implementation over a request exchange: namespaces made on first use (methods keep
 * working when a namespace is kept in a variable), case-insensitive header changes on the
 * upstream list, response headers set before the response exists, `ctx.plugin` per instance and
 * `ctx.shared` across them, log lines named after the running plugin.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RequestPdk, type PdkHost } from '../../../src/pdk/pdk.js'
import { lowerHeaderName, sameHeaderName } from '../../../src/codec/header-names.js'
import { headerObject, ResponseHeaderSet } from '../../../src/codec/response-headers.js'
import type { ErrorLog } from '../../../src/observability/error-log.js'

type TestHost = PdkHost & { lines: string[]; resp: ResponseHeaderSet | null; pending: ResponseHeaderSet | null }

/** A host with the exchange's response-header rules: changes before the response are kept for it. */
function host(over: Partial<PdkHost> = {}): TestHost {
  const lines: string[] = []
  const errorLog = { enabled: () => true, log: (level: string, msg: string) => lines.push(`${level} ${msg}`) } as unknown as ErrorLog
  const h: TestHost = {
    lines,
    resp: null,
    pending: null,
    requestId: 'rid',
    method: 'GET',
    scheme: 'http',
    hostHeader: 'Example.COM:8000',
    localPort: 8000,
    httpVersion: '1.1',
    rawUrl: '/a/b?x=1&x=2&flag',
    normalizedPath: '/a/b',
    headers: { host: 'Example.COM:8000', 'x-token': 't' },
    clientIp: '10.0.0.1',
    peerIp: '127.0.0.1',
    peerPort: 5555,
    trusted: false,
    route: { id: 'r1' },
    service: { id: 's1' },
    captures: null,
    entities: { select: () => null, selectByUnique: () => null, listByForeign: () => [], consumer: () => null },
    errorLog,
    startedAt: performance.now(),
    consumer: null,
    credential: null,
    upstreamHeaders: ['Host', 'up.example', 'X-Consumer-ID', 'forged', 'accept', '*/*'],
    upstreamMethod: 'GET',
    upstreamPath: '/b',
    upstreamQuery: 'x=1',
    upstreamBody: null,
    responseStatus: 0,
    get responseHeaders() {
      return h.resp === null ? null : h.resp.object()
    },
    responseHeader: (name) => h.resp?.get(name),
    setResponseHeader: (name, value) => (h.resp ?? (h.pending ??= ResponseHeaderSet.ofObject({}))).set(name, value),
    addResponseHeader: (name, value) => (h.resp ?? (h.pending ??= ResponseHeaderSet.ofObject({}))).add(name, value),
    clearResponseHeader: (name) => (h.resp ?? h.pending)?.clear(name),
    responseSource: 'service',
    upstreamStatus: undefined,
    upstreamHeadersReceived: null,
    upstreamLatency: () => undefined,
    readBody: async () => Buffer.alloc(0),
    exit: () => {},
    kongError: () => {},
    serialize: () => ({ request: { id: 'rid' } }),
    ...over,
  }
  return h
}

describe('RequestPdk', () => {
  test('request reads: host without port lower-cased, path, query (repeated and bare arguments), headers by any case', () => {
    const kong = new RequestPdk(host())
    const req = kong.request
    assert.equal(req.getHost(), 'example.com')
    assert.equal(req.getPath(), '/a/b')
    assert.equal(req.getRawPath(), '/a/b')
    assert.equal(req.getRawQuery(), 'x=1&x=2&flag')
    assert.deepEqual({ ...req.getQuery() }, { x: ['1', '2'], flag: true })
    assert.equal(req.getQueryArg('x'), '1')
    assert.equal(req.getHeader('X-Token'), 't')
    assert.equal(kong.request, req, 'one namespace object per request')
  })

  // Kong 3.9.3 kong/tools/http.lua get_header: `$http_<name>` holding ", " → get_headers()[name][1]
  test('a repeated request header: get_headers gives every value, get_header the first (Cookie: joined as $http_cookie)', () => {
    const headers = { host: 'a', location: ['l1', 'l2'], cookie: ['a=1', 'b=2'] }
    const req = new RequestPdk(host({ headers })).request
    assert.deepEqual(req.getHeaders()['location'], ['l1', 'l2'])
    assert.equal(req.getHeader('Location'), 'l1')
    assert.equal(req.getHeader('cookie'), 'a=1; b=2')
  })

  test('service.request: set replaces every case variant, clear removes them, add appends; names sent lower-case', () => {
    const h = host()
    const sr = new RequestPdk(h).service.request
    sr.setHeader('x-consumer-id', 'c1')
    sr.clearHeader('ACCEPT')
    sr.addHeader('X-Multi', 'a')
    sr.addHeader('x-multi', 'b')
    assert.deepEqual(h.upstreamHeaders, ['Host', 'up.example', 'x-consumer-id', 'c1', 'x-multi', 'a', 'x-multi', 'b'])
    assert.equal(sr.getHeader('X-CONSUMER-ID'), 'c1')
    assert.deepEqual(sr.getHeaders()['x-multi'], ['a', 'b'])
    sr.setRawBody('{"a":1}')
    assert.equal(sr.getHeader('content-length'), '7')
  })

  test('response headers: changes before the response are kept for it; after, they change it (any case)', () => {
    const h = host()
    const kong = new RequestPdk(h)
    kong.response.setHeader('X-RateLimit-Limit-Second', '5')
    kong.response.addHeader('X-Multi', 'a')
    kong.response.addHeader('x-multi', 'b')
    assert.equal(kong.response.getHeader('x-multi'), undefined, 'no response yet')
    assert.deepEqual(h.pending?.object(), { 'x-ratelimit-limit-second': '5', 'x-multi': ['a', 'b'] })
    h.resp = ResponseHeaderSet.ofList(['Content-Type', 'text/plain', 'Server', 'up'])
    kong.response.setHeader('content-type', 'application/json')
    kong.response.clearHeader('SERVER')
    kong.response.clearHeader('X-Nothing')
    assert.equal(kong.response.getHeader('CONTENT-TYPE'), 'application/json')
    assert.deepEqual(kong.response.getHeaders(), { 'content-type': 'application/json' })
  })

  test('ctx.plugin belongs to the running instance; ctx.shared to all of them', () => {
    const kong = new RequestPdk(host())
    kong.enter('a', 'id-a')
    kong.ctx.plugin['x'] = 1
    kong.ctx.shared['seen'] = 'a'
    kong.enter('b', 'id-b')
    assert.equal(kong.ctx.plugin['x'], undefined)
    assert.equal(kong.ctx.shared['seen'], 'a')
    kong.enter('a', 'id-a')
    assert.equal(kong.ctx.plugin['x'], 1)
  })

  test('client and log: authenticate records the consumer; log lines name the running plugin; a kept namespace still works', () => {
    const h = host()
    const kong = new RequestPdk(h)
    const client = kong.client
    client.authenticate({ id: 'c', username: 'u', custom_id: null }, null)
    assert.equal(h.consumer?.id, 'c')
    assert.equal(client.getConsumer()?.username, 'u')
    kong.enter('key-auth', 'i1')
    const log = kong.log
    log.warn('no key', { n: 1 })
    assert.deepEqual(h.lines, ['warn [key-auth] no key {"n":1}'])
    log.setSerializeValue?.('request.tag', 'x')
    assert.deepEqual(kong.serialize(), { request: { id: 'rid', tag: 'x' } })
  })
})

describe('header names', () => {
  test('lowerHeaderName lower-cases, for names seen before and past the bound of remembered ones', () => {
    const a = lowerHeaderName('X-RateLimit-Limit-Minute')
    assert.equal(a, 'x-ratelimit-limit-minute')
    assert.equal(lowerHeaderName('X-RateLimit-Limit-Minute'), a)
    // Past its bound names are still lower-cased (the cache no longer grows: not observable here).
    for (let i = 0; i < 2000; i++) assert.equal(lowerHeaderName(`X-Name-${i}`), `x-name-${i}`)
  })

  test('sameHeaderName compares ignoring case, length first', () => {
    assert.equal(sameHeaderName('Content-Length', 'content-length'), true)
    assert.equal(sameHeaderName('content-length', 'content-length'), true)
    assert.equal(sameHeaderName('Content-Type', 'content-length'), false)
    assert.equal(sameHeaderName('Content-Lengthx', 'content-length'), false)
  })
})

describe('PDK reads with hostile names', () => {
  test('get_body reads a form flat (first 100 args), get_query and get_header find own names only', async () => {
    const body = Buffer.from(
      '__proto__.apikey=k&x[4294967294]=1&constructor=c&' + Array.from({ length: 120 }, (_, i) => `f${i}=v`).join('&'),
    )
    const kong = new RequestPdk(
      host({
        rawUrl: '/a?__proto__=q&constructor=c2',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        readBody: async () => body,
      }),
    )
    const parsed = await kong.request.getBody()
    assert.ok(parsed !== null)
    assert.equal(parsed.args['__proto__.apikey'], 'k')
    assert.equal(parsed.args['x[4294967294]'], '1')
    assert.equal(Object.keys(parsed.args).length, 100)
    assert.equal(({} as Record<string, unknown>)['apikey'], undefined)
    assert.equal(kong.request.getQueryArg('__proto__'), 'q')
    assert.equal(kong.request.getQueryArg('constructor'), 'c2')
    assert.equal(kong.request.getQueryArg('toString'), undefined)
    assert.equal(kong.request.getHeader('constructor'), undefined, 'not Object.prototype.constructor')
  })

  test('lua_max_post_args / lua_max_uri_args: get_body and get_query read that many arguments', async () => {
    const many = Array.from({ length: 30 }, (_, i) => `k${i}=v`).join('&')
    const kong = new RequestPdk(
      host({
        maxPostArgs: 5,
        maxUriArgs: 7,
        rawUrl: `/a?${many}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        readBody: async () => Buffer.from(many),
      }),
    )
    assert.equal(Object.keys((await kong.request.getBody())?.args ?? {}).length, 5)
    assert.equal(Object.keys(kong.request.getQuery()).length, 7)
    const byDefault = new RequestPdk(host({ rawUrl: `/a?${Array.from({ length: 150 }, (_, i) => `q${i}`).join('&')}` }))
    assert.equal(Object.keys(byDefault.request.getQuery()).length, 100)
  })

  test('headerObject keeps __proto__ and constructor headers as ordinary own names', () => {
    const h = headerObject(['__proto__', 'a', '__Proto__', 'b', 'Constructor', 'c'])
    assert.deepEqual(Object.getOwnPropertyNames(h), ['__proto__', 'constructor'])
    assert.deepEqual(h['__proto__'], ['a', 'b'])
    assert.equal(Object.getPrototypeOf(h), Object.prototype)
  })
})
