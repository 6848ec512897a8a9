/**
 * lua-resty-healthcheck's counting rules as Turnpike applies them.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveHealthChecks } from '../../../src/balancer/config.js'
import { applyOutcome, classifyStatus, freshHealth } from '../../../src/balancer/health-model.js'
import { upstreamRow } from '../../helpers/entity-rows.js'

const hc = resolveHealthChecks(
  upstreamRow({
    name: 'model.test',
    healthchecks: {
      active: { healthy: { interval: 1, successes: 2 }, unhealthy: { interval: 1, tcp_failures: 3, http_failures: 2 } },
      passive: { unhealthy: { tcp_failures: 2, timeouts: 0 } },
    },
  }).healthchecks,
)

describe('health model', () => {
  test('defaults are Kong’s', () => {
    const d = resolveHealthChecks(upstreamRow({ name: 'defaults.test' }).healthchecks)
    assert.deepEqual(d.active.healthy.http_statuses, [200, 302])
    assert.deepEqual(d.passive.unhealthy.http_statuses, [429, 500, 503])
    assert.equal(d.active.timeout, 1)
    assert.equal(d.threshold, 0)
  })
  test('failures flip at the limit; successes while healthy are not counted; disabled counters ignored', () => {
    const s = freshHealth()
    assert.equal(applyOutcome(s, hc, 'passive', { kind: 'tcp_failure' }).changed, false)
    assert.equal(applyOutcome(s, hc, 'passive', { kind: 'success' }).counted, false)
    assert.equal(s.tcp_failures, 1, 'a success while healthy does not reset failures (resty.healthcheck)')
    assert.equal(applyOutcome(s, hc, 'passive', { kind: 'timeout' }).counted, false, 'timeouts limit 0 = off')
    const r = applyOutcome(s, hc, 'passive', { kind: 'tcp_failure' })
    assert.deepEqual([r.changed, r.counter, r.count, r.limit, s.healthy], [true, 'tcp_failures', 2, 2, false])
    assert.equal(applyOutcome(s, hc, 'active', { kind: 'tcp_failure' }).counted, false, 'failures not counted while unhealthy')
    assert.equal(applyOutcome(s, hc, 'active', { kind: 'success' }).changed, false)
    const back = applyOutcome(s, hc, 'active', { kind: 'success' })
    assert.deepEqual([back.changed, s.healthy], [true, true])
  })
  test('HTTP statuses: in the healthy list, the unhealthy list, or ignored', () => {
    assert.deepEqual(classifyStatus(hc, 'active', 200), { kind: 'success', status: 200 })
    assert.deepEqual(classifyStatus(hc, 'active', 503), { kind: 'http', status: 503 })
    assert.equal(classifyStatus(hc, 'active', 418), null)
    const s = freshHealth()
    applyOutcome(s, hc, 'active', { kind: 'http', status: 500 })
    assert.equal(applyOutcome(s, hc, 'active', { kind: 'http', status: 500 }).changed, true)
  })
})
