/**
 * Who accepts proxy connections. Without `reuseport` in proxy_listen, a single worker accepts its
 * own from the socket it shares with the primary, and with several workers the primary accepts and
 * hands them out round-robin. With `reuseport` (Linux), each worker accepts on a socket of its
 * own and the primary is never on a request's path: new connections are still answered, by every
 * worker, while the primary is stopped (SIGSTOP). Either way clients that open a connection per
 * request (no keep-alive) are all served.
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

/** One request on a new connection (`Connection: close`); resolves to the status and body. */
function once(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

interface WorkerRow {
  pid: number
  connections_accepted: number
  connections_active: number
  total_requests: number
}

async function workerRows(gw: TestGateway): Promise<WorkerRow[]> {
  return ((await call('GET', `${gw.adminUrl}/status`)).body as { workers: WorkerRow[] }).workers
}

const reuseport = process.platform === 'linux'
const cases = [
  { workers: 1, flags: 'backlog=16384', mode: 'the worker accepts on the socket it shares with the primary' },
  { workers: 2, flags: 'backlog=16384', mode: 'the primary accepts and hands connections to workers round-robin' },
  {
    workers: 2,
    flags: 'reuseport backlog=16384',
    mode: reuseport
      ? 'reuseport: each worker accepts on its own socket'
      : 'the primary accepts and hands connections to workers round-robin \\(reuseport needs Linux',
  },
] as const

for (const { workers, flags, mode } of cases) {
  describe(`${workers} worker${workers === 1 ? '' : 's'}, proxy_listen ${flags}`, () => {
    let gw: TestGateway
    let up: TestUpstream
    before(async () => {
      up = await startUpstream()
      gw = await startTestGateway({ workers, proxyListenFlags: flags })
      assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 's', url: up.url })).status, 201)
      assert.equal((await call('POST', `${gw.adminUrl}/services/s/routes`, { name: 'r', paths: ['/'] })).status, 201)
      await gw.waitForLog(/started/)
      // The route reaches every worker asynchronously: wait until a burst of requests (spread over
      // the workers) is all served before counting.
      await eventually(
        async () => (await Promise.all(Array.from({ length: 8 }, () => call('GET', `${gw.proxyUrl}/x`)))).every((r) => r.status === 200),
        5000,
        'the route is served by every worker',
      )
    })
    after(async () => {
      await gw.stop()
      await up.close()
    })

    test(`the start line says it: ${mode}`, () => {
      assert.match(gw.errorLog(), new RegExp(`started: ${workers} workers? \\(proxy_listen 127\\.0\\.0\\.1:${gw.proxyPort}:? ?${mode}`))
    })

    test('60 requests, each on its own connection, 30 at a time: all answered', async () => {
      const results: { status: number; body: string }[] = []
      for (let round = 0; round < 2; round++) {
        results.push(...(await Promise.all(Array.from({ length: 30 }, () => once(`${gw.proxyUrl}/x`)))))
      }
      // The echo upstream answers with the request it got.
      assert.deepEqual(
        results.map((r) => `${r.status} ${(JSON.parse(r.body) as { url: string }).url}`),
        Array(60).fill('200 /x'),
      )
    })

    if (flags.includes('reuseport') && reuseport) {
      test('the primary stopped (SIGSTOP): 40 new connections are all answered, by both workers', async () => {
        // Counters as every worker reported them after the earlier tests' connections (workers report
        // about once a second: two reads 1.1 s apart that agree).
        let before: WorkerRow[] = []
        await eventually(
          async () => {
            const first = JSON.stringify((before = await workerRows(gw)).map((r) => [r.pid, r.connections_accepted]).sort())
            await new Promise((r) => setTimeout(r, 1100))
            const again = JSON.stringify((before = await workerRows(gw)).map((r) => [r.pid, r.connections_accepted]).sort())
            return before.length === 2 && first === again
          },
          10_000,
          'both workers reported their counters',
        )
        const primary = gw.child.pid as number
        let results: { status: number; body: string }[]
        process.kill(primary, 'SIGSTOP')
        try {
          results = []
          for (let round = 0; round < 4; round++) {
            results.push(...(await Promise.all(Array.from({ length: 10 }, () => once(`${gw.proxyUrl}/stalled`, 5000)))))
          }
        } finally {
          process.kill(primary, 'SIGCONT')
        }
        assert.deepEqual(
          results.map((r) => r.status),
          Array(40).fill(200),
        )
        // Once the primary runs again, the workers' counters show both took some.
        const accepted = (rows: WorkerRow[], pid: number): number => rows.find((r) => r.pid === pid)?.connections_accepted ?? 0
        let after: WorkerRow[] = []
        await eventually(
          async () => {
            after = await workerRows(gw)
            const total = after.reduce((n, r) => n + r.connections_accepted, 0) - before.reduce((n, r) => n + r.connections_accepted, 0)
            return total === 40
          },
          5000,
          'the workers reported the 40 connections',
        )
        for (const w of before)
          assert.ok(accepted(after, w.pid) > accepted(before, w.pid), `worker ${w.pid} accepted some: ${JSON.stringify({ before, after })}`)
      })
    }

    if (flags.includes('reuseport') && reuseport) {
      test('a second gateway on the same reuseport address fails to start (address already in use), as a plain listen does', async () => {
        await assert.rejects(
          startTestGateway({ workers: 1, settings: { proxy_listen: `127.0.0.1:${gw.proxyPort} reuseport` } }),
          (err: Error) => err.message.includes('address already in use') && err.message.includes(`127.0.0.1:${gw.proxyPort}`),
        )
      })
    }

    test('/status lists each worker with the connections it accepted; server.connections_accepted is their sum', async () => {
      let rows: WorkerRow[] = []
      let total = 0
      await eventually(
        async () => {
          const body = (await call('GET', `${gw.adminUrl}/status`)).body as {
            workers: WorkerRow[]
            server: { connections_accepted: number }
          }
          rows = body.workers
          total = body.server.connections_accepted
          return rows.length === workers && total >= 60
        },
        5000,
        'every worker reported',
      )
      assert.equal(
        rows.reduce((n, r) => n + r.connections_accepted, 0),
        total,
      )
      for (const r of rows)
        assert.ok(Number.isInteger(r.pid) && Number.isInteger(r.connections_active) && Number.isInteger(r.total_requests))
    })
  })
}
