import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isSensitiveSetting, publicConfiguration, REDACTED } from '../../../src/config/index.js'
import { load, writeConf } from './helpers.js'

describe('publicConfiguration', () => {
  const config = load({
    confPath: writeConf(
      [
        'pg_password = hunter2',
        'pg_ro_password = hunter3',
        'ssl_cert = /keys/server.crt',
        'ssl_cert_key = /keys/server.key',
        'cluster_cert_key = /keys/cluster.key',
        'proxy_server = http://user:pass@proxy:3128',
        'declarative_config_string = {"_format_version":"3.0"}',
        'request_debug_token = tok',
        'pg_host = db',
        'allow_debug_header = on',
      ].join('\n'),
    ),
    env: { KONG_VAULT_HCV_SECRET: 'shh' },
  })
  const pub = publicConfiguration(config)

  test("replaces secrets with Kong's placeholder", () => {
    for (const name of [
      'pg_password',
      'pg_ro_password',
      'ssl_cert_key',
      'cluster_cert_key',
      'proxy_server',
      'declarative_config_string',
      'request_debug_token',
      'vault_hcv_secret',
    ]) {
      assert.equal(pub[name], REDACTED, name)
    }
    assert.equal(REDACTED, '******')
    assert.ok(!JSON.stringify(pub).includes('hunter2'))
    assert.ok(!JSON.stringify(pub).includes('user:pass'))
  })

  test('keeps other settings, typed where implemented', () => {
    assert.equal(pub.pg_host, 'db')
    assert.equal(pub.allow_debug_header, true)
    assert.equal(pub.upstream_keepalive_pool_size, 512)
    assert.deepEqual(pub.plugins, ['bundled'])
    assert.equal(pub.raw, undefined)
  })

  test('shows listen settings as Kong does: strings plus *_listeners', () => {
    assert.deepEqual(pub.proxy_listen, ['0.0.0.0:8000 reuseport backlog=16384', '0.0.0.0:8443 ssl http2 reuseport backlog=16384'])
    assert.deepEqual((pub.status_listeners as object[])[0], {
      ip: '127.0.0.1',
      port: 8007,
      ssl: false,
      http2: false,
      proxy_protocol: false,
      deferred: false,
      bind: false,
      reuseport: true,
      backlog: 16384,
      listener: '127.0.0.1:8007 reuseport backlog=16384',
    })
    // derived lists of servers Turnpike does not run are there (Kong Manager reads them), empty
    assert.deepEqual([pub.admin_gui_listeners, pub.stream_listeners, pub.cluster_listeners], [[], [], []])
    const off = publicConfiguration(load({ overrides: { status_listen: 'off', admin_listen: '[::1]:8001' } }))
    assert.deepEqual(off.status_listen, ['off'])
    assert.deepEqual(off.admin_listen, ['[::1]:8001'])
  })

  test('does not modify the configuration', () => {
    assert.equal(config.raw.pg_password, 'hunter2')
  })

  test('isSensitiveSetting', () => {
    assert.equal(isSensitiveSetting('pg_password'), true)
    assert.equal(isSensitiveSetting('admin_gui_ssl_cert_key'), true)
    assert.equal(isSensitiveSetting('some_secret_thing'), true)
    assert.equal(isSensitiveSetting('pg_user'), false)
    assert.equal(isSensitiveSetting('ssl_cert'), false)
  })
})
