/** keys and key_sets: Kong 3.9's JWK and PEM checks and messages, sets by name, cascade. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { Dao } from '../../../src/dao/index.js'
import { ENTITIES, keys } from '../../../src/entities/index.js'
import { storeEntity, validateEntity } from '../../../src/schema/index.js'
import { createStore } from '../../../src/store/index.js'

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const pemOf = (k: typeof rsa) => ({
  private_key: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  public_key: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
})
const jwkOf = (k: typeof rsa, kid: string, priv = false) =>
  JSON.stringify({ ...(priv ? k.privateKey : k.publicKey).export({ format: 'jwk' }), kid, alg: 'RS256' })

const errorsOf = (input: unknown): unknown => {
  const r = validateEntity(keys, input, { mode: 'insert' })
  assert.equal(r.ok, false, 'expected a validation failure')
  return r.ok ? undefined : r.errors
}
const valid = (input: unknown): void => {
  const r = validateEntity(keys, input, { mode: 'insert' })
  assert.ok(r.ok, JSON.stringify(r.ok ? null : r.errors))
}

describe('keys: validation', () => {
  test('JWK (public, private, EC) and PEM (pair, one half) are valid', () => {
    valid({ kid: 'a', jwk: jwkOf(rsa, 'a') })
    valid({ kid: 'b', jwk: jwkOf(rsa, 'b', true) })
    valid({ kid: 'c', jwk: JSON.stringify({ ...ec.publicKey.export({ format: 'jwk' }), kid: 'c' }) })
    valid({ kid: 'd', pem: pemOf(rsa) })
    valid({ kid: 'e', pem: { public_key: pemOf(rsa).public_key } })
    valid({ kid: 'f', pem: { private_key: pemOf(ec).private_key } })
  })

  test("Kong's JWK messages", () => {
    assert.deepEqual(errorsOf({ kid: 'a', jwk: '{nope' }), { '@entity': ['could not json decode jwk string'] })
    assert.deepEqual(errorsOf({ kid: 'a', jwk: jwkOf(rsa, 'b') }), { '@entity': ['kid in jwk.kid must be equal to keys.kid'] })
    assert.deepEqual(errorsOf({ kid: 'a', jwk: JSON.stringify({ kty: 'RSA', kid: 'a', e: 'AQAB' }) }), {
      '@entity': ['could not load JWK, likely not a valid key'],
    })
  })

  test("Kong's PEM messages", () => {
    assert.deepEqual(errorsOf({ kid: 'a', pem: { private_key: pemOf(rsa).private_key, public_key: pemOf(other).public_key } }), {
      pem: 'public key does not match private key',
    })
    assert.deepEqual(errorsOf({ kid: 'a', pem: { public_key: 'nope' } }), { pem: 'could not load public key' })
    assert.match(
      String((errorsOf({ kid: 'a', pem: { private_key: 'nope' } }) as Record<string, unknown>)['pem']),
      /^could not load private key/,
    )
    assert.deepEqual(errorsOf({ kid: 'a', pem: {} }), {
      pem: { '@entity': ["at least one of these fields must be non-empty: 'private_key', 'public_key'"] },
    })
  })

  test('exactly one of jwk and pem; kid required', () => {
    assert.deepEqual(errorsOf({ kid: 'a', jwk: jwkOf(rsa, 'a'), pem: pemOf(rsa) }), {
      '@entity': ["only one or none of these fields must be set: 'jwk', 'pem'"],
    })
    assert.deepEqual(errorsOf({ kid: 'a' }), { '@entity': ["at least one of these fields must be non-empty: 'jwk', 'pem'"] })
    assert.deepEqual(errorsOf({ jwk: jwkOf(rsa, 'a') }), { kid: 'required field missing' })
  })
})

describe('keys and key_sets: DAO', () => {
  test('a key joins a set by name; deleting the set deletes its keys', async () => {
    const store = createStore({ kind: 'memory' })
    await store.init(Object.values(ENTITIES).map(storeEntity))
    const dao = new Dao(store, ENTITIES)
    const set = await dao.insert('key_sets', { name: 'signing' })
    const key = await dao.insert('keys', { name: 'k1', kid: 'k1', jwk: jwkOf(rsa, 'k1'), set: { name: 'signing' } })
    assert.deepEqual(key['set'], { id: set.id })
    assert.equal((await dao.pageForForeign('keys', 'set', set.id)).data.length, 1)
    await dao.delete('key_sets', 'signing')
    assert.equal(await dao.select('keys', 'k1'), null)
  })
})
