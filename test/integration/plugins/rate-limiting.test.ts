/**
 * rate-limiting against the real gateway (2 worker processes): Kong's headers and 429 body, every
 * `limit_by`, hide_client_headers and custom errors, configuration checks, the limit holding
 * exactly under concurrent load spread over both workers (`local`: node-wide counters; `redis`:
 * one atomic script against a real redis-server started here), fault tolerance with Redis
 * stopped, and the sliding window.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Agent, request } from 'undici'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { hasRedisServer, startRedis, type TestRedis } from '../../helpers/redis.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'
import { admin, settle } from '../proxy/helpers.js'

/** Waits until `now` is at least `marginMs` away from the next boundary of `periodMs` windows. */
async function awayFromBoundary(periodMs: number, marginMs: number): Promise<void> {
  const left = periodMs - (Date.now() % periodMs)
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 20))
}

/** Waits until `offsetMs` into the current second (if not past `latestMs` yet) or the next one. */
async function atSecondOffset(offsetMs: number, latestMs: number): Promise<void> {
  const ms = Date.now() % 1000
  if (ms >= offsetMs && ms <= latestMs) return
  const wait = ms < offsetMs ? offsetMs - ms : 1000 - ms + offsetMs
  await new Promise((r) => setTimeout(r, wait))
}

/** Waits until `offsetMs` into the second after the one `t` falls in. */
async function inNextSecond(t: number, offsetMs: number): Promise<void> {
  const target = t - (t % 1000) + 1000 + offsetMs
  await new Promise((r) => setTimeout(r, Math.max(0, target - Date.now())))
}

/** `n` concurrent GETs over many connections; returns the statuses. */
async function burst(url: string, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const agent = new Agent({ connections: 32, pipelining: 1 })
  try {
    return await Promise.all(
      Array.from({ length: n }, async () => {
        const res = await request(url, { dispatcher: agent, headers })
        await res.body.dump()
        return res.statusCode
      }),
    )
  } finally {
    await agent.close()
  }
}

const count = (statuses: number[], s: number): number => statuses.filter((x) => x === s).length

