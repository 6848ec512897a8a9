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
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { VERSION } from '../../../src/version.js'
import { admin, rawRequest, rawText, REQUEST_ID, settle } from './helpers.js'
import { acceptKey, assertEchoes, echoUpgrade, handshake } from './ws-helpers.js'

describe('WebSocket through the gateway', () => {
  let gw: TestGateway
  let upstream: Server
  let upstreamPort = 0
  /** A raw TCP upstream that records each request head byte for byte and answers 101. */
  let rawUpstream: TcpServer
  const rawHeads: string[] = []
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
    rawUpstream = createTcpServer((socket) => {
      let data = ''
      socket.on('error', () => {})
      socket.on('data', (c: Buffer) => {
        data += c.toString('latin1')
        const end = data.indexOf('\r\n\r\n')
        if (end === -1 || data.length > 65536) return
        rawHeads.push(data.slice(0, end))
        const key = /\r\nsec-websocket-key: *([^\r]*)/i.exec(data)?.[1] ?? ''
        socket.end(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
        )
      })
    })
    await new Promise<void>((r) => rawUpstream.listen(0, '127.0.0.1', r))
    gw = await startTestGateway()
    await admin(gw, '/services', { name: 'raw', url: `http://127.0.0.1:${(rawUpstream.address() as AddressInfo).port}` })
    await admin(gw, '/services/raw/routes', { name: 'raw', paths: ['/raw'] })
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
    await new Promise<void>((r) => (rawUpstream === undefined ? r() : rawUpstream.close(() => r())))
  })

  // Kong 3.9.3 kong/runloop/handler.lua (access phase): a request whose `Upgrade` is `websocket` in
  // any case gets `$upstream_connection = "keep-alive, Upgrade"` and `$upstream_upgrade = "websocket"`,
  // which kong/templates/nginx_kong.lua sends with `proxy_set_header Connection/Upgrade`; nginx's
  // proxy module drops the client's own Connection and Upgrade.
  test("the upgrade request upstream carries Kong's `Connection: keep-alive, Upgrade` and `Upgrade: websocket`, once each", async () => {
    const key = randomBytes(16).toString('base64')
    const hs = await handshake(gw.proxyPort, '/raw/x', key, [
      // a browser's casing, and a second client Connection header: none of it travels upstream as sent
      ['Connection', 'keep-alive'],
    ])
    hs.socket.destroy()
    assert.equal(hs.status, 101)
    const head = rawHeads.at(-1) ?? ''
    const lines = head.split('\r\n').slice(1)
    const named = (n: string): string[] => lines.filter((l) => l.toLowerCase().startsWith(`${n}:`)).map((l) => l.slice(n.length + 1).trim())
    assert.deepEqual(named('connection'), ['keep-alive, Upgrade'], head)
    assert.deepEqual(named('upgrade'), ['websocket'], head)
    assert.deepEqual(named('sec-websocket-key'), [key])
    assert.match(head, /^GET \/x HTTP\/1\.1\r\n/)
  })

  test('`Upgrade: WebSocket` in another case still goes upstream as `Upgrade: websocket`', async () => {
    const key = randomBytes(16).toString('base64')
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(gw.proxyPort, '127.0.0.1')
      s.once('connect', () => resolve(s))
      s.once('error', reject)
    })
    try {
      const answer = new Promise<string>((resolve) => {
        let got = ''
        socket.on('data', (c: Buffer) => {
          got += c.toString('latin1')
          if (got.includes('\r\n\r\n')) resolve(got)
        })
      })
      socket.write(
        rawText('GET', '/raw/y', [
          ['Host', 'ws.test'],
          ['Upgrade', 'WebSocket'],
          ['Connection', 'Upgrade'],
          ['Sec-WebSocket-Key', key],
          ['Sec-WebSocket-Version', '13'],
        ]),
      )
      assert.match(await answer, /^HTTP\/1\.1 101 /)
      const head = rawHeads.at(-1) ?? ''
      assert.match(head, /^GET \/y HTTP\/1\.1\r\n/)
      assert.match(head, /\r\nupgrade: websocket(\r\n|$)/)
      assert.match(head, /\r\nconnection: keep-alive, Upgrade(\r\n|$)/)
    } finally {
      socket.destroy()
    }
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
      assert.equal(up.headers['connection'], 'keep-alive, Upgrade')
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
