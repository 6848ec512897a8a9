/**
 * kong.conf's `client_ssl` (issue 16): with it on, `client_ssl_cert`/`client_ssl_cert_key` are
 * presented to upstreams when neither the service nor the upstream entity names a
 * `client_certificate` (nginx's `proxy_ssl_certificate` in Kong's template), and by https health
 * probes (Kong's healthchecker falls back to it). A node TLS server that requires a client
 * certificate from one CA says which certificate it got.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { TLSSocket } from 'node:tls'
import { issueCert, makeCert } from '../../helpers/certs.js'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

describe('client_ssl', () => {
  let gw: TestGateway
  let server: Server
  let dir: string
  let port: number
  const probes: string[] = []
  const trustedCa = makeCert({ ca: true, cn: 'Trusted Client CA' })
  const otherCa = makeCert({ ca: true, cn: 'Other Client CA' })
  const global = issueCert(trustedCa, { cn: 'global-client' })
  const untrusted = issueCert(otherCa, { cn: 'untrusted-client' })
  const serverCert = makeCert({ cn: 'localhost' })

  const created = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const r = await call('POST', `${gw.adminUrl}${path}`, body)
    assert.equal(r.status, 201, `${path}: ${r.text}`)
    return r.body
  }

  before(async () => {
    server = createServer(
      { cert: serverCert.cert, key: serverCert.key, requestCert: true, rejectUnauthorized: true, ca: trustedCa.cert },
      (req, res) => {
        const cn = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '')
        if (req.url === '/probe' && probes.length < 100) probes.push(cn)
        res.end(cn)
      },
    )
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as AddressInfo).port
    dir = mkdtempSync(join(tmpdir(), 'turnpike-client-ssl-'))
    writeFileSync(join(dir, 'client.crt'), global.cert)
    writeFileSync(join(dir, 'client.key'), global.key)
    gw = await startTestGateway({
      settings: { client_ssl: 'on', client_ssl_cert: join(dir, 'client.crt'), client_ssl_cert_key: join(dir, 'client.key') },
    })
    const own = await created('/certificates', { cert: untrusted.cert, key: untrusted.key })
    await created('/services', { name: 'global', url: `https://127.0.0.1:${port}/` })
    await created('/services/global/routes', { paths: ['/global'] })
    await created('/services', { name: 'own', url: `https://127.0.0.1:${port}/`, client_certificate: { id: own.id } })
    await created('/services/own/routes', { paths: ['/own'] })
    await created('/upstreams', {
      name: 'probed',
      healthchecks: {
        active: {
          type: 'https',
          http_path: '/probe',
          https_verify_certificate: false,
          healthy: { interval: 0.2, successes: 1 },
          unhealthy: { interval: 0.2, tcp_failures: 1, http_failures: 1, timeouts: 1 },
        },
      },
    })
    await created('/upstreams/probed/targets', { target: `127.0.0.1:${port}` })
    await eventually(async () => (await fetch(`${gw.proxyUrl}/own`)).status !== 404, 5000, 'routes applied')
  })

  after(async () => {
    await gw?.stop()
    server?.closeAllConnections()
    server?.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  test('a service without client_certificate presents client_ssl_cert', async () => {
    const res = await fetch(`${gw.proxyUrl}/global`)
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'global-client')
  })

  test("a service's own client_certificate wins over client_ssl_cert", async () => {
    const res = await fetch(`${gw.proxyUrl}/own`)
    assert.equal(res.status, 502, 'the server does not trust the service certificate')
  })

  test('https health probes of an upstream without client_certificate present client_ssl_cert', async () => {
    await eventually(async () => probes.length >= 2, 5000, 'probes')
    assert.equal(probes[0], 'global-client')
    const h = await call('GET', `${gw.adminUrl}/upstreams/probed/health`)
    assert.equal((h.body.data as { health: string }[])[0]?.health, 'HEALTHY')
  })
})
