/**
 * Upstream TLS (issue 16): one gateway, HTTPS upstreams started here with node:https and
 * certificates made with openssl. Services' `tls_verify` with `ca_certificates`, the global
 * `lua_ssl_trusted_certificate`, `client_certificate` (upstream mTLS) and the 502 hints of each
 * handshake failure (unknown CA, hostname mismatch, expired certificate, client certificate
 * required), each naming the field that fixes it; an upstream entity's `client_certificate`.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type ServerOptions } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { issueCert, makeCert, type TestCert } from '../../helpers/certs.js'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

/** An HTTPS server on 127.0.0.1 answering 200 with its name. */
async function httpsUpstream(name: string, cert: TestCert, extra: ServerOptions = {}): Promise<{ server: Server; url: string }> {
  const server = createServer({ cert: cert.cert, key: cert.key, ...extra }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(name)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

interface Answer {
  readonly status: number
  readonly body: string
  readonly requestId: string
}

async function get(gw: TestGateway, path: string): Promise<Answer> {
  const res = await fetch(`${gw.proxyUrl}${path}`)
  return { status: res.status, body: await res.text(), requestId: res.headers.get('x-kong-request-id') ?? '' }
}

/** The error-log line of a request (waits for it). */
async function logLine(gw: TestGateway, requestId: string): Promise<string> {
  assert.notEqual(requestId, '')
  return gw.waitForLog(new RegExp(`request_id: "${requestId}"`))
}

/** Proxies `path`: 200 with `body`. */
async function passes(gw: TestGateway, path: string, body: string): Promise<void> {
  const r = await get(gw, path)
  assert.equal(r.status, 200, `${path}: ${r.body}`)
  assert.equal(r.body, body)
}

/** Proxies `path`: 502 (Kong's answer), and its error-log line matches every pattern. */
async function fails(gw: TestGateway, path: string, ...patterns: RegExp[]): Promise<void> {
  const r = await get(gw, path)
  assert.equal(r.status, 502, `${path}: ${r.body}`)
  const line = await logLine(gw, r.requestId)
  for (const p of patterns) assert.match(line, p)
}

describe('upstream TLS', () => {
  let gw: TestGateway
  let dir: string
  const servers: Server[] = []
  const ca = makeCert({ ca: true, cn: 'Upstream Test CA' })
  const globalCa = makeCert({ ca: true, cn: 'Global Test CA' })
  const clientCa = makeCert({ ca: true, cn: 'Client Test CA' })
  const client = issueCert(clientCa, { cn: 'gateway-client' })

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'turnpike-utls-'))
    writeFileSync(join(dir, 'global-ca.pem'), globalCa.cert)
    const up = async (name: string, cert: TestCert, extra: ServerOptions = {}): Promise<string> => {
      const u = await httpsUpstream(name, cert, extra)
      servers.push(u.server)
      return u.url
    }
    const good = await up('good', issueCert(ca, { cn: 'upstream', san: 'IP:127.0.0.1,DNS:localhost' }))
    const byGlobal = await up('by-global', issueCert(globalCa, { cn: 'upstream', san: 'IP:127.0.0.1' }))
    const otherName = await up('other-name', issueCert(ca, { cn: 'other.test', san: 'DNS:other.test' }))
    const expired = await up('expired', issueCert(ca, { cn: 'upstream', san: 'IP:127.0.0.1', expired: true }))
    const mtls = await up('mtls', issueCert(ca, { cn: 'upstream', san: 'IP:127.0.0.1' }), {
      requestCert: true,
      rejectUnauthorized: true,
      ca: clientCa.cert,
    })
    const selfSigned = await up('self-signed', makeCert({ cn: 'self.test' }))
    // leaf ← intermediate ← ca: three certificates, within depth 1, beyond depth 0.
    const intermediate = issueCert(ca, { cn: 'Upstream Intermediate CA', ca: true })
    const leaf = issueCert(intermediate, { cn: 'upstream', san: 'IP:127.0.0.1' })
    const chained = await up('chained', { cert: leaf.cert + intermediate.cert, key: leaf.key })

    gw = await startTestGateway({ settings: { lua_ssl_trusted_certificate: `system,${join(dir, 'global-ca.pem')}` } })
    const admin = gw.adminUrl
    const caRow = await call('POST', `${admin}/ca_certificates`, { cert: ca.cert })
    assert.equal(caRow.status, 201, caRow.text)
    const clientRow = await call('POST', `${admin}/certificates`, { cert: client.cert, key: client.key })
    assert.equal(clientRow.status, 201, clientRow.text)
    const caIds = [String(caRow.body.id)]
    const services: Record<string, Record<string, unknown>> = {
      'ca-ok': { url: good, tls_verify: true, ca_certificates: caIds },
      'ca-missing': { url: good, tls_verify: true },
      'global-ok': { url: byGlobal, tls_verify: true },
      'own-cas-only': { url: byGlobal, tls_verify: true, ca_certificates: caIds },
      mismatch: { url: otherName, tls_verify: true, ca_certificates: caIds },
      expired: { url: expired, tls_verify: true, ca_certificates: caIds },
      'mtls-missing': { url: mtls, tls_verify: true, ca_certificates: caIds },
      'mtls-ok': { url: mtls, tls_verify: true, ca_certificates: caIds, client_certificate: { id: clientRow.body.id } },
      'depth-default': { url: chained, tls_verify: true, ca_certificates: caIds },
      'depth-zero': { url: chained, tls_verify: true, ca_certificates: caIds, tls_verify_depth: 0 },
      'mtls-balanced': { url: 'https://mtls-pool', tls_verify: false },
      'no-verify': { url: selfSigned, tls_verify: false },
      'default-verify': { url: selfSigned },
    }
    // An upstream entity with a client certificate: services balanced onto it present it.
    const pool = await call('POST', `${admin}/upstreams`, { name: 'mtls-pool', client_certificate: { id: clientRow.body.id } })
    assert.equal(pool.status, 201, pool.text)
    const target = await call('POST', `${admin}/upstreams/mtls-pool/targets`, { target: mtls.replace('https://', '') })
    assert.equal(target.status, 201, target.text)
    for (const [name, body] of Object.entries(services)) {
      const svc = await call('POST', `${admin}/services`, { name, ...body })
      assert.equal(svc.status, 201, svc.text)
      const route = await call('POST', `${admin}/services/${name}/routes`, { paths: [`/${name}`] })
      assert.equal(route.status, 201, route.text)
    }
    // The last route reached the worker once it answers (routes are applied together).
    for (let i = 0; i < 100 && (await get(gw, '/default-verify')).status === 404; i++) await new Promise((r) => setTimeout(r, 50))
  })

  after(async () => {
    await gw?.stop()
    for (const s of servers) s.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  test("tls_verify=true with the upstream's CA in the service's ca_certificates → 200", async () => {
    await passes(gw, '/ca-ok', 'good')
  })

  test('tls_verify=true without the CA → 502, the hint names ca_certificates and lua_ssl_trusted_certificate', async () => {
    await fails(
      gw,
      '/ca-missing',
      /upstream SSL certificate verify error: \(\d+:[^)]+\) while SSL handshaking to upstream/,
      /add the CA to the service's ca_certificates or lua_ssl_trusted_certificate/,
    )
  })

  test("lua_ssl_trusted_certificate is trusted by services without ca_certificates; a service's own CAs replace it", async () => {
    await passes(gw, '/global-ok', 'by-global')
    await fails(gw, '/own-cas-only', /not signed by a CA the gateway trusts/)
  })

  test('hostname mismatch → 502, the hint quotes the name checked and the names in the certificate', async () => {
    await fails(
      gw,
      '/mismatch',
      /\(62:hostname mismatch\)/,
      /checked 127\.0\.0\.1; the certificate holds DNS:other\.test/,
      /set the service host/,
    )
  })

  test('expired certificate → 502, the hint says to renew it', async () => {
    await fails(gw, '/expired', /\(10:certificate has expired\)/, /renew it on the upstream/)
  })

  test('an upstream requiring a client certificate: 502 with the hint without client_certificate, 200 with it', async () => {
    await fails(gw, '/mtls-missing', /set the service's client_certificate/)
    await passes(gw, '/mtls-ok', 'mtls')
  })

  test("a service balanced onto an upstream entity with a client_certificate presents it (Kong's fallback)", async () => {
    await passes(gw, '/mtls-balanced', 'mtls')
  })

  test('tls_verify_depth: a chain with an intermediate passes the default depth 1, fails depth 0 with its hint', async () => {
    await passes(gw, '/depth-default', 'chained')
    await fails(gw, '/depth-zero', /\(22:certificate chain too long\)/, /raise the service's tls_verify_depth or lua_ssl_verify_depth/)
  })

  test('tls_verify=false, and tls_verify null (Kong: proxy_ssl_verify off), reach a self-signed upstream', async () => {
    for (const path of ['/no-verify', '/default-verify']) await passes(gw, path, 'self-signed')
  })
})
