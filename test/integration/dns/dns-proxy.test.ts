/**
 * DNS end to end: the real gateway (`bin/turnpike start`) with `dns_resolver` pointing at a real
 * DNS server started by the test on 127.0.0.1 (test/helpers/dns-server.ts), and services whose
 * host is a name that server answers for. Covers the cache (query counts), SRV port selection and
 * TTL expiry, stale serving when the DNS server stops answering, NXDOMAIN → 503 with Kong's log
 * line naming the name, the types tried and the resolver, SERVFAIL → Kong's 500, and the hosts
 * file overriding DNS.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { call, eventually, type JsonResponse, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startDnsServer, type TestDnsServer } from '../../helpers/dns-server.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

let gw: TestGateway
let dns: TestDnsServer
let up1: TestUpstream
let up2: TestUpstream
let dir: string
let serial = 0

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'turnpike-dns-it-'))
  const hosts = join(dir, 'hosts')
  writeFileSync(hosts, '127.0.0.1 localhost\n127.0.0.1 pinned.dns.test\n')
  ;[dns, up1, up2] = await Promise.all([startDnsServer(), startUpstream(), startUpstream()])
  gw = await startTestGateway({
    settings: { dns_resolver: dns.address, dns_hostsfile: hosts, dns_not_found_ttl: '30', dns_error_ttl: '1' },
  })
})

after(async () => {
  await Promise.allSettled([gw?.stop(), dns?.close(), up1?.close(), up2?.close()])
  rmSync(dir, { recursive: true, force: true })
})

/** A service (no retries) and route `/dN`; waits until the proxy has the configuration without calling the route. */
async function expose(service: Record<string, unknown>): Promise<string> {
  const name = `d${++serial}`
  const svc = await call('POST', `${gw.adminUrl}/services`, { name, retries: 0, connect_timeout: 1000, ...service })
  assert.equal(svc.status, 201, svc.text)
  assert.equal((await call('POST', `${gw.adminUrl}/services/${name}/routes`, { paths: [`/${name}`] })).status, 201)
  const ready = `ready-${name}`
  assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: ready, url: up1.url })).status, 201)
  assert.equal((await call('POST', `${gw.adminUrl}/services/${ready}/routes`, { paths: [`/${ready}`] })).status, 201)
  await eventually(async () => (await call('GET', `${gw.proxyUrl}/${ready}`)).status === 200, 5000, `route /${ready}`)
  return `/${name}`
}

