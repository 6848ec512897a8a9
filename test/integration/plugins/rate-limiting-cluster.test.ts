/**
 * rate-limiting's `cluster` policy (Kong's `ratelimiting_metrics` table) against real components:
 * three gateway nodes on one real PostgreSQL database, where a client hitting every node in turn
 * gets exactly the limit's successes then 429 with Kong's headers, concurrent bursts over all
 * nodes never pass more than the limit, the rows are Kong's, and a database outage lets requests
 * through (`fault_tolerant`) or answers 500; one node on its own SQLite file; DB-less refusing
 * the policy with Kong's message.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import { Agent, request } from 'undici'
import { runTurnpike } from '../../helpers/cli.js'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { hasPostgres, settingsEnv, startPostgres, type TestPostgres } from '../../helpers/postgres.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

const skip = hasPostgres() ? false : 'PostgreSQL is not installed (.ci/run installs it)'
const NULL_UUID = '00000000-0000-0000-0000-000000000000'

/** Waits until `now` is at least `marginMs` away from the end of the current minute. */
async function awayFromMinuteEnd(marginMs: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 50))
}

/** `n` concurrent GETs spread over `urls` (round robin); the statuses. */
async function burst(urls: readonly string[], n: number, headers: Record<string, string>): Promise<number[]> {
  const agent = new Agent({ connections: 16, pipelining: 1 })
  try {
    return await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await request(urls[i % urls.length] as string, { dispatcher: agent, headers })
        await res.body.dump()
        return res.statusCode
      }),
    )
  } finally {
    await agent.close()
  }
}

const count = (statuses: readonly number[], s: number): number => statuses.filter((x) => x === s).length

/** The `policy` field's choices in `GET /schemas/plugins/rate-limiting`. */
async function policyChoices(gw: TestGateway): Promise<unknown> {
  const res = await call('GET', `${gw.adminUrl}/schemas/plugins/rate-limiting`)
  const fields = (res.body as { fields: Record<string, { fields: Record<string, { one_of?: unknown }>[] }>[] }).fields
  const config = fields.find((f) => 'config' in f)?.['config']
  return config?.fields.find((f) => 'policy' in f)?.['policy']?.one_of
}

