/**
 * The calls from our seed documents (curl quick-starts and an Ansible playbook), run against
 * the real service and route schemas.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ENTITIES } from '../../../src/entities/index.js'
import { harness } from './helpers.js'

describe('seed document flows', () => {
  test('curl: POST /services name+url, then POST /services/{name}/routes paths[]=', async () => {
    const h = await harness(ENTITIES)
    const svc = await h.call('POST', '/services', { form: 'name=example-service&url=http://httpbin.org' })
    assert.equal(svc.status, 201)
    assert.equal(svc.json.name, 'example-service')
    assert.equal(svc.json.protocol, 'http')
    assert.equal(svc.json.host, 'httpbin.org')
    assert.equal(svc.json.port, 80)
    assert.equal(svc.json.url, undefined)
    const route = await h.call('POST', '/services/example-service/routes', { form: 'paths[]=/test' })
    assert.equal(route.status, 201)
    assert.deepEqual(route.json.paths, ['/test'])
    assert.deepEqual(route.json.service, { id: svc.json.id })
    assert.deepEqual(route.json.protocols, ['http', 'https'])
    assert.equal(route.json.strip_path, true)

    const svc2 = await h.call('POST', '/services', { form: 'name=user-service&url=http://user-api.internal:8080' })
    assert.equal(svc2.json.port, 8080)
    const listed = await h.call('GET', '/services/user-service/routes')
    assert.deepEqual(listed.json, { data: [], next: null })
  })

  test('Ansible uri: JSON route with service by name → 201, then 409 on repeat', async () => {
    const h = await harness(ENTITIES)
    const svc = await h.call('POST', '/services', { json: { name: 'example-service', url: 'http://mockbin.org' } })
    assert.equal(svc.status, 201)
    const body = { name: 'route1', paths: ['/example'], methods: ['GET'], strip_path: true, service: { name: 'example-service' } }
    const first = await h.call('POST', '/routes', { json: body, headers: { 'content-type': 'application/json' } })
    assert.equal(first.status, 201)
    assert.deepEqual(first.json.service, { id: svc.json.id })
    assert.deepEqual(first.json.methods, ['GET'])
    const second = await h.call('POST', '/routes', { json: body })
    assert.equal(second.status, 409)
    assert.deepEqual(second.json, {
      code: 5,
      name: 'unique constraint violation',
      message: `UNIQUE violation detected on '{name="route1"}'`,
      fields: { name: 'route1' },
    })
    const again = await h.call('POST', '/services', { json: { name: 'example-service', url: 'http://mockbin.org' } })
    assert.equal(again.status, 409)
  })

  test('PATCH tags with a form body, then filter by tag', async () => {
    const h = await harness(ENTITIES)
    await h.call('POST', '/services', { json: { name: 'my-service', host: 'example.internal', port: 8080, path: '/api' } })
    const patched = await h.call('PATCH', '/services/my-service', { form: 'tags=my-service-tag' })
    assert.equal(patched.status, 200)
    assert.deepEqual(patched.json.tags, ['my-service-tag'])
    const found = await h.call('GET', '/services?tags=my-service-tag')
    assert.equal(found.json.data.length, 1)
  })

  test('route without service and Kong entity checks through the Admin API', async () => {
    const h = await harness(ENTITIES)
    const res = await h.call('POST', '/routes', { json: { protocols: ['http'] } })
    assert.equal(res.status, 400)
    assert.equal(res.json.code, 2)
    assert.match(res.json.message, /must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'/)
  })
})