describe('rate-limiting plugin', () => {
  let gw: TestGateway
  let up: TestUpstream
  let redis: TestRedis | null = null

  before(async () => {
    up = await startUpstream()
    if (hasRedisServer()) redis = await startRedis()
    gw = await startTestGateway({ workers: 2 })
    await admin(gw, '/services', { name: 'svc', url: up.url })
    await admin(gw, '/services', { name: 'svc2', url: up.url })
    const routes: [string, string, string?][] = [
      ['basic', '/basic'],
      ['hidden', '/hidden'],
      ['custom', '/custom'],
      ['by-header', '/by-header'],
      ['by-path', '/by-path'],
      ['by-service-a', '/by-service-a', 'svc2'],
      ['by-service-b', '/by-service-b', 'svc2'],
      ['by-consumer', '/by-consumer'],
      ['by-credential', '/by-credential'],
      ['exact', '/exact'],
      ['redis', '/redis'],
      ['redis-strict', '/redis-strict'],
      ['redis-flat', '/redis-flat'],
      ['sliding', '/sliding'],
      ['fixed', '/fixed'],
    ]
    for (const [name, path, svc] of routes) await admin(gw, `/services/${svc ?? 'svc'}/routes`, { name, paths: [path] })
    await admin(gw, '/routes/basic/plugins', { name: 'rate-limiting', config: { minute: 3, hour: 10 } })
    await admin(gw, '/routes/hidden/plugins', { name: 'rate-limiting', config: { minute: 1, hide_client_headers: true } })
    await admin(gw, '/routes/custom/plugins', { name: 'rate-limiting', config: { minute: 1, error_code: 503, error_message: 'Slow down' } })
    await admin(gw, '/routes/by-header/plugins', {
      name: 'rate-limiting',
      config: { minute: 1, limit_by: 'header', header_name: 'x-tenant' },
    })
    await admin(gw, '/routes/by-path/plugins', { name: 'rate-limiting', config: { minute: 1, limit_by: 'path', path: '/by-path/one' } })
    await admin(gw, '/services/svc2/plugins', { name: 'rate-limiting', config: { minute: 2, limit_by: 'service' } })
    for (const r of ['by-consumer', 'by-credential']) await admin(gw, `/routes/${r}/plugins`, { name: 'key-auth' })
    await admin(gw, '/routes/by-consumer/plugins', { name: 'rate-limiting', config: { minute: 1 } })
    await admin(gw, '/routes/by-credential/plugins', { name: 'rate-limiting', config: { minute: 1, limit_by: 'credential' } })
    await admin(gw, '/consumers', { username: 'alice' })
    await admin(gw, '/consumers', { username: 'bob' })
    await admin(gw, '/consumers/alice/key-auth', { key: 'alice-1' })
    await admin(gw, '/consumers/alice/key-auth', { key: 'alice-2' })
    await admin(gw, '/consumers/bob/key-auth', { key: 'bob-1' })
    await admin(gw, '/routes/exact/plugins', { name: 'rate-limiting', config: { hour: 60, limit_by: 'service' } })
    await admin(gw, '/routes/sliding/plugins', { name: 'rate-limiting', config: { second: 5, window_type: 'sliding' } })
    await admin(gw, '/routes/fixed/plugins', { name: 'rate-limiting', config: { second: 5 } })
    if (redis !== null) {
      await admin(gw, '/routes/redis/plugins', {
        name: 'rate-limiting',
        config: { hour: 40, policy: 'redis', redis: { host: '127.0.0.1', port: redis.port, timeout: 500 } },
      })
      await admin(gw, '/routes/redis-strict/plugins', {
        name: 'rate-limiting',
        config: { hour: 40, policy: 'redis', fault_tolerant: false, redis: { host: '127.0.0.1', port: redis.port, timeout: 500 } },
      })
      await admin(gw, '/routes/redis-flat/plugins', {
        name: 'rate-limiting',
        config: { minute: 2, policy: 'redis', redis_host: '127.0.0.1', redis_port: redis.port },
      })
    }
    await settle(gw)
  })
  after(async () => {
    await gw.stop()
    await up.close()
    await redis?.stop()
  })

  test("headers on each answer, then 429 with Kong's body, Retry-After and nothing sent upstream", async () => {
    await awayFromBoundary(60_000, 5000)
    for (let i = 0; i < 3; i++) {
      const res = await call('GET', `${gw.proxyUrl}/basic`)
      assert.equal(res.status, 200)
      assert.equal(res.headers['x-ratelimit-limit-minute'], '3')
      assert.equal(res.headers['x-ratelimit-remaining-minute'], String(2 - i))
      assert.equal(res.headers['x-ratelimit-limit-hour'], '10')
      // Two workers: a worker reports the hour's remaining as of its last exchange with the
      // primary, so it may be off by the other worker's lease (here at most 2 hits).
      const hour = Number(res.headers['x-ratelimit-remaining-hour'])
      assert.ok(Math.abs(hour - (9 - i)) <= 2, `hour remaining ${hour}`)
      // The most restrictive window: the minute.
      assert.equal(res.headers['ratelimit-limit'], '3')
      assert.equal(res.headers['ratelimit-remaining'], String(2 - i))
      const reset = Number(res.headers['ratelimit-reset'])
      assert.ok(reset >= 1 && reset <= 60, `RateLimit-Reset ${reset}`)
      assert.equal(res.headers['retry-after'], undefined)
    }
    const seen = up.received.length
    const res = await call('GET', `${gw.proxyUrl}/basic`)
    assert.equal(res.status, 429)
    assert.equal(res.body.message, 'API rate limit exceeded')
    assert.match(res.body.request_id, /^[0-9a-f]+$/)
    assert.equal(res.headers['x-ratelimit-remaining-minute'], '0')
    const hour = Number(res.headers['x-ratelimit-remaining-hour'])
    assert.ok(Math.abs(hour - 7) <= 2, `a refused request counts nothing (hour remaining ${hour})`)
    assert.equal(res.headers['ratelimit-remaining'], '0')
    const retry = Number(res.headers['retry-after'])
    assert.ok(retry >= 1 && retry <= 60)
    assert.equal(res.headers['retry-after'], res.headers['ratelimit-reset'])
    assert.equal(up.received.length, seen)
    const line = await gw.waitForLog(/\[rate-limiting\] 429 "API rate limit exceeded" on route "basic"/)
    assert.match(line, /limit 3 per minute reached/)
  })

  test('hide_client_headers: no rate-limit headers, not even Retry-After on the 429', async () => {
    await awayFromBoundary(60_000, 3000)
    const ok = await call('GET', `${gw.proxyUrl}/hidden`)
    assert.equal(ok.status, 200)
    assert.equal(ok.headers['x-ratelimit-limit-minute'], undefined)
    assert.equal(ok.headers['ratelimit-remaining'], undefined)
    const no = await call('GET', `${gw.proxyUrl}/hidden`)
    assert.equal(no.status, 429)
    assert.equal(no.headers['retry-after'], undefined)
    assert.equal(no.headers['ratelimit-reset'], undefined)
  })

  test('error_code and error_message', async () => {
    await awayFromBoundary(60_000, 3000)
    assert.equal((await call('GET', `${gw.proxyUrl}/custom`)).status, 200)
    const res = await call('GET', `${gw.proxyUrl}/custom`)
    assert.equal(res.status, 503)
    assert.equal(res.body.message, 'Slow down')
  })

  test('limit_by header: one counter per header value; without the header, the client IP', async () => {
    await awayFromBoundary(60_000, 3000)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-header`, undefined, { 'x-tenant': 'a' })).status, 200)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-header`, undefined, { 'x-tenant': 'a' })).status, 429)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-header`, undefined, { 'x-tenant': 'b' })).status, 200)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-header`)).status, 200)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-header`)).status, 429)
  })

  test('limit_by path: the configured path has its own counter, other paths share the IP one', async () => {
    await awayFromBoundary(60_000, 3000)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-path/one`)).status, 200)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-path/one`)).status, 429)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-path/two`)).status, 200)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-path/three`)).status, 429)
  })

  test('limit_by service: a service-scoped instance counts all routes of the service together', async () => {
    await awayFromBoundary(60_000, 3000)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-service-a`)).status, 200)
    assert.equal((await call('GET', `${gw.proxyUrl}/by-service-b`)).status, 200)
    const third = await call('GET', `${gw.proxyUrl}/by-service-a`)
    assert.equal(third.status, 429)
  })

  test('limit_by consumer (all keys of a consumer share) and credential (each key its own)', async () => {
    await awayFromBoundary(60_000, 3000)
    const get = async (path: string, key: string): Promise<number> =>
      (await call('GET', `${gw.proxyUrl}${path}`, undefined, { apikey: key })).status
    assert.equal(await get('/by-consumer', 'alice-1'), 200)
    assert.equal(await get('/by-consumer', 'alice-2'), 429, 'same consumer, other key')
    assert.equal(await get('/by-consumer', 'bob-1'), 200)
    assert.equal(await get('/by-credential', 'alice-1'), 200)
    assert.equal(await get('/by-credential', 'alice-2'), 200, 'other credential, own counter')
    assert.equal(await get('/by-credential', 'alice-1'), 429)
  })

  test('local policy is exact across both workers: 200 concurrent requests, exactly 60 allowed', async () => {
    await awayFromBoundary(3_600_000, 10_000)
    const statuses = await burst(`${gw.proxyUrl}/exact`, 200)
    assert.equal(count(statuses, 200), 60)
    assert.equal(count(statuses, 429), 140)
    assert.equal((await call('GET', `${gw.proxyUrl}/exact`)).status, 429)
  })

  test('configuration: periods must not decrease, the cluster policy has no sliding window, policy redis needs a host', async () => {
    const order = await call('POST', `${gw.adminUrl}/plugins`, { name: 'rate-limiting', config: { second: 5, minute: 1 } })
    assert.equal(order.status, 400)
    assert.match(order.text, /The limit for minute\(1\.0\) cannot be lower than the limit for second\(5\.0\)/)
    const none = await call('POST', `${gw.adminUrl}/plugins`, { name: 'rate-limiting', config: {} })
    assert.equal(none.status, 400)
    assert.match(none.text, /at least one of these fields must be non-empty: 'second', 'minute', 'hour', 'day', 'month', 'year'/)
    const cluster = await call('POST', `${gw.adminUrl}/plugins`, {
      name: 'rate-limiting',
      config: { minute: 5, policy: 'cluster', window_type: 'sliding' },
    })
    assert.equal(cluster.status, 400)
    assert.match(cluster.text, /window_type 'sliding' is not available with the 'cluster' policy/)
    const noHost = await call('POST', `${gw.adminUrl}/plugins`, { name: 'rate-limiting', config: { minute: 5, policy: 'redis' } })
    assert.equal(noHost.status, 400)
    assert.match(noHost.text, /required field missing/)
    const header = await call('POST', `${gw.adminUrl}/plugins`, { name: 'rate-limiting', config: { minute: 5, limit_by: 'header' } })
    assert.equal(header.status, 400)
    assert.match(header.text, /header_name/)
  })

  test('sliding window: the previous second still weighs in where a fixed window would reset', async () => {
    await atSecondOffset(50, 250)
    const t0 = Date.now()
    const a = await burst(`${gw.proxyUrl}/sliding`, 5)
    const b = await burst(`${gw.proxyUrl}/fixed`, 5)
    assert.deepEqual([count(a, 200), count(b, 200)], [5, 5])
    // Early in the next second the previous one weighs ~0.9: floor(5 - 5 × 0.9) = 0 allowed.
    assert.ok(Date.now() % 1000 > t0 % 1000, 'the bursts fit in one second')
    await inNextSecond(t0, 50)
    assert.equal((await call('GET', `${gw.proxyUrl}/sliding`)).status, 429)
    assert.equal((await call('GET', `${gw.proxyUrl}/fixed`)).status, 200, 'a fixed window starts afresh')
    // Late in it the weight is ~0.15: floor(5 - 0.75) = 4 allowed.
    await inNextSecond(t0, 850)
    const late = await call('GET', `${gw.proxyUrl}/sliding`)
    assert.equal(late.status, 200)
  })

  describe('redis policy', { skip: hasRedisServer() ? false : 'redis-server is not installed (.ci/run installs it)' }, () => {
    test("exact under concurrent load over both workers: exactly 40 of 150 allowed; keys in Kong's layout", async () => {
      await awayFromBoundary(3_600_000, 10_000)
      const statuses = await burst(`${gw.proxyUrl}/redis`, 150)
      assert.equal(count(statuses, 200), 40)
      assert.equal(count(statuses, 429), 110)
      const keys = (redis as TestRedis)
        .cli('--scan', '--pattern', 'ratelimit:*')
        .split('\n')
        .filter((k) => k !== '')
      const mine = keys.filter((k) => k.endsWith(':hour'))
      assert.ok(mine.length >= 1, `keys: ${keys.join(' ')}`)
      assert.match(mine[0] ?? '', /^ratelimit:[0-9a-f-]{36}:[0-9a-f-]{36}:(?:[0-9a-f]{12}:)?127\.0\.0\.1:\d+:hour$/)
      const ttl = Number((redis as TestRedis).cli('pttl', mine[0] ?? ''))
      assert.ok(ttl > 0 && ttl <= 3_602_000, `pttl ${ttl}`)
    })

    test('the deprecated flat redis_* fields still work', async () => {
      await awayFromBoundary(60_000, 3000)
      const statuses = [
        await call('GET', `${gw.proxyUrl}/redis-flat`),
        await call('GET', `${gw.proxyUrl}/redis-flat`),
        await call('GET', `${gw.proxyUrl}/redis-flat`),
      ].map((r) => r.status)
      assert.deepEqual(statuses, [200, 200, 429])
    })

    test('Redis down: fault_tolerant lets requests through with a warning saying why; fault_tolerant=false answers 500', async () => {
      const r = redis as TestRedis
      await r.stop()
      try {
        const res = await call('GET', `${gw.proxyUrl}/redis`)
        assert.equal(res.status, 200)
        assert.equal(res.headers['x-ratelimit-limit-hour'], undefined, 'no counts to report')
        const warn = await gw.waitForLog(/\[warn\].*\[rate-limiting\] Redis at 127\.0\.0\.1:\d+ did not answer/)
        assert.match(warn, /let through without rate limiting because fault_tolerant is true/)
        const strict = await call('GET', `${gw.proxyUrl}/redis-strict`)
        assert.equal(strict.status, 500)
        assert.equal(strict.body.message, 'An unexpected error occurred')
        await gw.waitForLog(
          /\[error\].*\[rate-limiting\] 500 on route "redis-strict".*: Redis at .* did not answer.*the request is refused because fault_tolerant is false/,
        )
      } finally {
        await r.start()
      }
      // Back (empty: it kept nothing): counting resumes, within the reconnect delay.
      let limit: unknown = undefined
      for (let i = 0; i < 50 && limit === undefined; i++) {
        const res = await call('GET', `${gw.proxyUrl}/redis`)
        assert.equal(res.status, 200)
        limit = res.headers['x-ratelimit-limit-hour']
        if (limit === undefined) await new Promise((r) => setTimeout(r, 100))
      }
      assert.equal(limit, '40')
    })
  })
})