describe('rate-limiting policy cluster: three nodes on one PostgreSQL database', { skip }, () => {
  let pg: TestPostgres
  let up: TestUpstream
  let database: string
  const gws: TestGateway[] = []
  let routeId = ''

  before(async () => {
    pg = await startPostgres()
    up = await startUpstream()
    database = await pg.createDatabase()
    const boot = await runTurnpike(['migrations', 'bootstrap'], settingsEnv(pg.settings(database)))
    assert.equal(boot.status, 0, boot.stderr)
    for (let i = 0; i < 3; i++) gws.push(await startTestGateway({ settings: pg.settings(database), workers: i === 0 ? 2 : 1 }))
    const a = gws[0] as TestGateway
    assert.equal((await call('POST', `${a.adminUrl}/services`, { name: 's', url: up.url })).status, 201)
    const route = await call('POST', `${a.adminUrl}/services/s/routes`, { name: 'limited', paths: ['/limited'] })
    assert.equal(route.status, 201)
    routeId = (route.body as { id: string }).id
    const plugin = await call('POST', `${a.adminUrl}/routes/limited/plugins`, {
      name: 'rate-limiting',
      config: { minute: 10, hour: 1000, policy: 'cluster', limit_by: 'header', header_name: 'x-client' },
    })
    assert.equal(plugin.status, 201, plugin.text)
    assert.equal((await call('POST', `${a.adminUrl}/services/s/routes`, { name: 'strict', paths: ['/strict'] })).status, 201)
    const strict = await call('POST', `${a.adminUrl}/routes/strict/plugins`, {
      name: 'rate-limiting',
      config: { minute: 1000, policy: 'cluster', limit_by: 'header', header_name: 'x-client', fault_tolerant: false },
    })
    assert.equal(strict.status, 201, strict.text)
    // Every node has both instances (probed with identifiers of their own).
    for (const gw of gws)
      for (const path of ['/limited', '/strict'])
        await eventually(
          async () =>
            (await call('GET', `${gw.proxyUrl}${path}`, undefined, { 'x-client': `probe-${gw.proxyPort}` })).headers['ratelimit-limit'] !==
            undefined,
          5000,
          `${path} rate-limited on ${gw.proxyUrl}`,
        )
  })
  after(async () => {
    await Promise.all(gws.map((gw) => gw.stop()))
    await up?.close()
    await pg?.stop()
  })

  test('migrations list names the ratelimiting_metrics migration', async () => {
    const list = await runTurnpike(['migrations', 'list'], settingsEnv(pg.settings(database)))
    assert.equal(list.status, 0, list.stderr)
    assert.match(list.stdout + list.stderr, /001_ratelimiting_metrics/)
  })

  test('a client hitting the three nodes in turn gets exactly 10 successes then 429, with Kong headers', async () => {
    await awayFromMinuteEnd(5000)
    const headers = { 'x-client': 'alice' }
    for (let i = 0; i < 13; i++) {
      const gw = gws[i % 3] as TestGateway
      const res = await call('GET', `${gw.proxyUrl}/limited`, undefined, headers)
      if (i < 10) {
        assert.equal(res.status, 200, `request ${i + 1} on node ${i % 3}`)
        assert.equal(res.headers['x-ratelimit-limit-minute'], '10')
        assert.equal(res.headers['x-ratelimit-remaining-minute'], String(9 - i))
        assert.equal(res.headers['x-ratelimit-limit-hour'], '1000')
        assert.equal(res.headers['x-ratelimit-remaining-hour'], String(999 - i))
        assert.equal(res.headers['ratelimit-limit'], '10')
        assert.equal(res.headers['ratelimit-remaining'], String(9 - i))
        assert.ok(Number(res.headers['ratelimit-reset']) >= 1 && Number(res.headers['ratelimit-reset']) <= 60)
      } else {
        assert.equal(res.status, 429, `request ${i + 1} on node ${i % 3}`)
        assert.equal(res.body.message, 'API rate limit exceeded')
        assert.equal(res.headers['x-ratelimit-remaining-minute'], '0')
        assert.equal(res.headers['ratelimit-remaining'], '0')
        assert.ok(Number(res.headers['retry-after']) >= 1)
      }
    }
    // Kong's table and columns: one row per period, keyed by the instance's route (no service).
    const rows = await pg.query(
      `SELECT identifier, period, extract(epoch FROM period_date)::bigint AS date, service_id::text, route_id::text, value,
              extract(epoch FROM ttl - now())::int AS ttl_left
         FROM ratelimiting_metrics WHERE identifier = 'alice' ORDER BY period`,
      database,
    )
    const now = Date.now()
    assert.deepEqual(
      rows.map((r) => ({ ...r, date: Number(r['date']), ttl_left: undefined })),
      [
        {
          identifier: 'alice',
          period: 'hour',
          date: Math.floor((now - (now % 3_600_000)) / 1000),
          service_id: NULL_UUID,
          route_id: routeId,
          value: 10,
          ttl_left: undefined,
        },
        {
          identifier: 'alice',
          period: 'minute',
          date: Math.floor((now - (now % 60_000)) / 1000),
          service_id: NULL_UUID,
          route_id: routeId,
          value: 10,
          ttl_left: undefined,
        },
      ],
    )
    // Kong's ttl: the row lives one period from its creation.
    const ttl = new Map(rows.map((r) => [r['period'], Number(r['ttl_left'])]))
    assert.ok((ttl.get('minute') ?? 0) > 0 && (ttl.get('minute') ?? 99) <= 60)
    assert.ok((ttl.get('hour') ?? 0) > 3500 && (ttl.get('hour') ?? 0) <= 3600)
  })

  test('concurrent bursts over all nodes pass exactly the limit (90 requests, limit 10)', async () => {
    await awayFromMinuteEnd(10_000)
    const statuses = await burst(
      gws.map((gw) => `${gw.proxyUrl}/limited`),
      90,
      { 'x-client': 'bob' },
    )
    assert.equal(count(statuses, 200), 10, JSON.stringify(statuses))
    assert.equal(count(statuses, 429), 80)
    const rows = await pg.query(`SELECT period, value FROM ratelimiting_metrics WHERE identifier = 'bob' ORDER BY period`, database)
    assert.deepEqual(rows, [
      { period: 'hour', value: 10 },
      { period: 'minute', value: 10 },
    ])
  })

  test('PostgreSQL down: fault_tolerant lets requests through without headers, fault_tolerant false answers 500; back: counting resumes', async () => {
    await awayFromMinuteEnd(20_000)
    const b = gws[1] as TestGateway
    const c = gws[2] as TestGateway
    await pg.interrupt()
    try {
      for (const gw of gws) {
        const through = await call('GET', `${gw.proxyUrl}/limited`, undefined, { 'x-client': 'carol' })
        assert.equal(through.status, 200)
        assert.equal(through.headers['ratelimit-limit'], undefined)
        const refused = await call('GET', `${gw.proxyUrl}/strict`, undefined, { 'x-client': 'carol' })
        assert.equal(refused.status, 500)
        assert.equal(refused.body.message, 'An unexpected error occurred')
      }
      await b.waitForLog(
        /\[rate-limiting\] counting failed: the database cannot be reached.*let through without rate limiting because fault_tolerant is true/,
      )
    } finally {
      await pg.resume()
    }
    // Counting comes back by itself (the node reconnects): carol's first counted request.
    await eventually(
      async () => (await call('GET', `${c.proxyUrl}/strict`, undefined, { 'x-client': 'carol' })).status === 200,
      15_000,
      'the cluster policy counting again',
    )
    // Each node finds the database back on its own (B may still be in its one-second back-off
    // after C counts again); requests B lets through meanwhile are not counted, so its first
    // counted one is carol's first on /limited since the outage.
    const last: { res?: Awaited<ReturnType<typeof call>> } = {}
    await eventually(
      async () => {
        last.res = await call('GET', `${b.proxyUrl}/limited`, undefined, { 'x-client': 'carol' })
        return last.res.headers['x-ratelimit-remaining-minute'] !== undefined
      },
      15_000,
      'node B counting again',
    )
    const res = last.res
    assert.ok(res !== undefined)
    assert.equal(res.status, 200)
    assert.equal(res.headers['x-ratelimit-remaining-minute'], '9')
  })
})

