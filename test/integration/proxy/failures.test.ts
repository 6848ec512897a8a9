/**
 * Every upstream failure mode, end to end: the real gateway (`bin/turnpike start`) in front of real
 * misbehaving upstreams on 127.0.0.1. For each: the status and Kong's exact error body (request id
 * equal to `X-Kong-Request-Id`), and the error-log line in nginx's words with its context fields
 * and a hint naming the cause.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'undici'
import { call, eventually, type JsonResponse, type TestGateway, startTestGateway } from '../../helpers/gateway.js'
import {
  type Blackhole,
  type RawServer,
  selfSignedCert,
  startBigHeaderServer,
  startBlackhole,
  startKeepAliveThenClose,
  startMidBodyCloser,
  startPrematureCloser,
  startRawServer,
  startSilentServer,
  startTlsAlertServer,
  startTlsUpstream,
} from '../../helpers/misbehaving.js'
import { closedPort } from '../../helpers/ports.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

const BAD_GATEWAY = 'An invalid response was received from the upstream server'
const TIMING_OUT = 'The upstream server is timing out'
const JSON_ACCEPT = { accept: 'application/json' }

let gw: TestGateway
let echo: TestUpstream
let blackhole: Blackhole | null = null
let serial = 0
const cleanups: (() => Promise<void>)[] = []

before(async () => {
  ;[gw, echo, blackhole] = await Promise.all([startTestGateway(), startUpstream(), startBlackhole()])
})

after(async () => {
  await Promise.allSettled(cleanups.map((c) => c()))
  await Promise.allSettled([gw?.stop(), echo?.close(), blackhole?.close()])
})

function track<T extends { close(): Promise<void> }>(server: T): T {
  cleanups.push(() => server.close())
  return server
}

/**
 * Creates a service (small timeouts, no retries unless overridden) and a route `/fN` to it through
 * the Admin API, and waits until the proxy uses it. Readiness is probed on a route created after it
 * (to the echo upstream), so the misbehaving upstream sees only the test's own requests.
 */
async function expose(service: Record<string, unknown>): Promise<string> {
  const name = `f${++serial}`
  const svc = await call('POST', `${gw.adminUrl}/services`, {
    name,
    retries: 0,
    connect_timeout: 1000,
    read_timeout: 1000,
    write_timeout: 1000,
    ...service,
  })
  assert.equal(svc.status, 201, svc.text)
  const route = await call('POST', `${gw.adminUrl}/services/${name}/routes`, { paths: [`/${name}`] })
  assert.equal(route.status, 201, route.text)
  const ready = `ready-${name}`
  assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: ready, url: echo.url })).status, 201)
  assert.equal((await call('POST', `${gw.adminUrl}/services/${ready}/routes`, { paths: [`/${ready}`] })).status, 201)
  await eventually(async () => (await call('GET', `${gw.proxyUrl}/${ready}`)).status === 200, 5000, `route /${ready}`)
  return `/${name}`
}

/** The request id of a gateway-made response, checked against its body. */
function assertKongError(res: JsonResponse, status: number, message: string, type: 'json' | 'plain' = 'json'): string {
  assert.equal(res.status, status, res.text)
  const id = res.headers['x-kong-request-id']
  assert.ok(typeof id === 'string' && /^[0-9a-f]{32}$/.test(id), `X-Kong-Request-Id: ${String(id)}`)
  if (type === 'json') {
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(res.text, `{\n  "message":"${message}",\n  "request_id":"${id}"\n}`)
    assert.deepEqual(res.body, { message, request_id: id })
  } else {
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(res.text, `${message}\nrequest_id: ${id}\n`)
  }
  return id
}

