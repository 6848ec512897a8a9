/**
 * The fallback of the change notifications between nodes on one real PostgreSQL (issue 17): rows
 * changed with SQL behind the Admin API (no notification) reach every node within
 * `db_update_frequency` (1 s here) and are logged as such; `db_update_propagation` delays applying
 * a change found; `db_update_frequency = 0` checks back to back as Kong polls; and a node whose
 * change channel was silently lost catches up on the write it missed once the channel is back,
 * without the check.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { call, eventually, type TestGateway } from '../../helpers/gateway.js'
import { expectStatusWithin, postgresSuite, startNodes } from '../../helpers/pg-nodes.js'
import { hasPostgres, signalAll } from '../../helpers/postgres.js'

const skip = hasPostgres() ? false : 'PostgreSQL is not installed (.ci/run installs it)'

/** The log line of a change the check found. */
const SILENT = /a change of routes reached the database without a notification to this node/

describe('changes that no notification announced', { skip }, () => {
  const suite = postgresSuite()

  /** A service `s` with a route `r` on `/old`, created through node A and live on every node. */
  async function seed(gws: readonly TestGateway[]): Promise<void> {
    const a = gws[0] as TestGateway
    assert.equal((await call('POST', `${a.adminUrl}/services`, { name: 's', url: suite.upstream.url })).status, 201)
    assert.equal((await call('POST', `${a.adminUrl}/services/s/routes`, { name: 'r', paths: ['/old'] })).status, 201)
    for (const gw of gws) await expectStatusWithin(`${gw.proxyUrl}/old/x`, 200, 2000)
  }

  test('rows written with SQL (UPDATE, INSERT, DELETE) reach both nodes within db_update_frequency = 1 s, logged once each', async () => {
    const { database, gws } = await startNodes(suite.pg, 2, { db_update_frequency: '1' })
    try {
      await seed(gws)
      // The check names an entity no notification announced since the previous check: the seed's
      // announced routes must be past.
      await new Promise((r) => setTimeout(r, 1500))
      await suite.pg.query(`UPDATE routes SET data = jsonb_set(data, '{paths}', '["/moved"]') WHERE data->>'name' = 'r'`, database)
      for (const gw of gws) await expectStatusWithin(`${gw.proxyUrl}/moved/x`, 200, 2500)
      for (const gw of gws) assert.equal((await call('GET', `${gw.proxyUrl}/old/x`)).status, 404)

      // A route inserted by hand (a copy of r on /copied), then r deleted by hand.
      const id = randomUUID()
      await suite.pg.query(
        `INSERT INTO routes (id, data, f_service) SELECT '${id}', data || jsonb_build_object('id', '${id}', 'name', null, 'paths', '["/copied"]'::jsonb), f_service FROM routes WHERE data->>'name' = 'r'`,
        database,
      )
      for (const gw of gws) await expectStatusWithin(`${gw.proxyUrl}/copied/x`, 200, 2500)
      await suite.pg.query(`DELETE FROM routes WHERE data->>'name' = 'r'`, database)
      for (const gw of gws) await expectStatusWithin(`${gw.proxyUrl}/moved/x`, 404, 2500)
      // (each logged once the change is applied)
      const found = (gw: TestGateway): number => gw.errorLog().match(new RegExp(SILENT, 'g'))?.length ?? 0
      for (const gw of gws) await eventually(async () => found(gw) >= 3, 2000, 'three changes found by the check')
      // Admin API writes are announced: none of them is reported as found by the check.
      const a = gws[0] as TestGateway
      assert.equal((await call('POST', `${a.adminUrl}/services/s/routes`, { paths: ['/admin'] })).status, 201)
      for (const gw of gws) await expectStatusWithin(`${gw.proxyUrl}/admin/x`, 200, 1000)
      await new Promise((r) => setTimeout(r, 2500)) // two more checks
      for (const gw of gws) assert.equal(found(gw), 3, gw.errorLog())
    } finally {
      await Promise.all(gws.map((gw) => gw.stop()))
    }
  })

  test('db_update_propagation = 2 delays a change found by 2 s, on the notified path too', async () => {
    const { database, gws } = await startNodes(suite.pg, 2, { db_update_frequency: '1', db_update_propagation: '2' })
    const [a, b] = gws as [TestGateway, TestGateway]
    try {
      await seed(gws)
      // A check that found the seed's changes reads the database when its delay ends (then it
      // would also apply a later change sooner): let them all end first (two checks of 1 + 2 s).
      await new Promise((r) => setTimeout(r, 5000))
      let changedAt = performance.now()
      await suite.pg.query(`UPDATE routes SET data = jsonb_set(data, '{paths}', '["/late"]') WHERE data->>'name' = 'r'`, database)
      // Found within 1 s, applied 2 s later: never before 2 s.
      await new Promise((r) => setTimeout(r, 1500))
      assert.equal((await call('GET', `${b.proxyUrl}/old/x`)).status, 200)
      await expectStatusWithin(`${b.proxyUrl}/late/x`, 200, 3000)
      assert.ok(performance.now() - changedAt >= 2000)
      // A write through A reaches B by notification, also 2 s later.
      changedAt = performance.now()
      assert.equal((await call('POST', `${a.adminUrl}/services/s/routes`, { paths: ['/notified'] })).status, 201)
      await expectStatusWithin(`${a.proxyUrl}/notified/x`, 200, 1000)
      await new Promise((r) => setTimeout(r, 1000))
      assert.equal((await call('GET', `${b.proxyUrl}/notified/x`)).status, 404)
      await expectStatusWithin(`${b.proxyUrl}/notified/x`, 200, 3000)
      assert.ok(performance.now() - changedAt >= 2000)
    } finally {
      await Promise.all(gws.map((gw) => gw.stop()))
    }
  })

  test('db_update_frequency = 0 (and below 0, as Kong) checks back to back; a value that is not a number refuses to start', async () => {
    const { database, gws } = await startNodes(suite.pg, 1, { db_update_frequency: '-1' })
    const [a] = gws as [TestGateway]
    try {
      await seed(gws)
      await suite.pg.query(`UPDATE routes SET data = jsonb_set(data, '{paths}', '["/fast"]') WHERE data->>'name' = 'r'`, database)
      await expectStatusWithin(`${a.proxyUrl}/fast/x`, 200, 1000)
    } finally {
      await a.stop()
    }
    await assert.rejects(startNodes(suite.pg, 1, { db_update_frequency: 'often' }), /invalid db_update_frequency: "often": is not a number/)
  })

  test('a change channel lost silently: the write another node made meanwhile is applied once it is back (no check)', async () => {
    const { database, gws } = await startNodes(suite.pg, 2, { db_update_frequency: '3600', pg_timeout: '1000' })
    const [a, b] = gws as [TestGateway, TestGateway]
    const listeners = await suite.pg.backends('turnpike-listen', database)
    try {
      await seed(gws)
      assert.equal(listeners.length, 2)
      // Both listening backends stop answering (their connections stay open): the notification
      // of this write reaches no node.
      signalAll(listeners, 'SIGSTOP')
      assert.equal((await call('POST', `${a.adminUrl}/services/s/routes`, { paths: ['/missed'] })).status, 201)
      await expectStatusWithin(`${a.proxyUrl}/missed/x`, 200, 1000)
      assert.equal((await call('GET', `${b.proxyUrl}/missed/x`)).status, 404)
      // B's ping of the channel times out (every 5 s, pg_timeout 1 s), it listens again and reads everything.
      await b.waitForLog(/lost the database change channel/, 8000)
      await b.waitForLog(/listening to the database's changes again/, 5000)
      await expectStatusWithin(`${b.proxyUrl}/missed/x`, 200, 1000)
      assert.doesNotMatch(b.errorLog(), SILENT)
    } finally {
      signalAll(listeners, 'SIGCONT')
      await Promise.all(gws.map((gw) => gw.stop()))
    }
  })
})
