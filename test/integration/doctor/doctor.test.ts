/**
 * `GET /doctor`, `GET /services/{s}/doctor` and `turnpike doctor` against real local servers that
 * reproduce the seed documents' faults: a refused port, TLS on an http port and plain HTTP on an
 * https port, a name that does not resolve, a slow server, a server that closes idle connections
 * after 1 s while the gateway keeps them 60 s, a second proxy answering its own 502, an expired and
 * a self-signed certificate.
 */
import assert from 'node:assert/strict'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { makeCert } from '../../helpers/certs.js'
import { runTurnpike } from '../../helpers/cli.js'
import { startDnsServer, type TestDnsServer } from '../../helpers/dns-server.js'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startRawServer, startSilentServer, type RawServer } from '../../helpers/misbehaving.js'
import { closedPort } from '../../helpers/ports.js'

interface Finding {
  check: string
  severity: 'ok' | 'warn' | 'error'
  subject: { kind: string; id: string | null; name: string | null }
  summary: string
  fix?: string
  details?: Record<string, unknown>
}
interface ServiceReport {
  id: string
  name: string | null
  url: string
  status: string
  findings: Finding[]
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

const servers: Server[] = []
function track<T extends Server>(s: T): T {
  servers.push(s)
  return s
}

let gw: TestGateway
let dns: TestDnsServer
let silent: RawServer
let idle: RawServer
let trustedCa: { cert: string; key: string }
const ports: Record<string, number> = {}

before(async () => {
  dns = await startDnsServer({ 'api.doctor.test': { A: ['127.0.0.1'], ttl: 30 } })
  // The certificate of `trustedCa` is its own CA: trusted through the service's ca_certificates.
  trustedCa = makeCert({ cn: 'localhost', ca: true })
  const okHandler = (_req: unknown, res: import('node:http').ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' })
    res.end('ok')
  }
  // A healthy upstream that keeps idle connections longer than the probe waits.
  const good = track(createHttpServer({ keepAliveTimeout: 120_000 }, okHandler))
  ports['good'] = await listen(good)
  // Closes idle keep-alive connections after 1 s (the gateway keeps them 60 s).
  const idleTimers = new WeakMap<Socket, NodeJS.Timeout>()
  idle = await startRawServer((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
    clearTimeout(idleTimers.get(socket))
    idleTimers.set(
      socket,
      setTimeout(() => socket.destroy(), 1000),
    )
  })
  ports['idle'] = idle.port
  // A second load balancer answering its own 502 page.
  const lb = track(
    createHttpServer((_req, res) => {
      const body = '<html><body><h1>502 Bad Gateway</h1></body></html>'
      res.writeHead(502, { server: 'second-lb', 'content-type': 'text/html', 'content-length': String(body.length) })
      res.end(body)
    }),
  )
  ports['lb'] = await listen(lb)
  const selfSigned = makeCert({ cn: 'localhost' })
  const tlsServer = track(createHttpsServer({ ...selfSigned, keepAliveTimeout: 120_000 }, okHandler))
  ports['tls'] = await listen(tlsServer)
  const trustedServer = track(createHttpsServer({ ...trustedCa, keepAliveTimeout: 120_000 }, okHandler))
  ports['trusted'] = await listen(trustedServer)
  const expired = makeCert({ cn: 'localhost', expired: true })
  const expiredServer = track(createHttpsServer({ ...expired }, okHandler))
  ports['expired'] = await listen(expiredServer)
  silent = await startSilentServer()
  ports['refused'] = await closedPort()

  gw = await startTestGateway({ settings: { dns_resolver: dns.address } })
  const services: Record<string, unknown>[] = [
    { name: 'good', url: `http://127.0.0.1:${ports['good']}/` },
    { name: 'named', url: `http://api.doctor.test:${ports['good']}/` },
    { name: 'refused', url: `http://127.0.0.1:${ports['refused']}/` },
    { name: 'tls-on-http', url: `http://127.0.0.1:${ports['tls']}/` },
    { name: 'http-on-https', url: `https://127.0.0.1:${ports['good']}/` },
    { name: 'nxdomain', url: 'http://nowhere.doctor.invalid:8080/' },
    { name: 'slow', url: `http://127.0.0.1:${silent.port}/`, read_timeout: 1000 },
    { name: 'idle', url: `http://127.0.0.1:${ports['idle']}/` },
    { name: 'lb502', url: `http://127.0.0.1:${ports['lb']}/` },
    { name: 'self-signed', url: `https://localhost:${ports['tls']}/`, tls_verify: true },
    { name: 'expired', url: `https://localhost:${ports['expired']}/`, tls_verify: true },
    { name: 'unverified', url: `https://localhost:${ports['tls']}/` },
    { name: 'pooled', url: 'http://pool.internal/' },
    { name: 'srv', url: 'http://srv.doctor.test:1/' },
    { name: 'disabled', url: `http://127.0.0.1:${ports['refused']}/`, enabled: false },
    { name: 'grpcs-on-h1', protocol: 'grpcs', host: '127.0.0.1', port: ports['tls'] },
  ]
  dns.set('srv.doctor.test', { SRV: [{ target: 'api.doctor.test', port: ports['good'] as number, weight: 10 }], ttl: 20 })
  const ca = await call('POST', `${gw.adminUrl}/ca_certificates`, { cert: trustedCa.cert })
  assert.equal(ca.status, 201, ca.text)
  services.push(
    { name: 'trusted', url: `https://localhost:${ports['trusted']}/`, tls_verify: true, ca_certificates: [ca.body.id] },
    { name: 'wrong-name', url: `https://127.0.0.1:${ports['trusted']}/`, tls_verify: true, ca_certificates: [ca.body.id] },
  )
  for (const s of services) {
    const r = await call('POST', `${gw.adminUrl}/services`, s)
    assert.equal(r.status, 201, r.text)
  }
  assert.equal((await call('POST', `${gw.adminUrl}/upstreams`, { name: 'pool.internal' })).status, 201)
  for (const t of [`127.0.0.1:${ports['good']}`, `127.0.0.1:${ports['refused']}`])
    assert.equal((await call('POST', `${gw.adminUrl}/upstreams/pool.internal/targets`, { target: t })).status, 201)
})

after(async () => {
  await gw?.stop()
  await silent?.close()
  await idle?.close()
  await dns?.close()
  for (const s of servers) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
})

async function doctorOf(name: string, q = ''): Promise<ServiceReport> {
  const r = await call('GET', `${gw.adminUrl}/services/${name}/doctor${q}`)
  assert.equal(r.status, 200, r.text)
  assert.equal(r.body.services.length, 1)
  return r.body.services[0] as ServiceReport
}

function find(s: ServiceReport, check: string, severity?: string): Finding {
  const f = s.findings.find((x) => x.check === check && (severity === undefined || x.severity === severity))
  assert.ok(f !== undefined, `no ${check}${severity !== undefined ? `/${severity}` : ''} finding in ${JSON.stringify(s.findings, null, 1)}`)
  return f
}

describe('doctor: each check against the seed faults', () => {
  test('a healthy upstream: every check ok', async () => {
    const s = await doctorOf('good')
    assert.equal(s.status, 'ok', JSON.stringify(s.findings))
    assert.match(find(s, 'dns', 'ok').summary, /is an IP address/)
    assert.match(find(s, 'tcp', 'ok').summary, /TCP connect to 127\.0\.0\.1:\d+ in [\d.]+ ms/)
    assert.match(find(s, 'http', 'ok').summary, /HEAD \/ → 200/)
    assert.match(find(s, 'keepalive', 'ok').summary, /still open after/)
  })

  test('DNS: the answer, its TTL and the nameserver that gave it', async () => {
    const s = await doctorOf('named')
    const f = find(s, 'dns', 'ok')
    assert.match(f.summary, /"api\.doctor\.test" resolves to 127\.0\.0\.1 \(A, TTL 30 s\) via nameserver 127\.0\.0\.1:\d+/)
    assert.equal(s.status, 'ok')
  })

  test('DNS: a name that does not resolve', async () => {
    const s = await doctorOf('nxdomain')
    const f = find(s, 'dns', 'error')
    assert.match(f.summary, /name does not resolve: "nowhere\.doctor\.invalid" does not exist \(NXDOMAIN\)/)
    assert.match(f.fix ?? '', /dns_resolver/)
    assert.equal(s.findings.filter((x) => x.check === 'tcp').length, 0, 'nothing to connect to')
  })

  test('TCP: connection refused names the address and the fix', async () => {
    const s = await doctorOf('refused')
    const f = find(s, 'tcp', 'error')
    assert.match(f.summary, new RegExp(`connection refused: nothing listens on 127\\.0\\.0\\.1:${ports['refused']}`))
    assert.match(f.fix ?? '', /host and port/)
    assert.equal(s.status, 'error')
  })

  test('protocol: an http service whose port speaks TLS', async () => {
    const s = await doctorOf('tls-on-http')
    const f = find(s, 'http', 'error')
    assert.match(f.summary, /this port speaks TLS/)
    assert.match(f.fix ?? '', /set the service protocol to https/)
  })

  test('protocol: an https service whose port speaks plain HTTP', async () => {
    const s = await doctorOf('http-on-https')
    const f = find(s, 'tls', 'error')
    assert.match(f.summary, /this port speaks plain HTTP/)
    assert.match(f.summary, /answered a plain request with "HTTP\/1\.1 200 OK"/)
    assert.match(f.fix ?? '', /set the service protocol to http\b/)
  })

  test('HTTP: a slow upstream times out within the service read_timeout', async () => {
    const s = await doctorOf('slow')
    const f = find(s, 'http', 'error')
    assert.match(f.summary, /upstream timed out: .* within read_timeout=1000 ms/)
    assert.match(f.fix ?? '', /read_timeout/)
  })

  test('HTTP: a second load balancer answering its own 502 is a warning naming the address', async () => {
    const s = await doctorOf('lb502')
    const f = find(s, 'http', 'warn')
    assert.match(f.summary, new RegExp(`127\\.0\\.0\\.1:${ports['lb']} itself answered 502 to HEAD / \\(server: second-lb\\)`))
    assert.match(f.fix ?? '', /load balancer/)
    assert.equal(s.status, 'warn')
  })

  test('keep-alive: an upstream closing idle connections after 1 s while the gateway keeps them 60 s', async () => {
    const s = await doctorOf('idle')
    const f = find(s, 'keepalive', 'warn')
    assert.match(
      f.summary,
      /closes idle connections after 1(\.\d)? s, but the gateway keeps them up to 60 s \(upstream_keepalive_idle_timeout\)/,
    )
    assert.match(f.fix ?? '', /keep-alive timeout must be shorter than the upstream's/)
    assert.match(f.fix ?? '', /upstream_keepalive_idle_timeout/)
    const idleMs = f.details?.['idle_ms'] as number
    assert.ok(idleMs >= 900 && idleMs < 2900, String(idleMs))
  })

  test('keep-alive: an upstream announcing a shorter idle timeout (Keep-Alive: timeout=5) than it is waited for', async () => {
    // The second load balancer is a node server with its default 5 s keep-alive timeout.
    const s = await doctorOf('lb502', '?keepalive_wait=1')
    const f = find(s, 'keepalive', 'warn')
    assert.match(
      f.summary,
      /announces it closes idle connections after 5 s \(Keep-Alive: timeout=5\), but the gateway keeps them up to 60 s/,
    )
    assert.match(f.fix ?? '', /set upstream_keepalive_idle_timeout to 4 s or less \(below the upstream's 5 s\)/)
  })

  test('TLS: a self-signed certificate with tls_verify on is an error', async () => {
    const s = await doctorOf('self-signed')
    const f = find(s, 'tls', 'error')
    assert.match(f.summary, /self-signed/)
    assert.match(f.fix ?? '', /ca_certificates|lua_ssl_trusted_certificate/)
  })

  test('TLS: an expired certificate with tls_verify on is an error', async () => {
    const s = await doctorOf('expired')
    const f = find(s, 'tls', 'error')
    assert.match(f.summary, /expired on \d{4}-\d{2}-\d{2}/)
    assert.match(f.fix ?? '', /renew/)
  })

  test('TLS: without tls_verify the handshake is reported, a near expiry warned', async () => {
    const s = await doctorOf('unverified')
    // makeCert issues for 30 days: under the 30-day warning.
    assert.match(find(s, 'tls', 'warn').summary, /expires in \d+ days/)
    assert.match(find(s, 'tls', 'ok').summary, /self-signed .*not checked: tls_verify is off/)
    assert.match(find(s, 'http', 'ok').summary, /→ 200/)
  })

  test('DNS: SRV records, their port used for the probe', async () => {
    const s = await doctorOf('srv', '?keepalive_wait=0')
    assert.match(
      find(s, 'dns', 'ok').summary,
      new RegExp(
        `"srv\\.doctor\\.test" resolves to SRV api\\.doctor\\.test:${ports['good']} \\(priority 10, weight 10\\) \\(SRV, TTL \\d+ s\\) via nameserver 127\\.0\\.0\\.1:\\d+`,
      ),
    )
    assert.match(find(s, 'http', 'ok').summary, new RegExp(`→ 200 from 127\\.0\\.0\\.1:${ports['good']}`))
  })

  test('TLS: verified through the service ca_certificates; the hostname checked against the SNI', async () => {
    const ok = await doctorOf('trusted', '?keepalive_wait=0')
    assert.equal(ok.status, 'warn', JSON.stringify(ok.findings)) // 30-day certificate: expiry warning only
    assert.match(find(ok, 'tls', 'warn').summary, /expires in/)
    assert.equal(ok.findings.filter((f) => f.check === 'tls' && f.severity === 'error').length, 0)
    const wrong = await doctorOf('wrong-name', '?keepalive_wait=0')
    const f = find(wrong, 'tls', 'error')
    assert.match(f.summary, /is not valid for "127\.0\.0\.1"/)
    assert.match(f.fix ?? '', /reissue the certificate/)
  })

  test('TLS: a grpcs service whose upstream does not agree to HTTP/2', async () => {
    const s = await doctorOf('grpcs-on-h1')
    const f = find(s, 'tls', 'error')
    assert.match(f.summary, /did not agree to HTTP\/2 in the TLS handshake \(ALPN: (none|refused by the upstream)/)
    assert.equal(s.findings.filter((x) => x.check === 'http').length, 0, 'no HTTP/1 probe of a grpc service')
  })

  test('a disabled service is not probed', async () => {
    const s = await doctorOf('disabled')
    assert.deepEqual(
      s.findings.map((f) => [f.check, f.severity]),
      [['service', 'ok']],
    )
  })

  test('upstream entities: each target resolved, probed, with its health', async () => {
    const s = await doctorOf('pooled')
    assert.match(find(s, 'dns', 'ok').summary, /names upstream pool\.internal/)
    const health = s.findings.filter((f) => f.check === 'target-health')
    assert.equal(health.length, 2)
    assert.ok(health.every((f) => /health checks are off/.test(f.summary)))
    assert.equal(s.findings.filter((f) => f.check === 'tcp' && f.severity === 'error').length, 1)
    assert.equal(find(s, 'tcp', 'error').subject.kind, 'target')
  })

  test('upstream entities: an UNHEALTHY target with why (passive counters)', async () => {
    const hc = { passive: { unhealthy: { tcp_failures: 1 } } }
    assert.equal((await call('POST', `${gw.adminUrl}/upstreams`, { name: 'flaky.internal', healthchecks: hc })).status, 201)
    const target = `127.0.0.1:${ports['refused']}`
    assert.equal((await call('POST', `${gw.adminUrl}/upstreams/flaky.internal/targets`, { target })).status, 201)
    assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 'flaky', url: 'http://flaky.internal/', retries: 0 })).status, 201)
    assert.equal((await call('POST', `${gw.adminUrl}/services/flaky/routes`, { paths: ['/flaky'] })).status, 201)
    await eventually(async () => (await call('GET', `${gw.proxyUrl}/flaky`)).status !== 404, 5000, 'route live')
    await eventually(
      async () => {
        await call('GET', `${gw.proxyUrl}/flaky`)
        const h = await call('GET', `${gw.adminUrl}/upstreams/flaky.internal/health`)
        return h.body.data?.[0]?.health === 'UNHEALTHY'
      },
      5000,
      'target unhealthy',
    )
    const s = await doctorOf('flaky', '?keepalive_wait=0')
    const f = find(s, 'target-health', 'error')
    assert.match(
      f.summary,
      new RegExp(`target ${target.replace(/\./g, '\\.')} is UNHEALTHY \\(passive checks; unhealthy by passive tcp_failures 1/1`),
    )
    assert.match(f.fix ?? '', /GET \/upstreams\/flaky\.internal\/health/)
    const addresses = f.details?.['addresses'] as { counters: { healthy: boolean } | null; last_change: string | null }[]
    assert.equal(addresses[0]?.counters?.healthy, false)
    assert.match(addresses[0]?.last_change ?? '', /^unhealthy by passive tcp_failures 1\/1/)
    // The service is removed again: the all-services counts below stay as they are.
    assert.equal(
      (
        await call(
          'DELETE',
          `${gw.adminUrl}/services/flaky/routes/${(await call('GET', `${gw.adminUrl}/services/flaky/routes`)).body.data[0].id}`,
        )
      ).status,
      204,
    )
    assert.equal((await call('DELETE', `${gw.adminUrl}/services/flaky`)).status, 204)
  })

  test('GET /doctor: every service, the worst status, stable fields', async () => {
    const r = await call('GET', `${gw.adminUrl}/doctor?keepalive_wait=0`)
    assert.equal(r.status, 200)
    assert.deepEqual(Object.keys(r.body).sort(), [
      'duration_ms',
      'generated_at',
      'node_id',
      'routes',
      'services',
      'services_not_probed',
      'status',
    ])
    assert.equal(r.body.status, 'error')
    assert.equal(r.body.services.length, 18)
    assert.ok(Array.isArray(r.body.routes))
    const idle = (r.body.services as ServiceReport[]).find((s) => s.name === 'idle')
    assert.match(idle?.findings.find((f) => f.check === 'keepalive')?.summary ?? '', /not measured \(keepalive_wait=0\)/)
  })

  test('hostile options: 400 with a message; unknown names: 404', async () => {
    for (const q of [
      'method=POST',
      'keepalive_wait=abc',
      'keepalive_wait=1000',
      'path=nope',
      'path=/a%0d%0ab',
      'checks=x',
      'method=GET&method=HEAD',
    ]) {
      const r = await call('GET', `${gw.adminUrl}/doctor?${q}`)
      assert.equal(r.status, 400, q)
      assert.equal(typeof r.body.message, 'string')
    }
    assert.deepEqual((await call('GET', `${gw.adminUrl}/services/nope/doctor`)).body, { message: 'Not found' })
    assert.equal((await call('GET', `${gw.adminUrl}/services/nope/doctor`)).status, 404)
    assert.equal((await call('GET', `${gw.adminUrl}/doctor?route=nope`)).status, 404)
  })

  test('?route=: that route and its service only', async () => {
    assert.equal(
      (await call('POST', `${gw.adminUrl}/services/good/routes`, { name: 'good-route', paths: ['/good'], protocols: ['http'] })).status,
      201,
    )
    const r = await call('GET', `${gw.adminUrl}/doctor?route=good-route&keepalive_wait=0`)
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(
      (r.body.services as ServiceReport[]).map((s) => s.name),
      ['good'],
    )
  })

  test('at most 4 runs at once: the next is told to come back (429)', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => call('GET', `${gw.adminUrl}/services/good/doctor?keepalive_wait=2`)))
    const statuses = runs.map((r) => r.status).sort()
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429])
    assert.match(runs.find((r) => r.status === 429)?.body.message ?? '', /runs already in progress/)
  })

  test("the probe path and method are the caller's", async () => {
    const s = await doctorOf('good', '?path=/health%3Fx=1&method=GET')
    assert.match(find(s, 'http', 'ok').summary, /^GET \/health\?x=1 → 200/)
  })
})

