/**
 * Plugins, consumers and credentials through the real gateway's Admin API (SQLite store), with
 * custom plugins loaded from `plugins_path`: the seed's 401 troubleshooting set-up (create a
 * consumer, add a key), Kong's refusals, and everything surviving a restart.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { ROOT, call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const NOT_ENABLED = "plugin 'rate-limiting' not enabled; add it to the 'plugins' configuration property"

/** Two custom plugins: an auth plugin owning key-auth and basic-auth credentials, and a header plugin. */
function writePlugins(dir: string): void {
  const entity = (p: string) => pathToFileURL(join(ROOT, 'build', 'src', 'plugins', p, 'entities.js')).href
  writeFileSync(
    join(dir, 'my-auth.mjs'),
    `
import { keyauthCredentials } from ${JSON.stringify(entity('key-auth'))}
import { basicauthCredentials } from ${JSON.stringify(entity('basic-auth'))}
export default {
  name: 'my-auth', version: '0.1.0', priority: 1250,
  schema: { no_consumer: true, config: { key_names: { type: 'array', required: true, elements: { type: 'string' }, default: ['apikey'] } } },
  entities: [keyauthCredentials, basicauthCredentials],
}
`,
  )
  writeFileSync(
    join(dir, 'my-header.mjs'),
    `
export default {
  name: 'my-header', version: '1.2.3', priority: 800,
  schema: { config: { header: { type: 'string', required: true }, value: { type: 'string', default: 'on' } } },
}
`,
  )
}

