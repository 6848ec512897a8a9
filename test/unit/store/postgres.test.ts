/**
 * The store conformance suite on a real PostgreSQL (a throwaway server on loopback, one database
 * per store), plus what only PostgreSQL has: several handles on one database, the layout's
 * collation and indexes, keyset paging served by an index.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPostgresStore, type PostgresStore } from '../../../src/store/postgres/pg-store.js'
import { createStore } from '../../../src/store/index.js'
import { StoreError } from '../../../src/store/types.js'
import type { ChangeEvent } from '../../../src/store/postgres/pg-events.js'
import { hasPostgres, startPostgres, type TestPostgres } from '../../helpers/postgres.js'
import { runStoreConformance } from './conformance.js'
import { ENTITIES, consumers, routes, service, services, sleep, uid } from './fixtures.js'

const skip = hasPostgres() ? false : 'PostgreSQL is not installed (.ci/run installs it)'
let server: TestPostgres | undefined

before(async () => {
  if (skip === false) server = await startPostgres()
})
after(async () => {
  await server?.stop()
})

async function fresh(): Promise<PostgresStore> {
  const s = server as TestPostgres
  const database = await s.createDatabase()
  return createPostgresStore({ host: s.host, port: s.port, user: s.user, database })
}

if (skip === false) runStoreConformance('postgres', fresh)

test('postgres: createStore opens it, ids sort by bytes whatever the locale, and paging uses an index', { skip }, async () => {
  const s = server as TestPostgres
  const database = await s.createDatabase()
  const store = createStore({ kind: 'postgres', host: s.host, port: s.port, user: s.user, database })
  assert.equal(store.kind, 'postgres')
  await store.init(ENTITIES)
  for (const id of ['b', 'B', 'a-1', 'a1', 'A', '_x']) await store.insert('services', { id, name: id })
  assert.deepEqual(
    (await store.all('services')).map((r) => r.id),
    ['A', 'B', '_x', 'a-1', 'a1', 'b'],
  )
  await store.close()
  const meta = await s.query("SELECT value FROM schema_meta WHERE key = 'layout_version'", database)
  assert.deepEqual(meta, [{ value: '1' }])
  const indexes = (await s.query("SELECT indexname FROM pg_indexes WHERE tablename = 'routes' ORDER BY indexname", database)).map(
    (r) => r['indexname'],
  )
  assert.deepEqual(indexes, ['routes__f_service', 'routes__u_name', 'routes_pkey'])
  // A page after a cursor is an index range scan, not a sequential scan.
  await s.query('SET enable_seqscan = off', database)
  const plan = await s.query(
    `EXPLAIN SELECT data FROM routes WHERE true AND id > '${uid(5)}' AND f_service = '${uid(1)}' ORDER BY id LIMIT 11`,
    database,
  )
  assert.match(JSON.stringify(plan), /Index/)
})

test('postgres: two handles on one database see each other, and uniqueness holds across them', { skip }, async () => {
  const s = server as TestPostgres
  const database = await s.createDatabase()
  const a = createPostgresStore({ host: s.host, port: s.port, user: s.user, database })
  const b = createPostgresStore({ host: s.host, port: s.port, user: s.user, database })
  await Promise.all([a.init(ENTITIES), b.init(ENTITIES)])
  await a.insert('services', service(1))
  assert.equal((await b.select('services', uid(1)))?.id, uid(1))
  await assert.rejects(b.insert('services', service(2, { name: 'svc-1' })), (err: unknown) => {
    assert.ok(err instanceof StoreError)
    assert.equal(err.code, 'UNIQUE_VIOLATION')
    return true
  })
  await b.transaction(async (tx) => {
    await tx.insert('routes', { id: uid(3), name: 'r', service: { id: uid(1) } })
  })
  assert.equal((await a.page('routes', { size: 10, foreign: { field: 'service', id: uid(1) } })).data.length, 1)
  await a.close()
  await b.close()
})

test('postgres: a schema (pg_schema) holds the tables; an unreachable server is a database error', { skip }, async () => {
  const s = server as TestPostgres
  const database = await s.createDatabase()
  await s.query('CREATE SCHEMA gw', database)
  const store = createPostgresStore({ host: s.host, port: s.port, user: s.user, database, schema: 'gw' })
  await store.init([services, routes, consumers])
  await store.insert('services', service(1))
  await store.close()
  assert.deepEqual(await s.query('SELECT id FROM gw.services', database), [{ id: uid(1) }])

  const down = createPostgresStore({ host: '127.0.0.1', port: 1, user: 'kong', database: 'kong', timeoutMs: 500 })
  assert.equal(await down.reachable(), false)
  await assert.rejects(down.init([services]), (err: unknown) => err instanceof StoreError && err.code === 'DATABASE_ERROR')
  await down.close()
})

test('postgres: with a read-only replica, lookups and pages read it while the snapshot (all) reads the primary', { skip }, async () => {
  const s = server as TestPostgres
  const primary = await s.createDatabase()
  const replica = await s.createDatabase()
  // A "replica" that lags: a second database with the same layout and none of the writes.
  const lagging = createPostgresStore({ host: s.host, port: s.port, user: s.user, database: replica })
  await lagging.init(ENTITIES)
  await lagging.close()
  const store = createPostgresStore({
    host: s.host,
    port: s.port,
    user: s.user,
    database: primary,
    readOnly: { host: s.host, port: s.port, user: s.user, database: replica },
  })
  await store.init(ENTITIES)
  await store.insert('services', service(1))
  assert.equal(await store.select('services', uid(1)), null)
  assert.deepEqual((await store.page('services', { size: 10 })).data, [])
  assert.deepEqual(
    (await store.all('services')).map((r) => r.id),
    [uid(1)],
  )
  // Inside a transaction everything reads the primary.
  await store.transaction(async (tx) => {
    assert.equal((await tx.select('services', uid(1)))?.id, uid(1))
  })
  await store.close()
})

test('postgres: losing the server fails operations as database errors (no crash); they work again once it is back', { skip }, async () => {
  const own = await startPostgres()
  try {
    const database = await own.createDatabase()
    const store = createPostgresStore({ host: own.host, port: own.port, user: own.user, database, timeoutMs: 1000 })
    await store.init(ENTITIES)
    await store.insert('services', service(1))
    // idle connections in the pool, and a transaction open when the server goes
    await Promise.all([store.select('services', uid(1)), store.select('services', uid(1))])
    const tx = store.transaction(async (t) => {
      await t.insert('services', service(2))
      await sleep(300)
      await t.select('services', uid(2))
    })
    await sleep(100)
    await own.interrupt()
    await assert.rejects(tx, (err: unknown) => err instanceof StoreError && err.code === 'DATABASE_ERROR')
    assert.equal(await store.reachable(), false)
    assert.ok(store.lastError !== null)
    await assert.rejects(store.select('services', uid(1)), (err: unknown) => err instanceof StoreError && err.code === 'DATABASE_ERROR')
    await assert.rejects(store.insert('services', service(3)), (err: unknown) => err instanceof StoreError && err.code === 'DATABASE_ERROR')
    await own.resume()
    assert.equal(await store.reachable(), true)
    assert.equal((await store.select('services', uid(1)))?.id, uid(1))
    assert.equal(await store.select('services', uid(2)), null)
    await store.insert('services', service(3))
    assert.equal((await store.all('services')).length, 2)
    await store.close()
  } finally {
    await own.stop()
  }
})

test('postgres: committed writes of other handles arrive as change events; own and rolled-back writes do not', { skip }, async () => {
  const s = server as TestPostgres
  const database = await s.createDatabase()
  const a = createPostgresStore({ host: s.host, port: s.port, user: s.user, database })
  const b = createPostgresStore({ host: s.host, port: s.port, user: s.user, database })
  await a.init(ENTITIES)
  await b.init(ENTITIES)
  const events: ChangeEvent[] = []
  const states: boolean[] = []
  const listener = await a.listen(
    (e) => events.push(e),
    (up) => states.push(up),
  )
  await a.insert('services', service(1))
  await b.insert('services', service(2))
  await b.update('services', service(2, { port: 8080 }))
  await assert.rejects(
    b.transaction(async (tx) => {
      await tx.insert('routes', { id: uid(3), name: 'r', service: null })
      throw new Error('no')
    }),
  )
  await b.transaction(async (tx) => {
    await tx.insert('routes', { id: uid(4), name: 'r4', service: { id: uid(2) } })
  })
  await b.delete('services', uid(2))
  const until = Date.now() + 2000
  while (events.length < 4 && Date.now() < until) await sleep(10)
  assert.deepEqual(
    events.map((e) => (e.kind === 'change' ? `${e.entity}:${e.id ?? ''}` : e.kind)),
    [`services:${uid(2)}`, `services:${uid(2)}`, `routes:${uid(4)}`, `services:${uid(2)}`],
  )
  assert.ok(events.every((e) => e.kind === 'change' && e.origin === b.origin))
  assert.deepEqual(states, [true])
  await listener.close()
  await a.close()
  await b.close()
})

test('postgres: the change listener reconnects after an outage and asks for a resync', { skip }, async () => {
  const own = await startPostgres()
  try {
    const database = await own.createDatabase()
    const a = createPostgresStore({ host: own.host, port: own.port, user: own.user, database, timeoutMs: 1000 })
    await a.init(ENTITIES)
    const events: ChangeEvent[] = []
    const states: boolean[] = []
    const listener = await a.listen(
      (e) => events.push(e),
      (up) => states.push(up),
    )
    await own.interrupt()
    await sleep(300)
    await own.resume()
    const until = Date.now() + 10_000
    while (!events.some((e) => e.kind === 'resync') && Date.now() < until) await sleep(20)
    assert.deepEqual(states, [true, false, true])
    assert.deepEqual(events, [{ kind: 'resync' }])
    const b = createPostgresStore({ host: own.host, port: own.port, user: own.user, database })
    await b.init(ENTITIES)
    await b.insert('services', service(1))
    while (events.length < 2 && Date.now() < until) await sleep(10)
    assert.equal(events.length, 2)
    await listener.close()
    await a.close()
    await b.close()
  } finally {
    await own.stop()
  }
})
