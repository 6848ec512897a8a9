/**
 * Hostile input to the Admin API (hardening issue, findings 1, 2, 6, 7): huge form array indices,
 * too many arguments, prototype keys in forms and JSON, very deep bodies, oversized bodies, and
 * every 500 logged with its cause.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { Readable } from 'node:stream'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { request } from 'undici'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { form, json, send, stopWithin } from './input-helpers.js'

describe('hardening: Admin API input decoding', () => {
  let gw: TestGateway
  let plugins: string
  before(async () => {
    // A third-party plugin whose schema validator has a bug: a real way to make the Admin API fail.
    plugins = mkdtempSync(join(tmpdir(), 'turnpike-buggy-'))
    writeFileSync(
      join(plugins, 'buggy.js'),
      `export default { name: 'buggy', version: '1.0.0', priority: 5,
      schema: { config: { x: { type: 'string', custom_validator: () => { throw new Error('validator bug in buggy') } } } } }\n`,
    )
    gw = await startTestGateway({ settings: { plugins: 'bundled,buggy', plugins_path: plugins } })
  })
  after(async () => {
    await stopWithin(gw)
    rmSync(plugins, { recursive: true, force: true })
  })

  test('a form array index of 4294967295 is answered at once, and the primary keeps serving', async () => {
    const route = await form(`${gw.adminUrl}/routes`, 'name=huge&paths[4294967295]=/x')
    assert.ok(route.ms < 2000, `answered in ${Math.round(route.ms)} ms`)
    assert.equal(route.status, 201, route.text)
    assert.deepEqual(route.body.paths, ['/x'])
    const other = await form(`${gw.adminUrl}/consumers`, 'username=idx&tags[4294967294]=t&tags[1]=first')
    assert.equal(other.status, 201, other.text)
    assert.deepEqual(other.body.tags, ['first', 't'])
    assert.equal((await send('GET', `${gw.adminUrl}/status`, undefined, {}, 2000)).status, 200)
  })

  test('more than 1000 form fields, multipart parts or query arguments: 400 Too many arguments', async () => {
    const fields = (n: number): string => Array.from({ length: n }, (_, i) => `tags[]=t${i}`).join('&')
    const over = await form(`${gw.adminUrl}/consumers`, `username=many&${fields(1000)}`)
    assert.equal(over.status, 400)
    assert.deepEqual(over.body, { message: 'Too many arguments' })
    const at = await form(`${gw.adminUrl}/consumers`, `username=many&${fields(999)}`)
    assert.notEqual(at.body?.message, 'Too many arguments', 'exactly 1000 is fine')
    const query = await send('GET', `${gw.adminUrl}/consumers?${fields(1001)}`, undefined)
    assert.equal(query.status, 400)
    assert.deepEqual(query.body, { message: 'Too many arguments' })
    const boundary = 'b0undary'
    const parts = Array.from(
      { length: 1001 },
      (_, i) => `--${boundary}\r\nContent-Disposition: form-data; name="tags[]"\r\n\r\nt${i}\r\n`,
    ).join('')
    const multipart = await send('POST', `${gw.adminUrl}/consumers`, `${parts}--${boundary}--\r\n`, {
      'content-type': `multipart/form-data; boundary=${boundary}`,
    })
    assert.equal(multipart.status, 400)
    assert.deepEqual(multipart.body, { message: 'Too many arguments' })
  })

  test('__proto__ in a form key or a JSON member is an unknown field, and no later object inherits it', async () => {
    const viaForm = await form(`${gw.adminUrl}/consumers`, 'username=p1&__proto__.tags[]=evil')
    assert.equal(viaForm.status, 400, viaForm.text)
    assert.deepEqual(viaForm.body.fields, { ['__proto__']: 'unknown field' })
    const viaJson = await json(`${gw.adminUrl}/consumers`, '{"username":"p2","__proto__":{"tags":["evil"]}}')
    assert.equal(viaJson.status, 400, viaJson.text)
    assert.deepEqual(Object.keys(viaJson.body.fields), ['__proto__'])
    const ctor = await form(`${gw.adminUrl}/consumers`, 'username=p3&constructor.prototype.tags[]=evil')
    assert.equal(ctor.status, 400)
    const later = await call('POST', `${gw.adminUrl}/consumers`, { username: 'innocent' })
    assert.equal(later.status, 201)
    assert.equal(later.body.tags, null, 'no tags inherited from a polluted prototype')
    const service = await call('POST', `${gw.adminUrl}/services`, { name: 'after-proto', url: 'http://127.0.0.1:9/' })
    assert.equal(service.body.tags, null)
  })

  test('prototype names in Admin API paths are no entity: 404, not 500', async () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const schema = await send('GET', `${gw.adminUrl}/schemas/${name}`, undefined)
      assert.equal(schema.status, 404, schema.text)
      assert.deepEqual(schema.body, { message: `No entity named '${name}'` })
      const validate = await json(`${gw.adminUrl}/schemas/${name}/validate`, '{}')
      assert.equal(validate.status, 404)
      assert.equal((await send('GET', `${gw.adminUrl}/consumers/${name}`, undefined)).status, 404)
    }
  })

  test('bodies nested 2,000 deep: 400 (Kong: Cannot parse JSON body; a deep form key is an unknown field), never 500', async () => {
    const deepJson = await json(`${gw.adminUrl}/consumers`, `{"username":"d","tags":${'['.repeat(2000)}${']'.repeat(2000)}}`)
    assert.equal(deepJson.status, 400)
    assert.deepEqual(deepJson.body, { message: 'Cannot parse JSON body' })
    const deepObject = await json(`${gw.adminUrl}/consumers`, `{"username":"d",${'"a":{'.repeat(2000)}${'}'.repeat(2000)}}`)
    assert.equal(deepObject.status, 400)
    assert.deepEqual(deepObject.body, { message: 'Cannot parse JSON body' })
    const deepForm = await form(`${gw.adminUrl}/consumers`, `username=d&${Array(2000).fill('a').join('.')}=x`)
    assert.equal(deepForm.status, 400, deepForm.text.slice(0, 200))
    assert.equal(deepForm.body.name, 'schema violation')
    assert.equal(deepForm.body.fields.a, 'unknown field')
    const deepPlugin = await form(`${gw.adminUrl}/plugins`, `name=key-auth&config.${Array(5000).fill('k').join('.')}=x`)
    assert.equal(deepPlugin.status, 400)
  })

  test('a body over nginx_admin_client_max_body_size (10m) gets nginx 413 page, not a reset; the connection closes', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 'a')
    const declared = await send('POST', `${gw.adminUrl}/consumers`, big, { 'content-type': 'application/json' })
    assert.equal(declared.status, 413)
    assert.match(String(declared.headers['content-type']), /^text\/html/)
    assert.match(declared.text, /<title>413 Request Entity Too Large<\/title>/)
    assert.equal(declared.headers['connection'], 'close')
    // Chunked: the limit is found while reading.
    const chunks = async function* (): AsyncGenerator<Buffer> {
      for (let i = 0; i < 11; i++) yield Buffer.alloc(1024 * 1024, 'b')
    }
    const res = await request(`${gw.adminUrl}/consumers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Readable.from(chunks()),
    })
    assert.equal(res.statusCode, 413)
    await res.body.text()
    assert.equal((await call('POST', `${gw.adminUrl}/consumers`, { username: 'after-413' })).status, 201)
  })

  test('every Admin API 500 is logged with its cause and stack; the client gets Kong generic message', async () => {
    const res = await call('POST', `${gw.adminUrl}/plugins`, { name: 'buggy', config: { x: 'y' } })
    assert.equal(res.status, 500)
    assert.deepEqual(res.body, { message: 'An unexpected error occurred' })
    await gw.waitForLog(/\[error\].*admin API request failed: Error: validator bug in buggy/)
    await gw.waitForLog(/request: "POST \/plugins"/)
    assert.match(gw.errorLog(), /validator bug in buggy\n\s+at /, 'with the stack')
  })
})
