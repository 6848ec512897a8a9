/**
 * An upstream created with only its `name` balances and is health-checked with Kong's defaults,
 * taken from the `upstreams` schema as the stored row carries them (the balancer and the health
 * checker apply none of their own); an explicit `null` reads as the schema's default.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { type Address, Balancer, HealthView } from '../../../src/balancer/balancer.js'
import { passiveEnabled, resolveUpstream, usingHealthchecks } from '../../../src/balancer/config.js'
import { classifyStatus } from '../../../src/balancer/health-model.js'
import { HealthChecker } from '../../../src/health/checker.js'
import { targetRow, upstreamRow } from '../../helpers/entity-rows.js'

/** Kong 3.9's `healthchecks` when none is given (`GET /upstreams/{u}` of a name-only upstream). */
const KONG_HEALTHCHECKS = {
  active: {
    type: 'http',
    timeout: 1,
    concurrency: 10,
    http_path: '/',
    https_sni: null,
    https_verify_certificate: true,
    headers: null,
    healthy: { interval: 0, http_statuses: [200, 302], successes: 0 },
    unhealthy: { interval: 0, http_statuses: [429, 404, 500, 501, 502, 503, 504, 505], tcp_failures: 0, timeouts: 0, http_failures: 0 },
  },
  passive: {
    type: 'http',
    healthy: {
      http_statuses: [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308],
      successes: 0,
    },
    unhealthy: { http_statuses: [429, 500, 503], tcp_failures: 0, timeouts: 0, http_failures: 0 },
  },
  threshold: 0,
}

describe('an upstream created with only a name', () => {
  const up = upstreamRow({ name: 'Only-Name.test' })
  const targets = [targetRow(up, '10.0.0.1:80'), targetRow(up, '10.0.0.2')]

  test('reads as Kong’s defaults', () => {
    const u = resolveUpstream(up)
    assert.deepEqual(
      {
        name: u.name,
        algorithm: u.algorithm,
        hash_on: u.hash_on,
        hash_fallback: u.hash_fallback,
        hash_on_cookie_path: u.hash_on_cookie_path,
        slots: u.slots,
        host_header: u.host_header,
        use_srv_name: u.use_srv_name,
      },
      {
        name: 'only-name.test',
        algorithm: 'round-robin',
        hash_on: 'none',
        hash_fallback: 'none',
        hash_on_cookie_path: '/',
        slots: 10000,
        host_header: null,
        use_srv_name: false,
      },
    )
    assert.deepEqual(u.healthchecks, KONG_HEALTHCHECKS)
    assert.equal(usingHealthchecks(u.healthchecks), false, 'no interval and no passive counter: health checks off')
    assert.equal(passiveEnabled(u.healthchecks), false)
    assert.deepEqual(classifyStatus(u.healthchecks, 'active', 302), { kind: 'success', status: 302 })
    assert.deepEqual(classifyStatus(u.healthchecks, 'passive', 503), { kind: 'http', status: 503 })
    assert.equal(classifyStatus(u.healthchecks, 'passive', 404), null, '404 is only in the active unhealthy list')
  })

  test('balances round-robin over its targets (default port 8000, weight 100), no hash, no passive reports', () => {
    const reported: string[] = []
    const b = new Balancer(up, targets, { resolver: null, health: new HealthView(), report: (_id, a) => reported.push(a.key) })
    assert.deepEqual(
      b.peers.map((p) => [p.ip, p.port, p.weight]),
      [
        ['10.0.0.1', 80, 100],
        ['10.0.0.2', 8000, 100],
      ],
    )
    assert.deepEqual(b.hashFor({ consumerId: null, clientIp: '192.0.2.1', headers: {}, path: '/', query: null, captures: null }), {
      hash: null,
      setCookie: null,
    })
    const counts = new Map<string, number>()
    let last: Address | null = null
    for (let i = 0; i < 10; i++) {
      const r = b.pick(null, null)
      assert.ok(r.ok)
      assert.notEqual(r.address, last, 'equal weights alternate')
      last = r.address
      counts.set(r.address.ip, (counts.get(r.address.ip) ?? 0) + 1)
      b.reportStatus(r.address, 500)
      b.release(r.address, 5)
    }
    assert.deepEqual(Object.fromEntries(counts), { '10.0.0.1': 5, '10.0.0.2': 5 })
    assert.deepEqual(reported, [], 'passive checks count nothing by default')
  })

  test('the health checker reports HEALTHCHECKS_OFF and runs no probes', async () => {
    const warnings: string[] = []
    const checker = new HealthChecker({ resolver: null, log: { warn: (m) => warnings.push(m) }, onChange: () => {}, nodeId: 'node' })
    try {
      checker.configure({ version: 1, services: [], routes: [], entities: { upstreams: [up], targets } })
      const byTarget = await checker.targetsHealth(up.id)
      // Both targets share a created_at second, so their listed order is the ids' (random here).
      const byId = (a: [string, string], b: [string, string]) => a[0].localeCompare(b[0])
      assert.deepEqual(
        [...(byTarget ?? [])].map(([id, t]): [string, string] => [id, t.health]).sort(byId),
        targets.map((t): [string, string] => [t.id, 'HEALTHCHECKS_OFF']).sort(byId),
      )
      const balancer = await checker.balancerHealth(up.id)
      assert.equal(balancer?.['health'], 'HEALTHCHECKS_OFF')
      assert.equal(balancer?.['balancer_health'], 'HEALTHY')
      assert.equal(await checker.setHealth(up.id, '10.0.0.1:80', null, false), 'no healthchecker found for only-name.test')
      await new Promise((r) => setTimeout(r, 50))
      assert.equal(checker.probes, 0)
      assert.deepEqual(checker.state(), {})
      assert.deepEqual(warnings, [])
    } finally {
      checker.stop()
    }
  })
})

test('an explicit null reads as the schema’s default, as an absent field does', () => {
  const absent = resolveUpstream(upstreamRow({ name: 'nulls.test' }))
  const nulls = upstreamRow({
    name: 'nulls.test',
    algorithm: null,
    hash_on: null,
    hash_fallback: null,
    hash_on_cookie_path: null,
    slots: null,
    use_srv_name: null,
    healthchecks: {
      active: {
        type: null,
        timeout: null,
        concurrency: null,
        http_path: null,
        https_verify_certificate: null,
        healthy: { http_statuses: null },
      },
      passive: { unhealthy: { http_statuses: null, tcp_failures: null } },
      threshold: null,
    },
  })
  assert.equal(nulls.slots, null, 'stored as null, as in Kong')
  assert.equal(nulls.healthchecks.active.timeout, null)
  const resolved = resolveUpstream(nulls)
  const strip = ({ id: _i, created_at: _c, updated_at: _u, row: _r, ...rest }: typeof resolved) => rest
  assert.deepEqual(strip(resolved), strip(absent))
})
