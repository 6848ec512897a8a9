/**
 * Issue 17's outage under load: two gateway nodes on one real PostgreSQL database, four clients
 * looping for ~8 s through both nodes on key-auth + rate-limiting routes (`local` with a high
 * limit, and `cluster` with fault_tolerant), PostgreSQL stopped at once (immediate shutdown, as a
 * crash) in the middle of the run and started again on the same port and data directory. Asserts
 * no proxied request failed (anything but 200/429, or a socket error), the credential created
 * before the outage authenticated throughout, Admin API writes answered 503 with the message and
 * `/status` said the database was unreachable, and after the restart writes work again on both
 * nodes without restarting them, a key created on node A authenticating on node B.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Agent, request } from 'undici'
import { runTurnpike } from '../../helpers/cli.js'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { hasPostgres, settingsEnv, startPostgres, type TestPostgres } from '../../helpers/postgres.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

const skip = hasPostgres() ? false : 'PostgreSQL is not installed (.ci/run installs it)'

const CLIENTS = 4
const RUN_MS = 8000
/** Each client's bound on requests, whatever the timing. */
const MAX_PER_CLIENT = 20_000

interface Tally {
  total: number
  ok: number
  limited: number
  failed: number
  failures: string[]
  duringOutage: number
}

/** Polls `fn` until it returns a value, up to `boundMs`; the value and how long it took. */
async function poll<T>(fn: () => Promise<T | null>, boundMs: number): Promise<{ value: T | null; ms: number }> {
  const started = Date.now()
  for (;;) {
    const value = await fn()
    if (value !== null || Date.now() - started > boundMs) return { value, ms: Date.now() - started }
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('PostgreSQL stopped in the middle of a load run through two nodes', { skip }, () => {
  let pg: TestPostgres
  let up: TestUpstream
  const gws: TestGateway[] = []

  before(async () => {
    pg = await startPostgres()
    up = await startUpstream()
    const database = await pg.createDatabase()
    const boot = await runTurnpike(['migrations', 'bootstrap'], settingsEnv(pg.settings(database)))
    assert.equal(boot.status, 0, boot.stderr)
    for (let i = 0; i < 2; i++) gws.push(await startTestGateway({ settings: { ...pg.settings(database), pg_timeout: '1000' } }))
  })
  after(async () => {
    await Promise.all(gws.map((gw) => gw.stop()))
    await up?.close()
    await pg?.stop()
  })

  test('0 failed proxied requests, the old key authenticates, Admin 503 then writes again without a restart', async (t) => {
    const [a, b] = gws as [TestGateway, TestGateway]
    const admin = async (path: string, body: unknown): Promise<void> => {
      const res = await call('POST', `${a.adminUrl}${path}`, body)
      assert.equal(res.status, 201, `${path}: ${res.text}`)
    }
    await admin('/services', { name: 'svc', url: up.url })
    await admin('/services/svc/routes', { name: 'local', paths: ['/local'] })
    await admin('/services/svc/routes', { name: 'cluster', paths: ['/cluster'] })
    await admin('/services/svc/plugins', { name: 'key-auth' })
    await admin('/routes/local/plugins', { name: 'rate-limiting', config: { minute: 1_000_000, policy: 'local' } })
    await admin('/routes/cluster/plugins', {
      name: 'rate-limiting',
      config: { minute: 1_000_000, policy: 'cluster', fault_tolerant: true },
    })
    await admin('/consumers', { username: 'before' })
    await admin('/consumers/before/key-auth', { key: 'key-before' })
    for (const gw of gws)
      for (const path of ['/local', '/cluster'])
        await eventually(
          async () => (await call('GET', `${gw.proxyUrl}${path}`, undefined, { apikey: 'key-before' })).status === 200,
          5000,
          `${path} with the key on ${gw.proxyUrl}`,
        )

    const urls = gws.flatMap((gw) => [`${gw.proxyUrl}/local/x`, `${gw.proxyUrl}/cluster/x`])
    const tally: Tally = { total: 0, ok: 0, limited: 0, failed: 0, failures: [], duringOutage: 0 }
    let outage = false
    const agent = new Agent({ connections: CLIENTS * urls.length, pipelining: 1 })
    const deadline = Date.now() + RUN_MS
    const client = async (c: number): Promise<void> => {
      for (let i = 0; i < MAX_PER_CLIENT && Date.now() < deadline; i++) {
        const url = urls[(c + i) % urls.length] as string
        tally.total++
        if (outage) tally.duringOutage++
        try {
          const res = await request(url, { dispatcher: agent, headers: { apikey: 'key-before' }, headersTimeout: 5000, bodyTimeout: 5000 })
          await res.body.dump()
          if (res.statusCode === 200) tally.ok++
          else if (res.statusCode === 429) tally.limited++
          else {
            tally.failed++
            if (tally.failures.length < 10) tally.failures.push(`${url}: ${res.statusCode}`)
          }
        } catch (err) {
          tally.failed++
          if (tally.failures.length < 10) tally.failures.push(`${url}: ${(err as Error).message}`)
        }
      }
    }
    const load = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)))

    // --- the outage, while the clients run ---------------------------------------------------
    await new Promise((r) => setTimeout(r, 2000))
    const beforeOutage = tally.total
    outage = true
    await pg.interrupt()
    let outageMs = 0
    const outageStarted = Date.now()
    try {
      for (const gw of gws) await gw.waitForLog(/lost the database change channel/, 5000)
      for (const gw of gws) {
        const refused = await call('POST', `${gw.adminUrl}/consumers`, { username: `during-${gw.adminPort}` })
        assert.equal(refused.status, 503, refused.text)
        const body = refused.body as { code: number; name: string; message: string }
        assert.deepEqual([body.code, body.name], [8, 'database error'])
        assert.match(body.message, /^the database \(postgres at postgres:\/\/kong@127\.0\.0\.1:\d+\/\w+\) cannot be reached/)
        assert.match(body.message, /the proxy keeps serving the last configuration it loaded$/)
        const status = await call('GET', `${gw.statusUrl}/status`)
        assert.deepEqual((status.body as { database: unknown }).database, { reachable: false })
        // the key created before the outage authenticates on both routes; no key is still refused
        for (const path of ['/local', '/cluster']) {
          assert.equal((await call('GET', `${gw.proxyUrl}${path}/y`, undefined, { apikey: 'key-before' })).status, 200)
          assert.equal((await call('GET', `${gw.proxyUrl}${path}/y`)).status, 401)
        }
      }
      // keep the database away for about 3 s of load
      await new Promise((r) => setTimeout(r, Math.max(0, 3000 - (Date.now() - outageStarted))))
    } finally {
      outageMs = Date.now() - outageStarted
      outage = false
      await pg.resume()
    }
    const during = tally.duringOutage

    // --- recovery, no node restarted ---------------------------------------------------------
    const resumed = Date.now()
    const write = await poll(async () => {
      const res = await call('POST', `${a.adminUrl}/consumers`, { username: 'after' })
      return res.status === 201 ? res : null
    }, 15_000)
    assert.ok(write.value !== null, 'a write on node A succeeds within 15 s of the database returning')
    assert.equal((await call('POST', `${a.adminUrl}/consumers/after/key-auth`, { key: 'key-after' })).status, 201)
    const onB = await poll(async () => {
      const res = await call('GET', `${b.proxyUrl}/local/z`, undefined, { apikey: 'key-after' })
      return res.status === 200 ? res : null
    }, 15_000)
    assert.ok(onB.value !== null, 'the key created on node A after the outage authenticates on node B')
    const writeOnB = await poll(async () => {
      const res = await call('POST', `${b.adminUrl}/consumers`, { username: 'after-b' })
      return res.status === 201 ? res : null
    }, 15_000)
    assert.ok(writeOnB.value !== null, 'a write on node B succeeds too')

    await load
    await agent.close()
    t.diagnostic(
      `${tally.total} proxied requests by ${CLIENTS} clients over ${RUN_MS} ms through 2 nodes (${beforeOutage} before the outage, ` +
        `${during} during ${outageMs} ms without PostgreSQL): ${tally.ok} × 200, ${tally.limited} × 429, ${tally.failed} failed; ` +
        `write on A again ${write.ms} ms after the restart, A's new key live on B ${onB.ms} ms after it was created ` +
        `(${Date.now() - resumed} ms since the restart in all)`,
    )
    assert.deepEqual(tally.failures, [], 'no proxied request fails')
    assert.equal(tally.failed, 0)
    assert.ok(during > 100, `the load ran during the outage (${during} requests)`)
    assert.equal(tally.ok + tally.limited, tally.total)
    for (const gw of gws) {
      assert.equal(gw.errorLog().match(/lost the database change channel/g)?.length, 1)
      await gw.waitForLog(/listening to the database's changes again/, 5000)
    }
  })
})
