import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { harness, type Harness } from './helpers.js'
import { testEntities, testPluginRegistry } from '../entities/test-plugins.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const NOT_ENABLED = "plugin 'nope' not enabled; add it to the 'plugins' configuration property"

async function setup(): Promise<Harness> {
  const plugins = testPluginRegistry()
  return harness(testEntities(plugins), { plugins })
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON of any shape, read loosely by tests
async function withService(h: Harness): Promise<{ service: any; route: any; consumer: any }> {
  const service = (await h.call('POST', '/services', { json: { name: 's1', host: 'upstream.test' } })).json
  const route = (await h.call('POST', '/services/s1/routes', { json: { name: 'r1', paths: ['/r1'] } })).json
  const consumer = (await h.call('POST', '/consumers', { json: { username: 'bob', custom_id: 'c-42' } })).json
  return { service, route, consumer }
}

describe('Admin API: consumers', () => {
  test('create, lookup by username, ?custom_id= exact lookup', async () => {
    const h = await setup()
    const { consumer } = await withService(h)
    assert.match(consumer.id, UUID)
    assert.deepEqual(Object.keys(consumer).sort(), ['created_at', 'custom_id', 'id', 'tags', 'updated_at', 'username'])
    assert.equal((await h.call('GET', '/consumers/bob')).json.id, consumer.id)
    const found = await h.call('GET', '/consumers?custom_id=c-42')
    assert.equal(found.status, 200)
    assert.deepEqual(found.json, { data: [consumer], next: null })
    assert.deepEqual((await h.call('GET', '/consumers?custom_id=c-4')).json, { data: [], next: null })
    const empty = await h.call('POST', '/consumers', { json: {} })
    assert.equal(empty.status, 400)
    assert.deepEqual(empty.json.fields, { '@entity': ["at least one of these fields must be non-empty: 'custom_id', 'username'"] })
    const dup = await h.call('POST', '/consumers', { json: { username: 'bob' } })
    assert.equal(dup.status, 409)
    assert.equal(dup.json.message, `UNIQUE violation detected on '{username="bob"}'`)
  })
})

describe('Admin API: plugins', () => {
  test('/plugins/enabled lists the loaded plugins', async () => {
    const h = await setup()
    const res = await h.call('GET', '/plugins/enabled')
    assert.equal(res.status, 200)
    assert.deepEqual(res.json, { enabled_plugins: ['acl', 'basic-auth', 'ip-restriction', 'jwt', 'key-auth', 'rate-limiting'] })
  })

  test('unknown plugin name: Kong schema violation', async () => {
    const h = await setup()
    const res = await h.call('POST', '/plugins', { json: { name: 'nope' } })
    assert.equal(res.status, 400)
    assert.deepEqual(res.json, {
      code: 2,
      name: 'schema violation',
      message: `schema violation (name: ${NOT_ENABLED})`,
      fields: { name: NOT_ENABLED },
    })
  })

  test('global plugin with defaults; PATCH merges config; GET by instance_name', async () => {
    const h = await setup()
    const created = await h.call('POST', '/plugins', { json: { name: 'key-auth', instance_name: 'ka' } })
    assert.equal(created.status, 201)
    const p = created.json
    assert.deepEqual(Object.keys(p).sort(), [
      'config',
      'consumer',
      'created_at',
      'enabled',
      'id',
      'instance_name',
      'name',
      'ordering',
      'protocols',
      'route',
      'service',
      'tags',
      'updated_at',
    ])
    assert.deepEqual(p.config.key_names, ['apikey'])
    assert.deepEqual(p.protocols, ['grpc', 'grpcs', 'http', 'https'])
    const patched = await h.call('PATCH', `/plugins/${p.id}`, { json: { config: { hide_credentials: true } } })
    assert.equal(patched.status, 200)
    assert.equal(patched.json.config.hide_credentials, true)
    assert.deepEqual(patched.json.config.key_names, ['apikey'])
    assert.equal((await h.call('GET', '/plugins/ka')).json.id, p.id)
    const bad = await h.call('PATCH', '/plugins/ka', { json: { config: { key_names: 'x' } } })
    assert.equal(bad.status, 400)
    assert.deepEqual(bad.json.fields, { config: { key_names: 'expected an array' } })
  })

  test('form-encoded config is typed by the plugin schema', async () => {
    const h = await setup()
    const res = await h.call('POST', '/plugins', { form: 'name=key-auth&config.key_names=x-key&config.hide_credentials=true' })
    assert.equal(res.status, 201)
    assert.deepEqual(res.json.config.key_names, ['x-key'])
    assert.equal(res.json.config.hide_credentials, true)
  })

  test('nested under services/routes/consumers: parent injected, ownership enforced, uniqueness per scope', async () => {
    const h = await setup()
    const { service, route, consumer } = await withService(h)
    const onService = await h.call('POST', '/services/s1/plugins', { json: { name: 'key-auth' } })
    assert.equal(onService.status, 201)
    assert.deepEqual(onService.json.service, { id: service.id })
    const dup = await h.call('POST', `/services/${service.id}/plugins`, { json: { name: 'key-auth' } })
    assert.equal(dup.status, 409)
    assert.equal(dup.json.message, `UNIQUE violation detected on '{consumer=null,name="key-auth",route=null,service={id="${service.id}"}}'`)
    // Same plugin on the route is another scope.
    const onRoute = await h.call('POST', '/routes/r1/plugins', { json: { name: 'key-auth' } })
    assert.equal(onRoute.status, 201)
    assert.deepEqual(onRoute.json.route, { id: route.id })
    assert.equal((await h.call('GET', `/services/s1/plugins/${onService.json.id}`)).status, 200)
    assert.equal((await h.call('GET', `/services/s1/plugins/${onRoute.json.id}`)).status, 404)
    assert.deepEqual(
      (await h.call('GET', '/services/s1/plugins')).json.data.map((p: { id: string }) => p.id),
      [onService.json.id],
    )
    // /plugins/{p}/service and /plugins/{p}/route
    assert.equal((await h.call('GET', `/plugins/${onService.json.id}/service`)).json.id, service.id)
    assert.equal((await h.call('GET', `/plugins/${onRoute.json.id}/route`)).json.id, route.id)
    assert.equal((await h.call('GET', `/plugins/${onRoute.json.id}/service`)).status, 404)
    // Consumer scope: refused for no_consumer plugins with Kong message, accepted otherwise.
    const refused = await h.call('POST', '/consumers/bob/plugins', { json: { name: 'key-auth' } })
    assert.equal(refused.status, 400)
    assert.deepEqual(refused.json, {
      code: 2,
      name: 'schema violation',
      message: 'schema violation (consumer: value must be null)',
      fields: { consumer: 'value must be null' },
    })
    const rl = await h.call('POST', '/consumers/bob/plugins', { json: { name: 'rate-limiting', config: { minute: 5 } } })
    assert.equal(rl.status, 201)
    assert.deepEqual(rl.json.consumer, { id: consumer.id })
    assert.equal((await h.call('GET', `/plugins/${rl.json.id}/consumer`)).json.username, 'bob')
    // Deleting the service and the consumer cascades to their plugins.
    assert.equal((await h.call('DELETE', '/routes/r1')).status, 204)
    assert.equal((await h.call('GET', `/plugins/${onRoute.json.id}`)).status, 404)
    assert.equal((await h.call('DELETE', '/services/s1')).status, 204)
    assert.equal((await h.call('GET', `/plugins/${onService.json.id}`)).status, 404)
    assert.equal((await h.call('DELETE', '/consumers/bob')).status, 204)
    assert.deepEqual((await h.call('GET', '/plugins')).json.data, [])
  })

  test('route/service given by name in the body are resolved', async () => {
    const h = await setup()
    const { service } = await withService(h)
    const res = await h.call('POST', '/plugins', { json: { name: 'rate-limiting', service: { name: 's1' }, config: { hour: 10 } } })
    assert.equal(res.status, 201)
    assert.deepEqual(res.json.service, { id: service.id })
  })

  test('/schemas/plugins/{name}, validate endpoint, deprecated /plugins/schema/{name}', async () => {
    const h = await setup()
    const schema = await h.call('GET', '/schemas/plugins/key-auth')
    assert.equal(schema.status, 200)
    const names = schema.json.fields.map((f: Record<string, unknown>) => Object.keys(f)[0])
    assert.deepEqual(names, ['consumer', 'protocols', 'config'])
    assert.deepEqual(schema.json.fields[0].consumer, {
      type: 'foreign',
      reference: 'consumers',
      eq: null,
      description: 'Custom type for representing a foreign key with a null value allowed.',
    })
    const config = schema.json.fields[2].config
    assert.equal(config.type, 'record')
    assert.equal(config.required, true)
    assert.deepEqual(config.fields[0], { key_names: { type: 'array', required: true, elements: { type: 'string' }, default: ['apikey'] } })
    const rl = (await h.call('GET', '/schemas/plugins/rate-limiting')).json
    assert.deepEqual(rl.fields[1].config.entity_checks, [{ at_least_one_of: ['minute', 'hour'] }])
    assert.deepEqual((await h.call('GET', '/schemas/plugins/nope')).json, { message: "No plugin named 'nope'" })
    assert.equal((await h.call('GET', '/schemas/plugins/nope')).status, 404)
    const old = await h.call('GET', '/plugins/schema/key-auth')
    assert.deepEqual(old.json.fields, config.fields)
    // Kong's schema_to_jsonable: entity_checks is always there, empty when there are none
    assert.deepEqual(old.json.entity_checks, [])
    assert.deepEqual((await h.call('GET', '/plugins/schema/rate-limiting')).json.entity_checks, [{ at_least_one_of: ['minute', 'hour'] }])
    assert.ok(Array.isArray(schema.json.entity_checks))
    for (const name of Object.keys(h.dao.entities)) {
      const s = await h.call('GET', `/schemas/${name}`)
      assert.ok(Array.isArray(s.json.entity_checks), `/schemas/${name} has entity_checks`)
      assert.equal((await h.call('POST', `/schemas/${name}/validate`, { json: {} })).status === 500, false)
    }

    const valid = await h.call('POST', '/schemas/plugins/validate', { json: { name: 'key-auth', config: { key_names: ['k'] } } })
    assert.equal(valid.status, 200)
    assert.deepEqual(valid.json, { message: 'schema validation successful' })
    const invalid = await h.call('POST', '/schemas/plugins/validate', { json: { name: 'nope' } })
    assert.equal(invalid.status, 400)
    assert.deepEqual(invalid.json.fields, { name: NOT_ENABLED })
    assert.deepEqual((await h.call('GET', '/plugins')).json.data, [], 'validate stores nothing')
    // The plugins entity itself through the generic schema endpoint.
    const entity = (await h.call('GET', '/schemas/plugins')).json
    assert.ok(entity.fields.some((f: Record<string, unknown>) => 'ordering' in f))
  })

  test('ordering is stored and validated', async () => {
    const h = await setup()
    const res = await h.call('POST', '/plugins', {
      json: { name: 'rate-limiting', config: { minute: 1 }, ordering: { before: { access: ['key-auth'] } } },
    })
    assert.equal(res.status, 201)
    assert.deepEqual(res.json.ordering, { before: { access: ['key-auth'] }, after: null })
    const bad = await h.call('POST', '/plugins', { json: { name: 'acl', config: { allow: ['a'] }, ordering: { after: { access: [1] } } } })
    assert.equal(bad.status, 400)
    assert.deepEqual(bad.json.fields, { ordering: { after: { access: ['expected a string'] } } })
  })
})

describe('Admin API: credentials', () => {
  test('key-auth: generated key, explicit key, unique, endpoint key, top-level and nested paths, cascade', async () => {
    const h = await setup()
    const { consumer } = await withService(h)
    const gen = await h.call('POST', '/consumers/bob/key-auth', { json: {} })
    assert.equal(gen.status, 201)
    assert.match(gen.json.key, /^[A-Za-z0-9]{32}$/)
    assert.deepEqual(gen.json.consumer, { id: consumer.id })
    assert.deepEqual(Object.keys(gen.json).sort(), ['consumer', 'created_at', 'id', 'key', 'tags'])
    const mine = await h.call('POST', '/key-auths', { json: { key: 'secret-key', consumer: { username: 'bob' } } })
    assert.equal(mine.status, 201)
    assert.deepEqual(mine.json.consumer, { id: consumer.id })
    const dup = await h.call('POST', '/consumers/bob/key-auth', { json: { key: 'secret-key' } })
    assert.equal(dup.status, 409)
    assert.equal(dup.json.message, `UNIQUE violation detected on '{key="secret-key"}'`)
    assert.equal((await h.call('GET', '/key-auths/secret-key')).json.id, mine.json.id)
    assert.equal((await h.call('GET', '/consumers/bob/key-auth/secret-key')).json.id, mine.json.id)
    assert.equal((await h.call('GET', `/key-auths/${mine.json.id}/consumer`)).json.username, 'bob')
    assert.equal((await h.call('GET', '/key-auths')).json.data.length, 2)
    assert.equal((await h.call('GET', '/consumers/bob/key-auth')).json.data.length, 2)
    const noConsumer = await h.call('POST', '/key-auths', { json: { key: 'k2' } })
    assert.equal(noConsumer.status, 400)
    assert.deepEqual(noConsumer.json.fields, { consumer: 'required field missing' })
    // PATCH keeps the key unless given
    const patched = await h.call('PATCH', `/key-auths/${gen.json.id}`, { json: { tags: ['t'] } })
    assert.equal(patched.json.key, gen.json.key)
    // Other consumer cannot reach bob's key under its own path.
    await h.call('POST', '/consumers', { json: { username: 'alice' } })
    assert.equal((await h.call('GET', '/consumers/alice/key-auth/secret-key')).status, 404)
    assert.equal((await h.call('DELETE', '/consumers/bob/key-auth/secret-key')).status, 204)
    assert.equal((await h.call('GET', '/key-auths/secret-key')).status, 404)
    assert.equal((await h.call('DELETE', '/consumers/bob')).status, 204)
    assert.deepEqual((await h.call('GET', '/key-auths')).json.data, [])
  })

  test('key-auth ttl: the credential expires', async () => {
    const h = await setup()
    await withService(h)
    const res = await h.call('POST', '/consumers/bob/key-auth', { json: { key: 'short-lived', ttl: 1 } })
    assert.equal(res.status, 201)
    assert.equal(res.json.ttl, undefined)
    assert.equal((await h.call('GET', '/key-auths/short-lived')).status, 200)
    await new Promise((r) => setTimeout(r, 1100))
    assert.equal((await h.call('GET', '/key-auths/short-lived')).status, 404)
    const bad = await h.call('POST', '/consumers/bob/key-auth', { json: { key: 'x', ttl: -1 } })
    assert.equal(bad.status, 400)
  })

  test('basic-auth: password stored as Kong digest, rehashed on change only', async () => {
    const h = await setup()
    const { consumer } = await withService(h)
    const sha1 = (s: string) => createHash('sha1').update(s).digest('hex')
    const created = await h.call('POST', '/consumers/bob/basic-auth', { json: { username: 'bob-user', password: 'pw1' } })
    assert.equal(created.status, 201)
    assert.equal(created.json.password, sha1('pw1' + consumer.id))
    assert.equal((await h.call('GET', '/basic-auths/bob-user')).json.id, created.json.id)
    const renamed = await h.call('PATCH', '/basic-auths/bob-user', { json: { username: 'bobby' } })
    assert.equal(renamed.json.password, created.json.password, 'not rehashed when the password is not sent')
    const changed = await h.call('PATCH', '/consumers/bob/basic-auth/bobby', { json: { password: 'pw2' } })
    assert.equal(changed.json.password, sha1('pw2' + consumer.id))
    // PUT of what was read back (the digest) must not hash the digest again.
    const same = await h.call('PUT', `/basic-auths/${created.json.id}`, {
      json: { username: 'bobby', password: changed.json.password, consumer: { id: consumer.id } },
    })
    assert.equal(same.status, 200)
    assert.equal(same.json.password, changed.json.password)
    const missing = await h.call('POST', '/consumers/bob/basic-auth', { json: { username: 'x' } })
    assert.equal(missing.status, 400)
    assert.deepEqual(missing.json.fields, { password: 'required field missing' })
  })

  test('jwt: key and secret generated, algorithm checks', async () => {
    const h = await setup()
    await withService(h)
    const res = await h.call('POST', '/consumers/bob/jwt', { json: {} })
    assert.equal(res.status, 201)
    assert.match(res.json.key, /^[A-Za-z0-9]{32}$/)
    assert.match(res.json.secret, /^[A-Za-z0-9]{32}$/)
    assert.notEqual(res.json.key, res.json.secret)
    assert.equal(res.json.algorithm, 'HS256')
    assert.equal((await h.call('GET', `/jwts/${res.json.key}`)).json.id, res.json.id)
    const rs = await h.call('POST', '/consumers/bob/jwt', { json: { algorithm: 'RS256' } })
    assert.equal(rs.status, 400)
    assert.deepEqual(rs.json.fields, {
      rsa_public_key: 'required field missing',
      '@entity': ["failed conditional validation given value of field 'algorithm'"],
    })
  })

  test('acls: unique per consumer and group, addressed by group under the consumer', async () => {
    const h = await setup()
    const { consumer } = await withService(h)
    const a = await h.call('POST', '/consumers/bob/acls', { json: { group: 'admins' } })
    assert.equal(a.status, 201)
    const dup = await h.call('POST', '/consumers/bob/acls', { json: { group: 'admins' } })
    assert.equal(dup.status, 409)
    assert.equal(dup.json.message, `UNIQUE violation detected on '{consumer={id="${consumer.id}"},group="admins"}'`)
    await h.call('POST', '/consumers', { json: { username: 'alice' } })
    assert.equal((await h.call('POST', '/consumers/alice/acls', { json: { group: 'admins' } })).status, 201)
    assert.equal((await h.call('GET', '/consumers/bob/acls/admins')).json.id, a.json.id)
    assert.equal((await h.call('GET', '/consumers/bob/acls/ghosts')).status, 404)
    const put = await h.call('PUT', '/consumers/bob/acls/ops', { json: {} })
    assert.equal(put.status, 200)
    assert.equal(put.json.group, 'ops')
    assert.match(put.json.id, UUID)
    assert.equal((await h.call('GET', '/consumers/bob/acls')).json.data.length, 2)
    assert.equal((await h.call('GET', '/acls')).json.data.length, 3)
    assert.equal((await h.call('DELETE', '/consumers/bob/acls/admins')).status, 204)
    assert.equal((await h.call('GET', `/acls/${a.json.id}`)).status, 404)
    assert.equal((await h.call('GET', '/consumers/alice/acls/admins')).status, 200)
  })

  test('/endpoints lists Kong-style credential paths', async () => {
    const h = await setup()
    const data: string[] = (await h.call('GET', '/endpoints')).json.data
    for (const p of [
      '/key-auths',
      '/key-auths/{keyauth_credentials}',
      '/key-auths/{keyauth_credentials}/consumer',
      '/consumers/{consumers}/key-auth',
      '/consumers/{consumers}/key-auth/{keyauth_credentials}',
      '/basic-auths/{basicauth_credentials}',
      '/consumers/{consumers}/basic-auth/{basicauth_credentials}',
      '/jwts/{jwt_secrets}',
      '/consumers/{consumers}/jwt/{jwt_secrets}',
      '/acls/{acls}',
      '/consumers/{consumers}/acls/{acls}',
      '/plugins/enabled',
      '/schemas/plugins/{name}',
      '/schemas/plugins/validate',
      '/services/{services}/plugins/{plugins}',
      '/routes/{routes}/plugins',
      '/consumers/{consumers}/plugins/{plugins}',
      '/plugins/{plugins}/route',
    ])
      assert.ok(data.includes(p), p)
    assert.ok(!data.includes('/keyauth_credentials'))
  })
})
