/**
 * Vault references (issue 16): Kong 3.9's reference syntax and errors (`kong/pdk/vault.lua`), the
 * env vault's variable names (`kong/vaults/env`), the vaults entity's and referenceable fields'
 * validation, and the resolution of a whole configuration before it is compiled.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { certificates, keys, vaults, vaultsEntity } from '../../../src/entities/index.js'
import { entityRegistry } from '../../../src/plugins/entity.js'
import { loadPlugins } from '../../../src/plugins/registry.js'
import { validateEntity } from '../../../src/schema/index.js'
import { buildSnapshot, type ConfigPayload } from '../../../src/snapshot/snapshot.js'
import {
  parseReference,
  type ReferenceProblem,
  ReferenceResolver,
  VaultResolver,
  type VaultSettings,
} from '../../../src/snapshot/vault-references.js'
import { makeCert } from '../../helpers/certs.js'

const NO_VALUE = 'could not get value from external vault (no value found)'
const ID = '13c562a1-191c-4464-9b18-e5222b46035b'
const settings = (env: Record<string, string>, more: Partial<VaultSettings> = {}): VaultSettings => ({
  loaded: ['env'],
  envPrefix: null,
  env,
  ...more,
})
const vaultRow = (prefix: string, config: Record<string, unknown>) => ({ id: ID, name: 'env', prefix, config })
const value = (r: ReturnType<VaultResolver['resolve']>): string => {
  assert.ok('value' in r, JSON.stringify(r))
  return r.value
}
const error = (r: ReturnType<VaultResolver['resolve']>): string => {
  assert.ok('error' in r, JSON.stringify(r))
  return r.error
}

describe('parseReference (Kong parse_reference)', () => {
  test('name, resource, key, query config and version', () => {
    assert.deepEqual(parseReference('{vault://env/cert/key?prefix=SSL_#1}'), {
      name: 'env',
      resource: 'cert',
      key: 'key',
      config: { prefix: 'SSL_' },
      version: 1,
    })
    assert.deepEqual(parseReference('{vault://my-env-vault/a/b/c}'), {
      name: 'my-env-vault',
      resource: 'a/b',
      key: 'c',
      config: {},
      version: null,
    })
    assert.deepEqual(parseReference('{vault://env/dir/}'), { name: 'env', resource: 'dir', key: null, config: {}, version: null })
  })

  test("Kong's messages for malformed references", () => {
    assert.equal(parseReference('{vault:/env/x}'), 'not a reference [{vault:/env/x}]')
    assert.equal(parseReference('{vault:///x}'), 'reference url is missing host [{vault:///x}]')
    assert.equal(parseReference('{vault://env}'), 'reference url is missing path [{vault://env}]')
    assert.equal(parseReference('{vault://env/}'), 'reference url has empty path [{vault://env/}]')
    assert.equal(parseReference('{vault://env/x#v1}'), 'reference url has invalid version [{vault://env/x#v1}]')
  })
})

describe('the env vault', () => {
  test('the variable is upper-cased, - as _, after vault_env_prefix, ?prefix= or the entity config.prefix', () => {
    const env = { MY_SECRET: 'a', SSL_CERT: 'b', MY_SECRET_CERT: 'c', X_TOKEN: 'd', MY_SECRET_PREVIOUS: 'old', CERT: 'e' }
    const r = new VaultResolver(settings(env), [
      vaultRow('my-env-vault', { prefix: 'MY_SECRET_' }),
      vaultRow('dashed', { prefix: 'my-secret-' }),
    ])
    assert.equal(value(r.resolve('{vault://env/my-secret}')), 'a')
    assert.equal(value(r.resolve('{vault://env/cert?prefix=ssl_}')), 'b')
    assert.equal(value(r.resolve('{vault://my-env-vault/cert}')), 'c')
    assert.equal(value(r.resolve('{vault://dashed/cert}')), 'c')
    assert.equal(
      value(r.resolve('{vault://my-env-vault/cert?prefix=}')),
      'e',
      "an override the schema refuses is dropped (Kong's `override or base`, then validation), not replaced by the entity's",
    )
    assert.equal(value(r.resolve('{vault://env/my-secret#2}')), 'old')
    const prefixed = new VaultResolver(settings(env, { envPrefix: 'X_' }), [])
    assert.equal(value(prefixed.resolve('{vault://env/token}')), 'd')
  })

  test('/key reads a flat JSON object, with Kong messages when it cannot', () => {
    const env = { DB: '{"username":"user","password":"pass","n":1}', TEXT: 'plain' }
    const r = new VaultResolver(settings(env), [])
    assert.equal(value(r.resolve('{vault://env/db/username}')), 'user')
    assert.equal(value(r.resolve('{vault://env/db/password}')), 'pass')
    assert.equal(
      error(r.resolve('{vault://env/db/nope}')),
      'could not get value from external vault (could not get subfield value: subfield nope not found in JSON secret)',
    )
    assert.match(error(r.resolve('{vault://env/db/n}')), /unexpected number value in JSON secret for subfield n\)$/)
    assert.match(error(r.resolve('{vault://env/text/k}')), /could not get subfield value: unable to json decode value/)
  })

  test('unset variable, unknown vault, vaults = off', () => {
    const r = new VaultResolver(settings({}), [vaultRow('my-env-vault', {})])
    const missing = r.resolve('{vault://my-env-vault/cert}')
    assert.equal(error(missing), 'could not get value from external vault (no value found)')
    assert.ok('hint' in missing && missing.hint.variable === 'CERT')
    assert.equal(error(r.resolve('{vault://nowhere/cert}')), 'could not find vault (nowhere)')
    const off = new VaultResolver(settings({ CERT: 'x' }, { loaded: [] }), [vaultRow('my-env-vault', {})])
    assert.equal(error(off.resolve('{vault://env/cert}')), 'could not find vault (env)')
    assert.equal(error(off.resolve('{vault://my-env-vault/cert}')), 'could not find vault (env)')
  })
})

describe('validation of vaults and referenceable fields', () => {
  const errorsOf = (schema: typeof vaults | typeof certificates, input: unknown): unknown => {
    const r = validateEntity(schema, input, { mode: 'insert' })
    return r.ok ? undefined : r.errors
  }

  test("vaults: Kong's prefix rules, the vault's config schema", () => {
    assert.equal(errorsOf(vaults, { name: 'env', prefix: 'my-env-vault', config: { prefix: 'MY_SECRET_' } }), undefined)
    const r = validateEntity(vaults, { name: 'env', prefix: 'p1' }, { mode: 'insert' })
    assert.ok(r.ok)
    assert.deepEqual(r.row['config'], { prefix: null })
    assert.deepEqual(errorsOf(vaults, { name: 'env', prefix: 'env' }), { prefix: 'must not be one of: env' })
    assert.deepEqual(errorsOf(vaults, { name: 'env', prefix: 'Bad_Prefix' }), { prefix: 'invalid value: Bad_Prefix' })
    assert.deepEqual(errorsOf(vaults, { name: 'env', prefix: 'ok-one', config: { prefix: '1X' } }), {
      config: { prefix: 'invalid value: 1X' },
    })
    assert.deepEqual(errorsOf(vaults, { name: 'env', prefix: 'ok-one', config: { region: 'x' } }), { config: { region: 'unknown field' } })
    assert.deepEqual(errorsOf(vaults, { prefix: 'ok-one' }), { name: 'required field missing' })
  })

  test('vaults = off: no backend is installed and env is a valid prefix (Kong builds both from loaded_vaults)', () => {
    const off = vaultsEntity([])
    const r = validateEntity(off, { name: 'env', prefix: 'env' }, { mode: 'insert' })
    assert.deepEqual(r.ok ? null : r.errors, { name: 'unknown type: env' })
    assert.deepEqual(validateEntity(vaultsEntity(['env']), { name: 'env', prefix: 'env' }, { mode: 'insert' }).ok, false)
  })

  test('keys: a referenced JWK or PEM half is not loaded when written (Kong validate_jwk, validate_pem_keys)', () => {
    for (const input of [
      { kid: 'a', jwk: '{vault://env/jwk}' },
      { kid: 'b', pem: { private_key: '{vault://env/private-key}', public_key: '{vault://env/public-key}' } },
    ]) {
      const r = validateEntity(keys, input, { mode: 'insert' })
      assert.ok(r.ok, JSON.stringify(r.ok ? null : r.errors))
    }
  })

  test('a certificate holding references is not parsed as PEM; a near-reference is', () => {
    assert.equal(errorsOf(certificates, { cert: '{vault://env/cert}', key: '{vault://my-vault/tls/key}' }), undefined)
    const { key } = makeCert()
    const bad = errorsOf(certificates, { cert: '{vault:/env/cert}', key }) as Record<string, string>
    assert.match(bad['cert'] ?? '', /^invalid certificate: /)
  })
})

describe('resolving a configuration', async () => {
  const registry = await loadPlugins(['bundled'], null)
  const schemas = entityRegistry(registry)
  const pair = makeCert({ cn: 'vault.test' })
  const payload: ConfigPayload = {
    version: 1,
    services: [],
    routes: [],
    plugins: [
      {
        id: 'b1c2d3e4-0000-4000-8000-000000000001',
        name: 'http-log',
        enabled: true,
        protocols: ['http', 'https'],
        route: null,
        service: null,
        consumer: null,
        instance_name: null,
        ordering: null,
        tags: null,
        created_at: 1,
        updated_at: 1,
        config: { http_endpoint: '{vault://env/log-url}', headers: { 'X-Token': '{vault://my-env-vault/token}', Other: 'plain' } },
      },
    ],
    entities: {
      vaults: [vaultRow('my-env-vault', { prefix: 'MY_SECRET_' })],
      certificates: [{ id: ID, cert: '{vault://my-env-vault/cert}', key: '{vault://my-env-vault/key}', cert_alt: null, key_alt: null }],
      snis: [{ id: 'a1c2d3e4-0000-4000-8000-000000000002', name: 'vault.test', certificate: { id: ID } }],
    },
  }

  test('certificates and plugin configs get the values; the payload itself keeps the references', () => {
    const env = { LOG_URL: 'http://127.0.0.1:9/log', MY_SECRET_TOKEN: 's3cret', MY_SECRET_CERT: pair.cert, MY_SECRET_KEY: pair.key }
    const problems: ReferenceProblem[] = []
    const out = new ReferenceResolver(schemas, settings(env)).resolve(payload, (p) => problems.push(p))
    assert.deepEqual(problems, [])
    const config = out.plugins?.[0]?.config as Record<string, unknown>
    assert.equal(config['http_endpoint'], 'http://127.0.0.1:9/log')
    assert.deepEqual(config['headers'], { 'X-Token': 's3cret', Other: 'plain' })
    assert.equal(out.entities?.['certificates']?.[0]?.['cert'], pair.cert)
    assert.equal((payload.entities?.['certificates']?.[0] as Record<string, unknown>)['cert'], '{vault://my-env-vault/cert}')
    const snapshot = buildSnapshot(payload, { registry, entities: [], references: new ReferenceResolver(schemas, settings(env)) })
    assert.equal(snapshot.certificates.find('vault.test')?.cert, pair.cert)
  })

  test('an unresolved reference is empty, reported with where it is and a hint; its certificate is refused', () => {
    const problems: ReferenceProblem[] = []
    const resolver = new ReferenceResolver(schemas, settings({ LOG_URL: 'http://127.0.0.1:9/log' }))
    const snapshot = buildSnapshot(payload, { registry, entities: [], references: resolver, onReferenceProblem: (p) => problems.push(p) })
    assert.deepEqual(
      problems.map((p) => [p.entity, p.field, p.reference, p.error, p.code]),
      [
        ['certificates', 'cert', '{vault://my-env-vault/cert}', NO_VALUE, 'TP_VAULT_REFERENCE_UNRESOLVED'],
        ['certificates', 'key', '{vault://my-env-vault/key}', NO_VALUE, 'TP_VAULT_REFERENCE_UNRESOLVED'],
        ['plugins', 'config.headers.X-Token', '{vault://my-env-vault/token}', NO_VALUE, 'TP_VAULT_REFERENCE_UNRESOLVED'],
      ],
    )
    assert.match(problems[0]?.hint ?? '', /MY_SECRET_CERT is not set/)
    const cert = snapshot.certificates.find('vault.test')
    assert.equal(cert?.unresolved, true)
    assert.equal(snapshot.certificates.all.length, 0)
  })
})