describe('rate-limiting policy cluster: one node on SQLite', () => {
  let gw: TestGateway
  let up: TestUpstream

  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway({ workers: 2 })
    assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 's', url: up.url })).status, 201)
    assert.equal((await call('POST', `${gw.adminUrl}/services/s/routes`, { name: 'r', paths: ['/r'] })).status, 201)
    const plugin = await call('POST', `${gw.adminUrl}/services/s/plugins`, {
      name: 'rate-limiting',
      config: { minute: 5, policy: 'cluster', limit_by: 'ip' },
    })
    assert.equal(plugin.status, 201, plugin.text)
  })
  after(async () => {
    await gw?.stop()
    await up?.close()
  })

  test("exactly 5 of 30 concurrent requests over both workers pass; the rows are in the node's database", async () => {
    await awayFromMinuteEnd(10_000)
    await eventually(async () => (await call('GET', `${gw.adminUrl}/plugins`)).body?.data?.length === 1, 5000, 'plugin stored')
    // Wait until both workers run the instance: a request answered with the headers.
    const statuses = await burst([`${gw.proxyUrl}/r`], 30, {})
    assert.equal(count(statuses, 200), 5, JSON.stringify(statuses))
    assert.equal(count(statuses, 429), 25)
    const db = new Database(join(gw.prefix, 'turnpike.db'), { readonly: true, fileMustExist: true })
    try {
      const rows = db.prepare('SELECT identifier, period, service_id, route_id, value FROM ratelimiting_metrics').all()
      const service = (await call('GET', `${gw.adminUrl}/services/s`)).body as { id: string }
      assert.deepEqual(rows, [{ identifier: '127.0.0.1', period: 'minute', service_id: service.id, route_id: NULL_UUID, value: 5 }])
    } finally {
      db.close()
    }
    assert.deepEqual(await policyChoices(gw), ['local', 'cluster', 'redis'])
  })
})

describe('rate-limiting policy cluster: DB-less', () => {
  let gw: TestGateway

  before(async () => {
    gw = await startTestGateway({ settings: { database: 'off' } })
  })
  after(async () => {
    await gw?.stop()
  })

  test("a declarative configuration with policy cluster is refused with Kong's message; the schema endpoint omits it", async () => {
    const config = {
      _format_version: '3.0',
      plugins: [{ name: 'rate-limiting', config: { minute: 5, policy: 'cluster' } }],
    }
    const res = await call('POST', `${gw.adminUrl}/config`, config)
    assert.equal(res.status, 400, res.text)
    assert.deepEqual(res.body.fields, { plugins: [{ config: { policy: 'expected one of: local, redis' } }] })
    const local = await call('POST', `${gw.adminUrl}/config`, { ...config, plugins: [{ name: 'rate-limiting', config: { minute: 5 } }] })
    assert.equal(local.status, 201, local.text)
    assert.deepEqual(await policyChoices(gw), ['local', 'redis'])
  })
})
