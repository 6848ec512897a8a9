/**
 * acl against the real gateway, behind key-auth: allow and deny lists, `X-Consumer-Groups`
 * upstream (and `hide_groups_header`), 403 `You cannot consume this service` with the log naming
 * the consumer, its groups and the rule, 401 when no consumer is authenticated, the anonymous
 * consumer, config validation (exactly one of allow / deny), and a group added at runtime.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { call, eventually } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'

describe('acl plugin', () => {
  const get = (path: string, key?: string) => call('GET', `${fx.gw.proxyUrl}${path}`, undefined, key === undefined ? {} : { apikey: key })

  const fx = pluginSuite({}, async () => {
    for (const name of ['allow', 'deny', 'hidden', 'noauth', 'anon']) await fx.route(name)
    for (const [user, groups] of [
      ['alice', ['admin', 'dev']],
      ['bob', ['guest']],
      ['carol', []],
    ] as const) {
      await fx.admin('/consumers', { username: user })
      await fx.admin(`/consumers/${user}/key-auth`, { key: `${user}-key` })
      for (const group of groups) await fx.admin(`/consumers/${user}/acls`, { group })
    }
    await fx.admin('/consumers', { username: 'nobody-special' })
    for (const route of ['allow', 'deny', 'hidden']) await fx.admin(`/routes/${route}/plugins`, { name: 'key-auth' })
    await fx.admin('/routes/anon/plugins', { name: 'key-auth', config: { anonymous: 'nobody-special' } })
    await fx.admin('/routes/allow/plugins', { name: 'acl', config: { allow: ['admin'] } })
    await fx.admin('/routes/deny/plugins', { name: 'acl', config: { deny: ['guest'] } })
    await fx.admin('/routes/hidden/plugins', { name: 'acl', config: { allow: ['admin'], hide_groups_header: true } })
    await fx.admin('/routes/noauth/plugins', { name: 'acl', config: { allow: ['admin'] } })
    await fx.admin('/routes/anon/plugins', { name: 'acl', config: { allow: ['admin'] } })
  })

  test('allow: a member passes with X-Consumer-Groups; others get 403 and the log says why', async () => {
    const ok = await get('/allow', 'alice-key')
    assert.equal(ok.status, 200)
    assert.equal(ok.body.headers['x-consumer-groups'], 'admin, dev')
    assert.equal(ok.body.headers['x-consumer-username'], 'alice')

    const before = fx.up.received.length
    const bob = await get('/allow', 'bob-key')
    assert.equal(bob.status, 403)
    assert.equal(bob.body.message, 'You cannot consume this service')
    assert.equal(fx.up.received.length, before)
    const line = await fx.gw.waitForLog(/\[acl\] 403 "You cannot consume this service" on route "allow".*consumer "bob"/)
    assert.match(line, /has groups \["guest"\]; none of them is allowed \(allow = \["admin"\]\)/)
    assert.match(line, /\[notice\]/)

    const carol = await get('/allow', 'carol-key')
    assert.equal(carol.status, 403)
    await fx.gw.waitForLog(/\[acl\] 403 .*consumer "carol".*has groups \[none\]/)
  })

  test('deny: a member of a denied group gets 403, everyone else passes', async () => {
    assert.equal((await get('/deny', 'bob-key')).status, 403)
    await fx.gw.waitForLog(/\[acl\] 403 .*route "deny".*consumer "bob".*one of them is denied \(deny = \["guest"\]\)/)
    const alice = await get('/deny', 'alice-key')
    assert.equal(alice.status, 200)
    assert.equal(alice.body.headers['x-consumer-groups'], 'admin, dev')
    const carol = await get('/deny', 'carol-key')
    assert.equal(carol.status, 200)
    assert.equal(carol.body.headers['x-consumer-groups'], undefined, 'no groups, no header')
  })

  test('hide_groups_header keeps X-Consumer-Groups from the upstream', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/hidden`, undefined, { apikey: 'alice-key' })
    assert.equal(res.status, 200)
    assert.equal(res.body.headers['x-consumer-groups'], undefined)
  })

  test('no authentication plugin → 401 Unauthorized, and the log says an auth plugin is needed', async () => {
    const res = await get('/noauth')
    assert.equal(res.status, 401)
    assert.equal(res.body.message, 'Unauthorized')
    await fx.gw.waitForLog(/\[acl\] 401 "Unauthorized" on route "noauth".*no consumer is authenticated; acl needs an authentication plugin/)
  })

  test('the anonymous consumer is checked like any other (no groups → 403)', async () => {
    const res = await get('/anon')
    assert.equal(res.status, 403)
    await fx.gw.waitForLog(/\[acl\] 403 .*route "anon".*consumer "nobody-special".*\(anonymous\)/)
    assert.equal((await get('/anon', 'alice-key')).status, 200)
  })

  test('a group added at runtime takes effect without a restart', async () => {
    assert.equal((await get('/allow', 'bob-key')).status, 403)
    await fx.admin('/consumers/bob/acls', { group: 'admin' })
    await eventually(async () => (await get('/allow', 'bob-key')).status === 200, 5000, 'bob to be allowed')
    const groups = String((await get('/allow', 'bob-key')).body.headers['x-consumer-groups'])
    assert.deepEqual(groups.split(', ').sort(), ['admin', 'guest'])
  })

  test('config: exactly one of allow / deny; not on consumers', async () => {
    const both = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'acl', config: { allow: ['a'], deny: ['b'] } })
    assert.equal(both.status, 400)
    assert.equal(both.body.name, 'schema violation')
    const neither = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'acl', config: {} })
    assert.equal(neither.status, 400)
    const defaults = await call('POST', `${fx.gw.adminUrl}/routes/noauth/plugins`, { name: 'acl', config: { deny: ['x'] } })
    assert.equal(defaults.status, 409, 'one acl per route')
    const scoped = await call('POST', `${fx.gw.adminUrl}/consumers/alice/plugins`, { name: 'acl', config: { allow: ['a'] } })
    assert.equal(scoped.status, 400)
    const schema = await call('GET', `${fx.gw.adminUrl}/schemas/plugins/acl`)
    assert.equal(schema.status, 200)
    const text = JSON.stringify(schema.body)
    for (const field of ['allow', 'deny', 'hide_groups_header', 'always_use_authenticated_groups']) assert.ok(text.includes(field), field)
  })
})