describe('plugins, consumers and credentials over HTTP', () => {
  let gw: TestGateway
  let pluginDir: string
  // Our own prefix, so that it outlives a stop (the helper removes prefixes it created).
  let prefix: string
  const settings = (): Record<string, string> => ({ plugins: 'my-auth,my-header', plugins_path: pluginDir })

  before(async () => {
    pluginDir = mkdtempSync(join(tmpdir(), 'turnpike-plugins-'))
    writePlugins(pluginDir)
    prefix = mkdtempSync(join(tmpdir(), 'turnpike-test-'))
    gw = await startTestGateway({ prefix, settings: settings() })
  })
  after(async () => {
    await gw.stop()
    rmSync(pluginDir, { recursive: true, force: true })
    rmSync(prefix, { recursive: true, force: true })
  })

  test('GET / and /plugins/enabled report the loaded plugins', async () => {
    const root = await call('GET', `${gw.adminUrl}/`)
    assert.deepEqual(root.body.plugins.available_on_server, {
      'my-auth': { version: '0.1.0', priority: 1250 },
      'my-header': { version: '1.2.3', priority: 800 },
    })
    assert.deepEqual(root.body.plugins.enabled_in_cluster, [])
    assert.deepEqual((await call('GET', `${gw.adminUrl}/plugins/enabled`)).body, { enabled_plugins: ['my-auth', 'my-header'] })
  })

  test("the seed's set-up: consumer, key by form post, key listed under the consumer", async () => {
    const consumer = await call('POST', `${gw.adminUrl}/consumers`, 'username=seed-user&custom_id=crm-7', FORM)
    assert.equal(consumer.status, 201, consumer.text)
    const key = await call('POST', `${gw.adminUrl}/consumers/seed-user/key-auth`, 'key=my-secret-key', FORM)
    assert.equal(key.status, 201, key.text)
    assert.equal(key.body.key, 'my-secret-key')
    assert.deepEqual(key.body.consumer, { id: consumer.body.id })
    const generated = await call('POST', `${gw.adminUrl}/consumers/seed-user/key-auth`)
    assert.equal(generated.status, 201, generated.text)
    assert.match(generated.body.key, /^[A-Za-z0-9]{32}$/)
    const listed = await call('GET', `${gw.adminUrl}/consumers/seed-user/key-auth`)
    assert.equal(listed.body.data.length, 2)
    const dup = await call('POST', `${gw.adminUrl}/key-auths`, { key: 'my-secret-key', consumer: { username: 'seed-user' } })
    assert.equal(dup.status, 409)
    assert.equal(dup.body.message, `UNIQUE violation detected on '{key="my-secret-key"}'`)
    const byCustomId = await call('GET', `${gw.adminUrl}/consumers?custom_id=crm-7`)
    assert.deepEqual(
      byCustomId.body.data.map((c: { id: string }) => c.id),
      [consumer.body.id],
    )
    const pw = await call('POST', `${gw.adminUrl}/consumers/seed-user/basic-auth`, { username: 'seed', password: 'open sesame' })
    assert.equal(pw.status, 201, pw.text)
    assert.equal(
      pw.body.password,
      createHash('sha1')
        .update('open sesame' + consumer.body.id)
        .digest('hex'),
    )
  })

  test('plugin instances: scoping, Kong refusals, enabled_in_cluster', async () => {
    const svc = await call('POST', `${gw.adminUrl}/services`, { name: 'billing', url: 'http://127.0.0.1:9/' })
    assert.equal(svc.status, 201, svc.text)
    const auth = await call('POST', `${gw.adminUrl}/services/billing/plugins`, 'name=my-auth&config.key_names[]=x-api-key', FORM)
    assert.equal(auth.status, 201, auth.text)
    assert.deepEqual(auth.body.service, { id: svc.body.id })
    assert.deepEqual(auth.body.config, { key_names: ['x-api-key'] })
    const again = await call('POST', `${gw.adminUrl}/plugins`, { name: 'my-auth', service: { id: svc.body.id } })
    assert.equal(again.status, 409, again.text)
    const unknown = await call('POST', `${gw.adminUrl}/plugins`, { name: 'rate-limiting' })
    assert.equal(unknown.status, 400)
    assert.deepEqual(unknown.body, {
      code: 2,
      name: 'schema violation',
      message: `schema violation (name: ${NOT_ENABLED})`,
      fields: { name: NOT_ENABLED },
    })
    const onConsumer = await call('POST', `${gw.adminUrl}/consumers/seed-user/plugins`, { name: 'my-auth' })
    assert.equal(onConsumer.status, 400)
    assert.deepEqual(onConsumer.body.fields, { consumer: 'value must be null' })
    const missing = await call('POST', `${gw.adminUrl}/plugins`, { name: 'my-header' })
    assert.equal(missing.status, 400)
    assert.deepEqual(missing.body.fields, { config: { header: 'required field missing' } })
    const header = await call('POST', `${gw.adminUrl}/consumers/seed-user/plugins`, {
      name: 'my-header',
      instance_name: 'tagger',
      config: { header: 'x-tier' },
    })
    assert.equal(header.status, 201, header.text)
    assert.equal((await call('GET', `${gw.adminUrl}/plugins/tagger/consumer`)).body.username, 'seed-user')
    const root = await call('GET', `${gw.adminUrl}/`)
    assert.deepEqual([...root.body.plugins.enabled_in_cluster].sort(), ['my-auth', 'my-header'])
    const schema = await call('GET', `${gw.adminUrl}/schemas/plugins/my-header`)
    assert.equal(schema.status, 200)
    assert.deepEqual(
      schema.body.fields.map((f: Record<string, unknown>) => Object.keys(f)[0]),
      ['protocols', 'config'],
    )
    const valid = await call('POST', `${gw.adminUrl}/schemas/plugins/validate`, { name: 'my-header', config: { header: 'x' } })
    assert.deepEqual(valid.body, { message: 'schema validation successful' })
  })

  test('everything survives a restart (SQLite), and deleting a consumer cascades', async () => {
    await gw.stop()
    gw = await startTestGateway({ prefix, settings: settings() })
    assert.equal((await call('GET', `${gw.adminUrl}/key-auths/my-secret-key`)).status, 200)
    assert.equal((await call('GET', `${gw.adminUrl}/plugins/tagger`)).body.config.header, 'x-tier')
    assert.equal((await call('GET', `${gw.adminUrl}/basic-auths/seed`)).status, 200)
    assert.equal((await call('DELETE', `${gw.adminUrl}/consumers/seed-user`)).status, 204)
    assert.equal((await call('GET', `${gw.adminUrl}/key-auths/my-secret-key`)).status, 404)
    assert.equal((await call('GET', `${gw.adminUrl}/plugins/tagger`)).status, 404)
    assert.deepEqual((await call('GET', `${gw.adminUrl}/basic-auths`)).body.data, [])
  })
})

describe('plugins setting', () => {
  test('a plugin that cannot be found stops the start with a one-line reason', async () => {
    await assert.rejects(
      startTestGateway({ settings: { plugins: 'bundled,not-there' } }),
      /could not load plugins: plugin 'not-there' is not bundled and no plugins_path is set to look for it/,
    )
  })
})
