/**
 * The Admin API over a real socket, driven the way the seed documents drive it: curl form posts,
 * Ansible `uri` JSON bodies with status_code [201, 409], and browsers (CORS).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

describe('Admin API over HTTP', () => {
  let gw: TestGateway
  let up: TestUpstream
  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway()
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  test("the seed's curl tour: service by url, route by paths[], call through the proxy", async () => {
    const svc = await call('POST', `${gw.adminUrl}/services`, `name=example-service&url=${encodeURIComponent(`${up.url}/base`)}`, FORM)
    assert.equal(svc.status, 201, svc.text)
    assert.equal(svc.body.host, '127.0.0.1')
    assert.equal(svc.body.port, up.port)
    assert.equal(svc.body.path, '/base')
    assert.equal(svc.body.protocol, 'http')
    const route = await call('POST', `${gw.adminUrl}/services/example-service/routes`, 'paths[]=/api', FORM)
    assert.equal(route.status, 201, route.text)
    assert.deepEqual(route.body.paths, ['/api'])
    assert.equal(route.body.service.id, svc.body.id)
    const got = await call('GET', `${gw.adminUrl}/services/example-service`)
    assert.equal(got.body.id, svc.body.id)
    const listed = await call('GET', `${gw.adminUrl}/routes`)
    assert.equal(listed.body.data.length, 1)
    assert.equal(listed.body.next, null)

    let res = await call('GET', `${gw.proxyUrl}/api/users?x=1`)
    for (let i = 0; i < 50 && res.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 20))
      res = await call('GET', `${gw.proxyUrl}/api/users?x=1`)
    }
    assert.equal(res.status, 200)
    assert.equal(res.body.url, '/base/users?x=1')
  })

  test('Ansible uri tasks: JSON route by service name → 201, the same again → 409', async () => {
    const body = { name: 'route1', paths: ['/example'], methods: ['GET'], strip_path: true, service: { name: 'example-service' } }
    const first = await call('POST', `${gw.adminUrl}/routes`, body, { 'content-type': 'application/json' })
    assert.equal(first.status, 201, first.text)
    const second = await call('POST', `${gw.adminUrl}/routes`, body)
    assert.equal(second.status, 409)
    assert.equal(second.body.code, 5)
    assert.equal(second.body.name, 'unique constraint violation')
    assert.equal(second.body.message, `UNIQUE violation detected on '{name="route1"}'`)
    assert.deepEqual(second.body.fields, { name: 'route1' })
    const svc = {
      name: 'my-service',
      host: 'example.internal',
      port: 8080,
      protocol: 'http',
      path: '/api',
      connect_timeout: 60000,
      write_timeout: 60000,
      read_timeout: 60000,
      retries: 5,
      tags: ['exported', 'my-tag'],
    }
    assert.equal((await call('POST', `${gw.adminUrl}/services`, svc)).status, 201)
    assert.equal((await call('POST', `${gw.adminUrl}/services`, svc)).status, 409)
    const tagged = await call('GET', `${gw.adminUrl}/services?tags=my-tag`)
    assert.deepEqual(
      tagged.body.data.map((s: { name: string }) => s.name),
      ['my-service'],
    )
  })

  test('schema violations, 404, 405 and 415 have Kong bodies', async () => {
    const bad = await call('POST', `${gw.adminUrl}/services`, { name: 'x', port: 99999 })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.code, 2)
    assert.equal(bad.body.name, 'schema violation')
    assert.equal(bad.body.fields.host, 'required field missing')
    assert.equal(bad.body.fields.port, 'value should be between 0 and 65535')
    assert.match(bad.body.message, /^2 schema violations \(/)
    assert.deepEqual((await call('GET', `${gw.adminUrl}/services/nope`)).body, { message: 'Not found' })
    assert.deepEqual((await call('DELETE', `${gw.adminUrl}/routes/route1/service`)).body, { message: 'Method not allowed' })
    assert.equal((await call('POST', `${gw.adminUrl}/services`, '<xml/>', { 'content-type': 'application/xml' })).status, 415)
    const json = await call('POST', `${gw.adminUrl}/services`, '{not json', { 'content-type': 'application/json' })
    assert.equal(json.status, 400)
    assert.deepEqual(json.body, { message: 'Cannot parse JSON body' })
  })

  test('CORS headers and preflight for browser clients', async () => {
    const res = await call('GET', `${gw.adminUrl}/services`, undefined, { origin: 'http://manager.local' })
    assert.equal(res.headers['access-control-allow-origin'], 'http://manager.local')
    assert.equal(res.headers['access-control-allow-credentials'], 'true')
    const pre = await call('OPTIONS', `${gw.adminUrl}/services`, undefined, {
      origin: 'http://manager.local',
      'access-control-request-method': 'POST',
    })
    assert.equal(pre.status, 204)
    assert.match(String(pre.headers['access-control-allow-methods']), /POST/)
  })

  test('node info, status and status listener', async () => {
    const root = await call('GET', `${gw.adminUrl}/`)
    assert.equal(root.status, 200)
    assert.equal(typeof root.body.node_id, 'string')
    assert.equal(typeof root.body.hostname, 'string')
    assert.equal(root.body.configuration.admin_listen !== undefined, true)
    const status = await call('GET', `${gw.adminUrl}/status`)
    assert.equal(status.body.database.reachable, true)
    assert.equal(typeof status.body.server.total_requests, 'number')
    const ready = await call('GET', `${gw.statusUrl}/status/ready`)
    assert.equal(ready.status, 200)
    assert.deepEqual(ready.body, { message: 'ready' })
  })
})
