/**
 * `GET /status` on a real node with two proxy workers: `memory.workers_lua_vms` has one entry per
 * worker (Kong lists one per nginx worker), with the worker's pid and its JavaScript heap in use;
 * `GET /` on the same node reports Kong's version and the configured `node_id`; its Admin API
 * allows the `admin_gui_url` origins only.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

const NODE_ID = '5f4d6a9e-0b8c-4c1e-9f6a-2d3b4c5d6e7f'

describe('GET /status', () => {
  let gw: TestGateway
  before(async () => {
    gw = await startTestGateway({
      workers: 2,
      settings: { node_id: NODE_ID, admin_gui_url: 'http://manager.test:8002/manager, https://gui.example.com' },
    })
  })
  after(async () => {
    await gw.stop()
  })

  test("GET / reports the Kong version followed, ours apart, and the node_id setting (with Kong's warning)", async () => {
    const root = (await call('GET', `${gw.adminUrl}/`)).body as Record<string, unknown>
    assert.equal(root['version'], '3.9.3')
    assert.match(String(root['turnpike_version']), /^\d+\.\d+\.\d+/)
    assert.equal(root['node_id'], NODE_ID)
    assert.match(gw.errorLog(), /\[warn\].*node_id in the configuration is deprecated since Kong 3\.9/)
  })

  test('with admin_gui_url, CORS allows only its origins (Kong 3.9.3 api_helpers.cors_filter)', async () => {
    const from = async (origin?: string, method = 'GET') =>
      (await call(method, `${gw.adminUrl}/services`, undefined, origin === undefined ? {} : { origin })).headers
    assert.equal((await from('http://manager.test:8002'))['access-control-allow-origin'], 'http://manager.test:8002')
    assert.equal((await from('https://gui.example.com'))['access-control-allow-origin'], 'https://gui.example.com')
    assert.equal((await from('http://evil.test'))['access-control-allow-origin'], 'http://manager.test:8002')
    assert.equal((await from())['access-control-allow-origin'], 'http://manager.test:8002')
    const pre = await from('https://gui.example.com', 'OPTIONS')
    assert.equal(pre['access-control-allow-origin'], 'https://gui.example.com')
    assert.equal(pre['access-control-allow-credentials'], 'true')
  })

  test("lua_shared_dicts: Kong's kong and kong_db_cache, sized from this node's counters and configuration", async () => {
    type Dicts = Record<string, { allocated_slabs: number; capacity: number }>
    const dicts = async () =>
      ((await call('GET', `${gw.adminUrl}/status?unit=b`)).body as { memory: { lua_shared_dicts: Dicts } }).memory.lua_shared_dicts
    const before = await dicts()
    assert.deepEqual(Object.keys(before).sort(), ['kong', 'kong_db_cache'])
    assert.equal(before['kong']?.capacity, 5 * 1024 * 1024)
    assert.equal(before['kong_db_cache']?.capacity, 128 * 1024 * 1024, 'mem_cache_size, 128m by default')
    assert.equal(
      (await call('POST', `${gw.adminUrl}/services`, { name: 'sized', url: 'http://127.0.0.1:9/' + 'x'.repeat(2000) })).status,
      201,
    )
    await eventually(
      async () => ((await dicts())['kong_db_cache']?.allocated_slabs ?? 0) > (before['kong_db_cache']?.allocated_slabs ?? 0) + 2000,
      5000,
      'the new service counted',
    )
  })

  test('memory.workers_lua_vms lists each proxy worker with its heap', async () => {
    const workers = ((await call('GET', `${gw.adminUrl}/`)).body as { pids: { master: number; workers: number[] } }).pids
    assert.equal(workers.workers.length, 2)
    let vms: { pid: number; http_allocated_gc: string }[] = []
    await eventually(
      async () => {
        vms = ((await call('GET', `${gw.adminUrl}/status`)).body as { memory: { workers_lua_vms: typeof vms } }).memory.workers_lua_vms
        return vms.length === 2
      },
      5000,
      'both workers reported',
    )
    assert.deepEqual(vms.map((v) => v.pid).sort(), [...workers.workers].sort())
    assert.ok(!vms.some((v) => v.pid === workers.master), 'the primary (Admin API) is not a worker')
    for (const v of vms) {
      const mib = Number(/^(\d+\.\d{2}) MiB$/.exec(v.http_allocated_gc)?.[1])
      assert.ok(mib > 1 && mib < 500, `a worker's heap in use: ${v.http_allocated_gc}`)
    }
    const bytes = (
      (await call('GET', `${gw.adminUrl}/status?unit=b`)).body as { memory: { workers_lua_vms: { http_allocated_gc: number }[] } }
    ).memory.workers_lua_vms
    assert.ok(bytes.every((v) => Number.isInteger(v.http_allocated_gc) && v.http_allocated_gc > 1024 * 1024))
  })
})
