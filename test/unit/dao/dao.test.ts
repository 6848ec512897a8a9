import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Dao, type ChangeEvent } from '../../../src/dao/index.js'
import { DbError } from '../../../src/errors/db-errors.js'
import { memoryStore, REGISTRY } from './fixtures.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

async function newDao(): Promise<Dao> {
  return new Dao(await memoryStore(), REGISTRY)
}

async function rejectsWith(p: Promise<unknown>, expected: { kind: string; message: string; fields?: unknown }): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DbError, `expected DbError, got ${String(err)}`)
    assert.equal(err.kind, expected.kind)
    assert.equal(err.message, expected.message)
    if (expected.fields !== undefined) assert.deepEqual(err.fields, expected.fields)
    return true
  })
}

describe('Dao.insert', () => {
  test('fills id (uuid v4), integer-second timestamps and defaults', async () => {
    const dao = await newDao()
    const before = Math.floor(Date.now() / 1000)
    const row = await dao.insert('services', { name: 'svc', host: 'example.com' })
    assert.match(row.id, UUID_V4)
    assert.equal(row['port'], 80)
    assert.ok(Number.isInteger(row['created_at']))
    assert.ok((row['created_at'] as number) >= before)
    assert.equal(row['created_at'], row['updated_at'])
    assert.deepEqual(await dao.select('services', row.id), row)
  })

  test('keeps a client-supplied id', async () => {
    const dao = await newDao()
    const id = '6f7c4ab2-23a3-4d39-9b1e-0b5f3a0f1f11'
    const row = await dao.insert('services', { id, host: 'a.test' })
    assert.equal(row.id, id)
  })

  test('schema violation uses Kong message and fields', async () => {
    const dao = await newDao()
    await rejectsWith(dao.insert('services', { name: 'x' }), {
      kind: 'SCHEMA_VIOLATION',
      message: 'schema violation (host: required field missing)',
      fields: { host: 'required field missing' },
    })
  })

  test('unique violation is code 5 with the offending value', async () => {
    const dao = await newDao()
    await dao.insert('services', { name: 'dup', host: 'a.test' })
    await assert.rejects(dao.insert('services', { name: 'dup', host: 'b.test' }), (err: unknown) => {
      assert.ok(err instanceof DbError)
      assert.equal(err.status, 409)
      assert.deepEqual(err.toBody(), {
        code: 5,
        name: 'unique constraint violation',
        message: `UNIQUE violation detected on '{name="dup"}'`,
        fields: { name: 'dup' },
      })
      return true
    })
  })

  test('resolves a foreign reference given by endpoint key', async () => {
    const dao = await newDao()
    const svc = await dao.insert('services', { name: 'example-service', host: 'a.test' })
    const route = await dao.insert('routes', { name: 'r1', paths: ['/x'], service: { name: 'example-service' } })
    assert.deepEqual(route['service'], { id: svc.id })
  })

  test('an unresolvable named reference is code 13', async () => {
    const dao = await newDao()
    await rejectsWith(dao.insert('routes', { paths: ['/x'], service: { name: 'ghost' } }), {
      kind: 'FOREIGN_KEYS_UNRESOLVED',
      message: `foreign key unresolved (service.name: the foreign key cannot be resolved with '{name="ghost"}' for an existing 'services' entity)`,
      fields: { service: { name: `the foreign key cannot be resolved with '{name="ghost"}' for an existing 'services' entity` } },
    })
  })

  test('a dangling foreign id is code 4', async () => {
    const dao = await newDao()
    const id = '0a0b0c0d-0000-4000-8000-000000000001'
    await rejectsWith(dao.insert('routes', { paths: ['/x'], service: { id } }), {
      kind: 'FOREIGN_KEY_VIOLATION',
      message: `the foreign key '{id="${id}"}' does not reference an existing 'services' entity.`,
      fields: { service: { id } },
    })
  })

  test('ttl is refused on entities without ttl and bounded on those with it', async () => {
    const dao = await newDao()
    await rejectsWith(dao.insert('services', { host: 'a.test' }, { ttl: 10 }), {
      kind: 'INVALID_OPTIONS',
      message: "invalid option (ttl: cannot be used with 'services')",
    })
    await rejectsWith(dao.insert('credentials', { key: 'k' }, { ttl: -1 }), {
      kind: 'INVALID_OPTIONS',
      message: 'invalid option (ttl: must be an integer between 0 and 100000000)',
    })
    const row = await dao.insert('credentials', { key: 'k' }, { ttl: 60 })
    assert.equal(row['ttl'], undefined)
  })

  test('dryRun validates without writing', async () => {
    const dao = await newDao()
    const row = await dao.insert('services', { name: 'dry', host: 'a.test' }, { dryRun: true })
    assert.equal(row['name'], 'dry')
    assert.equal(await dao.select('services', 'dry'), null)
  })
})

