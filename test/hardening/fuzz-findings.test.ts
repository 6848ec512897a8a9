/**
 * Regression tests for the bugs the Admin API fuzzer (admin-fuzz*.test.ts) found, each through
 * the real gateway.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'

let dbless: TestGateway

before(async () => {
  dbless = await startTestGateway({ settings: { database: 'off' } })
})

after(async () => {
  await dbless?.stop()
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
