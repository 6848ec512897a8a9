/**
 * The IPC dispatcher: messages of the typed unions reach the handler of their type (with the
 * extra arguments, such as the sending worker); garbage — not an object, no type, an unknown type,
 * a type named like an Object.prototype property — is ignored with one log line each; a handler
 * that throws is logged and the next message is still dispatched.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { CounterToWorker } from '../../../src/counters/messages.js'
import { createDispatcher } from '../../../src/runtime/dispatch.js'
import type { ToPrimary, ToWorker } from '../../../src/runtime/messages.js'

/** A dispatcher for `ToWorker` that records what each handler saw. */
function workerSide(): { dispatch: (msg: unknown) => void; seen: string[]; log: string[] } {
  const seen: string[] = []
  const log: string[] = []
  const counter = (m: CounterToWorker): void => void seen.push(`${m.type}:${m.type === 'counter:grant' ? m.id : m.rid}`)
  const dispatch = createDispatcher<ToWorker>(
    {
      config: (m) => void seen.push(`config:${m.payload.version}`),
      shutdown: (m) => void seen.push(`shutdown:${m.timeoutMs}`),
      health: (m) => void seen.push(`health:${Object.keys(m.state).join(',')}`),
      'counter:grant': counter,
      'counter:recall': counter,
      'counter:cluster-result': (m) => void seen.push(`cluster:${m.id}`),
      'plugin:call': (m) => void seen.push(`call:${m.plugin}:${m.op}`),
    },
    (line) => log.push(line),
  )
  return { dispatch, seen, log }
}

describe('IPC dispatcher', () => {
  test('routes each message of the union to the handler of its type', () => {
    const { dispatch, seen, log } = workerSide()
    const messages: ToWorker[] = [
      { type: 'config', payload: { version: 7, services: [], routes: [] } },
      { type: 'health', state: { u1: ['10.0.0.1:80'] } },
      { type: 'counter:grant', id: 3, ok: true, granted: [1], remaining: [9] },
      { type: 'counter:recall', rid: 4, keys: ['k'] },
      { type: 'plugin:call', id: 1, plugin: 'prometheus', op: 'metrics', args: null },
      { type: 'shutdown', timeoutMs: 500 },
    ]
    for (const m of messages) dispatch(m)
    assert.deepEqual(seen, ['config:7', 'health:u1', 'counter:grant:3', 'counter:recall:4', 'call:prometheus:metrics', 'shutdown:500'])
    assert.deepEqual(log, [])
  })

  test('passes the extra arguments (the sending worker, in the primary)', () => {
    const got: [string, number][] = []
    const record = (m: ToPrimary, worker: { id: number }): void => void got.push([m.type, worker.id])
    const dispatch = createDispatcher<ToPrimary, [{ id: number }]>(
      {
        booted: record,
        listening: record,
        'listen-failed': record,
        applied: record,
        'config-failed': record,
        stats: record,
        passive: record,
        'counter:acquire': record,
        'counter:returned': record,
        'counter:return': record,
        'counter:cluster': record,
        'plugin:reply': record,
      },
      () => assert.fail('nothing to log'),
    )
    dispatch({ type: 'booted' }, { id: 1 })
    dispatch({ type: 'counter:acquire', id: 1, items: [] }, { id: 2 })
    dispatch({ type: 'plugin:reply', id: 9, ok: true, result: 1 }, { id: 3 })
    assert.deepEqual(got, [
      ['booted', 1],
      ['counter:acquire', 2],
      ['plugin:reply', 3],
    ])
  })

  test('ignores garbage with one log line each, and keeps dispatching', () => {
    const { dispatch, seen, log } = workerSide()
    const garbage: unknown[] = [
      null,
      undefined,
      42,
      'config',
      [],
      ['config'],
      {},
      { type: 42 },
      { type: 'nope' },
      { type: '__proto__' },
      { type: 'constructor' },
      { type: 'toString' },
      { type: 'x'.repeat(10_000) },
    ]
    for (const g of garbage) dispatch(g)
    assert.equal(log.length, garbage.length)
    assert.deepEqual(seen, [])
    assert.match(log[0] ?? '', /ignored an IPC message: not an object \(null\)/)
    assert.match(log[4] ?? '', /not an object \(array\)/)
    assert.match(log[6] ?? '', /no type/)
    assert.match(log[8] ?? '', /unknown type "nope"/)
    assert.match(log[9] ?? '', /unknown type "__proto__"/)
    assert.ok((log[12] ?? '').length < 200, 'a long type is cut in the log')
    dispatch({ type: 'shutdown', timeoutMs: 1 })
    assert.deepEqual(seen, ['shutdown:1'])
  })

  test('a handler that throws is logged; the next message is still handled', () => {
    const log: string[] = []
    let ok = 0
    const dispatch = createDispatcher<{ type: 'bad' } | { type: 'good' }>(
      {
        bad: () => {
          throw new Error('boom')
        },
        good: () => void ok++,
      },
      (line) => log.push(line),
    )
    dispatch({ type: 'bad' })
    dispatch({ type: 'good' })
    assert.deepEqual(log, ['IPC message "bad" failed: boom'])
    assert.equal(ok, 1)
  })
})
