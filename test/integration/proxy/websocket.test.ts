/**
 * WebSocket end to end through the real gateway (Kong proxies upgrades on ordinary http routes:
 * `Upgrade: websocket` forwarded with `Connection: keep-alive, Upgrade`). The upstream is a
 * minimal RFC 6455 echo server on node:http's 'upgrade' event with raw frames (./ws-helpers.ts);
 * the client does the handshake on a raw socket and sends masked frames.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { VERSION } from '../../../src/version.js'
import { admin, rawRequest, rawText, REQUEST_ID, settle } from './helpers.js'
import { acceptKey, assertEchoes, echoUpgrade, handshake } from './ws-helpers.js'

describe('WebSocket through the gateway', () => {
  let gw: TestGateway
  let upstream: Server
  let upstreamPort = 0
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = []
  const plainSeen: Array<{ url: string; headers: IncomingHttpHeaders }> = []

  before(async () => {
    upstream = createServer((req, res) => {
      // Plain requests: a refused upgrade path, and what a non-WebSocket upgrade turns into.
      plainSeen.push({ url: req.url ?? '', headers: req.headers })
      if (req.url?.startsWith('/refuse') === true) {
        res.writeHead(403, { 'content-type': 'text/plain' })
        res.end('websocket refused by upstream')
        return
      }
      res.end('plain answer')
    })
    upstream.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      seen.push({ url: req.url ?? '', headers: req.headers })
      if (req.url?.startsWith('/refuse') === true) {
        socket.end(
          'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 29\r\nConnection: close\r\n\r\nwebsocket refused by upstream',
        )
        return
      }
      echoUpgrade(req, socket, head)
    })
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
    upstreamPort = (upstream.address() as AddressInfo).port
    gw = await startTestGateway()
    await admin(gw, '/services', { name: 'ws', url: `http://127.0.0.1:${upstreamPort}` })
    await admin(gw, '/services/ws/routes', { name: 'ws', paths: ['/ws'] })
    await admin(gw, '/services/ws/routes', { name: 'refuse', paths: ['/refuse'], strip_path: false })
    await admin(gw, '/routes', { name: 'ws-orphan', paths: ['/orphan-ws'] })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
    upstream?.closeAllConnections()
    await new Promise<void>((r) => (upstream === undefined ? r() : upstream.close(() => r())))
  })

  test('handshake, masked text frame echoed, a 1000-byte binary frame, close', async () => {
    const key = randomBytes(16).toString('base64')
    const hs = await handshake(gw.proxyPort, '/ws/chat?room=1', key)
    try {
      assert.equal(hs.status, 101)
      assert.equal(hs.headers['sec-websocket-accept'], acceptKey(key))
      assert.equal(hs.headers['upgrade']?.toLowerCase(), 'websocket')
      assert.equal(hs.headers['connection']?.toLowerCase(), 'upgrade')
      assert.equal(hs.headers['x-echo-path'], '/chat?room=1', 'strip_path applies to the upgrade request')
      assert.match(hs.headers['x-kong-request-id'] ?? '', REQUEST_ID)
      assert.equal(hs.headers['via'], `1.1 turnpike/${VERSION}`)
      const up = seen.at(-1)
      assert.ok(up !== undefined)
      assert.equal(up.headers['upgrade'], 'websocket')
      assert.match(String(up.headers['connection']), /upgrade/i)
      assert.equal(up.headers['sec-websocket-key'], key)
      assert.equal(up.headers['sec-websocket-version'], '13')
      assert.equal(up.headers['host'], `127.0.0.1:${upstreamPort}`)
      assert.equal(up.headers['x-forwarded-for'], '127.0.0.1')
      assert.equal(up.headers['x-forwarded-prefix'], '/ws')

      await assertEchoes(hs)
    } finally {
      hs.socket.destroy()
    }
  })

  test('an upstream that refuses the upgrade: its response reaches the client', async () => {
    const hs = await handshake(gw.proxyPort, '/refuse', randomBytes(16).toString('base64'))
    try {
      assert.equal(hs.status, 403)
      assert.match(hs.headers['x-kong-request-id'] ?? '', REQUEST_ID)
      // The body is delimited by the connection closing; the reader has been collecting it.
      const body = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('connection not closed after the body')), 5000)
        const done = (): void => {
          clearTimeout(t)
          resolve(hs.reader.take().toString())
        }
        if (hs.socket.readableEnded) done()
        else hs.socket.once('end', done)
      })
      assert.equal(body, 'websocket refused by upstream')
    } finally {
      hs.socket.destroy()
    }
  })

  test("a WebSocket request on a route without service gets Kong's 503", async () => {
    const hs = await handshake(gw.proxyPort, '/orphan-ws', randomBytes(16).toString('base64'))
    try {
      assert.equal(hs.status, 503)
      assert.equal(hs.headers['content-type'], 'application/json; charset=utf-8')
    } finally {
      hs.socket.destroy()
    }
  })

  test('a non-WebSocket upgrade (h2c) is proxied as a plain HTTP/1.1 request, as Kong does', async () => {
    const before = seen.length
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/ws/plain', [
        ['Host', 'ws.test'],
        ['Connection', 'Upgrade, HTTP2-Settings'],
        ['Upgrade', 'h2c'],
        ['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA'],
      ]),
    )
    assert.equal(res.status, 200)
    assert.equal(res.body.toString(), 'plain answer')
    assert.equal(seen.length, before, 'the upstream saw no upgrade')
    const got = plainSeen.at(-1)
    assert.equal(got?.url, '/plain')
    assert.equal(got?.headers['upgrade'], undefined)
    assert.equal(got?.headers['http2-settings'], undefined, 'named in Connection: hop-by-hop')
  })
})
