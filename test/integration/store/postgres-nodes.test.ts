/**
 * Several gateway nodes on one real PostgreSQL database (issue 17): three nodes, where every one of
 * ≥ 100 writes through node A is proxied by B and C within a second (p50/p99 reported); the seed's
 * Ansible playbook (201 then 409, changed=0) against node A while traffic runs through all three
 * without a failure; and `kill -9` of node A in the middle of writes, after which every write A
 * acknowledged with 201 is found through node B's Admin API.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AnsibleProject, ansibleMissing } from '../../helpers/ansible.js'
import { call, eventually, type TestGateway } from '../../helpers/gateway.js'
import { measurePropagation, postgresSuite, quantile, startNodes } from '../../helpers/pg-nodes.js'
import { hasPostgres } from '../../helpers/postgres.js'

const skip = hasPostgres() ? false : 'PostgreSQL is not installed (.ci/run installs it)'

describe('three nodes on one PostgreSQL database', { skip }, () => {
  const suite = postgresSuite()

  /** A bootstrapped database and `count` nodes on it. */
  const nodes = (count: number): ReturnType<typeof startNodes> => startNodes(suite.pg, count)

  test('120 writes through node A are each proxied by B and C within 1 s (p50/p99 reported)', async (t) => {
    const { gws } = await nodes(3)
    const [a, b, c] = gws as [TestGateway, TestGateway, TestGateway]
    try {
      const WRITES = 120
      const { sorted, late } = await measurePropagation(a, [b, c], suite.upstream.url, WRITES)
      const p50 = quantile(sorted, 0.5)
      const p99 = quantile(sorted, 0.99)
      t.diagnostic(
        `write through node A -> proxied by both B and C, over ${WRITES} writes: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms`,
      )
      assert.deepEqual(late, [], 'writes not proxied by B and C within 3 s')
      assert.equal(sorted.length, WRITES)
      assert.ok((sorted.at(-1) ?? Infinity) <= 1000, `every write live on all nodes within 1 s (max ${String(sorted.at(-1))} ms)`)
      // node A serves them too
      assert.equal((await call('GET', `${a.proxyUrl}/w${WRITES - 1}/x`)).status, 200)
    } finally {
      await Promise.all(gws.map((gw) => gw.stop()))
    }
  })

  test('kill -9 of node A during writes: every write A acknowledged is in the database, read through node B', async (t) => {
    const { database, gws } = await nodes(2)
    const [a, b] = gws as [TestGateway, TestGateway]
    try {
      const acknowledged: Array<{ id: string; name: string }> = []
      let refused = 0
      let stop = false
      // Two writers through node A, bounded in count; A is killed while they run.
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; i < 500 && !stop; i++) {
          const name = `k${w}-${i}`
          try {
            const res = await call('POST', `${a.adminUrl}/consumers`, { username: name })
            if (res.status === 201) acknowledged.push({ id: (res.body as { id: string }).id, name })
            else refused++
          } catch {
            // A is gone: its socket closed or refused. Nothing was acknowledged.
            stop = true
          }
        }
      }
      const writers = [writer(0), writer(1)]
      await eventually(async () => acknowledged.length >= 40, 20_000, '40 acknowledged writes')
      await a.kill()
      const deadline = Date.now() + 10_000
      await Promise.race([Promise.all(writers), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))])
      stop = true
      await Promise.all(writers)
      t.diagnostic(`${acknowledged.length} writes acknowledged by node A before kill -9 (${refused} answered otherwise)`)
      assert.ok(acknowledged.length >= 40)
      assert.equal(refused, 0)
      const missing: string[] = []
      for (const { id, name } of acknowledged) {
        const res = await call('GET', `${b.adminUrl}/consumers/${id}`)
        if (res.status !== 200 || (res.body as { username: string }).username !== name) missing.push(`${name} (${res.status})`)
      }
      assert.deepEqual(missing, [], 'acknowledged writes missing from the database')
      const rows = await suite.pg.query('SELECT count(*)::int AS n FROM consumers', database)
      assert.ok((rows[0]?.['n'] as number) >= acknowledged.length)
    } finally {
      await b.stop()
      await a.stop().catch(() => null)
    }
  })

  const noAnsible = ansibleMissing()
  test(
    "the seed's Ansible playbook against node A (201 then 409) while traffic runs through all three nodes",
    { skip: noAnsible ?? false },
    async (t) => {
      const { gws } = await nodes(3)
      const [a, b, c] = gws as [TestGateway, TestGateway, TestGateway]
      const project = new AnsibleProject(a)
      try {
        // The traffic's own route, live on every node before the playbook runs.
        assert.equal((await call('POST', `${a.adminUrl}/services`, { name: 'steady', url: suite.upstream.url })).status, 201)
        assert.equal((await call('POST', `${a.adminUrl}/services/steady/routes`, { paths: ['/steady'] })).status, 201)
        for (const gw of gws)
          await eventually(async () => (await call('GET', `${gw.proxyUrl}/steady/x`)).status === 200, 5000, 'steady route')

        const inventory = project.prepareDeployKong(suite.upstream.port)

        // Background traffic through the three nodes, bounded in count and in time.
        let running = true
        let ok = 0
        const failures: string[] = []
        const trafficDeadline = Date.now() + 120_000
        const load = gws.map(async (gw, n) => {
          for (let i = 0; i < 20_000 && running && Date.now() < trafficDeadline; i++) {
            try {
              const res = await call('GET', `${gw.proxyUrl}/steady/${i}`)
              if (res.status === 200) ok++
              else failures.push(`node ${n}: ${res.status}`)
            } catch (err) {
              failures.push(`node ${n}: ${(err as Error).message}`)
            }
            await new Promise((r) => setTimeout(r, 2))
          }
        })

        const posts = 7
        let first, second
        try {
          first = await project.run('deploy-kong.yml', ['-i', inventory], posts)
          assert.equal(first.code, 0, first.output)
          assert.deepEqual(first.recap, { ok: 8, changed: 5, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 }, first.output)
          assert.deepEqual(
            first.requests.map((r) => r.status),
            Array(posts).fill(201),
          )
          // what the playbook created on A is proxied by B and C, plugins applied
          for (const gw of [a, b, c]) {
            await eventually(
              async () => (await call('GET', `${gw.proxyUrl}/orders/1`, undefined, { apikey: 'ansible-secret-key' })).status === 200,
              5000,
              'the deployed route on every node',
            )
            const res = await call('GET', `${gw.proxyUrl}/orders/42`, undefined, { apikey: 'ansible-secret-key' })
            assert.equal(res.body.url, '/api/42')
            assert.equal(res.body.headers['x-consumer-username'], 'ansible-user')
            assert.equal((await call('GET', `${gw.proxyUrl}/orders/42`)).status, 401)
          }
          second = await project.run('deploy-kong.yml', ['-i', inventory], posts)
          assert.equal(second.code, 0, second.output)
          assert.deepEqual(
            second.recap,
            { ok: 8, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
            second.output,
          )
          assert.deepEqual(
            second.requests.map((r) => r.status),
            Array(posts).fill(409),
          )
        } finally {
          running = false
          await Promise.all(load)
        }
        t.diagnostic(`${ok} proxied requests through the three nodes during both playbook runs, ${failures.length} failed`)
        assert.deepEqual(failures, [])
        assert.ok(ok >= 300, `traffic ran (${ok} requests)`)
      } finally {
        project.cleanup()
        await Promise.all(gws.map((gw) => gw.stop()))
      }
    },
  )
})
