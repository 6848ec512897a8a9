/**
 * The runloop without sockets: `Proxy` driven through the in-memory Downstream/UpstreamClient
 * pair (test/helpers/in-memory-edge.ts) over a compiled snapshot — routing branches, the upstream
 * attempt (retries, timeouts), the client going away, and requests nginx refuses.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { Route, Service } from '../../../src/entities/index.js'
import { buildSnapshot } from '../../../src/snapshot/snapshot.js'
import { MemoryDownstream, MemoryUpstream, makeProxy, routeRow as route, serviceRow as svc } from '../../helpers/in-memory-edge.js'

const snapshot = (service: Service = svc(), r: Route = route()) => buildSnapshot({ version: 1, services: [service], routes: [r] })

const json = (d: MemoryDownstream): Record<string, unknown> => JSON.parse(d.text) as Record<string, unknown>

describe('routing branches', () => {
  test("no route: 404 with Kong's JSON body and the request id; nothing goes upstream", async () => {
    const gw = makeProxy(snapshot(), new MemoryUpstream({ status: 200 }))
    const d = await gw.request({ url: '/nowhere' })
    assert.equal(d.status, 404)
    assert.equal(d.header('content-type'), 'application/json; charset=utf-8')
    const body = json(d)
    assert.equal(body['message'], 'no Route matched with those values')
    assert.equal(body['request_id'], d.header('x-kong-request-id'))
    assert.equal(gw.upstream.sent.length, 0)
    assert.match(gw.accessLog.lines[0] ?? '', /"GET \/nowhere HTTP\/1.1" 404 /)
    assert.equal(gw.proxy.stats.activeRequests, 0)
  })

  test('no route, Accept: text/html: the same message as an HTML page', async () => {
    const gw = makeProxy(snapshot(), new MemoryUpstream({ status: 200 }))
    const d = await gw.request({ url: '/nowhere', headers: { accept: 'text/html' } })
    assert.equal(d.status, 404)
    assert.equal(d.header('content-type'), 'text/html; charset=utf-8')
    assert.match(d.text, /<p>no Route matched with those values\.<\/p>/)
  })

  test("a path with broken percent-encoding: nginx's 400, negotiated by error_default_type", async () => {
    const gw = makeProxy(snapshot(), new MemoryUpstream({ status: 200 }))
    const d = await gw.request({ url: '/orders/%zz' })
    assert.equal(d.status, 400)
    assert.equal(d.header('content-type'), 'text/plain; charset=utf-8')
    assert.match(d.text, /^Bad request\nrequest_id: [0-9a-f]+\n$/)
  })

  test('a route without a service: 503 no Service found', async () => {
    const gw = makeProxy(snapshot(svc(), route({ service: null })), new MemoryUpstream({ status: 200 }))
    const d = await gw.request({ url: '/orders' })
    assert.equal(d.status, 503)
    assert.equal(json(d)['message'], 'no Service found with those values')
  })

  test('an https-only route over http: 426 with Upgrade', async () => {
    const gw = makeProxy(snapshot(svc(), route({ protocols: ['https'] })), new MemoryUpstream({ status: 200 }))
    const d = await gw.request({ url: '/orders' })
    assert.equal(d.status, 426)
    assert.equal(d.header('upgrade'), 'TLS/1.2, HTTP/1.1')
    assert.equal(json(d)['message'], 'Please use HTTPS protocol')
  })
})

describe('the proxied request', () => {
  test("path joined with the service path, query kept, Kong's upstream and response headers", async () => {
    const gw = makeProxy(
      snapshot(),
      new MemoryUpstream({ status: 201, headers: ['X-Up', 'yes', 'Connection', 'keep-alive'], body: ['hel', 'lo'] }),
    )
    const d = await gw.request({ method: 'GET', url: '/orders/42?full=1', headers: { 'user-agent': 'unit' } })
    const sent = gw.upstream.sent[0]
    assert.ok(sent !== undefined)
    assert.deepEqual({ address: sent.target.address, port: sent.target.port }, { address: '10.0.0.7', port: 8080 })
    assert.equal(sent.request.path, '/v1/42?full=1')
    const h = sent.request.headers
    const get = (n: string): string | undefined => h[h.indexOf(n) + 1]
    assert.equal(get('host'), '10.0.0.7:8080')
    assert.equal(get('x-forwarded-for'), '127.0.0.1')
    assert.equal(get('x-forwarded-prefix'), '/orders')
    assert.equal(d.status, 201)
    assert.equal(d.how, 'stream')
    assert.equal(d.text, 'hello')
    assert.equal(d.header('x-up'), 'yes')
    assert.equal(d.header('connection'), undefined, 'hop-by-hop header removed')
    assert.match(String(d.header('via')), /^1\.1 turnpike\//)
    assert.match(String(d.header('x-kong-upstream-latency')), /^\d+$/)
    assert.match(gw.accessLog.lines[0] ?? '', /"GET \/orders\/42\?full=1 HTTP\/1.1" 201 5 "-" "unit"/)
  })
})

describe('upstream attempts', () => {
  test('a refused connection is retried; the next attempt answers', async () => {
    const gw = makeProxy(snapshot(), new MemoryUpstream({ error: 'ECONNREFUSED' }, { status: 200, body: 'ok' }))
    const d = await gw.request({ url: '/orders' })
    assert.equal(gw.upstream.sent.length, 2)
    assert.equal(d.status, 200)
    assert.equal(d.text, 'ok')
    assert.equal(gw.errorLog.lines.length, 1)
    assert.match(
      gw.errorLog.lines[0] ?? '',
      /\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream \(attempt 1; retrying\), client: 127\.0\.0\.1/,
    )
    assert.match(gw.errorLog.lines[0] ?? '', /hint: "nothing accepts connections on 10\.0\.0\.7:8080/)
  })

  test("retries used up: 502 with nginx's message, one log line per attempt", async () => {
    const gw = makeProxy(snapshot(svc({ retries: 2 })), new MemoryUpstream({ error: 'ECONNREFUSED' }))
    const d = await gw.request({ url: '/orders' })
    assert.equal(gw.upstream.sent.length, 3)
    assert.equal(d.status, 502)
    assert.equal(d.header('content-type'), 'text/plain; charset=utf-8')
    assert.match(d.text, /^An invalid response was received from the upstream server\n/)
    assert.deepEqual(
      gw.errorLog.lines.map((l) => /\(attempt \d; retrying\)/.exec(l)?.[0] ?? 'final'),
      ['(attempt 1; retrying)', '(attempt 2; retrying)', 'final'],
    )
  })

  test('read timeout on a POST: 504, not retried (the upstream may have it)', async () => {
    const gw = makeProxy(snapshot(), new MemoryUpstream({ error: 'UND_ERR_HEADERS_TIMEOUT', sent: true }, { status: 200 }))
    const d = await gw.request({ method: 'POST', url: '/orders', body: Buffer.from('{}'), headers: { 'content-type': 'application/json' } })
    assert.equal(gw.upstream.sent.length, 1)
    assert.equal(d.status, 504)
    assert.equal(json(d)['message'], 'The upstream server is timing out', 'negotiated on the request Content-Type')
    assert.match(
      gw.errorLog.lines[0] ?? '',
      /upstream timed out \(110: Connection timed out\) while reading response header from upstream, /,
    )
    assert.match(gw.errorLog.lines[0] ?? '', /read_timeout=60000ms/)
  })

  test('read timeout on a GET: retried up to retries, then 504', async () => {
    const gw = makeProxy(snapshot(svc({ retries: 1 })), new MemoryUpstream({ error: 'UND_ERR_HEADERS_TIMEOUT', sent: true }))
    const d = await gw.request({ url: '/orders' })
    assert.equal(gw.upstream.sent.length, 2)
    assert.equal(d.status, 504)
  })

  test('a failure in the middle of the body cuts the client connection', async () => {
    const gw = makeProxy(snapshot(), new MemoryUpstream({ status: 200, body: 'ok' }))
    // Headers first, then the failure: played by hand on the sink.
    const upstream = gw.upstream
    upstream.send = (target, request, sink) => {
      upstream.sent.push({ target, request, sink, control: { pause() {}, resume() {}, abort() {} }, aborted: false })
      queueMicrotask(() => {
        sink.onHeaders(200, ['Transfer-Encoding', 'chunked'], { pause() {}, resume() {}, abort() {} })
        sink.onData(Buffer.from('par'))
        sink.onError(Object.assign(new Error('closed'), { code: 'UND_ERR_SOCKET' }), { sent: true, headersReceived: true, reused: false })
      })
    }
    const d = await gw.request({ url: '/orders' })
    assert.equal(d.how, 'destroyed')
    assert.equal(d.text, 'par')
    assert.match(gw.errorLog.lines[0] ?? '', /upstream prematurely closed connection while reading upstream/)
  })
})

describe('name resolution', () => {
  test('a service host found in the hosts file: the request goes to its address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-runloop-'))
    const hosts = join(dir, 'hosts')
    writeFileSync(hosts, '10.9.8.7 orders.internal\n')
    const gw = makeProxy(snapshot(svc({ host: 'orders.internal' })), new MemoryUpstream({ status: 200 }), {}, { hostsFile: hosts })
    const d = await gw.request({ url: '/orders' })
    assert.equal(d.status, 200)
    assert.deepEqual(
      { address: gw.upstream.sent[0]?.target.address, hostname: gw.upstream.sent[0]?.target.hostname },
      { address: '10.9.8.7', hostname: 'orders.internal' },
    )
    rmSync(dir, { recursive: true, force: true })
  })

  test('a nameserver that does not answer: 500 with the host and the error, and a hint naming the nameserver', async () => {
    const gw = makeProxy(snapshot(svc({ host: 'nowhere.internal' })), new MemoryUpstream({ status: 200 }))
    const d = await gw.request({ url: '/orders' })
    assert.equal(gw.upstream.sent.length, 0)
    assert.equal(d.status, 500)
    assert.match(String(json(d)['message']), /^failed the initial dns\/balancer resolve for 'nowhere\.internal' with: ./)
    assert.match(
      gw.errorLog.lines[0] ?? '',
      /DNS resolution failed: .*hint: "the nameserver could not answer for \\"nowhere\.internal\\" .*asked: 127\.0\.0\.1:9/,
    )
  })
})

describe('the client', () => {
  test('going away while the upstream is busy: 499 logged; the late answer is aborted', async () => {
    const gw = makeProxy(snapshot(), new MemoryUpstream('hang'))
    const d = new MemoryDownstream({ url: '/orders' })
    gw.proxy.handle(d)
    await new Promise((r) => setImmediate(r))
    assert.equal(gw.proxy.stats.activeRequests, 1)
    d.abort()
    assert.equal(gw.proxy.stats.activeRequests, 0)
    assert.match(gw.accessLog.lines[0] ?? '', /"GET \/orders HTTP\/1.1" 499 0 /)
    const attempt = gw.upstream.sent[0]
    assert.ok(attempt !== undefined)
    attempt.sink.onHeaders(200, ['Content-Length', '2'], attempt.control)
    assert.equal(attempt.aborted, true)
    assert.equal(d.status, 0, 'nothing reached the client')
    assert.equal(gw.accessLog.lines.length, 1, 'logged once')
  })

  test('a request nginx refuses (header too large): 400 with its message, then close', async () => {
    const gw = makeProxy(snapshot(), new MemoryUpstream({ status: 200 }))
    const d = new MemoryDownstream({ url: '/orders' })
    gw.proxy.reject(d, 494)
    await d.done
    assert.equal(d.status, 400)
    assert.equal(d.header('connection'), 'close')
    assert.match(d.text, /^Request header or cookie too large\n/)
    assert.equal(gw.upstream.sent.length, 0)
  })
})
