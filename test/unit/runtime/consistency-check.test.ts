/**
 * The consistency check's logic with the database and the publisher replaced by functions: what
 * it reloads, when it moves its mark, and which changes it reports as unannounced.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConsistencyCheck } from '../../../src/runtime/consistency-check.js'

/** A check over counters the test sets, recording reloads and warnings. */
function harness(initial: Record<string, number>): {
  check: ConsistencyCheck
  set: (counters: Record<string, number>) => void
  reloads: string[][]
  warnings: string[]
  fail: { read: boolean; reload: boolean }
  duringReload: { fn: (() => void) | null }
} {
  let counters = initial
  const reloads: string[][] = []
  const warnings: string[] = []
  const fail = { read: false, reload: false }
  const duringReload: { fn: (() => void) | null } = { fn: null }
  const check = new ConsistencyCheck({
    read: async () => {
      if (fail.read) throw new Error('Query read timeout')
      return new Map(Object.entries(counters).map(([k, v]) => [k, String(v)]))
    },
    reload: async (entities) => {
      reloads.push([...entities])
      duringReload.fn?.()
      return !fail.reload
    },
    frequency: 5,
    propagation: 0,
    log: { warn: (line: string) => void warnings.push(line) },
  })
  return {
    check,
    set: (c) => {
      counters = c
    },
    reloads,
    warnings,
    fail,
    duringReload,
  }
}

test('an unannounced change is reloaded (only its entities) and reported once; nothing changed, nothing done', async () => {
  const h = harness({ '*': 2, routes: 1, services: 1 })
  await h.check.baseline()
  await h.check.check()
  assert.deepEqual(h.reloads, [])
  h.set({ '*': 3, routes: 2, services: 1 })
  await h.check.check()
  assert.deepEqual(h.reloads, [['routes']])
  assert.equal(h.warnings.length, 1)
  assert.match(h.warnings[0] ?? '', /^a change of routes reached the database without a notification/)
  await h.check.check()
  assert.deepEqual(h.reloads, [['routes']])
})

test('announced changes are reloaded without a report, also when the notification arrives during the reload', async () => {
  const h = harness({ '*': 0 })
  await h.check.baseline()
  h.check.announced('consumers')
  h.set({ '*': 1, consumers: 1 })
  await h.check.check()
  assert.deepEqual(h.reloads, [['consumers']])
  // a commit the read includes, its notification a moment late
  h.set({ '*': 2, consumers: 1, routes: 1 })
  h.duringReload.fn = () => h.check.announced('routes')
  await h.check.check()
  h.duringReload.fn = null
  // ... or a commit after the read, announced during the reload: the next check finds it announced
  h.set({ '*': 3, consumers: 1, routes: 2 })
  await h.check.check()
  assert.deepEqual(h.reloads, [['consumers'], ['routes'], ['routes']])
  assert.deepEqual(h.warnings, [])
})

test('a failed read or reload keeps the mark: the next check reloads the same changes', async () => {
  const h = harness({ '*': 0 })
  await h.check.baseline()
  h.set({ '*': 1, plugins: 1 })
  h.check.announced('plugins')
  h.fail.read = true
  await h.check.check()
  h.fail.read = false
  h.fail.reload = true
  await h.check.check()
  h.fail.reload = false
  await h.check.check()
  assert.deepEqual(h.reloads, [['plugins'], ['plugins']])
  assert.deepEqual(h.warnings, [], 'the announcement survived the failed checks')
})

test('without a baseline the first check reloads every entity, silently', async () => {
  const h = harness({ '*': 5, routes: 3, services: 2 })
  h.fail.read = true
  await h.check.baseline()
  h.fail.read = false
  await h.check.check()
  assert.deepEqual(h.reloads, [['routes', 'services']])
  assert.deepEqual(h.warnings, [])
  h.check.close()
})
