/**
 * ip-restriction against the real gateway: allow and deny lists with IPv4, IPv6 and CIDR ranges,
 * Kong's default message naming the address, custom status and message, and the real client IP
 * taken from a trusted proxy's X-Forwarded-For (an untrusted peer cannot spoof it).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { call } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'

describe('ip-restriction plugin', () => {
  // The test client (127.0.0.1) is a trusted proxy: its X-Forwarded-For names the client.
  const fx = pluginSuite({ settings: { trusted_ips: '127.0.0.1', real_ip_header: 'X-Forwarded-For' } }, async () => {
    for (const name of ['deny', 'allow', 'v6', 'custom', 'both']) await fx.route(name)
    await fx.admin('/routes/deny/plugins', { name: 'ip-restriction', config: { deny: ['10.0.0.0/8', '192.0.2.1'] } })
    await fx.admin('/routes/allow/plugins', { name: 'ip-restriction', config: { allow: ['127.0.0.1', '198.51.100.0/24'] } })
    await fx.admin('/routes/v6/plugins', { name: 'ip-restriction', config: { allow: ['2001:db8::/32'] } })
    await fx.admin('/routes/custom/plugins', { name: 'ip-restriction', config: { deny: ['203.0.113.9'], status: 401, message: 'Go away' } })
    await fx.admin('/routes/both/plugins', { name: 'ip-restriction', config: { allow: ['10.0.0.0/8'], deny: ['10.0.0.5'] } })
  })

  const get = (path: string, xff?: string) =>
    call('GET', `${fx.gw.proxyUrl}${path}`, undefined, xff === undefined ? {} : { 'x-forwarded-for': xff })

  test('deny list: a denied range → 403 "IP address not allowed: <ip>"; others pass', async () => {
    const res = await get('/deny', '10.1.2.3')
    assert.equal(res.status, 403)
    assert.equal(res.body.message, 'IP address not allowed: 10.1.2.3')
    assert.equal((await get('/deny', '192.0.2.1')).status, 403)
    assert.equal((await get('/deny', '192.0.2.2')).status, 200)
    assert.equal((await get('/deny')).status, 200, 'no header: the peer 127.0.0.1')
    const line = await fx.gw.waitForLog(/\[ip-restriction\] 403 "IP address not allowed: 10\.1\.2\.3" on route "deny"/)
    assert.match(line, /10\.1\.2\.3 is in the deny list \(real IP taken from a trusted proxy 127\.0\.0\.1\)/)
  })

  test('allow list: only listed addresses and ranges pass', async () => {
    assert.equal((await get('/allow')).status, 200)
    assert.equal((await get('/allow', '198.51.100.77')).status, 200)
    const res = await get('/allow', '8.8.8.8')
    assert.equal(res.status, 403)
    assert.equal(res.body.message, 'IP address not allowed: 8.8.8.8')
  })

  test('IPv6 ranges', async () => {
    assert.equal((await get('/v6', '2001:db8:1::42')).status, 200)
    const res = await get('/v6', '2001:db9::1')
    assert.equal(res.status, 403)
    assert.equal(res.body.message, 'IP address not allowed: 2001:db9::1')
    assert.equal((await get('/v6')).status, 403, '127.0.0.1 is not in an IPv6-only allow list')
  })

  test('custom status and message', async () => {
    const res = await get('/custom', '203.0.113.9')
    assert.equal(res.status, 401)
    assert.equal(res.body.message, 'Go away')
  })

  test('deny wins over allow', async () => {
    assert.equal((await get('/both', '10.0.0.4')).status, 200)
    assert.equal((await get('/both', '10.0.0.5')).status, 403)
  })

  test('configuration: one of allow/deny is required, entries must be IPs or CIDRs', async () => {
    const none = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'ip-restriction', config: {} })
    assert.equal(none.status, 400)
    assert.match(none.text, /at least one of these fields must be non-empty: 'allow', 'deny'/)
    const bad = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'ip-restriction', config: { allow: ['10.0.0.0/33'] } })
    assert.equal(bad.status, 400)
  })
})
