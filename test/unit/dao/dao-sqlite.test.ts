/** The DAO over the real SQLite store (temp file): atomic cascades and concurrent writes. */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Dao } from '../../../src/dao/index.js'
import { storeEntity } from '../../../src/schema/index.js'
import { createStore } from '../../../src/store/index.js'
import { REGISTRY } from './fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'turnpike-dao-'))
after(() => rmSync(dir, { recursive: true, force: true }))

async function sqliteDao(name: string): Promise<{ dao: Dao; close: () => Promise<void> }> {
  const store = createStore({ kind: 'sqlite', path: join(dir, `${name}.db`) })
  await store.init(Object.values(REGISTRY).map(storeEntity))
  return { dao: new Dao(store, REGISTRY), close: () => store.close() }
}

describe('Dao over sqlite', () => {
  test('concurrent inserts and patches are all kept', async () => {
    const { dao, close } = await sqliteDao('concurrent')
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => dao.insert('services', { name: `s${i}`, host: 'a.test' })),
      )
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 20)
      assert.equal((await dao.page('services', { size: 100 })).data.length, 20)
      await Promise.all([dao.update('services', 's0', { port: 1 }), dao.update('services', 's0', { host: 'b.test' })])
      const row = await dao.select('services', 's0')
      assert.equal(row?.['port'], 1)
      assert.equal(row?.['host'], 'b.test')
    } finally {
      await close()
    }
  })

  test('restrict is checked before any cascade runs', async () => {
    const { dao, close } = await sqliteDao('cascade')
    try {
      const svc = await dao.insert('services', { name: 's', host: 'a.test' })
      const plugin = await dao.insert('plugins', { name: 'p', service: { id: svc.id } })
      await dao.insert('routes', { paths: ['/a'], service: { id: svc.id } })
      await assert.rejects(dao.delete('services', 's'))
      assert.notEqual(await dao.select('plugins', plugin.id), null)
      assert.notEqual(await dao.select('services', 's'), null)
    } finally {
      await close()
    }
  })
})
