/**
 * DB-less as Kong 3.9.3 answers it, transcribed from Kong's
 * spec/02-integration/04-admin_api/15-off_spec.lua and kong/api/routes/{config,health}.lua:
 * entity writes refused with 405 (even when the payload names entities that do not exist),
 * `lmdb_map_size` → 413 with the running configuration kept, `/status` without a `database`
 * section and 32 zeros as the empty hash, and `declarative_config` winning over
 * `declarative_config_string`.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

describe('Admin API #off (15-off_spec.lua)', () => {
  let gw: TestGateway
  before(async () => {
    gw = await startTestGateway({ settings: { database: 'off', lmdb_map_size: '1m' } })
  })
  after(async () => {
    await gw?.stop()
  })

  test('an empty node: /status has no database section and the hash is 32 zeros', async () => {
    const res = await call('GET', `${gw.statusUrl}/status`)
    assert.equal(res.status, 200)
    assert.equal(res.body.database, undefined)
    assert.equal(res.body.configuration_hash, '00000000000000000000000000000000')
  })

  test("POST /routes naming a service that does not exist: 405, Kong's operation unsupported", async () => {
    for (const body of [
      { protocols: ['http'], hosts: ['my.route.test'], service: { id: randomUUID() } },
      { protocols: ['http'], methods: ['GET', 'POST', 'PATCH'], hosts: ['foo.api.test'], paths: ['/foo'], service: { id: randomUUID() } },
    ]) {
      const res = await call('POST', `${gw.adminUrl}/routes`, body)
      assert.equal(res.status, 405, res.text)
      assert.deepEqual(res.body, {
        code: 12,
        name: 'operation unsupported',
        message: "cannot create 'routes' entities when not using a database",
      })
    }
  })

  test('other methods on /routes: Method not allowed; PUT /routes/{id}: cannot create or update', async () => {
    for (const method of ['DELETE', 'PUT', 'PATCH']) {
      const res = await call(method, `${gw.adminUrl}/routes`, { paths: ['/'], service: { id: randomUUID() } })
      assert.equal(res.status, 405, `${method}: ${res.text}`)
      assert.deepEqual(res.body, { message: 'Method not allowed' })
    }
    const put = await call('PUT', `${gw.adminUrl}/routes/${randomUUID()}`, { paths: ['/'], service: { id: randomUUID() } })
    assert.equal(put.status, 405, put.text)
    assert.deepEqual(put.body, {
      code: 12,
      name: 'operation unsupported',
      message: "cannot create or update 'routes' entities when not using a database",
    })
    const post = await call('POST', `${gw.adminUrl}/routes/${randomUUID()}`, { paths: ['/'] })
    assert.equal(post.status, 405)
    assert.deepEqual(post.body, { message: 'Method not allowed' })
  })

  test('400 bodies: a primary key declared twice, a regular unique field, an unknown plugin (15-off_spec.lua)', async () => {
    const id = '0855b320-0dd2-547d-891d-601e9b38647f'
    const dup = await call('POST', `${gw.adminUrl}/config`, {
      config: `_format_version: "1.1"\nservices:\n- id: ${id}\n  name: foo\n  host: example.com\n  protocol: https\n  routes:\n  - name: foo\n    methods: ["GET"]\n- id: ${id}\n  name: bar\n  host: example.test\n  port: 3000\n  routes:\n  - name: bar\n    paths:\n    - /\n`,
    })
    const message = `uniqueness violation: 'services' entity with primary key set to '${id}' already declared`
    assert.equal(dup.status, 400)
    assert.deepEqual(dup.body, {
      code: 14,
      name: 'invalid declarative configuration',
      fields: { services: [null, message] },
      message: `declarative config is invalid: {services={[2]="${message}"}}`,
    })
    const unique = await call('POST', `${gw.adminUrl}/config`, {
      config: '_format_version: "1.1"\nconsumers:\n- username: foo\n  custom_id: conflict\n- username: bar\n  custom_id: conflict\n',
    })
    assert.equal(unique.status, 400)
    assert.deepEqual(unique.body.fields, {
      consumers: { bar: "uniqueness violation: 'consumers' entity with custom_id set to 'conflict' already declared" },
    })
    const plugin = await call('POST', `${gw.adminUrl}/config?flatten_errors=1`, {
      _format_version: '3.0',
      plugins: [{ name: 'i-dont-exist', config: {}, tags: ['p-1'] }],
    })
    assert.equal(plugin.status, 400)
    assert.deepEqual(plugin.body.flattened_errors[0].errors, [
      { type: 'field', field: 'name', message: "plugin 'i-dont-exist' not enabled; add it to the 'plugins' configuration property" },
    ])
  })

  test('a configuration larger than lmdb_map_size: 413 and the previous one keeps running', async () => {
    const first = await call('POST', `${gw.adminUrl}/config`, {
      config: JSON.stringify({ _format_version: '1.1', consumers: [{ username: 'previous' }] }),
    })
    assert.equal(first.status, 201, first.text)
    const consumers = Array.from({ length: 20000 }, (_, i) => ({ username: `bobby-${i + 1}` }))
    const big = await call('POST', `${gw.adminUrl}/config`, { config: JSON.stringify({ _format_version: '1.1', consumers }) })
    assert.equal(big.status, 413, big.text.slice(0, 500))
    assert.deepEqual(big.body, {
      message: 'Configuration does not fit in LMDB database, consider raising the "lmdb_map_size" config for Kong',
    })
    const still = await call('GET', `${gw.adminUrl}/consumers/previous`)
    assert.equal(still.status, 200)
    assert.equal(still.body.username, 'previous')
    assert.equal((await call('GET', `${gw.adminUrl}/consumers/bobby-1`)).status, 404)
    await gw.waitForLog(/not enough space for declarative config/)
  })
})

describe('declarative_config and declarative_config_string both set', () => {
  let dir: string
  let gw: TestGateway
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'turnpike-decl-both-'))
    writeFileSync(join(dir, 'kong.yml'), '_format_version: "3.0"\nconsumers:\n- username: from-file\n')
    gw = await startTestGateway({
      settings: {
        database: 'off',
        declarative_config: join(dir, 'kong.yml'),
        declarative_config_string: JSON.stringify({ _format_version: '3.0', consumers: [{ username: 'from-string' }] }),
      },
    })
  })
  after(async () => {
    await gw?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test("the file wins, as in Kong's `declarative_config or declarative_config_string`", async () => {
    assert.equal((await call('GET', `${gw.adminUrl}/consumers/from-file`)).status, 200)
    assert.equal((await call('GET', `${gw.adminUrl}/consumers/from-string`)).status, 404)
  })
})

describe('path_handling: v1 in a DB-less file', () => {
  test("logs Kong's deprecation warning at start and on POST /config", async () => {
    const gw = await startTestGateway({ settings: { database: 'off' } })
    try {
      const res = await call(
        'POST',
        `${gw.adminUrl}/config`,
        '_format_version: "3.0"\nroutes:\n- name: r\n  paths: [/a]\n  path_handling: v1\n',
        { 'content-type': 'text/yaml' },
      )
      assert.equal(res.status, 201, res.text)
      const line = await gw.waitForLog(/path_handling='v1' is deprecated/)
      assert.match(line, /\[warn\]/)
    } finally {
      await gw.stop()
    }
  })
})
