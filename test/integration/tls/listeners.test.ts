/**
 * TLS listeners (issue 16): one gateway with a plain and an `ssl` proxy listener, Admin API and
 * status listeners over TLS, certificates and SNIs written through the Admin API. Real node TLS
 * clients check which certificate the gateway presents for each server name, that a certificate
 * change is live without a restart, https-only routes, routes' `snis`, and that
 * `ssl_protocols = TLSv1.3` (with `ssl_cipher_suite = custom`) refuses a TLSv1.2 client.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect as h2connect } from 'node:http2'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls'
import { makeCert } from '../../helpers/certs.js'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { freePort } from '../../helpers/ports.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

interface TlsAnswer {
  readonly status: number
  readonly body: string
  readonly peer: PeerCertificate
}

/** One HTTPS request to 127.0.0.1 with the given TLS server name (certificates are not verified). */
function httpsGet(port: number, path: string, servername: string): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, servername, rejectUnauthorized: false, agent: false, headers: { host: servername } },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerCertificate()
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peer }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** A bare TLS handshake; resolves with the peer certificate, rejects when the gateway refuses it. */
function handshake(port: number, opts: { servername?: string; maxVersion?: 'TLSv1.2'; sigalgs?: string } = {}): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const peer = socket.getPeerCertificate()
      socket.end()
      resolve(peer)
    })
    socket.on('error', reject)
  })
}

