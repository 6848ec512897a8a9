/**
 * `GET /status` on a real node with two proxy workers: `memory.workers_lua_vms` has one entry per
 * worker (Kong lists one per nginx worker), with the worker's pid and its JavaScript heap in use.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

describe('GET /status', () => {
  let gw: TestGateway
  before(async () => {
    gw = await startTestGateway({ workers: 2 })
  })
  after(async () => {
    await gw.stop()
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
