/**
 * basic-auth against the real gateway: Authorization and Proxy-Authorization, Kong's password
 * digest, 401 `Unauthorized` with `WWW-Authenticate: Basic realm="…"`, the error-log line that
 * explains each refusal (without the password), hide_credentials, anonymous, and the "logical OR"
 * of two auth plugins that both have `anonymous`.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import { call } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
const PASSWORD = 'p@ss:word with spaces'

describe('basic-auth plugin', () => {
  let bob: { id: string }
  let cred: { id: string }

  const fx = pluginSuite({}, async () => {
    for (const name of ['basic', 'hide', 'anon', 'either']) await fx.route(name)
    bob = (await fx.admin('/consumers', { username: 'bob' })).body
    cred = (await fx.admin('/consumers/bob/basic-auth', { username: 'bob-login', password: PASSWORD })).body
    await fx.admin('/consumers', { username: 'alice' })
    await fx.admin('/consumers/alice/key-auth', { key: 'alice-key' })
    await fx.admin('/consumers', { username: 'guest' })
    await fx.admin('/routes/basic/plugins', { name: 'basic-auth' })
    await fx.admin('/routes/hide/plugins', { name: 'basic-auth', config: { hide_credentials: true, realm: 'internal' } })
    await fx.admin('/routes/anon/plugins', { name: 'basic-auth', config: { anonymous: 'guest' } })
    await fx.admin('/routes/either/plugins', { name: 'basic-auth', config: { anonymous: 'guest' } })
    await fx.admin('/routes/either/plugins', { name: 'key-auth', config: { anonymous: 'guest' } })
  })

  test("the password is stored as Kong's digest: sha1(password .. consumer_id)", async () => {
    const stored = await call('GET', `${fx.gw.adminUrl}/consumers/bob/basic-auth/bob-login`)
    assert.equal(stored.status, 200)
    assert.notEqual(stored.body.password, PASSWORD)
    assert.equal(
      stored.body.password,
      createHash('sha1')
        .update(PASSWORD + bob.id)
        .digest('hex'),
    )
  })

  test('valid credentials → 200 with the consumer headers; Authorization still sent upstream', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/basic`, undefined, { authorization: basic('bob-login', PASSWORD) })
    assert.equal(res.status, 200)
    const h = res.body.headers
    assert.equal(h['x-consumer-id'], bob.id)
    assert.equal(h['x-consumer-username'], 'bob')
    assert.equal(h['x-consumer-custom-id'], undefined)
    assert.equal(h['x-credential-identifier'], cred.id)
    assert.equal(h['x-anonymous-consumer'], undefined)
    assert.equal(h['authorization'], basic('bob-login', PASSWORD))
    // The scheme's first letter may be lower-case, as Kong's `[Bb]asic`.
    const lower = await call('GET', `${fx.gw.proxyUrl}/basic`, undefined, {
      authorization: basic('bob-login', PASSWORD).replace('Basic', 'basic'),
    })
    assert.equal(lower.status, 200)
  })

  test('Proxy-Authorization is accepted too', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/basic`, undefined, { 'proxy-authorization': basic('bob-login', PASSWORD) })
    assert.equal(res.status, 200)
    assert.equal(res.body.headers['x-consumer-username'], 'bob')
  })

  test('no credentials → 401 Unauthorized with WWW-Authenticate: Basic realm="service", explained in the log', async () => {
    const before = fx.up.received.length
    const res = await call('GET', `${fx.gw.proxyUrl}/basic`)
    assert.equal(res.status, 401)
    assert.equal(res.body.message, 'Unauthorized')
    assert.equal(res.headers['www-authenticate'], 'Basic realm="service"')
    assert.equal(fx.up.received.length, before)
    const line = await fx.gw.waitForLog(
      /\[basic-auth\] 401 "Unauthorized" on route "basic".*no Authorization or Proxy-Authorization header/,
    )
    assert.match(line, /\[notice\]/)
    assert.match(line, /request_id: "[0-9a-f]+"/)
  })

  test('wrong password, unknown user, other schemes and garbage → 401, each with its reason; no password in the log', async () => {
    const cases: [string, RegExp][] = [
      [basic('bob-login', 'not-the-password'), /wrong password for the basic-auth username "bob-login"/],
      [basic('nobody', 'x'), /no basic-auth credential has the username "nobody"/],
      ['Bearer abc.def.ghi', /the Authorization header is not "Basic" credentials/],
      ['Basic %%%not-base64', /the Authorization header is not valid base64/],
      [`Basic ${Buffer.from('no-colon-here').toString('base64')}`, /does not decode to "username:password"/],
    ]
    for (const [authorization, why] of cases) {
      const res = await call('GET', `${fx.gw.proxyUrl}/basic`, undefined, { authorization })
      assert.equal(res.status, 401, authorization)
      assert.equal(res.body.message, 'Unauthorized')
      assert.equal(res.headers['www-authenticate'], 'Basic realm="service"')
      await fx.gw.waitForLog(new RegExp(`\\[basic-auth\\] 401 "Unauthorized" on route "basic".*${why.source}`))
    }
    assert.ok(!fx.gw.errorLog().includes('not-the-password'))
    assert.ok(!fx.gw.errorLog().includes(PASSWORD))
  })

  test('hide_credentials removes the header upstream; realm is configurable', async () => {
    const ok = await call('GET', `${fx.gw.proxyUrl}/hide`, undefined, { authorization: basic('bob-login', PASSWORD) })
    assert.equal(ok.status, 200)
    assert.equal(ok.body.headers['authorization'], undefined)
    assert.equal(ok.body.headers['x-consumer-username'], 'bob')
    const proxied = await call('GET', `${fx.gw.proxyUrl}/hide`, undefined, { 'proxy-authorization': basic('bob-login', PASSWORD) })
    assert.equal(proxied.body.headers['proxy-authorization'], undefined)
    const denied = await call('GET', `${fx.gw.proxyUrl}/hide`)
    assert.equal(denied.headers['www-authenticate'], 'Basic realm="internal"')
  })

  test('anonymous: a failure continues as the anonymous consumer', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/anon`, undefined, { authorization: basic('bob-login', 'wrong') })
    assert.equal(res.status, 200)
    assert.equal(res.body.headers['x-consumer-username'], 'guest')
    assert.equal(res.body.headers['x-anonymous-consumer'], 'true')
    await fx.gw.waitForLog(
      /\[basic-auth\] authentication failed on route "anon" .*\(Unauthorized: wrong password.*continuing as the anonymous consumer "guest"/,
    )
  })

  test('two auth plugins with anonymous: either credential works, none gives the anonymous consumer', async () => {
    const byKey = await call('GET', `${fx.gw.proxyUrl}/either`, undefined, { apikey: 'alice-key' })
    assert.equal(byKey.body.headers['x-consumer-username'], 'alice')
    assert.equal(byKey.body.headers['x-anonymous-consumer'], undefined)
    const byBasic = await call('GET', `${fx.gw.proxyUrl}/either`, undefined, { authorization: basic('bob-login', PASSWORD) })
    assert.equal(
      byBasic.body.headers['x-consumer-username'],
      'bob',
      'key-auth (higher priority) fell back to anonymous, then basic-auth authenticated',
    )
    assert.equal(byBasic.body.headers['x-anonymous-consumer'], undefined)
    const none = await call('GET', `${fx.gw.proxyUrl}/either`)
    assert.equal(none.status, 200)
    assert.equal(none.body.headers['x-consumer-username'], 'guest')
    assert.equal(none.body.headers['x-anonymous-consumer'], 'true')
  })
})
