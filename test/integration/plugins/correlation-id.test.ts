/**
 * correlation-id against the real gateway: each generator's shape, a client's id kept (an empty
 * one replaced), echo_downstream, a custom header name, the counter growing per worker.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { call } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'

describe('correlation-id plugin', () => {
  const fx = pluginSuite({}, async () => {
    const routes: Record<string, unknown> = {
      counter: {},
      uuid: { generator: 'uuid', echo_downstream: true },
      tracker: { generator: 'tracker', header_name: 'X-Trace', echo_downstream: true },
    }
    for (const [name, config] of Object.entries(routes)) await fx.route(name, [{ name: 'correlation-id', config }])
  })

  test('default: Kong-Request-ID upstream as <uuid>#<counter>, not echoed', async () => {
    const a = await call('GET', `${fx.gw.proxyUrl}/counter`)
    const b = await call('GET', `${fx.gw.proxyUrl}/counter`)
    const idA = a.body.headers['kong-request-id'] as string
    const idB = b.body.headers['kong-request-id'] as string
    assert.match(idA, new RegExp(`^${UUID}#\\d+$`))
    assert.notEqual(idA, idB)
    if (idA.split('#')[0] === idB.split('#')[0]) assert.equal(Number(idB.split('#')[1]), Number(idA.split('#')[1]) + 1)
    assert.equal(a.headers['kong-request-id'], undefined)
  })

  test('an id sent by the client is kept; an empty one is replaced', async () => {
    const kept = await call('GET', `${fx.gw.proxyUrl}/uuid`, undefined, { 'kong-request-id': 'from-client' })
    assert.equal(kept.body.headers['kong-request-id'], 'from-client')
    assert.equal(kept.headers['kong-request-id'], 'from-client')
    const empty = await call('GET', `${fx.gw.proxyUrl}/uuid`, undefined, { 'kong-request-id': '' })
    assert.match(empty.body.headers['kong-request-id'] as string, new RegExp(`^${UUID}$`))
  })

  test('uuid generator with echo_downstream: the same id both ways', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/uuid`)
    const id = res.body.headers['kong-request-id'] as string
    assert.match(id, new RegExp(`^${UUID}$`))
    assert.equal(res.headers['kong-request-id'], id)
  })

  test('tracker generator and a custom header name', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/tracker`)
    const id = res.body.headers['x-trace'] as string
    assert.match(id, /^[^-]+-\d+-\d+-\d+-\d+-\d+\.\d{3}$/)
    assert.equal(res.headers['x-trace'], id)
    assert.equal(res.body.headers['kong-request-id'], undefined)
  })

  test('configuration: generator is one of uuid, uuid#counter, tracker', async () => {
    const bad = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'correlation-id', config: { generator: 'random' } })
    assert.equal(bad.status, 400)
    assert.match(bad.text, /expected one of: uuid, uuid#counter, tracker/)
  })
})
