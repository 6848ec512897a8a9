import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { validateEntity } from '../../../src/schema/validate.js'
import { consumers } from '../../../src/entities/consumers.js'
import { entityRegistry, pluginsEntity } from '../../../src/plugins/entity.js'
import { PluginRegistry } from '../../../src/plugins/registry.js'
import { jwtSecrets } from '../../../src/plugins/jwt/entities.js'
import { acls } from '../../../src/plugins/acl/entities.js'
import { hashBasicAuthPassword, verifyBasicAuthPassword } from '../../../src/plugins/basic-auth/entities.js'
import { randomString } from '../../../src/dao/random-string.js'
import { testPluginRegistry, keyAuth } from './test-plugins.js'

const plugins = pluginsEntity(testPluginRegistry())
const insert = (schema: Parameters<typeof validateEntity>[0], input: unknown) => validateEntity(schema, input, { mode: 'insert' })
const errorsOf = (schema: Parameters<typeof validateEntity>[0], input: unknown) => {
  const r = insert(schema, input)
  assert.equal(r.ok, false, 'expected a validation failure')
  return r.ok ? undefined : r.errors
}
const ID = '6e4f8c3a-1f57-4b35-9a6e-c4b0d9a2e011'

describe('consumers', () => {
  test('username or custom_id is required, with Kong message', () => {
    assert.deepEqual(errorsOf(consumers, {}), { '@entity': ["at least one of these fields must be non-empty: 'custom_id', 'username'"] })
    const r = insert(consumers, { username: 'bob' })
    assert.ok(r.ok)
    assert.deepEqual(r.row, { username: 'bob', custom_id: null, tags: null })
  })
})

