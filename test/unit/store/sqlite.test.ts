import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js'
import { createStore } from '../../../src/store/index.js'
import { StoreError } from '../../../src/store/types.js'
import { runStoreConformance } from './conformance.js'
import { ENTITIES, consumers, plugins, service, services, uid } from './fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'turnpike-store-'))
let counter = 0
const nextPath = (): string => join(dir, `db-${++counter}`, 'kong.db')
after(() => rmSync(dir, { recursive: true, force: true }))

runStoreConformance('sqlite', () => Promise.resolve(createSqliteStore({ path: nextPath() })))

test('sqlite: creates the file and its directory in WAL mode with schema_meta', async () => {
  const path = nextPath()
  const store = createStore({ kind: 'sqlite', path })
  assert.equal(store.kind, 'sqlite')
  await store.init(ENTITIES)
  assert.ok(existsSync(path))
  await store.close()
  const db = new Database(path, { readonly: true })
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  const meta = db.prepare('SELECT value FROM schema_meta WHERE key = ?').pluck().get('layout_version')
  assert.equal(meta, '1')
  db.close()
  assert.equal(await store.reachable(), false)
})

test('sqlite: data survives reopening, and a later version adds a unique field and an entity', async () => {
  const path = nextPath()
  const v1 = createSqliteStore({ path })
  await v1.init([services, { ...consumers, unique: ['username'] }])
  await v1.insert('services', service(1, { tags: ['a'] }))
  await v1.insert('consumers', { id: uid(2), username: 'a', custom_id: 'x' })
  await v1.insert('consumers', { id: uid(3), username: 'b', custom_id: null })
  await v1.close()

  const v2 = createSqliteStore({ path })
  await v2.init([services, consumers, plugins])
  await v2.init([services, consumers, plugins])
  assert.deepEqual(await v2.select('services', uid(1)), service(1, { tags: ['a'] }))
  // The new unique column was backfilled from the stored rows.
  assert.equal((await v2.selectByUnique('consumers', 'custom_id', 'x'))?.id, uid(2))
  await assert.rejects(v2.insert('consumers', { id: uid(4), username: 'c', custom_id: 'x' }), (err: unknown) => {
    assert.ok(err instanceof StoreError)
    assert.equal(err.code, 'UNIQUE_VIOLATION')
    assert.deepEqual(err.fields, { custom_id: 'x' })
    return true
  })
  await v2.insert('plugins', { id: uid(5), name: 'cors', route: null, service: null, consumer: null })
  await v2.close()

  // A version that drops a unique field no longer enforces it.
  const v3 = createSqliteStore({ path })
  await v3.init([services, { ...consumers, unique: ['username'] }])
  await v3.insert('consumers', { id: uid(6), username: 'd', custom_id: 'x' })
  assert.equal((await v3.all('consumers')).length, 3)
  await v3.close()
})

test('sqlite: a second handle on the same file sees committed writes', async () => {
  const path = nextPath()
  const a = createSqliteStore({ path })
  const b = createSqliteStore({ path })
  await a.init(ENTITIES)
  await b.init(ENTITIES)
  await a.insert('services', service(1))
  assert.equal((await b.select('services', uid(1)))?.id, uid(1))
  await b.transaction(async (tx) => {
    await tx.insert('services', service(2))
  })
  assert.equal((await a.all('services')).length, 2)
  await a.close()
  await b.close()
})
