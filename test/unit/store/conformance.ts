/**
 * One behaviour suite for every Store implementation (memory, sqlite, later postgres).
 * `makeStore` returns a fresh, empty store that the suite initialises and closes.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { StoreError, type Row, type Store } from '../../../src/store/types.js'
import { ENTITIES, consumers, keyauthCredentials, plugins, routes, service, services, sleep, uid } from './fixtures.js'

/** Asserts that `promise` rejects with a StoreError of this code (and these fields). */
async function rejectsWith(promise: Promise<unknown>, code: StoreError['code'], fields?: Record<string, unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected StoreError, got ${String(err)}`)
    assert.equal(err.code, code)
    if (fields !== undefined) assert.deepEqual(err.fields, fields)
    return true
  })
}

/** Registers the conformance suite for one store implementation. */
export function runStoreConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    /** Runs `fn` against a fresh initialised store, closing it afterwards. */
    async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
      const store = await makeStore()
      await store.init(ENTITIES)
      try {
        await fn(store)
      } finally {
        await store.close()
      }
    }

    test('insert then select returns an equal copy; missing ids are null', () =>
      withStore(async (store) => {
        const row = service(1, { tags: ['a'], nested: { x: [1, 2] } })
        const inserted = await store.insert('services', row)
        assert.deepEqual(inserted, row)
        const got = await store.select('services', uid(1))
        assert.deepEqual(got, row)
        assert.ok(got !== null)
        got['name'] = 'changed'
        assert.equal((await store.select('services', uid(1)))?.['name'], 'svc-1')
        assert.equal(await store.select('services', uid(2)), null)
      }))

    test('selectByUnique finds by value, not by null', () =>
      withStore(async (store) => {
        await store.insert('consumers', { id: uid(1), username: 'alice', custom_id: null })
        await store.insert('consumers', { id: uid(2), username: null, custom_id: 'c-2' })
        assert.equal((await store.selectByUnique('consumers', 'username', 'alice'))?.id, uid(1))
        assert.equal((await store.selectByUnique('consumers', 'custom_id', 'c-2'))?.id, uid(2))
        assert.equal(await store.selectByUnique('consumers', 'username', 'bob'), null)
        assert.equal(await store.selectByUnique('consumers', 'custom_id', null), null)
      }))

    test('selectByCacheKey matches nulls and foreign ids', () =>
      withStore(async (store) => {
        await store.insert('services', service(1))
        await store.insert('plugins', { id: uid(10), name: 'cors', route: null, service: null, consumer: null })
        await store.insert('plugins', { id: uid(11), name: 'cors', route: null, service: { id: uid(1) }, consumer: null })
        assert.equal((await store.selectByCacheKey('plugins', ['cors', null, null, null]))?.id, uid(10))
        assert.equal((await store.selectByCacheKey('plugins', ['cors', null, uid(1), null]))?.id, uid(11))
        assert.equal(await store.selectByCacheKey('plugins', ['cors', uid(1), null, null]), null)
        assert.equal(await store.selectByCacheKey('plugins', ['acl', null, null, null]), null)
      }))

    test('unique violation names the field; nulls never collide', () =>
      withStore(async (store) => {
        await store.insert('services', service(1, { name: 'a' }))
        await rejectsWith(store.insert('services', service(2, { name: 'a' })), 'UNIQUE_VIOLATION', { name: 'a' })
        await assert.rejects(store.insert('services', service(2, { name: 'a' })), {
          message: `UNIQUE violation detected on '{name="a"}'`,
        })
        assert.equal(await store.select('services', uid(2)), null)
        await store.insert('services', service(3, { name: null }))
        await store.insert('services', service(4, { name: null }))
        const { id: _drop, ...noName } = service(6)
        void _drop
        await store.insert('services', { ...noName, id: uid(5), name: undefined })
        assert.equal((await store.all('services')).length, 4)
        await store.insert('consumers', { id: uid(7), username: 'u', custom_id: 'c' })
        await rejectsWith(store.insert('consumers', { id: uid(8), username: 'v', custom_id: 'c' }), 'UNIQUE_VIOLATION', {
          custom_id: 'c',
        })
      }))

    test('composite cache key violation lists every key field, foreign ones as {id}', () =>
      withStore(async (store) => {
        await store.insert('plugins', { id: uid(1), name: 'cors', route: null, service: null, consumer: null })
        await rejectsWith(
          store.insert('plugins', { id: uid(2), name: 'cors', route: null, service: null, consumer: null }),
          'UNIQUE_VIOLATION',
          { name: 'cors', route: null, service: null, consumer: null },
        )
        await store.insert('plugins', { id: uid(3), name: 'cors', route: null, service: { id: uid(50) }, consumer: null })
        await rejectsWith(
          store.insert('plugins', { id: uid(4), name: 'cors', route: null, service: { id: uid(50) }, consumer: null }),
          'UNIQUE_VIOLATION',
          { name: 'cors', route: null, service: { id: uid(50) }, consumer: null },
        )
        await assert.rejects(store.insert('plugins', { id: uid(6), name: 'cors', route: null, service: { id: uid(50) }, consumer: null }), {
          message: `UNIQUE violation detected on '{consumer=null,name="cors",route=null,service={id="${uid(50)}"}}'`,
        })
        await store.insert('plugins', { id: uid(5), name: 'acl', route: null, service: { id: uid(50) }, consumer: null })
        assert.equal((await store.all('plugins')).length, 3)
      }))

    test('duplicate id is a primary key violation', () =>
      withStore(async (store) => {
        await store.insert('services', service(1))
        await rejectsWith(store.insert('services', service(1, { name: 'other' })), 'PRIMARY_KEY_VIOLATION')
        assert.equal((await store.select('services', uid(1)))?.['name'], 'svc-1')
      }))

    test('update replaces the row, moves unique values, and a violation keeps the old row', () =>
      withStore(async (store) => {
        await store.insert('services', service(1, { name: 'a' }))
        await store.insert('services', service(2, { name: 'b' }))
        const updated = await store.update('services', service(1, { name: 'c', port: 8080 }))
        assert.deepEqual(updated, service(1, { name: 'c', port: 8080 }))
        assert.equal(await store.selectByUnique('services', 'name', 'a'), null)
        assert.equal((await store.selectByUnique('services', 'name', 'c'))?.id, uid(1))
        await store.insert('services', service(3, { name: 'a' }))
        await rejectsWith(store.update('services', service(1, { name: 'b', port: 1 })), 'UNIQUE_VIOLATION', { name: 'b' })
        assert.deepEqual(await store.select('services', uid(1)), service(1, { name: 'c', port: 8080 }))
        assert.equal((await store.selectByUnique('services', 'name', 'b'))?.id, uid(2))
        assert.equal(await store.update('services', service(99)), null)
        assert.equal(await store.select('services', uid(99)), null)
      }))

    test('update of a cache-key field is checked against other rows only', () =>
      withStore(async (store) => {
        await store.insert('plugins', { id: uid(1), name: 'cors', route: null, service: null, consumer: null })
        await store.insert('plugins', { id: uid(2), name: 'acl', route: null, service: null, consumer: null })
        await store.update('plugins', { id: uid(1), name: 'cors', route: null, service: null, consumer: null, enabled: false })
        await rejectsWith(
          store.update('plugins', { id: uid(2), name: 'cors', route: null, service: null, consumer: null }),
          'UNIQUE_VIOLATION',
        )
        assert.equal((await store.select('plugins', uid(2)))?.['name'], 'acl')
      }))

    test('delete removes the row, its unique values and its tags', () =>
      withStore(async (store) => {
        await store.insert('services', service(1, { name: 'a', tags: ['t'] }))
        assert.equal(await store.delete('services', uid(1)), true)
        assert.equal(await store.delete('services', uid(1)), false)
        assert.equal(await store.select('services', uid(1)), null)
        assert.deepEqual((await store.tags({ size: 10 })).data, [])
        await store.insert('services', service(2, { name: 'a' }))
      }))

    test('page walks several pages ordered by id with a stable keyset', () =>
      withStore(async (store) => {
        // Inserted out of order: paging must still follow id order.
        for (const n of [5, 3, 9, 1, 7, 2, 8, 4, 6, 10, 12, 11, 20, 14, 13, 16, 15, 18, 17, 19, 22, 21, 25, 24, 23]) {
          await store.insert('services', service(n * 2))
        }
        const first = await store.page('services', { size: 10 })
        assert.equal(first.data.length, 10)
        assert.ok(typeof first.offset === 'string')
        // A row inserted before the cursor does not shift the next page.
        await store.insert('services', service(1))
        const second = await store.page('services', { size: 10, offset: first.offset })
        assert.ok(second.offset !== undefined)
        const third = await store.page('services', { size: 10, offset: second.offset })
        assert.equal(third.offset, undefined)
        const ids = [...first.data, ...second.data, ...third.data].map((r) => r.id)
        const expected = Array.from({ length: 25 }, (_, i) => uid((i + 1) * 2))
        assert.deepEqual(ids, expected)
        assert.equal(third.data.length, 5)
        const exact = await store.page('services', { size: 26 })
        assert.equal(exact.data.length, 26)
        assert.equal(exact.offset, undefined)
        const empty = await store.page('routes', { size: 10 })
        assert.deepEqual(empty, { data: [] })
      }))

    test('invalid offsets are rejected', () =>
      withStore(async (store) => {
        await store.insert('services', service(1))
        for (const bad of [
          'garbage!!',
          'abc',
          '',
          Buffer.from('{"a":1}').toString('base64url'),
          Buffer.from('[1]').toString('base64url'),
        ]) {
          await rejectsWith(store.page('services', { size: 10, offset: bad }), 'INVALID_OFFSET')
        }
        await rejectsWith(store.tags({ size: 10, offset: 'zzz' }), 'INVALID_OFFSET')
      }))

    test('tag filters: and / or', () =>
      withStore(async (store) => {
        await store.insert('services', service(1, { tags: ['a', 'b'] }))
        await store.insert('services', service(2, { tags: ['a'] }))
        await store.insert('services', service(3, { tags: ['b', 'c'] }))
        await store.insert('services', service(4, { tags: null }))
        const ids = async (tags: readonly string[], mode: 'and' | 'or'): Promise<string[]> =>
          (await store.page('services', { size: 100, tags: { tags, mode } })).data.map((r) => r.id)
        assert.deepEqual(await ids(['a', 'b'], 'and'), [uid(1)])
        assert.deepEqual(await ids(['a', 'b'], 'or'), [uid(1), uid(2), uid(3)])
        assert.deepEqual(await ids(['a'], 'and'), [uid(1), uid(2)])
        assert.deepEqual(await ids(['c', 'z'], 'or'), [uid(3)])
        assert.deepEqual(await ids(['z'], 'and'), [])
        const p1 = await store.page('services', { size: 1, tags: { tags: ['a', 'b'], mode: 'or' } })
        assert.deepEqual(
          p1.data.map((r) => r.id),
          [uid(1)],
        )
        assert.ok(p1.offset !== undefined)
        const p2 = await store.page('services', { size: 2, offset: p1.offset, tags: { tags: ['a', 'b'], mode: 'or' } })
        assert.deepEqual(
          p2.data.map((r) => r.id),
          [uid(2), uid(3)],
        )
        assert.equal(p2.offset, undefined)
      }))

    test('foreign filter pages the rows pointing at one id', () =>
      withStore(async (store) => {
        for (let n = 1; n <= 7; n++) {
          await store.insert('routes', { id: uid(n), name: `r${n}`, service: { id: n % 2 === 0 ? uid(100) : uid(200) } })
        }
        await store.insert('routes', { id: uid(8), name: 'r8', service: null })
        const p1 = await store.page('routes', { size: 2, foreign: { field: 'service', id: uid(200) } })
        assert.deepEqual(
          p1.data.map((r) => r.id),
          [uid(1), uid(3)],
        )
        const p2 = await store.page('routes', { size: 2, offset: p1.offset as string, foreign: { field: 'service', id: uid(200) } })
        assert.deepEqual(
          p2.data.map((r) => r.id),
          [uid(5), uid(7)],
        )
        assert.equal(p2.offset, undefined)
        const even = await store.page('routes', { size: 10, foreign: { field: 'service', id: uid(100) } })
        assert.deepEqual(
          even.data.map((r) => r.id),
          [uid(2), uid(4), uid(6)],
        )
        const none = await store.page('routes', { size: 10, foreign: { field: 'service', id: uid(300) } })
        assert.deepEqual(none.data, [])
      }))

    test('where matches a unique field exactly', () =>
      withStore(async (store) => {
        await store.insert('consumers', { id: uid(1), username: 'a', custom_id: 'x' })
        await store.insert('consumers', { id: uid(2), username: 'b', custom_id: 'y' })
        const page = await store.page('consumers', { size: 10, where: { field: 'custom_id', value: 'y' } })
        assert.deepEqual(
          page.data.map((r) => r.id),
          [uid(2)],
        )
        assert.equal(page.offset, undefined)
        const none = await store.page('consumers', { size: 10, where: { field: 'custom_id', value: 'z' } })
        assert.deepEqual(none.data, [])
      }))

    test('all returns every row ordered by id', () =>
      withStore(async (store) => {
        for (const n of [3, 1, 2]) await store.insert('services', service(n))
        assert.deepEqual(
          (await store.all('services')).map((r) => r.id),
          [uid(1), uid(2), uid(3)],
        )
        assert.deepEqual(await store.all('routes'), [])
      }))

    test('transaction commits every write together', () =>
      withStore(async (store) => {
        await store.insert('services', service(9))
        const result = await store.transaction(async (tx) => {
          await tx.insert('services', service(1))
          await tx.insert('routes', { id: uid(2), name: 'r', service: { id: uid(1) } })
          await tx.update('services', service(9, { port: 9 }))
          assert.equal((await tx.select('services', uid(1)))?.id, uid(1))
          return 'done'
        })
        assert.equal(result, 'done')
        assert.equal((await store.select('routes', uid(2)))?.['name'], 'r')
        assert.equal((await store.select('services', uid(9)))?.['port'], 9)
      }))

    test('transaction rolls everything back when the body throws', () =>
      withStore(async (store) => {
        await store.insert('services', service(1, { name: 'keep', tags: ['x'] }))
        await store.insert('services', service(2))
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insert('services', service(3, { name: 'new', tags: ['y'] }))
            await tx.update('services', service(1, { name: 'renamed', tags: ['z'] }))
            await tx.delete('services', uid(2))
            throw new Error('boom')
          }),
          /boom/,
        )
        assert.equal(await store.select('services', uid(3)), null)
        assert.deepEqual(await store.select('services', uid(1)), service(1, { name: 'keep', tags: ['x'] }))
        assert.equal((await store.selectByUnique('services', 'name', 'keep'))?.id, uid(1))
        assert.equal(await store.selectByUnique('services', 'name', 'renamed'), null)
        assert.equal((await store.select('services', uid(2)))?.id, uid(2))
        assert.deepEqual(
          (await store.tags({ size: 10 })).data.map((t) => t.tag),
          ['x'],
        )
        // A store error inside is also rolled back and surfaces unchanged.
        await rejectsWith(
          store.transaction(async (tx) => {
            await tx.insert('services', service(4))
            await tx.insert('services', service(5, { name: 'keep' }))
          }),
          'UNIQUE_VIOLATION',
          { name: 'keep' },
        )
        assert.equal(await store.select('services', uid(4)), null)
      }))

    test('nested transaction rolls back alone', () =>
      withStore(async (store) => {
        await store.transaction(async (tx) => {
          await tx.insert('services', service(1))
          await assert.rejects(
            tx.transaction(async (inner) => {
              await inner.insert('services', service(2))
              throw new Error('inner')
            }),
            /inner/,
          )
          await tx.insert('services', service(3))
        })
        assert.deepEqual(
          (await store.all('services')).map((r) => r.id),
          [uid(1), uid(3)],
        )
      }))

    test('main-handle operations wait for an open transaction', () =>
      withStore(async (store) => {
        const order: string[] = []
        const tx = store.transaction(async (t) => {
          await t.insert('services', service(1))
          await sleep(30)
          order.push('tx-done')
          throw new Error('abort')
        })
        const outside = (async () => {
          await sleep(5)
          const seen = await store.select('services', uid(1))
          order.push(`outside-saw-${seen === null ? 'nothing' : 'row'}`)
          await store.insert('services', service(2))
        })()
        await assert.rejects(tx, /abort/)
        await outside
        assert.deepEqual(order, ['tx-done', 'outside-saw-nothing'])
        assert.deepEqual(
          (await store.all('services')).map((r) => r.id),
          [uid(2)],
        )
      }))

    test('using the main handle inside its own transaction fails instead of hanging', () =>
      withStore(async (store) => {
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insert('services', service(1))
            await store.select('services', uid(1))
          }),
          (err: unknown) => err instanceof StoreError && err.code === 'DATABASE_ERROR',
        )
        assert.equal(await store.select('services', uid(1)), null)
        // A tx handle used after its transaction ended is rejected too.
        let leaked: Store | undefined
        await store.transaction(async (tx) => {
          leaked = tx
        })
        await rejectsWith((leaked as Store).select('services', uid(1)), 'DATABASE_ERROR')
      }))

    test('concurrent writes and transactions lose nothing', () =>
      withStore(async (store) => {
        const writes: Promise<unknown>[] = []
        for (let n = 1; n <= 40; n++) writes.push(store.insert('services', service(n)))
        for (let n = 0; n < 10; n++) {
          writes.push(
            store.transaction(async (tx) => {
              await tx.insert('routes', { id: uid(100 + n), name: `r${n}`, service: { id: uid(1) } })
              await sleep(1)
              await tx.insert('routes', { id: uid(200 + n), name: `q${n}`, service: null })
            }),
          )
        }
        await Promise.all(writes)
        assert.equal((await store.all('services')).length, 40)
        assert.equal((await store.all('routes')).length, 20)
        // Concurrent updates of one row: the last one wins, none fails.
        await Promise.all(Array.from({ length: 10 }, (_, i) => store.update('services', service(1, { port: i }))))
        assert.equal((await store.select('services', uid(1)))?.['port'], 9)
      }))

    test('ttl rows expire and become invisible everywhere', () =>
      withStore(async (store) => {
        const cred = (n: number, key: string): Row => ({ id: uid(n), key, consumer: { id: uid(50) }, tags: ['t'] })
        await store.insert('keyauth_credentials', cred(1, 'short'), { ttl: 1 })
        await store.insert('keyauth_credentials', cred(2, 'long'), { ttl: 3600 })
        await store.insert('keyauth_credentials', cred(3, 'forever'))
        assert.equal((await store.selectByUnique('keyauth_credentials', 'key', 'short'))?.id, uid(1))
        assert.equal((await store.select('keyauth_credentials', uid(1)))?.['expires_at'], undefined)
        await sleep(1100)
        assert.equal(await store.select('keyauth_credentials', uid(1)), null)
        assert.equal(await store.selectByUnique('keyauth_credentials', 'key', 'short'), null)
        assert.deepEqual(
          (await store.all('keyauth_credentials')).map((r) => r.id),
          [uid(2), uid(3)],
        )
        const page = await store.page('keyauth_credentials', { size: 10, foreign: { field: 'consumer', id: uid(50) } })
        assert.deepEqual(
          page.data.map((r) => r.id),
          [uid(2), uid(3)],
        )
        assert.deepEqual(
          (await store.tags({ size: 10 })).data.map((t) => t.entity_id),
          [uid(2), uid(3)],
        )
        assert.equal(await store.update('keyauth_credentials', cred(1, 'short')), null)
        assert.equal(await store.delete('keyauth_credentials', uid(1)), false)
        // The expired key and id are free again.
        await store.insert('keyauth_credentials', cred(1, 'short'))
        assert.equal((await store.selectByUnique('keyauth_credentials', 'key', 'short'))?.id, uid(1))
      }))

    test('tags() lists (tag, entity_name, entity_id) in order, filters by tag and pages', () =>
      withStore(async (store) => {
        await store.insert('services', service(2, { tags: ['b', 'a', 'a'] }))
        await store.insert('services', service(1, { tags: ['b'] }))
        await store.insert('routes', { id: uid(3), name: 'r', service: null, tags: ['a'] })
        const all = await store.tags({ size: 100 })
        assert.deepEqual(
          all.data,
          [
            { tag: 'a', entity_name: 'routes', entity_id: uid(3) },
            { tag: 'a', entity_name: 'services', entity_id: uid(2) },
            { tag: 'b', entity_name: 'services', entity_id: uid(1) },
            { tag: 'b', entity_name: 'services', entity_id: uid(2) },
          ].map((r) => ({ entity_name: r.entity_name, entity_id: r.entity_id, tag: r.tag })),
        )
        assert.equal(all.offset, undefined)
        const byB = await store.tags({ size: 100, tag: 'b' })
        assert.deepEqual(
          byB.data.map((r) => r.entity_id),
          [uid(1), uid(2)],
        )
        const seen: string[] = []
        let offset: string | undefined
        let pages = 0
        do {
          const page = await store.tags(offset === undefined ? { size: 3 } : { size: 3, offset })
          seen.push(...page.data.map((r) => `${r.tag}/${r.entity_id}`))
          offset = page.offset
          pages++
        } while (offset !== undefined)
        assert.equal(pages, 2)
        assert.deepEqual(
          seen,
          all.data.map((r) => `${r.tag}/${r.entity_id}`),
        )
        // Updating tags replaces them.
        await store.update('services', service(2, { tags: ['c'] }))
        assert.deepEqual(
          (await store.tags({ size: 100, tag: 'c' })).data.map((r) => r.entity_id),
          [uid(2)],
        )
        assert.deepEqual(
          (await store.tags({ size: 100, tag: 'b' })).data.map((r) => r.entity_id),
          [uid(1)],
        )
      }))

    test('init is idempotent and accepts new entities later', async () => {
      const store = await makeStore()
      try {
        await store.init([services])
        await store.insert('services', service(1))
        await store.init([services])
        await store.init([services, routes, plugins, keyauthCredentials])
        assert.equal((await store.select('services', uid(1)))?.id, uid(1))
        await store.insert('routes', { id: uid(2), name: 'r', service: { id: uid(1) } })
        assert.equal((await store.all('routes')).length, 1)
      } finally {
        await store.close()
      }
    })

    test('init upgrades: a field that becomes unique is indexed from the existing rows', async () => {
      const store = await makeStore()
      try {
        await store.init([{ ...consumers, unique: ['username'] }])
        await store.insert('consumers', { id: uid(1), username: 'a', custom_id: 'x' })
        await store.insert('consumers', { id: uid(2), username: 'b', custom_id: null })
        await store.init([consumers])
        assert.equal((await store.selectByUnique('consumers', 'custom_id', 'x'))?.id, uid(1))
        await rejectsWith(store.insert('consumers', { id: uid(3), username: 'c', custom_id: 'x' }), 'UNIQUE_VIOLATION', {
          custom_id: 'x',
        })
      } finally {
        await store.close()
      }
    })

    test('init refuses an upgrade that existing rows violate, keeping the old layout', async () => {
      const store = await makeStore()
      try {
        await store.init([{ ...consumers, unique: ['username'] }])
        await store.insert('consumers', { id: uid(1), username: 'a', custom_id: 'same' })
        await store.insert('consumers', { id: uid(2), username: 'b', custom_id: 'same' })
        await rejectsWith(store.init([consumers]), 'DATABASE_ERROR')
        await store.insert('consumers', { id: uid(3), username: 'c', custom_id: 'same' })
        await rejectsWith(store.insert('consumers', { id: uid(4), username: 'c', custom_id: null }), 'UNIQUE_VIOLATION', {
          username: 'c',
        })
        assert.equal((await store.all('consumers')).length, 3)
      } finally {
        await store.close()
      }
    })

    test('unknown entity is a database error; reachable() reports the backend', () =>
      withStore(async (store) => {
        await rejectsWith(store.select('nope', uid(1)), 'DATABASE_ERROR')
        assert.equal(await store.reachable(), true)
      }))
  })
}
