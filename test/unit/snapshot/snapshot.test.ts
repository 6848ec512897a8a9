import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Route, Service } from '../../../src/entities/index.js'
import { buildSnapshot, type ConfigPayload } from '../../../src/snapshot/snapshot.js'
import { SnapshotSwitch } from '../../../src/snapshot/switch.js'
import { routeRow, serviceRow } from '../../helpers/entity-rows.js'

// Rows as the DAO stores them, relabelled with short ids for readable assertions.
const svc = (id: string, extra: Partial<Service> = {}): Service => ({
  ...serviceRow({ name: `svc-${id}`, host: 'example.internal', port: 8080 }),
  id,
  ...extra,
})
const route = (id: string, path: string, service: string | null, extra: Partial<Route> = {}): Route => ({
  ...routeRow({ paths: [path] }),
  id,
  service: service === null ? null : { id: service },
  ...extra,
})
const match = (p: ConfigPayload, path: string) =>
  buildSnapshot(p).router.match({ method: 'GET', scheme: 'http', host: 'gw', port: 8000, path, headers: {} })

describe('buildSnapshot', () => {
  test('attaches compiled services with the Host header Kong sends', () => {
    const snap = buildSnapshot({
      version: 1,
      services: [svc('a'), svc('b', { port: 80 }), svc('c', { protocol: 'https', port: 443, host: '::1' })],
      routes: [route('r1', '/a', 'a'), route('r2', '/b', 'b'), route('r3', '/c', 'c')],
    })
    assert.equal(snap.services.get('a')?.hostHeader, 'example.internal:8080')
    assert.equal(snap.services.get('b')?.hostHeader, 'example.internal')
    assert.equal(snap.services.get('c')?.hostHeader, '[::1]')
    assert.equal(snap.services.get('c')?.hostIsIp, true)
    const m = snap.router.match({ method: 'GET', scheme: 'http', host: 'gw', port: 8000, path: '/a/x', headers: {} })
    assert.equal(m?.route.compiledService?.id, 'a')
  })

  test("an explicit null in a defaulted field takes the schema's default, as Kong's `service.retries or 5`", () => {
    const snap = buildSnapshot({
      version: 1,
      services: [svc('a', { retries: null, connect_timeout: null, read_timeout: null, write_timeout: null })],
      routes: [],
    })
    const s = snap.services.get('a')
    assert.deepEqual([s?.retries, s?.connect_timeout, s?.read_timeout, s?.write_timeout], [5, 60000, 60000, 60000])
  })

  test("routes of a disabled service are left out, as Kong's router does", () => {
    const p = { version: 1, services: [svc('a', { enabled: false })], routes: [route('r1', '/a', 'a')] }
    assert.equal(match(p, '/a'), null)
  })

  test('a route without a service still matches (the proxy answers 503)', () => {
    const m = match({ version: 1, services: [], routes: [route('r1', '/x', null)] }, '/x')
    assert.equal(m?.route.compiledService, null)
  })
})

describe('SnapshotSwitch', () => {
  test('a configuration that fails to compile keeps the previous one serving', () => {
    let fail = false
    const sw = new SnapshotSwitch((p) => {
      if (fail) throw new Error('boom: bad route')
      return buildSnapshot(p)
    })
    const first = sw.apply({ version: 1, services: [svc('a')], routes: [route('r1', '/a', 'a')] })
    assert.equal(first.ok, true)
    fail = true
    const second = sw.apply({ version: 2, services: [], routes: [] })
    assert.deepEqual(second, { ok: false, error: 'boom: bad route', serving: 1 })
    assert.equal(sw.current?.version, 1)
    assert.equal(sw.current?.routeCount, 1)
  })

  test('a late, older configuration never replaces a newer one', () => {
    const sw = new SnapshotSwitch()
    assert.equal(sw.apply({ version: 3, services: [], routes: [] }).ok, true)
    const late = sw.apply({ version: 2, services: [svc('a')], routes: [] })
    assert.equal(late.ok, false)
    assert.equal(sw.current?.version, 3)
  })
})