describe('TLS listeners', () => {
  let gw: TestGateway
  let upstream: TestUpstream
  let dir: string
  let plain: number
  let tlsPort: number
  let admin: string
  let adminTls: number
  let statusTls: number
  const api = makeCert({ cn: 'api.test' })
  const adminCert = makeCert({ cn: 'admin.test' })

  before(async () => {
    upstream = await startUpstream()
    dir = mkdtempSync(join(tmpdir(), 'turnpike-tls-'))
    writeFileSync(join(dir, 'admin.crt'), adminCert.cert)
    writeFileSync(join(dir, 'admin.key'), adminCert.key)
    ;[plain, tlsPort, adminTls, statusTls] = [await freePort(), await freePort(), await freePort(), await freePort()]
    const adminPlain = await freePort()
    admin = `http://127.0.0.1:${adminPlain}`
    gw = await startTestGateway({
      settings: {
        proxy_listen: `127.0.0.1:${plain}, 127.0.0.1:${tlsPort} ssl`,
        admin_listen: `127.0.0.1:${adminPlain}, 127.0.0.1:${adminTls} http2 ssl`,
        status_listen: `127.0.0.1:${statusTls} ssl`,
        admin_ssl_cert: join(dir, 'admin.crt'),
        admin_ssl_cert_key: join(dir, 'admin.key'),
        ssl_cipher_suite: 'custom',
        ssl_protocols: 'TLSv1.3',
      },
    })
    const svc = await call('POST', `${admin}/services`, { name: 'echo', url: upstream.url })
    assert.equal(svc.status, 201, svc.text)
    const routes = [
      { name: 'secure', protocols: ['https'], paths: ['/secure'] },
      { name: 'by-sni', protocols: ['https'], paths: ['/by-sni'], snis: ['sni-only.test'] },
    ]
    for (const r of routes) assert.equal((await call('POST', `${admin}/services/echo/routes`, r)).status, 201)
  })

  after(async () => {
    await gw?.stop()
    await upstream?.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  test('the start line names every listener opened, TLS ones marked ssl', async () => {
    const line = await gw.waitForLog(/ started: /)
    assert.match(line, new RegExp(`proxy_listen 127\\.0\\.0\\.1:${plain}: .*; 127\\.0\\.0\\.1:${tlsPort} ssl: `))
    assert.match(
      line,
      new RegExp(
        `admin_listen 127\\.0\\.0\\.1:\\d+ http2, 127\\.0\\.0\\.1:${adminTls} ssl http2, status_listen 127\\.0\\.0\\.1:${statusTls} ssl,`,
      ),
    )
    assert.doesNotMatch(gw.errorLog(), /not served yet/)
  })

  test('an admin_listen entry with `http2 ssl` answers HTTP/2 clients (ALPN h2) and HTTP/1.1 ones', async () => {
    const session = h2connect(`https://127.0.0.1:${adminTls}`, { rejectUnauthorized: false })
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':path': '/status' })
        let status = 0
        let body = ''
        req.on('response', (h) => (status = Number(h[':status'])))
        req.setEncoding('utf8')
        req.on('data', (c: string) => (body += c))
        req.on('end', () => resolve({ status, body }))
        req.on('error', reject)
      })
      assert.equal((session.socket as TLSSocket).alpnProtocol, 'h2')
      assert.equal(answer.status, 200)
      assert.ok('server' in (JSON.parse(answer.body) as object))
    } finally {
      session.close()
    }
    const h1 = await httpsGet(adminTls, '/status', 'admin.test')
    assert.equal(h1.status, 200)
  })

  test("without ssl_cert, Kong's self-signed RSA and ECDSA defaults are generated into <prefix>/ssl/ and served", async () => {
    for (const f of ['kong-default.crt', 'kong-default.key', 'kong-default-ecdsa.crt', 'status-kong-default.crt']) {
      assert.ok(existsSync(join(gw.prefix, 'ssl', f)), f)
    }
    const rsa = await handshake(tlsPort, { servername: 'nothing.test' })
    assert.equal(rsa.subject.CN, 'localhost')
    assert.equal(rsa.subject.O, 'Kong')
    const ec = await handshake(tlsPort, { servername: 'nothing.test', sigalgs: 'ecdsa_secp256r1_sha256' })
    assert.equal(ec.subject.CN, 'localhost')
    assert.equal(ec.asn1Curve, 'prime256v1', 'an ECDSA client gets the ECDSA default')
  })

  test('SNI picks the certificate: exact name, wildcard, unknown name gets the default; an update is live without restart', async () => {
    const created = await call('POST', `${admin}/certificates`, { cert: api.cert, key: api.key, snis: ['api.test', '*.wild.test'] })
    assert.equal(created.status, 201, created.text)
    await eventually(
      async () => (await handshake(tlsPort, { servername: 'api.test' })).subject.CN === 'api.test',
      5000,
      'the certificate served',
    )
    assert.equal((await handshake(tlsPort, { servername: 'x.wild.test' })).subject.CN, 'api.test')
    assert.equal((await handshake(tlsPort, { servername: 'unknown.test' })).subject.CN, 'localhost')

    const next = makeCert({ cn: 'api-v2.test' })
    const patched = await call('PATCH', `${admin}/certificates/${String(created.body.id)}`, { cert: next.cert, key: next.key })
    assert.equal(patched.status, 200, patched.text)
    await eventually(
      async () => (await handshake(tlsPort, { servername: 'api.test' })).subject.CN === 'api-v2.test',
      5000,
      'the updated certificate',
    )
  })

  test('an https-only route: 426 over plain HTTP, proxied over TLS with X-Forwarded-Proto https', async () => {
    const overHttp = await call('GET', `http://127.0.0.1:${plain}/secure`)
    assert.equal(overHttp.status, 426)
    assert.match(overHttp.text, /Please use HTTPS protocol/)
    const overTls = await httpsGet(tlsPort, '/secure', 'api.test')
    assert.equal(overTls.status, 200, overTls.body)
    const echo = JSON.parse(overTls.body) as { headers: Record<string, string> }
    assert.equal(echo.headers['x-forwarded-proto'], 'https')
    assert.equal(echo.headers['x-forwarded-port'], String(tlsPort))
  })

  test("a route's snis match the TLS server name only", async () => {
    assert.equal((await httpsGet(tlsPort, '/by-sni', 'sni-only.test')).status, 200)
    assert.equal((await httpsGet(tlsPort, '/by-sni', 'api.test')).status, 404)
  })

  test('ssl_protocols = TLSv1.3 (ssl_cipher_suite = custom) refuses a TLSv1.2 client', async () => {
    await assert.rejects(handshake(tlsPort, { servername: 'api.test', maxVersion: 'TLSv1.2' }))
    await assert.rejects(handshake(adminTls, { maxVersion: 'TLSv1.2' }))
  })

  test('the Admin API over TLS serves admin_ssl_cert; the status listener its generated default', async () => {
    const root = await httpsGet(adminTls, '/', 'localhost')
    assert.equal(root.status, 200)
    assert.equal(root.peer.subject.CN, 'admin.test')
    const status = await httpsGet(statusTls, '/status', 'localhost')
    assert.equal(status.status, 200)
    assert.equal(status.peer.subject.CN, 'localhost')
  })
})
