/**
 * Headers through the real gateway, as Kong 3.9 sets them (kong/runloop/handler.lua access and
 * header_filter phases, and the `proxy_set_header` lines of its nginx template):
 * upstream request headers, downstream response headers, the `headers` setting, trusted_ips /
 * real_ip_header, debug headers, and large bodies both ways.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'
import { VERSION } from '../../../src/version.js'
import { admin, rawRequest, rawText, REQUEST_ID, settle } from './helpers.js'

const VIA = `turnpike/${VERSION}`
const SERVER = `turnpike/${VERSION}`

interface Echoed {
  url: string
  headers: IncomingHttpHeaders
}

function echoed(body: Buffer | string): Echoed {
  return JSON.parse(body.toString()) as Echoed
}

describe('proxy headers, default settings (peer not trusted)', () => {
  let gw: TestGateway
  let up: TestUpstream
  /** An upstream that names its own Server/Via and a Connection-listed header. */
  let branded: TestUpstream

  before(async () => {
    up = await startUpstream()
    branded = await startUpstream((_req, res) => {
      res.setHeader('Server', 'backend/1.0')
      res.setHeader('Via', '1.0 backend-cache')
      res.setHeader('X-Secret-Hop', 'should not pass')
      res.setHeader('Connection', 'X-Secret-Hop')
      res.setHeader('X-Plain', 'passes')
      res.setHeader('Trailer', 'Expires')
      res.end('ok')
    })
    gw = await startTestGateway()
    await admin(gw, '/services', { name: 'echo', url: up.url })
    await admin(gw, '/services/echo/routes', { name: 'strip', paths: ['/hdr'] })
    await admin(gw, '/services/echo/routes', { name: 'keep', paths: ['/keep'], strip_path: false })
    await admin(gw, '/services/echo/routes', { name: 'preserve', paths: ['/ph'], preserve_host: true })
    await admin(gw, '/services', { name: 'branded', url: branded.url })
    await admin(gw, '/services/branded/routes', { name: 'branded', paths: ['/branded'] })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
    await up?.close()
    await branded?.close()
  })

  test('Host is the service host:port; preserve_host keeps the client Host', async () => {
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/hdr/x', [
        ['Host', 'Client.Example:9999'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal(res.status, 200)
    assert.equal(echoed(res.body).headers.host, `127.0.0.1:${up.port}`)
    const kept = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/ph/x', [
        ['Host', 'Client.Example:9999'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal(echoed(kept.body).headers.host, 'Client.Example:9999')
  })

  test('X-Real-IP and X-Forwarded-For: the peer, appended to a client X-Forwarded-For', async () => {
    const plain = echoed(
      (
        await rawRequest(
          gw.proxyPort,
          rawText('GET', '/hdr', [
            ['Host', 'a.test'],
            ['X-Real-IP', '10.9.9.9'],
            ['Connection', 'close'],
          ]),
        )
      ).body,
    )
    assert.equal(plain.headers['x-real-ip'], '127.0.0.1', 'a client X-Real-IP is not believed from an untrusted peer')
    assert.equal(plain.headers['x-forwarded-for'], '127.0.0.1')
    const chained = echoed(
      (
        await rawRequest(
          gw.proxyPort,
          rawText('GET', '/hdr', [
            ['Host', 'a.test'],
            ['X-Forwarded-For', '198.51.100.1, 10.0.0.2'],
            ['Connection', 'close'],
          ]),
        )
      ).body,
    )
    assert.equal(chained.headers['x-forwarded-for'], '198.51.100.1, 10.0.0.2, 127.0.0.1')
    assert.equal(chained.headers['x-real-ip'], '127.0.0.1')
  })

  test('X-Forwarded-Proto/Host/Port/Path/Prefix: computed, client values ignored (untrusted peer)', async () => {
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/hdr//a/./b%7E?q=1&r=%20', [
        ['Host', 'API.Example.COM:8123'],
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Host', 'evil.test'],
        ['X-Forwarded-Port', '1'],
        ['X-Forwarded-Path', '/evil'],
        ['X-Forwarded-Prefix', '/evil'],
        ['Connection', 'close'],
      ]),
    )
    const h = echoed(res.body).headers
    assert.equal(h['x-forwarded-proto'], 'http')
    assert.equal(h['x-forwarded-host'], 'api.example.com', 'nginx $host: no port, lower-cased')
    assert.equal(h['x-forwarded-port'], String(gw.proxyPort))
    assert.equal(h['x-forwarded-path'], '/hdr//a/./b%7E', 'the request path as received, without the query')
    assert.equal(h['x-forwarded-prefix'], '/hdr')
    assert.equal(echoed(res.body).url, '/a/b~?q=1&r=%20', 'path normalized, query string unchanged')
    // strip_path=false: nothing stripped, so no X-Forwarded-Prefix.
    const keep = echoed(
      (
        await rawRequest(
          gw.proxyPort,
          rawText('GET', '/keep/x', [
            ['Host', 'a.test'],
            ['Connection', 'close'],
          ]),
        )
      ).body,
    )
    assert.equal(keep.headers['x-forwarded-prefix'], undefined)
    assert.equal(keep.url, '/keep/x')
  })

  test('Via is appended upstream with the client HTTP version; X-Kong-Request-Id matches downstream', async () => {
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/hdr', [
        ['Host', 'a.test'],
        ['Via', '1.1 edge-lb'],
        ['X-Kong-Request-Id', 'forged'],
        ['Connection', 'close'],
      ]),
    )
    const h = echoed(res.body).headers
    assert.equal(h.via, `1.1 edge-lb, 1.1 ${VIA}`)
    assert.match(res.headers['x-kong-request-id'] ?? '', REQUEST_ID)
    assert.equal(h['x-kong-request-id'], res.headers['x-kong-request-id'])
    // HTTP/1.0: Kong writes ngx.req.http_version() (the Lua number 1.0) as `1`.
    const old = await rawRequest(gw.proxyPort, rawText('GET', '/hdr', [['Host', 'a.test']], '1.0'))
    assert.equal(echoed(old.body).headers.via, `1 ${VIA}`)
    assert.equal(old.headers.via, `1.1 ${VIA}`, 'downstream Via carries the upstream protocol version (proxy_http_version 1.1)')
  })

  test('hop-by-hop request headers are removed, others and the query string pass unchanged', async () => {
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/hdr/q?a=1&b=%2F&c', [
        ['Host', 'a.test'],
        ['Connection', 'keep-alive, X-Hop-Named'],
        ['Keep-Alive', 'timeout=5'],
        ['X-Hop-Named', 'secret'],
        ['TE', 'gzip'],
        ['Proxy-Connection', 'keep-alive'],
        ['Proxy', 'http://evil.test'],
        ['X-Custom', 'kept'],
        ['Authorization', 'Bearer abc'],
        ['Cookie', 'a=1; b=2'],
      ]),
    )
    const e = echoed(res.body)
    assert.equal(e.url, '/q?a=1&b=%2F&c')
    for (const gone of ['x-hop-named', 'keep-alive', 'te', 'proxy-connection', 'proxy']) assert.equal(e.headers[gone], undefined, gone)
    assert.equal(e.headers['x-custom'], 'kept')
    assert.equal(e.headers.authorization, 'Bearer abc')
    assert.equal(e.headers.cookie, 'a=1; b=2')
    assert.equal(e.headers.connection, 'keep-alive')
    // TE: trailers is the one TE value Kong puts back.
    const te = echoed(
      (
        await rawRequest(
          gw.proxyPort,
          rawText('GET', '/hdr', [
            ['Host', 'a.test'],
            ['TE', 'deflate, trailers'],
            ['Connection', 'close'],
          ]),
        )
      ).body,
    )
    assert.equal(te.headers.te, 'trailers')
  })

  test('downstream headers on a proxied response: Via, Server, latencies, request id', async () => {
    const res = await call('GET', `${gw.proxyUrl}/hdr`)
    assert.equal(res.status, 200)
    assert.equal(res.headers['via'], `1.1 ${VIA}`)
    assert.equal(res.headers['server'], SERVER, 'Server added when the upstream sent none')
    assert.match(String(res.headers['x-kong-upstream-latency']), /^\d+$/)
    assert.match(String(res.headers['x-kong-proxy-latency']), /^\d+$/)
    assert.match(String(res.headers['x-kong-request-id']), REQUEST_ID)
    assert.equal(res.headers['x-kong-response-latency'], undefined)
    assert.equal(res.headers['kong-route-id'], undefined)
    const b = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/branded', [
        ['Host', 'a.test'],
        ['Kong-Debug', '1'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal(b.status, 200)
    assert.equal(b.headers['server'], 'backend/1.0', "the upstream's Server passes unchanged")
    assert.equal(b.headers['via'], `1.0 backend-cache, 1.1 ${VIA}`)
    assert.equal(b.headers['x-plain'], 'passes')
    assert.equal(b.headers['x-secret-hop'], undefined, 'a header the upstream Connection names is hop-by-hop')
    assert.equal(b.headers['kong-route-id'], undefined, 'debug headers are off by default (allow_debug_header=off)')
    // Kong 3.9.3 03-upstream_headers_spec.lua: Trailer is hop-by-hop unless the client asked for trailers
    assert.equal(b.headers['trailer'], undefined)
    const t = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/branded', [
        ['Host', 'a.test'],
        ['TE', 'trailers'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal(t.headers['trailer'], 'Expires')
  })

  test('gateway-generated responses carry Server, X-Kong-Response-Latency and the request id', async () => {
    const res = await call('GET', `${gw.proxyUrl}/nothing-here`)
    assert.equal(res.status, 404)
    assert.equal(res.headers['server'], SERVER)
    assert.match(String(res.headers['x-kong-response-latency']), /^\d+$/)
    assert.match(String(res.headers['x-kong-request-id']), REQUEST_ID)
    assert.equal(res.body.request_id, res.headers['x-kong-request-id'])
    assert.equal(res.headers['via'], undefined)
    assert.equal(res.headers['x-kong-upstream-latency'], undefined)
  })

  test('Host omits the default port 80', async (t) => {
    // Needs 127.0.0.1:80; skipped when another process holds it.
    const server = createServer((req, res) => res.end(JSON.stringify({ url: req.url, headers: req.headers })))
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(80, '127.0.0.1', () => resolve(true))
    })
    if (!ok) {
      t.skip('127.0.0.1:80 is not available')
      return
    }
    try {
      await admin(gw, '/services', { name: 'port80', url: 'http://127.0.0.1:80/base' })
      await admin(gw, '/services/port80/routes', { paths: ['/p80'] })
      await settle(gw)
      const res = await rawRequest(
        gw.proxyPort,
        rawText('GET', '/p80/x', [
          ['Host', 'a.test'],
          ['Connection', 'close'],
        ]),
      )
      assert.equal(echoed(res.body).headers.host, '127.0.0.1')
      assert.equal(echoed(res.body).url, '/base/x')
    } finally {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    }
  })
})

