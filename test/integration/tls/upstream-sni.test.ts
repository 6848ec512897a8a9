/**
 * The server name the gateway sends to HTTPS upstreams, and https health probes (issue 16).
 * Node TLS servers started here record the SNI of every request. Proxied requests send Kong's
 * `$upstream_host` (nginx's `proxy_ssl_name`): the service host, a balancer target's host, the
 * upstream's `host_header`, or the client's Host with `preserve_host`; none for an IP. Active
 * `https` probes send `healthchecks.active.https_sni` (else the target's host), verify that name
 * with `lua_ssl_trusted_certificate` and `lua_ssl_verify_depth` when `https_verify_certificate` is on, present the upstream's
 * `client_certificate`, and use `lua_ssl_protocols` (which proxied connections do not).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer, type Server, type ServerOptions } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { TLSSocket } from 'node:tls'
import { issueCert, makeCert } from '../../helpers/certs.js'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

/** What a server saw of one request. */
interface Seen {
  readonly sni: string | null
  readonly client: string | null
}

/** An HTTPS server on 127.0.0.1 answering with the SNI it received; requests are recorded by path. */
async function recordingServer(options: ServerOptions): Promise<{ server: Server; port: number; seen: Map<string, Seen[]> }> {
  const seen = new Map<string, Seen[]>()
  const server = createServer(options, (req, res) => {
    const socket = req.socket as TLSSocket
    const sni = typeof socket.servername === 'string' ? socket.servername : null
    const peer = socket.getPeerCertificate()
    const client = peer !== null && typeof peer.subject?.CN === 'string' ? peer.subject.CN : null
    const path = req.url ?? ''
    const list = seen.get(path) ?? []
    if (list.length < 100) list.push({ sni, client })
    seen.set(path, list)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ sni, client }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, seen }
}

/** Active https checks every 0.2 s: one failure makes a target unhealthy, one success healthy. */
function httpsChecks(path: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    active: {
      type: 'https',
      http_path: path,
      timeout: 1,
      https_verify_certificate: false,
      ...extra,
      healthy: { interval: 0.2, successes: 1 },
      unhealthy: { interval: 0.2, tcp_failures: 1, timeouts: 1, http_failures: 1 },
    },
  }
}

