import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createMemoryStore } from '../../../src/store/memory/memory-store.js'
import { runStoreConformance } from './conformance.js'
import { services, service, uid } from './fixtures.js'

runStoreConformance('memory', () => Promise.resolve(createMemoryStore()))

test('memory: an injected clock drives ttl expiry', async () => {
  let now = 1_000_000
  const store = createMemoryStore({ now: () => now })
  await store.init([{ ...services, ttl: true }])
  await store.insert('services', service(1), { ttl: 10 })
  now += 9_999
  assert.equal((await store.select('services', uid(1)))?.id, uid(1))
  now += 1
  assert.equal(await store.select('services', uid(1)), null)
})
