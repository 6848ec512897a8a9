/**
 * The node-wide counters (src/counters): windows as Kong computes them, and the lease/recall
 * protocol proved exact with several simulated workers whose messages arrive out of step.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CounterAuthority } from '../../../../src/counters/authority.js'
import { CounterClient, inProcessCounters, type TakeResult } from '../../../../src/counters/client.js'
import type { CounterItem, CounterToPrimary, CounterToWorker } from '../../../../src/counters/messages.js'
import { allowance, EXPIRATION, previousWeight, previousWindow, resetSeconds, windowOf } from '../../../../src/counters/window.js'

const T = Date.UTC(2024, 1, 29, 13, 45, 30, 250) // leap day, 13:45:30.250 UTC

function item(key: string, limit: number, now = Date.now(), prevKey: string | null = null): CounterItem {
  const w = windowOf('minute', now)
  return { key, prevKey, limit, start: w.start, end: w.end }
}

/** `n` workers talking to one authority, each message delivered after a random short delay. */
function cluster(n: number, now?: () => number): { clients: CounterClient[]; authority: CounterAuthority } {
  const clients: CounterClient[] = []
  const later = (fn: () => void): void => void (Math.random() < 0.5 ? setImmediate(fn) : setTimeout(fn, 1))
  // Messages between one worker and the primary keep their order (as over a cluster IPC channel).
  const chains = new Map<string, Promise<void>>()
  const ordered = (chan: string, fn: () => void): void => {
    const prev = chains.get(chan) ?? Promise.resolve()
    chains.set(
      chan,
      prev.then(
        () =>
          new Promise<void>((r) =>
            later(() => {
              fn()
              r()
            }),
          ),
      ),
    )
  }
  const authority = new CounterAuthority(
    (w, msg: CounterToWorker) => ordered(`to${w}`, () => clients[w]?.onMessage(msg)),
    () => n,
    now,
  )
  for (let w = 0; w < n; w++)
    clients.push(new CounterClient((msg) => ordered(`from${w}`, () => authority.handle(w, msg as CounterToPrimary)), now))
  return { clients, authority }
}

describe('rate-limiting windows (Kong timestamp.get_timestamps)', () => {
  test('calendar-aligned UTC windows per period', () => {
    assert.deepEqual(windowOf('second', T), { start: Date.UTC(2024, 1, 29, 13, 45, 30), end: Date.UTC(2024, 1, 29, 13, 45, 31) })
    assert.deepEqual(windowOf('minute', T), { start: Date.UTC(2024, 1, 29, 13, 45), end: Date.UTC(2024, 1, 29, 13, 46) })
    assert.deepEqual(windowOf('hour', T), { start: Date.UTC(2024, 1, 29, 13), end: Date.UTC(2024, 1, 29, 14) })
    assert.deepEqual(windowOf('day', T), { start: Date.UTC(2024, 1, 29), end: Date.UTC(2024, 2, 1) })
    assert.deepEqual(windowOf('month', T), { start: Date.UTC(2024, 1, 1), end: Date.UTC(2024, 2, 1) })
    assert.deepEqual(windowOf('year', T), { start: Date.UTC(2024, 0, 1), end: Date.UTC(2025, 0, 1) })
    assert.deepEqual(previousWindow('month', windowOf('month', T)), { start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 1, 1) })
  })

  test("RateLimit-Reset is Kong's: nominal window length minus whole seconds elapsed, at least 1", () => {
    assert.equal(resetSeconds('second', T), 1)
    assert.equal(resetSeconds('minute', T), 30)
    assert.equal(resetSeconds('hour', T), 3600 - (45 * 60 + 30))
    // Kong's month is 30 days whatever the calendar says.
    assert.equal(resetSeconds('month', T), EXPIRATION.month - Math.floor((T - Date.UTC(2024, 1, 1)) / 1000))
  })

  test('sliding allowance weighs the previous window by the share still inside the span', () => {
    const w = windowOf('minute', T) // 30.25 s into the minute
    const weight = previousWeight(w, T)
    assert.ok(Math.abs(weight - (60 - 30.25) / 60) < 1e-9)
    // 10 per minute, 8 used last minute, 2 this minute: floor(10 - 8 × 0.4958) - 2 = 4
    assert.equal(allowance(10, 2, 8, weight), 4)
    assert.equal(allowance(10, 2, null, weight), 8)
  })
})