describe('turnpike doctor', () => {
  test('--json: the report, exit 0 for a healthy service', async () => {
    const r = await runTurnpike(['doctor', '-p', gw.prefix, '--service', 'good', '--json'])
    assert.equal(r.status, 0, r.stderr)
    const body = JSON.parse(r.stdout) as { status: string; services: ServiceReport[] }
    assert.equal(body.status, 'ok')
    assert.equal(body.services[0]?.name, 'good')
  })

  test('plain lines when piped, exit 1 for warnings, 2 for errors', async () => {
    const warn = await runTurnpike(['doctor', '-p', gw.prefix, '--service', 'lb502'])
    assert.equal(warn.status, 1, warn.stderr)
    assert.doesNotMatch(warn.stdout, /\x1b\[/)
    assert.match(warn.stdout, /^warn +http +service lb502: .*itself answered 502.*; fix: /m)
    const err = await runTurnpike(['doctor', '-p', gw.prefix, '--service', 'refused'])
    assert.equal(err.status, 2)
    assert.match(err.stdout, /^error +tcp +service refused: connection refused/m)
    assert.match(err.stdout, /^doctor: error: 1 service, 1 error/m)
  })

  test('every service at once; unknown service; no gateway', async () => {
    const all = await runTurnpike(['doctor', '-p', gw.prefix, '--keepalive-wait', '0'])
    assert.equal(all.status, 2)
    assert.match(all.stdout, /doctor: error: 18 services/)
    const unknown = await runTurnpike(['doctor', '-p', gw.prefix, '--service', 'nope'])
    assert.equal(unknown.status, 4)
    assert.match(unknown.stderr, /Not found/)
    const none = await runTurnpike(['doctor', '-p', `${gw.prefix}-nothing-here`])
    assert.equal(none.status, 3)
    assert.match(none.stderr, /turnpike is not running in /)
  })
})
