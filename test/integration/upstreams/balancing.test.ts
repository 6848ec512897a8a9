/**
 * Upstreams and targets end to end: a real gateway (bin/turnpike) load balancing over real
 * upstream servers on 127.0.0.1. Admin API shapes, weighted round-robin, consistent hashing
 * (header and cookie), least-connections, Host header, and 503 when no target is left.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

function named(name: string, delayMs = 0): (req: unknown, res: ServerResponse) => void {
  return (_req, res) => {
    const send = (): void => {
      res.writeHead(200, { 'x-served-by': name, 'content-type': 'text/plain' })
      res.end(name)
    }
    if (delayMs > 0) setTimeout(send, delayMs)
    else send()
  }
}

async function burst(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++)
    }),
  )
}

describe('upstreams: admin API and load balancing', () => {
  let gw: TestGateway
  const ups: TestUpstream[] = []
  let a: TestUpstream
  let b: TestUpstream
  let c: TestUpstream

  before(async () => {
    gw = await startTestGateway()
    a = await startUpstream(named('a'))
    b = await startUpstream(named('b'))
    c = await startUpstream(named('c'))
    ups.push(a, b, c)
  })
  after(async () => {
    await gw.stop()
    for (const u of ups) await u.close()
  })

  const admin = (m: string, p: string, body?: unknown) => call(m, gw.adminUrl + p, body)

  async function route(upstream: string, path: string): Promise<void> {
    const s = await admin('POST', '/services', { name: `svc-${upstream}`, host: upstream, path: '/' })
    assert.equal(s.status, 201, s.text)
    const r = await admin('POST', `/services/svc-${upstream}/routes`, { paths: [path] })
    assert.equal(r.status, 201, r.text)
    // Wait for the worker to serve the new route.
    await eventually(async () => (await call('GET', gw.proxyUrl + path)).status !== 404, 5000, `route ${path}`)
  }

  async function servedBy(path: string, headers: Record<string, string> = {}): Promise<string> {
    const res = await call('GET', gw.proxyUrl + path, undefined, headers)
    assert.equal(res.status, 200, res.text)
    return String(res.headers['x-served-by'])
  }

  test('entities: defaults, targets nested only, ms timestamps, port 8000, uniqueness', async () => {
    const u = await admin('POST', '/upstreams', { name: 'shape.test' })
    assert.equal(u.status, 201, u.text)
    assert.equal(u.body.algorithm, 'round-robin')
    assert.equal(u.body.slots, 10000)
    assert.equal(u.body.hash_on, 'none')
    assert.equal(u.body.hash_on_cookie_path, '/')
    assert.equal(u.body.use_srv_name, false)
    assert.deepEqual(u.body.healthchecks.active.unhealthy.http_statuses, [429, 404, 500, 501, 502, 503, 504, 505])
    assert.deepEqual(u.body.healthchecks.passive.unhealthy.http_statuses, [429, 500, 503])
    assert.equal(u.body.healthchecks.active.http_path, '/')
    assert.equal(u.body.healthchecks.active.timeout, 1)
    assert.equal(u.body.healthchecks.active.concurrency, 10)
    assert.equal(u.body.healthchecks.threshold, 0)
    const ip = await admin('POST', '/upstreams', { name: '10.0.0.1' })
    assert.equal(ip.status, 400)
    assert.equal(ip.body.fields.name, 'Invalid name; no ip addresses allowed')
    const t = await admin('POST', '/upstreams/shape.test/targets', { target: '127.0.0.1' })
    assert.equal(t.status, 201, t.text)
    assert.equal(t.body.target, '127.0.0.1:8000')
    assert.equal(t.body.weight, 100)
    // Kong's targets carry ngx.now() timestamps: seconds with millisecond precision.
    assert.ok(t.body.created_at > 1e9 && t.body.created_at < 1e10, `created_at: ${t.body.created_at}`)
    const dup = await admin('POST', '/upstreams/shape.test/targets', { target: '127.0.0.1:8000' })
    assert.equal(dup.status, 409, dup.text)
    assert.equal((await admin('GET', '/targets')).status, 404)
    const byName = await admin('GET', '/upstreams/shape.test/targets/127.0.0.1:8000')
    assert.equal(byName.status, 200)
    assert.equal(byName.body.id, t.body.id)
    const all = await admin('GET', '/upstreams/shape.test/targets/all')
    assert.equal(all.status, 200)
    assert.equal(all.body.data.length, 1)
    const bad = await admin('POST', '/upstreams/shape.test/targets', { target: 'not a host' })
    assert.equal(bad.status, 400)
    const patched = await admin('PATCH', `/upstreams/shape.test/targets/${t.body.id}`, { weight: 5 })
    assert.equal(patched.status, 200)
    assert.equal(patched.body.weight, 5)
  })

  test('weighted round-robin: 1:3 split within 5%, weight 0 never used, Host = target', async () => {
    await admin('POST', '/upstreams', { name: 'rr.test' })
    await admin('POST', '/upstreams/rr.test/targets', { target: `127.0.0.1:${a.port}`, weight: 25 })
    await admin('POST', '/upstreams/rr.test/targets', { target: `127.0.0.1:${b.port}`, weight: 75 })
    await admin('POST', '/upstreams/rr.test/targets', { target: `127.0.0.1:${c.port}`, weight: 0 })
    await route('rr.test', '/rr')
    const counts: Record<string, number> = {}
    const before = a.received.length
    for (let i = 0; i < 400; i++) {
      const who = await servedBy('/rr')
      counts[who] = (counts[who] ?? 0) + 1
    }
    assert.equal(counts['c'], undefined, 'weight 0 target got traffic')
    assert.ok(Math.abs((counts['a'] ?? 0) - 100) <= 20, `a got ${counts['a']} of 400 (expected 100 ± 20)`)
    assert.ok(Math.abs((counts['b'] ?? 0) - 300) <= 20, `b got ${counts['b']} of 400 (expected 300 ± 20)`)
    // Kong sends the target's host (and port) as Host, not the upstream name.
    assert.equal(a.received[before]?.headers.host, `127.0.0.1:${a.port}`)
  })

  test('host_header overrides the target host', async () => {
    await admin('POST', '/upstreams', { name: 'hh.test', host_header: 'backend.example' })
    await admin('POST', '/upstreams/hh.test/targets', { target: `127.0.0.1:${a.port}` })
    await route('hh.test', '/hh')
    const res = await call('GET', gw.proxyUrl + '/hh')
    assert.equal(res.status, 200)
    assert.equal(a.received.at(-1)?.headers.host, 'backend.example')
  })

  test('consistent-hashing on a header is sticky and spreads keys', async () => {
    const u = await admin('POST', '/upstreams', { name: 'hash.test', hash_on: 'header', hash_on_header: 'x-user' })
    assert.equal(u.status, 201, u.text)
    await admin('POST', '/upstreams/hash.test/targets', { target: `127.0.0.1:${a.port}` })
    await admin('POST', '/upstreams/hash.test/targets', { target: `127.0.0.1:${b.port}` })
    await route('hash.test', '/hash')
    const seen = new Set<string>()
    for (let user = 0; user < 30; user++) {
      const first = await servedBy('/hash', { 'x-user': `user-${user}` })
      seen.add(first)
      for (let i = 0; i < 3; i++) assert.equal(await servedBy('/hash', { 'x-user': `user-${user}` }), first, `user-${user} moved`)
    }
    assert.equal(seen.size, 2, 'all 30 keys landed on one target')
  })

  test('consistent-hashing on a cookie sets the cookie when absent, then sticks', async () => {
    await admin('POST', '/upstreams', { name: 'cookie.test', hash_on: 'cookie', hash_on_cookie: 'sticky', hash_on_cookie_path: '/ck' })
    await admin('POST', '/upstreams/cookie.test/targets', { target: `127.0.0.1:${a.port}` })
    await admin('POST', '/upstreams/cookie.test/targets', { target: `127.0.0.1:${b.port}` })
    await route('cookie.test', '/ck')
    for (let client = 0; client < 5; client++) {
      const first = await call('GET', gw.proxyUrl + '/ck')
      assert.equal(first.status, 200)
      const setCookie = String(first.headers['set-cookie'])
      const m = /^sticky=([0-9a-f-]{36}); Path=\/ck$/.exec(setCookie)
      assert.ok(m !== null, `Set-Cookie: ${setCookie}`)
      const who = String(first.headers['x-served-by'])
      for (let i = 0; i < 5; i++) {
        const again = await call('GET', gw.proxyUrl + '/ck', undefined, { cookie: `sticky=${m[1]}` })
        assert.equal(again.headers['x-served-by'], who)
        assert.equal(again.headers['set-cookie'], undefined, 'cookie set again although the client sent it')
      }
    }
  })

  test('least-connections sends most requests to the fast target', async () => {
    const slow = await startUpstream(named('slow', 150))
    const fast = await startUpstream(named('fast', 5))
    ups.push(slow, fast)
    await admin('POST', '/upstreams', { name: 'lc.test', algorithm: 'least-connections' })
    await admin('POST', '/upstreams/lc.test/targets', { target: `127.0.0.1:${slow.port}` })
    await admin('POST', '/upstreams/lc.test/targets', { target: `127.0.0.1:${fast.port}` })
    await route('lc.test', '/lc')
    const counts: Record<string, number> = {}
    await burst(60, 4, async () => {
      const who = await servedBy('/lc')
      counts[who] = (counts[who] ?? 0) + 1
    })
    assert.ok((counts['fast'] ?? 0) >= 45, `fast got ${counts['fast']} of 60, slow ${counts['slow']}`)
  })

  test('no target left: 503 failure to get a peer from the ring-balancer, with a log line', async () => {
    await admin('POST', '/upstreams', { name: 'empty.test' })
    await route('empty.test', '/empty')
    const res = await call('GET', gw.proxyUrl + '/empty')
    assert.equal(res.status, 503)
    assert.equal(res.body.message, 'failure to get a peer from the ring-balancer')
    await gw.waitForLog(/failure to get a peer from the ring-balancer \(Balancer is unhealthy\).*empty\.test/)
  })

  test('a removed target stops receiving requests at once', async () => {
    await admin('POST', '/upstreams', { name: 'rm.test' })
    const ta = await admin('POST', '/upstreams/rm.test/targets', { target: `127.0.0.1:${a.port}` })
    await admin('POST', '/upstreams/rm.test/targets', { target: `127.0.0.1:${b.port}` })
    await route('rm.test', '/rm')
    assert.equal((await admin('DELETE', `/upstreams/rm.test/targets/${ta.body.id}`)).status, 204)
    // The Admin API answers after the change is published; give the worker a moment to apply it.
    await new Promise((r) => setTimeout(r, 300))
    for (let i = 0; i < 20; i++) assert.equal(await servedBy('/rm'), 'b')
  })
})