describe('Dao.select', () => {
  test('finds by id or endpoint key; non-uuid without endpoint key is code 1', async () => {
    const dao = await newDao()
    const svc = await dao.insert('services', { name: 'by-name', host: 'a.test' })
    assert.equal((await dao.select('services', 'by-name'))?.id, svc.id)
    assert.equal(await dao.select('services', 'nope'), null)
    await rejectsWith(dao.select('plugins', 'not-a-uuid'), {
      kind: 'INVALID_PRIMARY_KEY',
      message: `invalid primary key: '{id="not-a-uuid"}'`,
    })
  })
})

describe('Dao.update', () => {
  test('merges the patch, keeps created_at and refreshes updated_at', async () => {
    const dao = await newDao()
    const svc = await dao.insert('services', { name: 'u', host: 'a.test', created_at: 1000, updated_at: 1000 })
    const updated = await dao.update('services', 'u', { port: 8080 })
    assert.equal(updated['host'], 'a.test')
    assert.equal(updated['port'], 8080)
    assert.equal(updated['created_at'], 1000)
    assert.ok((updated['updated_at'] as number) > 1000)
    assert.equal(updated.id, svc.id)
  })

  test('absent rows are code 6 (by id and by name)', async () => {
    const dao = await newDao()
    const id = '0a0b0c0d-0000-4000-8000-000000000002'
    await rejectsWith(dao.update('services', id, { port: 1 }), {
      kind: 'NOT_FOUND',
      message: `could not find the entity with primary key '{id="${id}"}'`,
    })
    await rejectsWith(dao.update('services', 'ghost', { port: 1 }), {
      kind: 'NOT_FOUND',
      message: `could not find the entity with '{name="ghost"}'`,
      fields: { name: 'ghost' },
    })
  })

  test('concurrent patches of different fields never lose a write', async () => {
    const dao = await newDao()
    await dao.insert('services', { name: 'race', host: 'a.test' })
    await Promise.all([
      dao.update('services', 'race', { port: 1234 }),
      dao.update('services', 'race', { host: 'b.test' }),
      dao.update('services', 'race', { tags: ['t'] }),
    ])
    const row = await dao.select('services', 'race')
    assert.equal(row?.['port'], 1234)
    assert.equal(row?.['host'], 'b.test')
    assert.deepEqual(row?.['tags'], ['t'])
  })
})

describe('Dao.upsert', () => {
  test('creates with the endpoint key from the URL, then replaces keeping id and created_at', async () => {
    const dao = await newDao()
    const createdRow = await dao.upsert('services', 'my-svc', { host: 'a.test', port: 81 })
    assert.equal(createdRow['name'], 'my-svc')
    const replaced = await dao.upsert('services', 'my-svc', { host: 'b.test' })
    assert.equal(replaced.id, createdRow.id)
    assert.equal(replaced['created_at'], createdRow['created_at'])
    assert.equal(replaced['host'], 'b.test')
    assert.equal(replaced['port'], 80, 'fields left out of a PUT return to their defaults')
  })

  test('creates with the id from the URL', async () => {
    const dao = await newDao()
    const id = '0a0b0c0d-0000-4000-8000-000000000003'
    const row = await dao.upsert('services', id, { host: 'a.test' })
    assert.equal(row.id, id)
  })
})

