import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { REGISTRY } from '../dao/fixtures.js'
import { harness } from './helpers.js'
import { DbError } from '../../../src/errors/db-errors.js'

describe('Admin API node endpoints', () => {
  test('GET / keeps Kong keys and names the product separately', async () => {
    const h = await harness(REGISTRY)
    await h.call('POST', '/plugins', { json: { name: 'key-auth' } })
    const res = await h.call('GET', '/')
    assert.equal(res.status, 200)
    assert.equal(res.json.tagline, 'Welcome to kong')
    // Kong clients (decK, Kong Manager) pick features by `version`: the Kong release we follow.
    assert.equal(res.json.version, '3.9.3')
    assert.equal(res.json.edition, 'community')
    assert.equal(res.json.product, 'turnpike')
    assert.equal(res.json.turnpike_version, '3.9.1')
    assert.equal(res.json.hostname, 'test-host')
    assert.deepEqual(res.json.plugins, {
      available_on_server: { 'key-auth': { version: '3.9.1', priority: 1250 } },
      enabled_in_cluster: ['key-auth'],
    })
    assert.deepEqual(res.json.pids, { master: 1, workers: [2, 3] })
    assert.deepEqual(res.json.timers, { running: 0, pending: 0 })
    assert.equal(res.json.configuration.database, 'sqlite')
  })

  test('GET /status reports server, database and memory', async () => {
    const h = await harness(REGISTRY)
    const res = await h.call('GET', '/status')
    assert.equal(res.status, 200)
    assert.equal(res.json.server.total_requests, 7)
    assert.deepEqual(res.json.database, { reachable: true })
    // One entry per proxy worker, as Kong lists one per nginx worker.
    assert.deepEqual(res.json.memory.workers_lua_vms, [
      { http_allocated_gc: '12.50 MiB', pid: 2 },
      { http_allocated_gc: '0.00 MiB', pid: 3 },
    ])
    // Turnpike's per-worker share of `server`.
    assert.deepEqual(res.json.workers, [
      { pid: 2, connections_accepted: 2, connections_active: 1, total_requests: 5 },
      { pid: 3, connections_accepted: 0, connections_active: 0, total_requests: 2 },
    ])
    const k = await h.call('GET', '/status?unit=k&scale=1')
    assert.deepEqual(
      k.json.memory.workers_lua_vms.map((w: { http_allocated_gc: string }) => w.http_allocated_gc),
      ['12800.0 KiB', '3.0 KiB'],
    )
    // Kong's node.get_memory_stats: each shared dict's capacity and allocated slabs, in the unit asked
    assert.deepEqual(res.json.memory.lua_shared_dicts, {
      kong: { allocated_slabs: '0.01 MiB', capacity: '5.00 MiB' },
      kong_db_cache: { allocated_slabs: '3.00 MiB', capacity: '128.00 MiB' },
    })
    assert.deepEqual(k.json.memory.lua_shared_dicts.kong, { allocated_slabs: '12.0 KiB', capacity: '5120.0 KiB' })
    const bad = await h.call('GET', '/status?unit=x')
    assert.equal(bad.status, 400)
    assert.deepEqual(bad.json, { message: "invalid unit 'x' (expected 'k/K', 'm/M', or 'g/G')" })
  })

  test('GET /endpoints lists generated paths in Kong order', async () => {
    const h = await harness(REGISTRY)
    const { data } = (await h.call('GET', '/endpoints')).json as { data: string[] }
    for (const p of [
      '/',
      '/services',
      '/services/{services}',
      '/services/{services}/routes',
      '/services/{services}/routes/{routes}',
      '/routes/{routes}/service',
      '/schemas/{name}',
      '/tags/{tags}',
    ]) {
      assert.ok(data.includes(p), `missing ${p}`)
    }
    assert.ok(data.indexOf('/services/{services}') < data.indexOf('/services/{services}/routes'))
    assert.ok(data.indexOf('/routes/{routes}/service') < data.indexOf('/services'))
  })

  test('/schemas/{entity} and /schemas/{entity}/validate', async () => {
    const h = await harness(REGISTRY)
    const schema = await h.call('GET', '/schemas/services')
    assert.equal(schema.status, 200)
    assert.ok(Array.isArray(schema.json.fields))
    assert.deepEqual(await h.call('GET', '/schemas/nope').then((r) => [r.status, r.json]), [404, { message: "No entity named 'nope'" }])
    const good = await h.call('POST', '/schemas/services/validate', { json: { host: 'a.test' } })
    assert.deepEqual([good.status, good.json], [200, { message: 'schema validation successful' }])
    const bad = await h.call('POST', '/schemas/services/validate', { json: { port: 'x' } })
    assert.equal(bad.status, 400)
    assert.equal(bad.json.code, 2)
    assert.equal(bad.json.fields.host, 'required field missing')
    assert.equal((await h.call('POST', '/schemas/nope/validate', { json: {} })).status, 404)
  })

  test('404, 405, trailing slash, HEAD and CORS preflight', async () => {
    const h = await harness(REGISTRY)
    assert.deepEqual(await h.call('GET', '/nowhere').then((r) => [r.status, r.json]), [404, { message: 'Not found' }])
    assert.deepEqual(await h.call('DELETE', '/services').then((r) => [r.status, r.json]), [405, { message: 'Method not allowed' }])
    assert.equal((await h.call('GET', '/services/')).status, 200)
    const head = await h.call('HEAD', '/services')
    assert.equal(head.status, 200)
    assert.equal(head.body, undefined)
    const pre = await h.call('OPTIONS', '/services/abc', {
      headers: { origin: 'http://ui.test', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'X-A,X-B' },
    })
    assert.equal(pre.status, 204)
    assert.equal(pre.headers['Allow'], 'DELETE, GET, HEAD, OPTIONS, PATCH, PUT')
    assert.equal(pre.headers['Access-Control-Allow-Methods'], 'DELETE, GET, HEAD, OPTIONS, PATCH, PUT')
    assert.equal(pre.headers['Access-Control-Allow-Headers'], 'X-A,X-B')
    assert.equal(pre.headers['Access-Control-Allow-Origin'], 'http://ui.test')
    const root = await h.call('OPTIONS', '/')
    assert.equal(root.headers['Access-Control-Allow-Methods'], 'GET, HEAD, OPTIONS')
    assert.equal(root.headers['Access-Control-Allow-Headers'], 'Content-Type')
    assert.equal((await h.call('OPTIONS', '/nowhere')).status, 404)
    const plain = await h.call('GET', '/', { headers: { 'access-control-request-method': 'PATCH' } })
    assert.equal(plain.headers['Access-Control-Allow-Methods'], undefined)
  })

  test('unexpected errors are 500 with a generic body and reported', async () => {
    const seen: unknown[] = []
    const h = await harness(REGISTRY, {
      onError: (err) => seen.push(err),
      extraRoutes: [
        {
          path: '/boom',
          methods: {
            GET: async () => {
              throw new Error('secret stack detail')
            },
          },
        },
      ],
    })
    const res = await h.call('GET', '/boom')
    assert.equal(res.status, 500)
    assert.deepEqual(res.json, { message: 'An unexpected error occurred' })
    assert.equal(seen.length, 1)
  })

  test('while the database is unreachable, a store failure is 503 code 8 with the outage message, not reported', async () => {
    const seen: unknown[] = []
    let outage: string | null = 'the database (postgres at postgres://kong@db:5432/kong) cannot be reached'
    const failing = async (): Promise<never> => {
      throw new DbError('DATABASE_ERROR', 'connect ECONNREFUSED 127.0.0.1:5432')
    }
    const h = await harness(REGISTRY, {
      onError: (err) => seen.push(err),
      databaseUnavailable: () => outage,
      extraRoutes: [
        { path: '/store', methods: { POST: failing } },
        { path: '/boom', methods: { GET: () => Promise.reject(new Error('a bug')) } },
      ],
    })
    const res = await h.call('POST', '/store')
    assert.equal(res.status, 503)
    assert.deepEqual(res.json, { code: 8, name: 'database error', message: outage })
    assert.equal(seen.length, 0)
    // a failure that is not the store's stays Kong's 500, reported
    assert.equal((await h.call('GET', '/boom')).status, 500)
    assert.equal(seen.length, 1)
    // once the database is back, a store failure is Kong's 500 again
    outage = null
    const back = await h.call('POST', '/store')
    assert.deepEqual([back.status, back.json], [500, { message: 'An unexpected error occurred' }])
    assert.equal(seen.length, 2)
  })
})