describe('proxy bodies', () => {
  let gw: TestGateway

  before(async () => {
    gw = await startTestGateway()
  })
  after(async () => {
    await gw?.stop()
  })

  test('a multi-MB POST is streamed upstream intact (the upstream sees bytes before the client has finished)', async () => {
    let received = 0
    const hash = createHash('sha256')
    let firstBytes: () => void = () => {}
    const gotSome = new Promise<void>((r) => (firstBytes = r))
    const upstream = createServer((req, res) => {
      req.on('data', (c: Buffer) => {
        received += c.length
        hash.update(c)
        firstBytes()
      })
      req.on('end', () => res.end(JSON.stringify({ received, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null })))
    })
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
    try {
      const port = (upstream.address() as AddressInfo).port
      await admin(gw, '/services', { name: 'sink', url: `http://127.0.0.1:${port}` })
      await admin(gw, '/services/sink/routes', { paths: ['/upload'] })
      await settle(gw)
      const chunk = Buffer.alloc(256 * 1024)
      for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff
      const expected = createHash('sha256')
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: gw.proxyPort,
            method: 'POST',
            path: '/upload',
            headers: { 'content-type': 'application/octet-stream' },
          },
          (res) => {
            let body = ''
            res.on('data', (c: Buffer) => (body += c.toString()))
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
          },
        )
        req.on('error', reject)
        // First 1 MB, then wait (bounded) for the upstream to see bytes, then 3 MB more.
        for (let i = 0; i < 4; i++) {
          req.write(chunk)
          expected.update(chunk)
        }
        const timer = setTimeout(() => reject(new Error('the upstream saw nothing while the client was still sending')), 5000)
        void gotSome.then(() => {
          clearTimeout(timer)
          for (let i = 0; i < 12; i++) {
            req.write(chunk)
            expected.update(chunk)
          }
          req.end()
        })
      })
      assert.equal(answer.status, 200)
      const r = JSON.parse(answer.body) as { received: number; sha256: string; te: string | null }
      assert.equal(r.received, 16 * chunk.length)
      assert.equal(r.sha256, expected.digest('hex'))
      assert.equal(r.te, 'chunked')
    } finally {
      upstream.closeAllConnections()
      await new Promise<void>((r) => upstream.close(() => r()))
    }
  })

  test('a 1 MB streamed (chunked) response arrives intact', async () => {
    const piece = Buffer.alloc(64 * 1024)
    for (let i = 0; i < piece.length; i++) piece[i] = (i * 17 + 3) & 0xff
    const expected = createHash('sha256')
    for (let i = 0; i < 16; i++) expected.update(piece)
    const upstream = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      let n = 0
      const next = (): void => {
        while (n < 16) {
          n++
          if (!res.write(piece)) {
            res.once('drain', next)
            return
          }
        }
        res.end()
      }
      next()
    })
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
    try {
      const port = (upstream.address() as AddressInfo).port
      await admin(gw, '/services', { name: 'big', url: `http://127.0.0.1:${port}` })
      await admin(gw, '/services/big/routes', { paths: ['/download'] })
      await settle(gw)
      const res = await rawRequest(
        gw.proxyPort,
        rawText('GET', '/download', [
          ['Host', 'a.test'],
          ['Connection', 'close'],
        ]),
        { timeoutMs: 10_000 },
      )
      assert.equal(res.status, 200)
      assert.equal(res.headers['transfer-encoding'], 'chunked')
      assert.equal(res.body.length, 16 * piece.length)
      assert.equal(createHash('sha256').update(res.body).digest('hex'), expected.digest('hex'))
    } finally {
      upstream.closeAllConnections()
      await new Promise<void>((r) => upstream.close(() => r()))
    }
  })
  test('a body of known length is forwarded piece by piece (none held back) and ends with its last piece; HEAD gets no body', async () => {
    const first = Buffer.from('first piece;')
    const last = Buffer.from('last piece')
    let releaseLast: (() => void) | null = null
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(first.length + last.length) })
      if (req.method === 'HEAD') return void res.end()
      res.write(first)
      releaseLast = () => res.end(last)
    })
    try {
      await admin(gw, '/services', { name: 'sized', url: upstream.url })
      await admin(gw, '/services/sized/routes', { paths: ['/sized'] })
      await settle(gw)
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: gw.proxyPort, path: '/sized', headers: { host: 'a.test' } }, (res) => {
          assert.equal(res.headers['content-length'], String(first.length + last.length))
          let text = ''
          res.setEncoding('latin1')
          res.on('data', (chunk: string) => {
            text += chunk
            // The first piece reached the client while the upstream still holds the last one.
            if (text === first.toString()) (releaseLast as (() => void) | null)?.()
          })
          res.on('end', () => resolve(text))
          res.on('error', reject)
        })
        req.on('error', reject)
        req.end()
      })
      assert.equal(body, `${first.toString()}${last.toString()}`)
      const head = await rawRequest(
        gw.proxyPort,
        rawText('HEAD', '/sized', [
          ['Host', 'a.test'],
          ['Connection', 'close'],
        ]),
        { timeoutMs: 5_000, noBody: true },
      )
      assert.equal(head.status, 200)
      assert.equal(head.headers['content-length'], String(first.length + last.length))
    } finally {
      await upstream.close()
    }
  })
})