describe('plugins entity', () => {
  test('config defaults come from the plugin schema; protocols default to the http ones', () => {
    const r = insert(plugins, { name: 'key-auth' })
    assert.ok(r.ok)
    assert.deepEqual(r.row['config'], {
      key_names: ['apikey'],
      hide_credentials: false,
      anonymous: null,
      key_in_header: true,
      key_in_query: true,
      key_in_body: false,
      run_on_preflight: true,
      realm: null,
    })
    assert.deepEqual(r.row['protocols'], ['grpc', 'grpcs', 'http', 'https'])
    assert.equal(r.row['enabled'], true)
    assert.equal(r.row['route'], null)
    assert.equal(r.row['consumer'], null)
    assert.equal(r.row['ordering'], null)
  })

  test('unknown config field and config checks use Kong shapes', () => {
    assert.deepEqual(errorsOf(plugins, { name: 'key-auth', config: { nope: 1 } }), { config: { nope: 'unknown field' } })
    assert.deepEqual(errorsOf(plugins, { name: 'rate-limiting', config: {} }), {
      config: { '@entity': ["at least one of these fields must be non-empty: 'minute', 'hour'"] },
    })
    assert.deepEqual(errorsOf(plugins, { name: 'rate-limiting', config: { minute: 0 } }), {
      config: { minute: 'value must be greater than 0' },
    })
  })

  test('no_consumer plugins refuse a consumer with Kong message; others accept one', () => {
    assert.deepEqual(errorsOf(plugins, { name: 'key-auth', consumer: { id: ID } }), { consumer: 'value must be null' })
    assert.ok(insert(plugins, { name: 'rate-limiting', consumer: { id: ID }, config: { minute: 5 } }).ok)
  })

  test('plugin protocols restrict the values', () => {
    assert.deepEqual(errorsOf(plugins, { name: 'key-auth', protocols: ['tcp'] }), {
      protocols: ['expected one of: grpc, grpcs, http, https'],
    })
    const r = insert(plugins, { name: 'ip-restriction' })
    assert.ok(r.ok)
    assert.deepEqual(r.row['protocols'], ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls'])
  })

  test('ordering: shape and contradictions are checked', () => {
    const ok = insert(plugins, { name: 'rate-limiting', config: { minute: 1 }, ordering: { before: { access: ['key-auth'] } } })
    assert.ok(ok.ok)
    assert.deepEqual(ok.row['ordering'], { before: { access: ['key-auth'] }, after: null })
    assert.deepEqual(errorsOf(plugins, { name: 'rate-limiting', config: { minute: 1 }, ordering: { before: { rewrite: ['x'] } } }), {
      ordering: { before: { rewrite: 'unknown field' } },
    })
    assert.deepEqual(errorsOf(plugins, { name: 'rate-limiting', config: { minute: 1 }, ordering: { before: { access: 'key-auth' } } }), {
      ordering: { before: { access: 'expected an array' } },
    })
    assert.deepEqual(
      errorsOf(plugins, {
        name: 'rate-limiting',
        config: { minute: 1 },
        ordering: { before: { access: ['acl'] }, after: { access: ['acl'] } },
      }),
      { ordering: { '@entity': ["plugin 'acl' cannot be both before and after this plugin in the access phase"] } },
    )
  })

  test('name is required; the engine reports unknown names as unknown type (the DAO rewords it)', () => {
    assert.deepEqual(errorsOf(plugins, {}), { name: 'required field missing' })
    assert.deepEqual(errorsOf(plugins, { name: 'nope' }), { name: 'unknown type: nope' })
    assert.equal(plugins.subschema_error, "plugin '%s' not enabled; add it to the 'plugins' configuration property")
  })

  test('entityRegistry adds consumers, plugins and plugin entities after the core ones', () => {
    const reg = entityRegistry(testPluginRegistry())
    assert.deepEqual(Object.keys(reg), [
      'certificates',
      'ca_certificates',
      'snis',
      'key_sets',
      'keys',
      'vaults',
      'services',
      'routes',
      'upstreams',
      'targets',
      'consumers',
      'plugins',
      'keyauth_credentials',
      'basicauth_credentials',
      'jwt_secrets',
      'acls',
    ])
    assert.throws(() => entityRegistry(new PluginRegistry([keyAuth, { ...keyAuth, name: 'key-auth-2' }])), /defined twice/)
  })
})

describe('credential entities', () => {
  test('jwt: default algorithm, Kong list, rsa_public_key required and parsed for key algorithms', () => {
    const r = insert(jwtSecrets, { consumer: { id: ID } })
    assert.ok(r.ok)
    assert.equal(r.row['algorithm'], 'HS256')
    assert.deepEqual(errorsOf(jwtSecrets, { consumer: { id: ID }, algorithm: 'none' }), {
      algorithm: 'expected one of: HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512, EdDSA',
    })
    for (const algorithm of ['RS256', 'ES384', 'PS512', 'EdDSA']) {
      assert.deepEqual(
        errorsOf(jwtSecrets, { consumer: { id: ID }, algorithm }),
        {
          rsa_public_key: 'required field missing',
          '@entity': ["failed conditional validation given value of field 'algorithm'"],
        },
        algorithm,
      )
    }
    assert.deepEqual(errorsOf(jwtSecrets, { consumer: { id: ID }, algorithm: 'RS256', rsa_public_key: 'not a key' }), {
      rsa_public_key: 'invalid key',
      '@entity': ["failed conditional validation given value of field 'algorithm'"],
    })
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()
    assert.ok(insert(jwtSecrets, { consumer: { id: ID }, algorithm: 'RS256', rsa_public_key: pem }).ok)
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()
    assert.ok(insert(jwtSecrets, { consumer: { id: ID }, algorithm: 'EdDSA', rsa_public_key: ed }).ok)
  })

  test('acls: group and consumer are required', () => {
    assert.deepEqual(errorsOf(acls, {}), { consumer: 'required field missing', group: 'required field missing' })
  })

  test('basic-auth digest is Kong format: hex sha1(password .. consumer_id)', () => {
    // `printf secret6e4f8c3a-1f57-4b35-9a6e-c4b0d9a2e011 | sha1sum`
    const digest = hashBasicAuthPassword(ID, 'secret')
    assert.equal(digest, '7e78984985c1851d1af9cce1d13a0e0b731360ec')
    assert.ok(verifyBasicAuthPassword(ID, 'secret', digest))
    assert.ok(!verifyBasicAuthPassword(ID, 'Secret', digest))
  })

  test('random strings look like Kong keys: 32 alphanumeric characters, distinct', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const s = randomString()
      assert.match(s, /^[A-Za-z0-9]{32}$/)
      seen.add(s)
    }
    assert.equal(seen.size, 200)
  })
})