/** Waits for `count` error-log lines carrying this request id. */
async function linesFor(requestId: string, count = 1, timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const lines = gw
      .errorLog()
      .split('\n')
      .filter((l) => l.includes(`request_id: "${requestId}"`))
    if (lines.length >= count) return lines
    if (Date.now() > deadline) throw new Error(`expected ${count} error-log line(s) for ${requestId}; log:\n${gw.errorLog()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

interface ExpectedLine {
  readonly message: string | RegExp
  readonly request: string
  /** `http://127.0.0.1:port/path`; omitted for failures before a peer was chosen (DNS). */
  readonly upstream?: string
  readonly requestId: string
  readonly hint: RegExp
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** Checks one line field by field, in nginx's order, plus our `upstream_host` and `hint`. */
function assertLine(line: string, e: ExpectedLine): void {
  const head = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[error\] \d+#0: \*\d+ (.*?), client: 127\.0\.0\.1, server: kong, (.*)$/.exec(line)
  assert.ok(head !== null, `not an nginx-shaped error line: ${line}`)
  const [, message = '', rest = ''] = head
  if (typeof e.message === 'string') assert.equal(message, e.message, line)
  else assert.match(message, e.message, line)
  let expected = `request: "${escape(e.request)}", `
  if (e.upstream !== undefined) {
    const hostPort = e.upstream.replace(/^https?:\/\//, '').replace(/\/.*$/, '')
    expected += `upstream: "${escape(e.upstream)}", upstream_host: "${escape(hostPort)}", `
  }
  expected += `host: "127\\.0\\.0\\.1:${gw.proxyPort}", request_id: "${e.requestId}", hint: "((?:[^"\\\\]|\\\\.)*)"$`
  const m = new RegExp(`^${expected}`).exec(rest)
  assert.ok(m !== null, `fields differ:\n  got:      ${rest}\n  expected: ${expected}`)
  // The log escapes quotes inside values; compare the hint as written.
  assert.match((m[1] ?? '').replace(/\\(.)/g, '$1'), e.hint)
}

async function proxied(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return call(method, `${gw.proxyUrl}${path}`, body, headers)
}

describe('upstream failures', () => {
  test('connection refused → 502, connect() failed (111), JSON with Accept and text/plain by default', async () => {
    const port = await closedPort()
    const path = await expose({ url: `http://127.0.0.1:${port}` })
    const res = await proxied('GET', `${path}/some/thing?x=1`, undefined, JSON_ACCEPT)
    const id = assertKongError(res, 502, BAD_GATEWAY)
    const [line = ''] = await linesFor(id)
    assertLine(line, {
      message: 'connect() failed (111: Connection refused) while connecting to upstream',
      request: `GET ${path}/some/thing?x=1 HTTP/1.1`,
      upstream: `http://127.0.0.1:${port}/some/thing?x=1`,
      requestId: id,
      hint: new RegExp(`^nothing accepts connections on 127\\.0\\.0\\.1:${port}: check the service's host and port`),
    })

    // No Accept, no Content-Type: Kong's nginx error handler falls back to error_default_type (text/plain).
    const plain = await proxied('GET', path)
    const plainId = assertKongError(plain, 502, BAD_GATEWAY, 'plain')
    assert.notEqual(plainId, id)
    await linesFor(plainId)
    // A request Content-Type decides when there is no Accept.
    const byType = await proxied('POST', path, '{"a":1}', { 'content-type': 'application/json' })
    assertKongError(byType, 502, BAD_GATEWAY)
    // Kong 3.9.3 14-server_tokens_spec.lua "should be returned with 502 errors": the request was
    // proxied, so the upstream and proxy latencies and Via come with the 502, no response latency.
    assert.match(String(res.headers['x-kong-upstream-latency']), /^\d+$/)
    assert.match(String(res.headers['x-kong-proxy-latency']), /^\d+$/)
    assert.equal(res.headers['x-kong-response-latency'], undefined)
    assert.match(String(res.headers['via']), /^1\.1 turnpike\//)
    assert.match(String(res.headers['server']), /^turnpike\//)
  })

  // DNS failures (NXDOMAIN → 503 `name resolution failed`, SERVFAIL → 500, and their log lines) are
  // tested against a DNS server of our own on loopback in test/integration/dns/, not against the
  // machine's resolver.

  test('connect timeout (SYNs dropped by a full accept queue) → 504, hint names connect_timeout', async (t) => {
    if (blackhole === null) {
      t.skip('no listener with a full accept queue here (python3 missing, or SYNs not dropped)')
      return
    }
    const path = await expose({ url: `http://127.0.0.1:${blackhole.port}/base`, connect_timeout: 300 })
    const started = Date.now()
    const res = await proxied('GET', `${path}/slow`, undefined, JSON_ACCEPT)
    const elapsed = Date.now() - started
    const id = assertKongError(res, 504, TIMING_OUT)
    assert.ok(elapsed >= 280 && elapsed < 3000, `took ${elapsed} ms for connect_timeout=300`)
    const [line = ''] = await linesFor(id)
    assertLine(line, {
      message: 'upstream timed out (110: Connection timed out) while connecting to upstream',
      request: `GET ${path}/slow HTTP/1.1`,
      upstream: `http://127.0.0.1:${blackhole.port}/base/slow`,
      requestId: id,
      hint: /^no answer to the TCP connect to 127\.0\.0\.1:\d+ within connect_timeout=300ms: a firewall/,
    })
  })

  test('read timeout (accepts, never answers) → 504, hint names read_timeout', async () => {
    const silent = track(await startSilentServer())
    const path = await expose({ url: `http://127.0.0.1:${silent.port}`, read_timeout: 400 })
    const started = Date.now()
    const res = await proxied('GET', path, undefined, JSON_ACCEPT)
    const elapsed = Date.now() - started
    const id = assertKongError(res, 504, TIMING_OUT)
    assert.ok(elapsed >= 380 && elapsed < 3000, `took ${elapsed} ms for read_timeout=400`)
    assert.equal(silent.requests.length, 1)
    const [line = ''] = await linesFor(id)
    assertLine(line, {
      message: 'upstream timed out (110: Connection timed out) while reading response header from upstream',
      request: `GET ${path} HTTP/1.1`,
      upstream: `http://127.0.0.1:${silent.port}/`,
      requestId: id,
      hint: /accepted the request but sent no response header within read_timeout=400ms/,
    })
  })

  test('an https upstream configured as http → 502, hint: set protocol=https (node closes; TLS alert)', async (t) => {
    if (selfSignedCert() === null) {
      t.skip('openssl CLI not available for a test certificate')
      return
    }
    // node (OpenSSL 3) closes the connection without a byte when a plaintext request arrives.
    const tls = track(await startTlsUpstream())
    const path = await expose({ url: `http://127.0.0.1:${tls.port}` })
    const res = await proxied('GET', `${path}/a`, undefined, JSON_ACCEPT)
    const id = assertKongError(res, 502, BAD_GATEWAY)
    const [line = ''] = await linesFor(id)
    assertLine(line, {
      message: 'upstream prematurely closed connection while reading response header from upstream',
      request: `GET ${path}/a HTTP/1.1`,
      upstream: `http://127.0.0.1:${tls.port}/a`,
      requestId: id,
      hint: new RegExp(
        `^127\\.0\\.0\\.1:${tls.port} speaks TLS \\(a TLS handshake with it succeeded\\) but the service's protocol is http: set protocol=https`,
      ),
    })
    assert.ok(tls.clientErrors() >= 1, 'the TLS server saw the plaintext request')
    assert.equal(tls.requests(), 0)

    // Java servers and older OpenSSL answer with a TLS alert record instead.
    const alert = track(await startTlsAlertServer())
    const path2 = await expose({ url: `http://127.0.0.1:${alert.port}` })
    const res2 = await proxied('GET', path2, undefined, JSON_ACCEPT)
    const id2 = assertKongError(res2, 502, BAD_GATEWAY)
    const [line2 = ''] = await linesFor(id2)
    assertLine(line2, {
      message: 'upstream sent no valid HTTP/1.0 header while reading response header from upstream',
      request: `GET ${path2} HTTP/1.1`,
      upstream: `http://127.0.0.1:${alert.port}/`,
      requestId: id2,
      hint: /answered with a TLS record: it serves HTTPS but the service's protocol is http: set protocol=https/,
    })
  })

  test('an http upstream configured as https → 502, hint: set protocol=http', async () => {
    const plain = track(await startUpstream())
    const path = await expose({ url: `https://127.0.0.1:${plain.port}` })
    const res = await proxied('GET', `${path}/b`, undefined, JSON_ACCEPT)
    const id = assertKongError(res, 502, BAD_GATEWAY)
    const [line = ''] = await linesFor(id)
    assertLine(line, {
      message:
        /^SSL_do_handshake\(\) failed \(SSL: error:[0-9A-F]{8}:SSL routines::wrong version number\) while SSL handshaking to upstream$/,
      request: `GET ${path}/b HTTP/1.1`,
      upstream: `https://127.0.0.1:${plain.port}/b`,
      requestId: id,
      hint: /answered the TLS handshake in plain text: it serves HTTP, not HTTPS: set the service's protocol to http/,
    })
    assert.equal(plain.received.length, 0)

    // A server that just hangs up on the ClientHello.
    const hangup = track(
      await startRawServer(
        () => {},
        (s) => s.once('data', () => s.end()),
      ),
    )
    const path2 = await expose({ url: `https://127.0.0.1:${hangup.port}` })
    const res2 = await proxied('GET', path2, undefined, JSON_ACCEPT)
    const id2 = assertKongError(res2, 502, BAD_GATEWAY)
    const [line2 = ''] = await linesFor(id2)
    assertLine(line2, {
      message: 'peer closed connection in SSL handshake while SSL handshaking to upstream',
      request: `GET ${path2} HTTP/1.1`,
      upstream: `https://127.0.0.1:${hangup.port}/`,
      requestId: id2,
      hint: /closed the connection during the TLS handshake: if it serves plain HTTP, set the service's protocol to http/,
    })
  })

  describe('a load balancer closing an idle keep-alive connection', () => {
    let lb: RawServer
    before(async () => {
      lb = track(await startKeepAliveThenClose())
    })

    test('GET on the stale connection is retried on a new one (even with retries=0) → 200', async () => {
      const path = await expose({ url: `http://127.0.0.1:${lb.port}` })
      const first = await proxied('GET', `${path}/one`)
      assert.equal(first.status, 200)
      assert.equal(first.body.connection, 1)
      const second = await proxied('GET', `${path}/two`)
      assert.equal(second.status, 200, second.text)
      assert.equal(second.body.connection, 2, 'answered on a new connection')
      assert.deepEqual(
        lb.requests.map((r) => `${r.connection} ${r.method} ${r.path}`),
        ['1 GET /one', '1 GET /two', '2 GET /two'],
      )
      const id = second.headers['x-kong-request-id'] as string
      const [line = ''] = await linesFor(id)
      assertLine(line, {
        message:
          'upstream prematurely closed connection while reading response header from upstream (reused keep-alive connection; retrying on a new connection)',
        request: `GET ${path}/two HTTP/1.1`,
        upstream: `http://127.0.0.1:${lb.port}/two`,
        requestId: id,
        hint: /closed an idle keep-alive connection just as the gateway reused it: set upstream_keepalive_idle_timeout \(now 60s\) below that load balancer's idle timeout; the GET is retried on a new connection$/,
      })
    })

    test('POST with a body is not re-sent → 502, the upstream saw it once', async () => {
      const lb2 = track(await startKeepAliveThenClose())
      const path = await expose({ url: `http://127.0.0.1:${lb2.port}`, retries: 5 })
      assert.equal((await proxied('GET', `${path}/warm`)).status, 200)
      const res = await proxied('POST', `${path}/orders`, '{"item":42}', { 'content-type': 'application/json' })
      const id = assertKongError(res, 502, BAD_GATEWAY)
      await new Promise((r) => setTimeout(r, 200))
      assert.deepEqual(
        lb2.requests.map((r) => `${r.connection} ${r.method} ${r.path} ${r.body}`),
        ['1 GET /warm ', '1 POST /orders {"item":42}'],
      )
      const lines = await linesFor(id)
      assert.equal(lines.length, 1, lines.join('\n'))
      assertLine(lines[0] ?? '', {
        message: 'upstream prematurely closed connection while reading response header from upstream',
        request: `POST ${path}/orders HTTP/1.1`,
        upstream: `http://127.0.0.1:${lb2.port}/orders`,
        requestId: id,
        hint: /closed an idle keep-alive connection .*; this POST was not retried because the upstream may have received it \(POST is not idempotent\)$/,
      })
    })
  })

  test('premature close on a fresh connection → 502, upstream saw the request once', async () => {
    const closer = track(await startPrematureCloser())
    const path = await expose({ url: `http://127.0.0.1:${closer.port}` })
    const res = await proxied('GET', `${path}/c`, undefined, JSON_ACCEPT)
    const id = assertKongError(res, 502, BAD_GATEWAY)
    const [line = ''] = await linesFor(id)
    assertLine(line, {
      message: 'upstream prematurely closed connection while reading response header from upstream',
      request: `GET ${path}/c HTTP/1.1`,
      upstream: `http://127.0.0.1:${closer.port}/c`,
      requestId: id,
      hint: new RegExp(
        `^127\\.0\\.0\\.1:${closer.port} closed the connection without answering: the upstream crashed on this request, or it expects TLS`,
      ),
    })
    assert.equal(closer.requests.length, 1)
  })

  test('response headers over 160 KiB → 502, too big header', async () => {
    const big = track(await startBigHeaderServer(170 * 1024))
    const path = await expose({ url: `http://127.0.0.1:${big.port}` })
    const res = await proxied('GET', path, undefined, JSON_ACCEPT)
    const id = assertKongError(res, 502, BAD_GATEWAY)
    const [line = ''] = await linesFor(id)
    assertLine(line, {
      message: 'upstream sent too big header while reading response header from upstream',
      request: `GET ${path} HTTP/1.1`,
      upstream: `http://127.0.0.1:${big.port}/`,
      requestId: id,
      hint: /response headers from 127\.0\.0\.1:\d+ exceed 163840 bytes/,
    })
  })

  test('upstream closes mid-body → client connection aborted, logged, gateway keeps serving', async () => {
    const mid = track(await startMidBodyCloser(100_000, 1000))
    const path = await expose({ url: `http://127.0.0.1:${mid.port}` })
    const res = await request(`${gw.proxyUrl}${path}/file`)
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['content-length'], '100000')
    const id = res.headers['x-kong-request-id'] as string
    await assert.rejects(res.body.text(), 'the client sees the connection cut, not a short body that looks complete')
    const [line = ''] = await linesFor(id)
    assertLine(line, {
      message: 'upstream prematurely closed connection while reading upstream',
      request: `GET ${path}/file HTTP/1.1`,
      upstream: `http://127.0.0.1:${mid.port}/file`,
      requestId: id,
      hint: /closed the connection before the end of the response body/,
    })
    const after = await proxied('GET', `/ready-${path.slice(1)}`)
    assert.equal(after.status, 200)
    assert.equal(gw.child.exitCode, null)
  })

  describe('retries', () => {
    test('retries=2 on a refused port → 3 attempts logged, then 502', async () => {
      const port = await closedPort()
      const path = await expose({ url: `http://127.0.0.1:${port}`, retries: 2 })
      const res = await proxied('GET', path, undefined, JSON_ACCEPT)
      const id = assertKongError(res, 502, BAD_GATEWAY)
      const lines = await linesFor(id, 3)
      await new Promise((r) => setTimeout(r, 100))
      assert.equal((await linesFor(id, 3)).length, 3)
      const base = 'connect() failed (111: Connection refused) while connecting to upstream'
      const messages = [`${base} (attempt 1; retrying)`, `${base} (attempt 2; retrying)`, base]
      lines.forEach((line, i) =>
        assertLine(line, {
          message: messages[i] ?? '',
          request: `GET ${path} HTTP/1.1`,
          upstream: `http://127.0.0.1:${port}/`,
          requestId: id,
          hint: /^nothing accepts connections/,
        }),
      )
    })

    test('connect_timeout applies per attempt (retries=1 → two timeouts)', async (t) => {
      if (blackhole === null) {
        t.skip('no listener with a full accept queue here')
        return
      }
      const path = await expose({ url: `http://127.0.0.1:${blackhole.port}`, connect_timeout: 300, retries: 1 })
      const started = Date.now()
      const res = await proxied('GET', path, undefined, JSON_ACCEPT)
      const elapsed = Date.now() - started
      const id = assertKongError(res, 504, TIMING_OUT)
      assert.ok(elapsed >= 580 && elapsed < 4000, `took ${elapsed} ms for 2 × connect_timeout=300`)
      const lines = await linesFor(id, 2)
      assert.equal(lines.length, 2)
      const base = 'upstream timed out (110: Connection timed out) while connecting to upstream'
      lines.forEach((line, i) =>
        assertLine(line, {
          message: i === 0 ? `${base} (attempt 1; retrying)` : base,
          request: `GET ${path} HTTP/1.1`,
          upstream: `http://127.0.0.1:${blackhole?.port}/`,
          requestId: id,
          hint: /within connect_timeout=300ms/,
        }),
      )
    })
  })
})
