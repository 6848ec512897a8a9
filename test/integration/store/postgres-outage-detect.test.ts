/**
 * A database that goes away is noticed by the first query that needs it (issue 17): stopped
 * with SIGSTOP (its connections stay open and nothing answers, as when a network drops packets)
 * the first Admin write answers 503 with the outage message within `pg_timeout` (1 s here), not
 * a 500 and not after the change channel's ping; killed with SIGKILL, at once. `/status` says
 * `reachable: false`, `/status/ready` not ready, the proxy keeps serving; once the database is
 * back, writes work again without restarting the node, and each transition is logged once.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, eventually, type TestGateway } from '../../helpers/gateway.js'
import { postgresSuite, startNodes } from '../../helpers/pg-nodes.js'
import { hasPostgres } from '../../helpers/postgres.js'

const skip = hasPostgres() ? false : 'PostgreSQL is not installed (.ci/run installs it)'

const PG_TIMEOUT = 1000
/** Room for a loaded machine (2 shared cores) on top of pg_timeout. */
const MARGIN = 1500

const UNREACHABLE = /the database cannot be reached/g
const BACK = /the database answers again/g

describe('a database that stops answering', { skip }, () => {
  const suite = postgresSuite()

  /** One node (the check out of the way: the Admin write itself must find the outage). */
  async function node(): Promise<{ gw: TestGateway; database: string }> {
    const { gws, database } = await startNodes(suite.pg, 1, { pg_timeout: String(PG_TIMEOUT), db_update_frequency: '3600' })
    const gw = gws[0] as TestGateway
    assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 'up', url: suite.upstream.url })).status, 201)
    assert.equal((await call('POST', `${gw.adminUrl}/services/up/routes`, { paths: ['/up'] })).status, 201)
    await eventually(async () => (await call('GET', `${gw.proxyUrl}/up/x`)).status === 200, 2000, 'the route')
    return { gw, database }
  }

  /** The first write after the failure: 503 with the outage message, within `withinMs`. */
  async function refused(gw: TestGateway, database: string, withinMs: number): Promise<number> {
    const started = performance.now()
    const res = await call('POST', `${gw.adminUrl}/services`, { name: 'during', url: suite.upstream.url })
    const elapsed = performance.now() - started
    assert.equal(res.status, 503, JSON.stringify(res.body))
    const body = res.body as { code: number; message: string }
    assert.equal(body.code, 8)
    assert.match(
      body.message,
      new RegExp(`^the database \\(postgres at postgres://kong@127\\.0\\.0\\.1:${suite.pg.port}/${database}\\) cannot be reached`),
    )
    assert.ok(elapsed <= withinMs, `503 after ${elapsed.toFixed(0)} ms (at most ${withinMs})`)
    const status = await call('GET', `${gw.statusUrl}/status`)
    assert.deepEqual((status.body as { database: unknown }).database, { reachable: false })
    const ready = await call('GET', `${gw.statusUrl}/status/ready`)
    assert.deepEqual([ready.status, ready.body], [503, { message: 'failed to connect to database' }])
    assert.equal((await call('GET', `${gw.proxyUrl}/up/x`)).status, 200)
    return elapsed
  }

  /** After the database is back: a write works again (bounded retries), ready again, each transition logged once. */
  async function recovered(gw: TestGateway, name: string): Promise<void> {
    const deadline = Date.now() + 10_000
    let created = await call('POST', `${gw.adminUrl}/services`, { name, url: suite.upstream.url })
    while (created.status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      created = await call('POST', `${gw.adminUrl}/services`, { name, url: suite.upstream.url })
    }
    assert.equal(created.status, 201, JSON.stringify(created.body))
    await eventually(async () => (await call('GET', `${gw.statusUrl}/status/ready`)).status === 200, 10_000, 'ready again')
    assert.equal(gw.errorLog().match(UNREACHABLE)?.length, 1, gw.errorLog())
    assert.equal(gw.errorLog().match(BACK)?.length, 1, gw.errorLog())
    assert.doesNotMatch(gw.errorLog(), /admin API request failed/)
  }

  test('SIGSTOP (a silent network failure): the first write answers 503 within pg_timeout, not 500; SIGCONT: writes work again', async (t) => {
    const { gw, database } = await node()
    try {
      suite.pg.freeze()
      let elapsed: number
      try {
        elapsed = await refused(gw, database, PG_TIMEOUT + MARGIN)
        // later writes too, each bounded by pg_timeout
        assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 'again', url: suite.upstream.url })).status, 503)
      } finally {
        suite.pg.thaw()
      }
      t.diagnostic(`first write after SIGSTOP: 503 after ${elapsed.toFixed(0)} ms (pg_timeout ${PG_TIMEOUT} ms)`)
      await recovered(gw, 'after')
    } finally {
      await gw.stop()
    }
  })

  test('SIGKILL (a crashed database host): the first write answers 503 at once; restarted: writes work again', async (t) => {
    const { gw, database } = await node()
    try {
      await suite.pg.kill()
      let elapsed: number
      try {
        elapsed = await refused(gw, database, MARGIN)
      } finally {
        await suite.pg.resume()
      }
      t.diagnostic(`first write after SIGKILL: 503 after ${elapsed.toFixed(0)} ms`)
      await recovered(gw, 'after')
    } finally {
      await gw.stop()
    }
  })
})
