/**
 * Which store failures mean the database is unreachable (pg-reach.ts), and the reachability's
 * transitions: reported once each way.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isConnectionFailure, Reachability } from '../../../src/store/postgres/pg-reach.js'
import { StoreError } from '../../../src/store/index.js'
import { settingMs } from '../../../src/runtime/consistency-check.js'

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code })

test('connection failures: socket errors, connection SQLSTATEs, the driver timeouts; not refused statements', () => {
  for (const err of [
    withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    withCode('read ECONNRESET', 'ECONNRESET'),
    withCode('terminating connection due to administrator command', '57P01'),
    withCode('the database system is starting up', '57P03'),
    withCode('connection failure', '08006'),
    new Error('Query read timeout'),
    new Error('Connection terminated unexpectedly'),
    new Error('Connection terminated due to connection timeout'),
    new Error('timeout exceeded when trying to connect'),
  ]) {
    assert.equal(isConnectionFailure(err), true, err.message)
    // wrapped by the store, the cause still says so
    const wrapped = new StoreError('DATABASE_ERROR', err.message)
    wrapped.cause = err
    assert.equal(isConnectionFailure(wrapped), true, `wrapped ${err.message}`)
  }
  for (const err of [
    withCode('duplicate key value violates unique constraint', '23505'),
    withCode('syntax error at or near "x"', '42601'),
    new StoreError('DATABASE_ERROR', "unknown entity 'x'"),
    new TypeError('x is not a function'),
    'Query read timeout',
    null,
  ]) {
    assert.equal(isConnectionFailure(err), false, String(err))
  }
})

test('reachability: one report per transition', () => {
  const r = new Reachability()
  const seen: (string | null)[] = []
  r.onChange((down) => seen.push(down === null ? null : down.message))
  r.succeeded()
  r.failed(withCode('duplicate key', '23505'))
  assert.equal(r.down, null)
  r.failed(new Error('Query read timeout'))
  r.failed(withCode('connect ECONNREFUSED', 'ECONNREFUSED'))
  assert.equal((r.down as Error | null)?.message, 'Query read timeout')
  r.succeeded()
  r.succeeded()
  assert.deepEqual(seen, ['Query read timeout', null])
})

test("db_update_* seconds as timer milliseconds: below 0 is 0 (Kong's max(v, 0)), a floor, and the longest timer", () => {
  assert.equal(settingMs(5), 5000)
  assert.equal(settingMs(0.25), 250)
  assert.equal(settingMs(-3), 0)
  assert.equal(settingMs(0, 100), 100)
  assert.equal(settingMs(1e12), 2 ** 31 - 1)
})