const get = (path: string): Promise<JsonResponse> => call('GET', `${gw.proxyUrl}${path}`)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('proxy name resolution through dns_resolver', () => {
  test('a service host answered by the DNS server: proxied, and the answer cached (one query per type)', async () => {
    dns.set('api.dns.test', { A: ['127.0.0.1'], ttl: 60 })
    const path = await expose({ host: 'api.dns.test', port: up1.port })
    for (let i = 0; i < 5; i++) {
      const res = await get(`${path}/x`)
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.headers.host, `api.dns.test:${up1.port}`)
    }
    // Concurrent first requests on a fresh name share the query.
    dns.set('burst.dns.test', { A: ['127.0.0.1'], ttl: 60 })
    const burst = await expose({ host: 'burst.dns.test', port: up1.port })
    dns.delay(150)
    try {
      const all = await Promise.all(Array.from({ length: 10 }, () => get(burst)))
      assert.ok(all.every((r) => r.status === 200))
    } finally {
      dns.delay(0)
    }
    for (const name of ['api.dns.test', 'burst.dns.test']) {
      assert.equal(dns.count(name, 'SRV'), 1, `${name} SRV`)
      assert.equal(dns.count(name, 'A'), 1, `${name} A`)
    }
  })

  test('SRV gives the port; a changed answer is used once its TTL expired (stale answer meanwhile)', async () => {
    dns.set('node.dns.test', { A: ['127.0.0.1'], ttl: 1 })
    dns.set('svc.dns.test', { SRV: [{ target: 'node.dns.test', port: up1.port, weight: 5 }] })
    // The service's own port (1) is ignored: the SRV record's port is used.
    const path = await expose({ host: 'svc.dns.test', port: 1 })
    const first = await get(`${path}/srv`)
    assert.equal(first.status, 200, first.text)
    const before = up2.received.length
    dns.set('svc.dns.test', { SRV: [{ target: 'node.dns.test', port: up2.port, weight: 5 }] })
    await sleep(1100)
    // The first request after expiry gets the stale answer (no waiting), and starts the refresh.
    assert.equal((await get(`${path}/stale`)).status, 200)
    await eventually(
      async () => {
        await get(`${path}/fresh`)
        return up2.received.length > before
      },
      5000,
      'the new SRV port to be used',
    )
    assert.ok(up2.received.some((e) => e.url === '/fresh'))
    assert.ok(dns.count('svc.dns.test', 'SRV') >= 2)
  })

  test('the DNS server stops answering: requests keep using the stale answer while refreshes are retried', async () => {
    dns.set('flaky.dns.test', { A: ['127.0.0.1'], ttl: 1 })
    const path = await expose({ host: 'flaky.dns.test', port: up1.port })
    assert.equal((await get(path)).status, 200)
    const asked = dns.count('flaky.dns.test', 'A')
    dns.silent(true)
    try {
      await sleep(1100)
      for (let i = 0; i < 5; i++) {
        const started = Date.now()
        const res = await get(path)
        assert.equal(res.status, 200, res.text)
        assert.ok(Date.now() - started < 1000, 'a request never waits for the refresh')
        await sleep(100)
      }
      // The background refresh reached the (silent) server.
      assert.ok(dns.count('flaky.dns.test', 'A') > asked)
    } finally {
      dns.silent(false)
    }
  })

  test('NXDOMAIN → 503 name resolution failed; the log line names the name, the types tried and the resolver', async () => {
    const path = await expose({ host: 'missing.dns.test', port: up1.port })
    const res = await get(`${path}/x`)
    assert.equal(res.status, 503, res.text)
    const id = res.headers['x-kong-request-id'] as string
    assert.deepEqual(res.body, { message: 'name resolution failed', request_id: id })
    const line = await gw.waitForLog(new RegExp(`request_id: "${id}"`))
    const tried =
      '["missing.dns.test:33 - cache-miss/querying/dns server error: 3 name error",' +
      '"missing.dns.test:1 - cache-miss/querying/dns server error: 3 name error",' +
      '"missing.dns.test:5 - cache-miss/querying/dns server error: 3 name error"]'
    const mine = line.split('\n').find((l) => l.includes(id)) ?? ''
    assert.ok(mine.includes(`[error]`), mine)
    assert.ok(
      mine.includes(`DNS resolution failed: dns server error: 3 name error. Tried: ${tried.replace(/"/g, '\\"')}`) ||
        mine.includes(`DNS resolution failed: dns server error: 3 name error. Tried: ${tried}`),
      mine,
    )
    assert.ok(mine.includes(`resolver: "${dns.address}"`), mine)
    assert.match(mine, /hint: "the name \\?"missing\.dns\.test\\?" of service/)
    // Cached for dns_not_found_ttl: a second request asks nothing.
    const n = dns.count('missing.dns.test')
    assert.equal((await get(`${path}/y`)).status, 503)
    assert.equal(dns.count('missing.dns.test'), n)
  })

  test("SERVFAIL → 500 with Kong's message", async () => {
    dns.set('broken.dns.test', { rcode: 'SERVFAIL' })
    const path = await expose({ host: 'broken.dns.test', port: up1.port })
    const res = await get(path)
    assert.equal(res.status, 500, res.text)
    assert.equal(res.body.message, "failed the initial dns/balancer resolve for 'broken.dns.test' with: dns server error: 2 server failure")
  })

  test('the hosts file (dns_hostsfile) answers before DNS, which is never asked', async () => {
    dns.set('pinned.dns.test', { A: ['127.0.0.99'] })
    const path = await expose({ host: 'pinned.dns.test', port: up1.port })
    const res = await get(path)
    assert.equal(res.status, 200, res.text)
    assert.equal(dns.count('pinned.dns.test'), 0)
  })
})