describe('node-wide counters: leases and recalls', () => {
  test('in one process: exactly `limit` takes succeed, the rest are refused and count nothing', async () => {
    const { client, authority } = inProcessCounters()
    const it = item('k1', 7)
    const results: TakeResult[] = []
    for (let i = 0; i < 10; i++) results.push(await client.take([it]))
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, true, true, true, true, true, true, false, false, false],
    )
    assert.deepEqual(
      results.slice(0, 7).map((r) => r.remaining[0]),
      [6, 5, 4, 3, 2, 1, 0],
    )
    assert.equal(authority.used('k1'), 7)
  })

  test('most takes need no round trip: a lease serves them synchronously', async () => {
    const { client } = inProcessCounters()
    const it = item('k2', 1000)
    const first = client.take([it])
    assert.ok(first instanceof Promise, 'the first take asks the authority')
    await first
    const second = client.take([it])
    assert.ok(!(second instanceof Promise), 'the next one is served from the lease')
    assert.equal((second as TakeResult).remaining[0], 998)
  })

  for (const workers of [2, 4]) {
    test(`${workers} workers hammering concurrently: exactly the limit is allowed`, async () => {
      const { clients, authority } = cluster(workers)
      const it = item('hot', 101)
      const takes: Promise<TakeResult>[] = []
      for (let i = 0; i < 400; i++) {
        // Uneven spread: worker 0 gets most of the traffic, so others hold idle leases.
        const w = i % 5 === 0 ? (i / 5) % workers : 0
        takes.push(Promise.resolve((clients[w] as CounterClient).take([it])))
      }
      const results = await Promise.all(takes)
      assert.equal(results.filter((r) => r.ok).length, 101)
      assert.equal(authority.used('hot'), 101)
    })
  }

  test('a lease idle in another worker is recalled before anyone is refused', async () => {
    const { clients, authority } = cluster(2)
    const it = item('idle', 40)
    const [a, b] = clients as [CounterClient, CounterClient]
    assert.equal((await b.take([it])).ok, true) // b now holds a lease it will not use
    assert.ok(b.leased('idle') > 0)
    let allowed = 1
    for (let i = 0; i < 60; i++) if ((await a.take([it])).ok) allowed++
    assert.equal(allowed, 40, 'all 40 hits used, none stranded in the idle lease')
    assert.equal(b.leased('idle'), 0)
    assert.equal(authority.used('idle'), 40)
  })

  test('several windows at once: one exhausted window refuses without counting the others', async () => {
    const { client, authority } = inProcessCounters()
    const sec = item('s', 2)
    const min = item('m', 100)
    assert.equal((await client.take([sec, min])).ok, true)
    assert.equal((await client.take([sec, min])).ok, true)
    const refused = await client.take([sec, min])
    assert.equal(refused.ok, false)
    assert.equal(refused.remaining[0], 0)
    assert.equal(refused.remaining[1], 98, 'the minute window still allows 98')
    // Leases aside, the minute counter holds only the two requests that went through.
    const m = await client.take([min])
    assert.equal(m.remaining[0], 97)
    assert.ok(authority.used('m') >= 3)
  })

  test('sliding: the previous window weighs in (its unused leases are given back first)', async () => {
    let now = Date.UTC(2024, 0, 1, 0, 0, 30) // half-way through a minute
    const { clients, authority } = cluster(2, () => now)
    const w1 = windowOf('minute', now)
    const prevItem = { key: 'p:w1', prevKey: 'p:w0', limit: 10, start: w1.start, end: w1.end }
    for (let i = 0; i < 8; i++) assert.equal((await (clients[i % 2] as CounterClient).take([prevItem])).ok, true)
    // Next minute, a quarter in: previous weighs 0.75 → floor(10 - 8 × 0.75) = 4 allowed.
    now = w1.end + 15_000
    const w2 = windowOf('minute', now)
    const cur = { key: 'p:w2', prevKey: 'p:w1', limit: 10, start: w2.start, end: w2.end }
    let ok = 0
    for (let i = 0; i < 10; i++) if ((await (clients[i % 2] as CounterClient).take([cur])).ok) ok++
    assert.equal(ok, 4)
    assert.equal(authority.used('p:w1'), 8, 'the previous window counts only the 8 real hits')
    // Three quarters in: previous weighs 0.25 → floor(10 - 2) - 4 = 4 more.
    now = w2.start + 45_000
    ok = 0
    for (let i = 0; i < 10; i++) if ((await (clients[i % 2] as CounterClient).take([cur])).ok) ok++
    assert.equal(ok, 4)
  })

  test('a dead worker: its leased hits count as used, recalls stop waiting for it', async () => {
    const { clients, authority } = cluster(2)
    const it = item('dead', 20)
    await (clients[1] as CounterClient).take([it])
    const leased = (clients[1] as CounterClient).leased('dead')
    authority.workerGone(1)
    let ok = 0
    for (let i = 0; i < 30; i++) if ((await (clients[0] as CounterClient).take([it])).ok) ok++
    assert.equal(ok, 20 - 1 - leased)
  })
})
