/**
 * The primary's side of rate-limiting's `cluster` policy, over a real SQLite database
 * (`:memory:`): exact hits, nothing counted when refused, full windows answered from memory,
 * failing fast while the database is known to be down, malformed hits refused.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ClusterCounterService } from '../../../src/runtime/cluster-counters.js'
import { MAX_IDENTIFIER, storedIdentifier } from '../../../src/plugins/rate-limiting/policies/cluster.js'
import type { ClusterHit, ClusterToWorker } from '../../../src/counters/messages.js'
import { ErrorLog } from '../../../src/observability/error-log.js'
import { createSqliteStore, rateLimitMetrics, type RateLimitMetrics } from '../../../src/store/index.js'

const T = Date.UTC(2024, 1, 29, 13, 45, 30, 250)
const MINUTE = Math.floor(Date.UTC(2024, 1, 29, 13, 45) / 1000)
const HOUR = Math.floor(Date.UTC(2024, 1, 29, 13) / 1000)

function hit(identifier: string, minute: number, hour?: number): ClusterHit {
  return {
    identifier,
    serviceId: '00000000-0000-0000-0000-000000000000',
    routeId: '11111111-1111-1111-1111-111111111111',
    periods: [
      { period: 'minute', date: MINUTE, limit: minute, ttl: 60 },
      ...(hour === undefined ? [] : [{ period: 'hour', date: HOUR, limit: hour, ttl: 3600 }]),
    ],
  }
}

async function sqliteMetrics(): Promise<RateLimitMetrics> {
  const store = createSqliteStore({ path: ':memory:', now: () => T })
  await store.init([])
  const m = rateLimitMetrics(store)
  assert.ok(m !== null)
  return m
}

function service(
  metrics: RateLimitMetrics | null,
  down: () => Error | null = () => null,
  now: () => number = () => T,
): { svc: ClusterCounterService; lines: string[] } {
  const lines: string[] = []
  const log = new ErrorLog({ write: (l: string) => void lines.push(l), flush: () => {}, drain: () => {} }, 'debug')
  const svc = new ClusterCounterService({ metrics, log, down, reply: () => {}, now })
  return { svc, lines }
}

describe('cluster counter service', () => {
  test('takes exactly the limit, refuses without counting, and says what remains', async () => {
    const { svc } = service(await sqliteMetrics())
    const got = []
    for (let i = 0; i < 4; i++) got.push(await svc.hit(hit('a', 3, 100)))
    assert.deepEqual(got, [
      { ok: true, remaining: [2, 99] },
      { ok: true, remaining: [1, 98] },
      { ok: true, remaining: [0, 97] },
      { ok: false, remaining: [0, 97] },
    ])
    // another identifier has its own rows
    assert.deepEqual(await svc.hit(hit('b', 3, 100)), { ok: true, remaining: [2, 99] })
    svc.close()
  })

  test('a full single-period window is answered from memory until it ends', async () => {
    const { svc } = service(await sqliteMetrics())
    await svc.hit(hit('c', 1))
    assert.equal((await svc.hit(hit('c', 1))).ok, false)
    assert.equal(svc.stats.queried, 2)
    for (let i = 0; i < 5; i++) assert.deepEqual(await svc.hit(hit('c', 1)), { ok: false, remaining: [0] })
    assert.equal(svc.stats.queried, 2)
    assert.equal(svc.stats.fromMemory, 5)
    // The limit raised mid-window (a plugin PATCH): asked again, and the request is taken.
    assert.deepEqual(await svc.hit(hit('c', 3)), { ok: true, remaining: [1] })
    assert.equal(svc.stats.queried, 3)
    svc.close()
  })

  test('fails at once while the database is known to be down, and without a database', async () => {
    let down: Error | null = new Error('Connection terminated unexpectedly')
    const { svc } = service(await sqliteMetrics(), () => down)
    await assert.rejects(svc.hit(hit('d', 5)), /the database cannot be reached: Connection terminated unexpectedly/)
    down = null
    assert.equal((await svc.hit(hit('d', 5))).ok, true)
    svc.close()
    const none = service(null).svc
    await assert.rejects(none.hit(hit('d', 5)), /no database on this node \(database = off\)/)
  })

  test('a failing database: the error is logged once, hits fail fast for a second, then are tried again', async () => {
    let calls = 0
    const failing: RateLimitMetrics = {
      hit: () => {
        calls++
        return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'))
      },
      purgeExpired: () => Promise.resolve(0),
    }
    let now = T
    const { svc, lines } = service(
      failing,
      () => null,
      () => now,
    )
    await assert.rejects(svc.hit(hit('e', 5)), /ECONNREFUSED/)
    await assert.rejects(svc.hit(hit('e', 5)), /the database cannot be reached: connect ECONNREFUSED/)
    assert.equal(calls, 1)
    now += 1001
    await assert.rejects(svc.hit(hit('e', 5)), /ECONNREFUSED/)
    assert.equal(calls, 2)
    assert.equal(lines.filter((l) => l.includes('could not count in the database')).length, 1)
    svc.close()
  })

  test('malformed hits from a worker are refused over IPC with an error', async () => {
    const replies: ClusterToWorker[] = []
    const log = new ErrorLog({ write: () => {}, flush: () => {}, drain: () => {} }, 'debug')
    const svc = new ClusterCounterService({ metrics: await sqliteMetrics(), log, reply: (_w, m) => void replies.push(m), now: () => T })
    const bad = [
      { ...hit('f', 5), periods: [] },
      { ...hit('f', 5), periods: [{ period: '__proto__', date: 1, limit: 1, ttl: 1 }] },
      { ...hit('f', 5), periods: [{ period: 'minute', date: Number.NaN, limit: 1, ttl: 1 }] },
      { ...hit('f', 5), identifier: 7 },
      { ...hit('f', 5), routeId: "x' OR 1=1" },
    ]
    bad.forEach((h, i) => svc.handle(1, { type: 'counter:cluster', id: i, hit: h as unknown as ClusterHit }))
    svc.handle(1, { type: 'counter:cluster', id: 9, hit: hit('f', 5) })
    for (let i = 0; i < 50 && replies.length < 6; i++) await new Promise((r) => setTimeout(r, 5))
    assert.deepEqual(
      replies.map((r) => [r.id, r.error]),
      [
        [0, 'malformed cluster counter request'],
        [1, 'malformed cluster counter request'],
        [2, 'malformed cluster counter request'],
        [3, 'malformed cluster counter request'],
        [4, 'malformed cluster counter request'],
        [9, null],
      ],
    )
    svc.close()
  })

  test('expired rows are purged', async () => {
    let now = T
    const store = createSqliteStore({ path: ':memory:', now: () => now })
    await store.init([])
    const m = rateLimitMetrics(store) as RateLimitMetrics
    await m.hit(hit('g', 5, 10))
    now = T + 61_000
    assert.equal(await m.purgeExpired(100), 1, 'the minute row is gone, the hour row stays')
    now = T + 3_601_000
    assert.equal(await m.purgeExpired(100), 1)
    await store.close()
  })

  test('identifiers longer than 256 characters are stored as a prefix and their SHA-256', () => {
    assert.equal(storedIdentifier('10.0.0.1'), '10.0.0.1')
    const long = 'x'.repeat(10_000)
    const stored = storedIdentifier(long)
    assert.match(stored, /^x{64}…sha256:[0-9a-f]{64}$/)
    assert.ok(stored.length <= MAX_IDENTIFIER)
    assert.notEqual(storedIdentifier(`${long}y`), stored)
  })
})