describe('upstream SNI and https health probes', () => {
  let gw: TestGateway
  let dir: string
  const servers: Server[] = []
  const ca = makeCert({ ca: true, cn: 'SNI Test CA' })
  const clientCa = makeCert({ ca: true, cn: 'Probe Client CA' })
  const client = issueCert(clientCa, { cn: 'gateway-client' })
  const serverCert = issueCert(ca, { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' })
  let plain: Awaited<ReturnType<typeof recordingServer>>
  let mtls: Awaited<ReturnType<typeof recordingServer>>
  let tls12: Awaited<ReturnType<typeof recordingServer>>
  let chained: Awaited<ReturnType<typeof recordingServer>>

  const admin = (method: string, path: string, body?: unknown): ReturnType<typeof call> => call(method, `${gw.adminUrl}${path}`, body)
  const created = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const r = await admin('POST', path, body)
    assert.equal(r.status, 201, `${path}: ${r.text}`)
    return r.body
  }
  const health = async (upstream: string): Promise<string> => {
    const r = await admin('GET', `/upstreams/${upstream}/health`)
    assert.equal(r.status, 200, r.text)
    return (r.body.data as { health: string }[])[0]?.health ?? 'none'
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'turnpike-sni-'))
    writeFileSync(join(dir, 'ca.pem'), ca.cert)
    plain = await recordingServer({ cert: serverCert.cert, key: serverCert.key })
    mtls = await recordingServer({
      cert: serverCert.cert,
      key: serverCert.key,
      requestCert: true,
      rejectUnauthorized: true,
      ca: clientCa.cert,
    })
    tls12 = await recordingServer({ cert: serverCert.cert, key: serverCert.key, maxVersion: 'TLSv1.2' })
    // leaf ← intermediate ← CA: one certificate more than lua_ssl_verify_depth = 0 accepts.
    const intermediate = issueCert(ca, { cn: 'SNI Test Intermediate', ca: true })
    const leaf = issueCert(intermediate, { cn: 'localhost', san: 'DNS:localhost' })
    chained = await recordingServer({ cert: leaf.cert + intermediate.cert, key: leaf.key })
    servers.push(plain.server, mtls.server, tls12.server, chained.server)
    gw = await startTestGateway({
      settings: { lua_ssl_trusted_certificate: join(dir, 'ca.pem'), lua_ssl_protocols: 'TLSv1.3', lua_ssl_verify_depth: '0' },
    })
    const caRow = await created('/ca_certificates', { cert: ca.cert })
    const clientRow = await created('/certificates', { cert: client.cert, key: client.key })
    const p = plain.port
    // Proxied traffic.
    await created('/upstreams', { name: 'sni-pool' })
    await created('/upstreams/sni-pool/targets', { target: `localhost:${p}` })
    await created('/upstreams', { name: 'sni-hh', host_header: 'pinned.test' })
    await created('/upstreams/sni-hh/targets', { target: `localhost:${p}` })
    const services: Record<string, Record<string, unknown>> = {
      'by-name': { url: `https://localhost:${p}/by-name` },
      'by-ip': { url: `https://127.0.0.1:${p}/by-ip` },
      'by-target': { url: 'https://sni-pool/by-target' },
      'by-host-header': { url: 'https://sni-hh/by-host-header' },
      preserve: { url: `https://127.0.0.1:${p}/preserve` },
      'verify-target': { url: 'https://sni-pool/verify-target', tls_verify: true, ca_certificates: [caRow.id] },
      'verify-host-header': { url: 'https://sni-hh/verify-host-header', tls_verify: true, ca_certificates: [caRow.id] },
      'tls12-proxied': { url: `https://127.0.0.1:${tls12.port}/proxied` },
    }
    for (const [name, body] of Object.entries(services)) {
      await created('/services', { name, ...body })
      await created(`/services/${name}/routes`, { paths: [`/${name}`], preserve_host: name === 'preserve' })
    }
    // Health probes.
    const upstreams: [string, string, Record<string, unknown>][] = [
      ['hc-mtls', `127.0.0.1:${mtls.port}`, { client_certificate: { id: clientRow.id }, healthchecks: httpsChecks('/hc-mtls') }],
      ['hc-nocert', `127.0.0.1:${mtls.port}`, { healthchecks: httpsChecks('/hc-nocert') }],
      ['hc-sni', `localhost:${p}`, { healthchecks: httpsChecks('/hc-sni', { https_sni: 'probe.test' }) }],
      ['hc-default-sni', `localhost:${p}`, { healthchecks: httpsChecks('/hc-default-sni') }],
      ['hc-ip', `127.0.0.1:${p}`, { healthchecks: httpsChecks('/hc-ip') }],
      ['hc-verify', `localhost:${p}`, { healthchecks: httpsChecks('/hc-verify', { https_verify_certificate: true }) }],
      [
        'hc-verify-wrong-name',
        `localhost:${p}`,
        { healthchecks: httpsChecks('/hc-verify-wrong-name', { https_verify_certificate: true, https_sni: 'wrong.test' }) },
      ],
      ['hc-tls12', `127.0.0.1:${tls12.port}`, { healthchecks: httpsChecks('/hc-tls12') }],
      ['hc-depth', `localhost:${chained.port}`, { healthchecks: httpsChecks('/hc-depth', { https_verify_certificate: true }) }],
    ]
    for (const [name, target, body] of upstreams) {
      await created('/upstreams', { name, ...body })
      await created(`/upstreams/${name}/targets`, { target })
    }
    // The last route reached the worker once it answers.
    await eventually(async () => (await fetch(`${gw.proxyUrl}/tls12-proxied`)).status !== 404, 5000, 'routes applied')
  })

  after(async () => {
    await gw?.stop()
    for (const s of servers) s.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  /** The SNI the upstream saw for a proxied request (node:http: fetch does not send a Host of ours). */
  const sniOf = (path: string, headers: Record<string, string> = {}): Promise<string | null> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: gw.proxyPort, path, headers, agent: false }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => {
          try {
            assert.equal(res.statusCode, 200, `${path}: ${text}`)
            resolve((JSON.parse(text) as Seen).sni)
          } catch (err) {
            reject(err as Error)
          }
        })
      })
      req.on('error', reject)
      req.end()
    })

  test('proxied: the service host is the SNI; an IP host sends none', async () => {
    assert.equal(await sniOf('/by-name'), 'localhost')
    assert.equal(await sniOf('/by-ip'), null)
  })

  test("proxied through an upstream entity: the target's host, or the upstream's host_header", async () => {
    assert.equal(await sniOf('/by-target'), 'localhost')
    assert.equal(await sniOf('/by-host-header'), 'pinned.test')
  })

  test("proxied with preserve_host: the client's Host (without its port)", async () => {
    assert.equal(await sniOf('/preserve', { host: 'client.test:8000' }), 'client.test')
  })

  test('tls_verify checks the same name: the target host matches the certificate, a host_header does not', async () => {
    assert.equal(await sniOf('/verify-target'), 'localhost')
    const res = await fetch(`${gw.proxyUrl}/verify-host-header`)
    assert.equal(res.status, 502)
    const id = res.headers.get('x-kong-request-id') ?? ''
    assert.match(await gw.waitForLog(new RegExp(`request_id: "${id}"`)), /pinned\.test/)
  })

  test("lua_ssl_protocols does not apply to proxied connections (Kong's kong.conf says so)", async () => {
    const res = await fetch(`${gw.proxyUrl}/tls12-proxied`)
    assert.equal(res.status, 200, await res.text())
  })

  test("an https probe presents the upstream's client_certificate: healthy with it, unhealthy without", async () => {
    await eventually(async () => (mtls.seen.get('/hc-mtls')?.length ?? 0) >= 2, 5000, 'probes with the certificate')
    assert.equal(mtls.seen.get('/hc-mtls')?.[0]?.client, 'gateway-client')
    await eventually(async () => (await health('hc-nocert')) === 'UNHEALTHY', 5000, 'hc-nocert unhealthy')
    assert.equal(await health('hc-mtls'), 'HEALTHY')
    assert.equal(mtls.seen.get('/hc-nocert'), undefined, 'the server refused the handshake: no request got through')
  })

  test("probes send https_sni, else the target's host name, none for an IP", async () => {
    await eventually(
      async () => ['/hc-sni', '/hc-default-sni', '/hc-ip'].every((p) => (plain.seen.get(p)?.length ?? 0) > 0),
      5000,
      'probes of the three upstreams',
    )
    assert.equal(plain.seen.get('/hc-sni')?.[0]?.sni, 'probe.test')
    assert.equal(plain.seen.get('/hc-default-sni')?.[0]?.sni, 'localhost')
    assert.equal(plain.seen.get('/hc-ip')?.[0]?.sni, null)
  })

  test('https_verify_certificate verifies that name against lua_ssl_trusted_certificate', async () => {
    await eventually(async () => (plain.seen.get('/hc-verify')?.length ?? 0) >= 2, 5000, 'verified probes')
    assert.equal(await health('hc-verify'), 'HEALTHY')
    await eventually(async () => (await health('hc-verify-wrong-name')) === 'UNHEALTHY', 5000, 'wrong name unhealthy')
    assert.equal(plain.seen.get('/hc-verify-wrong-name'), undefined)
  })

  test('verifying probes apply lua_ssl_verify_depth: a chain one CA longer than depth 0 fails them', async () => {
    await eventually(async () => (await health('hc-depth')) === 'UNHEALTHY', 5000, 'hc-depth unhealthy')
    assert.equal(chained.seen.get('/hc-depth'), undefined)
    assert.equal(await health('hc-verify'), 'HEALTHY', 'the certificate signed by the CA itself is within depth 0')
  })

  test('probes use lua_ssl_protocols: a TLSv1.2-only target fails them when it is TLSv1.3', async () => {
    await eventually(async () => (await health('hc-tls12')) === 'UNHEALTHY', 5000, 'hc-tls12 unhealthy')
    assert.equal(tls12.seen.get('/hc-tls12'), undefined)
  })
})
