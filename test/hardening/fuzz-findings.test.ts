/**
 * Regression tests for the bugs the Admin API fuzzer (admin-fuzz*.test.ts) found, each through
 * the real gateway.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'

let dbless: TestGateway
let sqlite: TestGateway

before(async () => {
  ;[dbless, sqlite] = await Promise.all([startTestGateway({ settings: { database: 'off' } }), startTestGateway()])
})

after(async () => {
  await Promise.all([dbless?.stop(), sqlite?.stop()])
})

test("PUT /plugins/{p}/consumer that the plugin refuses: Kong's 400, and no consumer is left behind", async () => {
  const admin = sqlite.adminUrl
  const plugin = await call('POST', `${admin}/plugins`, { name: 'cors' }) // typedefs.no_consumer
  assert.equal(plugin.status, 201, plugin.text)
  const res = await call('PUT', `${admin}/plugins/${plugin.body.id}/consumer`, { custom_id: 'c' })
  assert.equal(res.status, 400, res.text)
  assert.equal(res.body.code, 2)
  assert.deepEqual(res.body.fields, { consumer: 'value must be null' })
  assert.deepEqual((await call('GET', `${admin}/consumers`)).body.data, [])
  assert.equal((await call('GET', `${admin}/plugins/${plugin.body.id}`)).body.consumer, null)
  // A plugin that takes a consumer still gets one created and associated.
  const keyAuth = await call('POST', `${admin}/plugins`, { name: 'rate-limiting', config: { minute: 5 } })
  const put = await call('PUT', `${admin}/plugins/${keyAuth.body.id}/consumer`, { username: 'alice' })
  assert.equal(put.status, 200, put.text)
  assert.equal((await call('GET', `${admin}/plugins/${keyAuth.body.id}`)).body.consumer.id, put.body.id)
})

test('POST /config: a configuration nested 100,000 levels deep is a 400 parse error, not a 500 (and changes nothing)', async () => {
  const before = (await call('GET', `${dbless.adminUrl}/config`)).text
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
  const text = `{"_format_version":"3.0","services":[{"name":"a","host":"example.com","tags":${deep}}]}`
  for (const [body, type] of [
    [JSON.stringify({ config: text }), 'application/json'],
    [`config=${encodeURIComponent(text)}`, 'application/x-www-form-urlencoded'],
    [text, 'application/yaml'],
  ] as const) {
    const res = await call('POST', `${dbless.adminUrl}/config`, body, { 'content-type': type })
    assert.equal(res.status, 400, `${type}: ${res.text.slice(0, 200)}`)
    assert.equal(res.body.code, 14)
    assert.equal(res.body.name, 'invalid declarative configuration')
    assert.match(res.body.message, /^declarative config is invalid: /)
  }
  assert.equal((await call('GET', `${dbless.adminUrl}/config`)).text, before)
  // The node still loads a good configuration afterwards.
  const ok = await call('POST', `${dbless.adminUrl}/config`, { _format_version: '3.0', services: [{ name: 'ok', host: 'example.com' }] })
  assert.equal(ok.status, 201)
})

test("an upstream's client_certificate naming a certificate (an entity Turnpike does not have yet): Kong's 400 foreign key violation, not a 500", async () => {
  const admin = sqlite.adminUrl
  const cert = { id: '00000000-0000-4000-8000-00000000f022' }
  const put = await call('PUT', `${admin}/upstreams/a8270924-2d3a-4300-b6d5-428aa0411c31`, { name: 'x-y', client_certificate: cert })
  const post = await call('POST', `${admin}/upstreams`, { name: 'x-z', client_certificate: cert })
  for (const res of [put, post]) {
    assert.equal(res.status, 400, res.text)
    assert.equal(res.body.code, 4)
    assert.equal(res.body.name, 'foreign key violation')
    assert.match(res.body.message, /does not reference an existing 'certificates' entity/)
    assert.deepEqual(res.body.fields, { client_certificate: cert })
  }
  assert.deepEqual((await call('GET', `${admin}/upstreams`)).body.data, [])
})