describe('Admin API without a database', () => {
  test('reads work, writes are 405 code 12 after validation, absent deletes are 204', async () => {
    const h = await harness(REGISTRY, { database: 'off' })
    await h.dao.insert('services', { name: 'loaded', host: 'a.test' })
    assert.equal((await h.call('GET', '/services/loaded')).status, 200)
    const post = await h.call('POST', '/services', { json: { name: 'n', host: 'a.test' } })
    assert.equal(post.status, 405)
    assert.deepEqual(post.json, {
      code: 12,
      name: 'operation unsupported',
      message: "cannot create 'services' entities when not using a database",
    })
    assert.equal((await h.call('GET', '/services/n')).status, 404)
    assert.equal((await h.call('POST', '/services', { json: { name: 'n' } })).status, 400)
    const patch = await h.call('PATCH', '/services/loaded', { json: { port: 1 } })
    assert.deepEqual([patch.status, patch.json.message], [405, "cannot update 'services' entities by 'name' when not using a database"])
    const put = await h.call('PUT', '/services/new', { json: { host: 'a.test' } })
    assert.deepEqual(
      [put.status, put.json.message],
      [405, "cannot create or update 'services' entities by 'name' when not using a database"],
    )
    assert.equal((await h.call('DELETE', '/services/ghost')).status, 204)
    const del = await h.call('DELETE', '/services/loaded')
    assert.deepEqual([del.status, del.json.message], [405, "cannot remove 'services' entities by 'name' when not using a database"])
    assert.equal((await h.call('GET', '/services/loaded')).json.port, 80)
    const status = await h.call('GET', '/status')
    assert.equal(status.json.configuration_hash, '00000000000000000000000000000000')
    // Kong 3.9.3 health.lua: DB-less /status has no `database` section at all.
    assert.equal(Object.hasOwn(status.json, 'database'), false)
  })
})
