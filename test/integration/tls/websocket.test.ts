/**
 * WebSocket over TLS (issue 16), `wss://` to the gateway's TLS listener. Kong 3.9 OSS has no `ws`
 * or `wss` route protocols (they are Enterprise's): WebSockets ride ordinary `https` routes as
 * upgrades, so that is what is checked here, to a plain `ws` upstream (service `http`) and to a
 * `wss` upstream (service `https`, node:https with an openssl-made certificate). Frames and the
 * echo upstream are ../proxy/ws-helpers.ts.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { connect, type TLSSocket } from 'node:tls'
import { makeCert } from '../../helpers/certs.js'
import { call, eventually, type TestGateway, startTestGateway } from '../../helpers/gateway.js'
import { freePort } from '../../helpers/ports.js'
import { admin } from '../proxy/helpers.js'
import { acceptKey, assertEchoes, echoUpgrade, handshake } from '../proxy/ws-helpers.js'

/** What an upstream saw of the upgrade request. */
interface Seen {
  readonly url: string
  readonly proto: string | undefined
  readonly sni: string | null
}

describe('WebSocket over TLS (wss://)', () => {
  let gw: TestGateway
  let tlsPort: number
  let plainPort: number
  const upstreams: Server[] = []
  const seen: Seen[] = []
  const upstreamCert = makeCert({ cn: 'localhost' })

  /** Records the upgrade request and echoes its frames. */
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const tls = socket as Partial<TLSSocket>
    seen.push({
      url: req.url ?? '',
      proto: req.headers['x-forwarded-proto'] as string | undefined,
      sni: typeof tls.servername === 'string' ? tls.servername : null,
    })
    echoUpgrade(req, socket, head)
  }

  /** A TLS connection to the gateway's TLS listener (its self-signed default certificate is not verified). */
  const wss = (): TLSSocket => connect({ host: '127.0.0.1', port: tlsPort, servername: 'ws.test', rejectUnauthorized: false })

  before(async () => {
    const ws = createHttpServer((_req, res) => res.end('plain'))
    const secure = createHttpsServer({ cert: upstreamCert.cert, key: upstreamCert.key }, (_req, res) => res.end('plain'))
    for (const s of [ws, secure]) {
      s.on('upgrade', onUpgrade)
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
      upstreams.push(s)
    }
    tlsPort = await freePort()
    plainPort = await freePort()
    gw = await startTestGateway({ settings: { proxy_listen: `127.0.0.1:${plainPort}, 127.0.0.1:${tlsPort} ssl` } })
    await admin(gw, '/services', { name: 'ws-upstream', url: `http://127.0.0.1:${(ws.address() as AddressInfo).port}` })
    await admin(gw, '/services/ws-upstream/routes', { name: 'to-ws', protocols: ['https'], paths: ['/to-ws'] })
    await admin(gw, '/services', { name: 'wss-upstream', url: `https://localhost:${(secure.address() as AddressInfo).port}` })
    await admin(gw, '/services/wss-upstream/routes', { name: 'to-wss', protocols: ['https'], paths: ['/to-wss'] })
    // Both routes are applied together: the last one answering (426 on the plain listener) is enough.
    await eventually(async () => (await call('GET', `http://127.0.0.1:${plainPort}/to-wss`)).status === 426, 5000, 'routes applied')
  })

  after(async () => {
    await gw?.stop()
    for (const s of upstreams) {
      s.closeAllConnections()
      s.close()
    }
  })

  test('wss:// to a ws upstream: 101 over TLS, X-Forwarded-Proto https, frames echoed, closed cleanly', async () => {
    const key = randomBytes(16).toString('base64')
    const hs = await handshake(wss, '/to-ws/chat', key)
    try {
      assert.equal(hs.status, 101)
      assert.equal(hs.headers['sec-websocket-accept'], acceptKey(key))
      const up = seen.at(-1)
      assert.deepEqual(up, { url: '/chat', proto: 'https', sni: null })
      await assertEchoes(hs, 'over wss to ws')
    } finally {
      hs.socket.destroy()
    }
  })

  test('wss:// to a wss upstream: the gateway upgrades over its own TLS connection (SNI: the service host)', async () => {
    const key = randomBytes(16).toString('base64')
    const hs = await handshake(wss, '/to-wss/chat', key)
    try {
      assert.equal(hs.status, 101)
      assert.equal(hs.headers['sec-websocket-accept'], acceptKey(key))
      assert.deepEqual(seen.at(-1), { url: '/chat', proto: 'https', sni: 'localhost' })
      await assertEchoes(hs, 'over wss to wss')
    } finally {
      hs.socket.destroy()
    }
  })

  test("ws:// (plain) on an https-only route gets Kong's 426", async () => {
    const hs = await handshake(plainPort, '/to-ws/chat', randomBytes(16).toString('base64'))
    try {
      assert.equal(hs.status, 426)
      const body = await new Promise<string>((resolve) => {
        const done = (): void => resolve(hs.reader.take().toString())
        if (hs.socket.readableEnded) done()
        else {
          hs.socket.once('end', done)
          setTimeout(done, 1000)
        }
      })
      assert.match(body, /Please use HTTPS protocol/)
    } finally {
      hs.socket.destroy()
    }
  })

  test('ws and wss are not route protocols in Kong OSS 3.9: the Admin API refuses them', async () => {
    const r = await call('POST', `${gw.adminUrl}/routes`, { protocols: ['wss'], paths: ['/nope'] })
    assert.equal(r.status, 400, r.text)
  })
})