describe('proxy headers with trusted_ips=127.0.0.1, real_ip_header=X-Forwarded-For, allow_debug_header=on, headers=server_tokens', () => {
  let gw: TestGateway
  let up: TestUpstream
  let routeId = ''
  let serviceId = ''

  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway({
      settings: { trusted_ips: '127.0.0.1', real_ip_header: 'X-Forwarded-For', allow_debug_header: 'on', headers: 'server_tokens' },
    })
    serviceId = (await admin(gw, '/services', { name: 'echo', url: up.url })).body.id as string
    routeId = (await admin(gw, '/services/echo/routes', { name: 'r-echo', paths: ['/t'] })).body.id as string
    await admin(gw, '/routes', { name: 'orphan', paths: ['/orphan'] })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
    await up?.close()
  })

  test('client X-Forwarded-* values are honoured from a trusted peer', async () => {
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/t/x', [
        ['Host', 'internal:8000'],
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Host', 'Public.Example.com'],
        ['X-Forwarded-Port', '8443'],
        ['X-Forwarded-Path', '/outer/t/x'],
        ['X-Forwarded-Prefix', '/outer'],
        ['Connection', 'close'],
      ]),
    )
    const h = echoed(res.body).headers
    assert.equal(h['x-forwarded-proto'], 'https')
    assert.equal(h['x-forwarded-host'], 'Public.Example.com')
    assert.equal(h['x-forwarded-port'], '8443')
    assert.equal(h['x-forwarded-path'], '/outer/t/x')
    assert.equal(h['x-forwarded-prefix'], '/outer')
  })

  test('Kong-Debug: 1 adds Kong-Route-Id/Name and Kong-Service-Id/Name', async () => {
    const res = await call('GET', `${gw.proxyUrl}/t/dbg`, undefined, { 'Kong-Debug': '1' })
    assert.equal(res.status, 200)
    assert.equal(res.headers['kong-route-id'], routeId)
    assert.equal(res.headers['kong-route-name'], 'r-echo')
    assert.equal(res.headers['kong-service-id'], serviceId)
    assert.equal(res.headers['kong-service-name'], 'echo')
    const none = await call('GET', `${gw.proxyUrl}/t/dbg`)
    assert.equal(none.headers['kong-route-id'], undefined, 'only when the request asks')
    const orphan = await call('GET', `${gw.proxyUrl}/orphan`, undefined, { 'Kong-Debug': '1' })
    assert.equal(orphan.status, 503)
    assert.equal(orphan.headers['kong-route-name'], 'orphan', 'set by the router, so present on gateway errors after a match')
    assert.equal(orphan.headers['kong-service-id'], undefined)
  })

  test('headers=server_tokens keeps Via and Server only', async () => {
    const res = await call('GET', `${gw.proxyUrl}/t`)
    assert.equal(res.headers['via'], `1.1 ${VIA}`)
    assert.equal(res.headers['server'], SERVER)
    for (const h of ['x-kong-upstream-latency', 'x-kong-proxy-latency', 'x-kong-request-id']) assert.equal(res.headers[h], undefined, h)
    assert.match(String(echoed(res.text).headers['x-kong-request-id']), REQUEST_ID, 'headers_upstream still sends the id upstream')
    const miss = await call('GET', `${gw.proxyUrl}/nope`)
    assert.equal(miss.status, 404)
    assert.equal(miss.headers['server'], SERVER)
    assert.equal(miss.headers['x-kong-response-latency'], undefined)
    assert.equal(miss.headers['x-kong-request-id'], undefined)
  })
})