describe('Dao.delete and on_delete', () => {
  test('restrict refuses while routes reference the service', async () => {
    const dao = await newDao()
    await dao.insert('services', { name: 's', host: 'a.test' })
    await dao.insert('routes', { paths: ['/a'], service: { name: 's' } })
    await rejectsWith(dao.delete('services', 's'), {
      kind: 'FOREIGN_KEY_VIOLATION',
      message: "an existing 'routes' entity references this 'services' entity",
      fields: { '@referenced_by': 'routes' },
    })
    assert.notEqual(await dao.select('services', 's'), null)
  })

  test('cascade deletes children and null clears references', async () => {
    const dao = await newDao()
    const svc = await dao.insert('services', { name: 's', host: 'a.test' })
    const plugin = await dao.insert('plugins', { name: 'p', service: { id: svc.id } })
    const note = await dao.insert('notes', { text: 'n', service: { id: svc.id } })
    const events: ChangeEvent[] = []
    dao.onChange((e) => events.push(e))
    assert.equal((await dao.delete('services', 's'))?.id, svc.id)
    assert.equal(await dao.select('plugins', plugin.id), null)
    assert.equal((await dao.select('notes', note.id))?.['service'], null)
    assert.deepEqual(events.map((e) => `${e.op} ${e.entity}`).sort(), ['delete plugins', 'delete services', 'update notes'])
  })

  test('deleting an absent row resolves null and emits nothing', async () => {
    const dao = await newDao()
    const events: ChangeEvent[] = []
    dao.onChange((e) => events.push(e))
    assert.equal(await dao.delete('services', 'ghost'), null)
    assert.equal(events.length, 0)
  })
})

describe('Dao events', () => {
  test('are emitted after commit, with old rows on update, and not on failure', async () => {
    const dao = await newDao()
    const events: ChangeEvent[] = []
    const stop = dao.onChange((e) => events.push(e))
    const svc = await dao.insert('services', { name: 'e', host: 'a.test' })
    await dao.update('services', 'e', { port: 1 })
    await assert.rejects(dao.insert('services', { name: 'e', host: 'b.test' }))
    assert.deepEqual(
      events.map((e) => e.op),
      ['create', 'update'],
    )
    assert.equal(events[1]?.old?.['port'], 80)
    assert.equal(events[1]?.row['port'], 1)
    assert.equal(events[0]?.row.id, svc.id)
    stop()
    await dao.update('services', 'e', { port: 2 })
    assert.equal(events.length, 2)
  })

  test('a throwing listener does not fail the write', async () => {
    const dao = await newDao()
    dao.onChange(() => {
      throw new Error('boom')
    })
    const row = await dao.insert('services', { host: 'a.test' })
    assert.notEqual(await dao.select('services', row.id), null)
  })
})

describe('Dao.page', () => {
  test('pages with offsets, filters by tags and foreign key, checks size', async () => {
    const dao = await newDao()
    for (let i = 0; i < 5; i++) await dao.insert('services', { name: `s${i}`, host: 'a.test', tags: i % 2 === 0 ? ['even'] : ['odd'] })
    const first = await dao.page('services', { size: 2 })
    assert.equal(first.data.length, 2)
    assert.ok(first.offset !== undefined)
    const second = await dao.page('services', { size: 2, offset: first.offset })
    assert.equal(second.data.length, 2)
    const even = await dao.page('services', { tags: { tags: ['even'], mode: 'and' } })
    assert.equal(even.data.length, 3)
    await rejectsWith(dao.page('services', { size: 1001 }), {
      kind: 'INVALID_SIZE',
      message: 'size must be an integer between 1 and 1000',
    })
    await assert.rejects(dao.page('services', { offset: 'garbage!!' }), (err: unknown) => {
      assert.ok(err instanceof DbError)
      assert.equal(err.kind, 'INVALID_OFFSET')
      assert.equal(err.message, `'garbage!!' is not a valid offset: bad base64 encoding`)
      return true
    })
    const svc = await dao.select('services', 's1')
    await dao.insert('routes', { paths: ['/a'], service: { name: 's1' } })
    await dao.insert('routes', { paths: ['/b'] })
    const owned = await dao.pageForForeign('routes', 'service', svc?.id ?? '', {})
    assert.equal(owned.data.length, 1)
  })
})