describe('proxy headers with headers=off', () => {
  let gw: TestGateway
  let up: TestUpstream

  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway({ settings: { headers: 'off' } })
    await admin(gw, '/services', { name: 'echo', url: up.url })
    await admin(gw, '/services/echo/routes', { paths: ['/t'] })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
    await up?.close()
  })

  test('no gateway headers downstream; upstream still gets Via and X-Kong-Request-Id', async () => {
    const res = await call('GET', `${gw.proxyUrl}/t`)
    assert.equal(res.status, 200)
    for (const h of ['via', 'server', 'x-kong-upstream-latency', 'x-kong-proxy-latency', 'x-kong-request-id'])
      assert.equal(res.headers[h], undefined, h)
    const e = echoed(res.text)
    assert.equal(e.headers.via, `1.1 ${VIA}`)
    assert.match(String(e.headers['x-kong-request-id']), REQUEST_ID)
    const miss = await call('GET', `${gw.proxyUrl}/nope`)
    assert.equal(miss.status, 404)
    for (const h of ['server', 'x-kong-response-latency', 'x-kong-request-id']) assert.equal(miss.headers[h], undefined, h)
    assert.match(miss.body.request_id, REQUEST_ID, 'the body still carries the id')
  })
})

describe('Client → LB → gateway with trusted_ips and real_ip_header=X-Forwarded-For', () => {
  let gw: TestGateway
  let up: TestUpstream
  const prefix = mkdtempSync(join(tmpdir(), 'turnpike-chain-'))

  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway({ prefix, settings: { trusted_ips: '127.0.0.1', real_ip_header: 'X-Forwarded-For' } })
    await admin(gw, '/services', { name: 'echo', url: up.url })
    await admin(gw, '/services/echo/routes', { paths: ['/t'] })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
    await up?.close()
    rmSync(prefix, { recursive: true, force: true })
  })

  test('the client address from the LB header shows in X-Real-IP, X-Forwarded-For and the access log (which keeps the bytes the client sent)', async () => {
    // A first request whose User-Agent carries a non-ASCII byte (0xE9): the log keeps the byte.
    await rawRequest(
      gw.proxyPort,
      Buffer.concat([
        Buffer.from('GET /t/bytes HTTP/1.1\r\nHost: a.test\r\nUser-Agent: caf'),
        Buffer.from([0xe9]),
        Buffer.from('\r\nConnection: close\r\n\r\n'),
      ]),
    )
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/t/chain', [
        ['Host', 'a.test'],
        ['X-Forwarded-For', '203.0.113.7'],
        ['User-Agent', 'chain-test'],
        ['Connection', 'close'],
      ]),
    )
    const h = echoed(res.body).headers
    assert.equal(h['x-real-ip'], '203.0.113.7')
    assert.equal(h['x-forwarded-for'], '203.0.113.7, 127.0.0.1', 'the LB address ($realip_remote_addr) is appended')
    // The access log is buffered (4 KB) until shutdown: stop the gateway, keeping its prefix.
    await gw.stop()
    const line =
      readFileSync(join(prefix, 'logs', 'access.log'), 'utf8')
        .split('\n')
        .find((l) => l.includes('/t/chain')) ?? ''
    assert.match(line, /^203\.0\.113\.7 - - \[/)
    assert.match(line, /"GET \/t\/chain HTTP\/1\.1" 200 \d+ "-" "chain-test" kong_request_id: "[0-9a-f]{32}"$/)
    const raw = readFileSync(join(prefix, 'logs', 'access.log'))
    assert.ok(raw.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x22])), 'the User-Agent byte 0xE9 is logged as that byte, not re-encoded')
  })
})
