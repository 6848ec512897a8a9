import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError } from '../../../src/config/index.js'
import { load, writeConf } from './helpers.js'

/** The one-line message loadConfig throws for these overrides. */
function errorFor(overrides: Record<string, string>): string {
  try {
    load({ overrides })
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
    assert.ok(!err.message.includes('\n'))
    return err.message
  }
  assert.fail(`expected ${JSON.stringify(overrides)} to be rejected`)
}

describe('validation messages', () => {
  const cases: [Record<string, string>, string][] = [
    [{ proxy_listen: '0.0.0.0:99999' }, 'invalid proxy_listen: "0.0.0.0:99999": port must be between 0 and 65535'],
    [
      { admin_listen: '127.0.0.1:8001, 8444' },
      'invalid admin_listen: "8444": expected host:port, e.g. 0.0.0.0:8000 (a bare port is not accepted)',
    ],
    [
      { status_listen: '127.0.0.1:8007 fast' },
      'invalid status_listen: "127.0.0.1:8007 fast": unknown flag "fast" (expected ssl, http2, proxy_protocol, deferred, bind, reuseport, backlog=N)',
    ],
    [{ proxy_listen: '' }, 'invalid proxy_listen: "": expected "off" or a list of [host]:port entries'],
    [{ database: 'mysql' }, 'invalid database: "mysql": expected one of: sqlite, off, postgres'],
    [
      { database: 'cassandra' },
      'invalid database: "cassandra": Cassandra is not supported (Kong dropped it in 3.4); use sqlite, off or postgres',
    ],
    [{ prefix: '' }, 'invalid prefix: "": a value is required'],
    [{ sqlite_path: '' }, 'invalid sqlite_path: "": a value is required'],
    [{ log_level: 'verbose' }, 'invalid log_level: "verbose": expected one of: debug, info, notice, warn, error, crit, alert, emerg'],
    [{ proxy_access_log: '' }, 'invalid proxy_access_log: "": a value is required'],
    [{ worker_processes: '0' }, 'invalid worker_processes: "0": must be 1 or greater'],
    [{ worker_processes: 'many' }, 'invalid worker_processes: "many": expected a positive integer'],
    [{ nginx_worker_processes: '-1' }, 'invalid nginx_worker_processes: "-1": expected a positive integer'],
    [
      { trusted_ips: '10.0.0.0/8, 10.0.0.0/33' },
      'invalid trusted_ips: "10.0.0.0/8, 10.0.0.0/33": "10.0.0.0/33" is not an IPv4/IPv6 address, a CIDR block or "unix:"',
    ],
    [
      { trusted_ips: 'example.com' },
      'invalid trusted_ips: "example.com": "example.com" is not an IPv4/IPv6 address, a CIDR block or "unix:"',
    ],
    [{ real_ip_header: 'X Real IP' }, 'invalid real_ip_header: "X Real IP": expected a header name or proxy_protocol'],
    [{ real_ip_recursive: 'yes' }, 'invalid real_ip_recursive: "yes": expected on, off, true or false'],
    [
      { headers: 'server_tokens, X-Powered-By' },
      'invalid headers: "server_tokens, X-Powered-By": unknown token "x-powered-by" (expected server_tokens, latency_tokens, server, via, x-kong-proxy-latency, x-kong-response-latency, x-kong-admin-latency, x-kong-upstream-latency, x-kong-upstream-status, x-kong-request-id or off)',
    ],
    [{ headers_upstream: 'Via' }, 'invalid headers_upstream: "Via": unknown token "via" (expected x-kong-request-id or off)'],
    [{ upstream_keepalive_pool_size: '-1' }, 'invalid upstream_keepalive_pool_size: "-1": expected an integer, 0 or greater'],
    [{ upstream_keepalive_max_requests: '1.5' }, 'invalid upstream_keepalive_max_requests: "1.5": expected an integer, 0 or greater'],
    [{ upstream_keepalive_idle_timeout: 'x' }, 'invalid upstream_keepalive_idle_timeout: "x": expected an integer, 0 or greater'],
    [{ allow_debug_header: '1' }, 'invalid allow_debug_header: "1": expected on, off, true or false'],
    [
      { error_default_type: 'text/xml' },
      'invalid error_default_type: "text/xml": expected one of: text/plain, application/json, text/html, application/xml',
    ],
    [
      { plugins: 'bundled, my plugin' },
      'invalid plugins: "bundled, my plugin": "my plugin" is not a plugin name (letters, digits, - and _ only)',
    ],
    [
      { nginx_http_client_max_body_size: '10 MB' },
      'invalid nginx_http_client_max_body_size: "10 MB": expected a size such as 0, 8k, 10m or 1g',
    ],
    [
      { nginx_http_client_header_timeout: '10 s' },
      'invalid nginx_http_client_header_timeout: "10 s": expected an nginx time such as 60s, 500ms or 1m30s',
    ],
    [{ nginx_http_client_body_timeout: '0' }, 'invalid nginx_http_client_body_timeout: "0": must be greater than 0'],
    [{ nginx_http_client_body_timeout: '30d' }, 'invalid nginx_http_client_body_timeout: "30d": time is too large (at most 24 days)'],
    [
      { nginx_admin_client_max_body_size: '10 MB' },
      'invalid nginx_admin_client_max_body_size: "10 MB": expected a size such as 0, 8k, 10m or 1g',
    ],
    [{ lua_max_post_args: '0' }, 'invalid lua_max_post_args: "0": must be an integer between 1 and 1000'],
    [{ lua_max_uri_args: '1001' }, 'invalid lua_max_uri_args: "1001": must be an integer between 1 and 1000'],
    [{ lua_max_uri_args: '1.5' }, 'invalid lua_max_uri_args: "1.5": must be an integer between 1 and 1000'],
    [{ shutdown_timeout: '-5' }, 'invalid shutdown_timeout: "-5": expected an integer, 0 or greater'],
    [{ shutdown_timeout: '99999999999999999999' }, 'invalid shutdown_timeout: "99999999999999999999": number is too large'],
    [
      { ssl_cipher_suite: 'strong' },
      'invalid ssl_cipher_suite: "strong": Undefined cipher suite strong (expected modern, intermediate, old, custom)',
    ],
    [
      { ssl_cipher_suite: 'fips' },
      'invalid ssl_cipher_suite: "fips": fips is not supported: node\'s OpenSSL does not run in FIPS mode here (use intermediate, modern, old or custom)',
    ],
    [
      { lua_ssl_trusted_certificate: 'system, /nonexistent/ca.pem' },
      'invalid lua_ssl_trusted_certificate: "system, /nonexistent/ca.pem": path "/nonexistent/ca.pem" does not exist',
    ],
    [{ lua_ssl_verify_depth: '-1' }, 'invalid lua_ssl_verify_depth: "-1": expected an integer, 0 or greater'],
    [
      { ssl_protocols: 'TLSv1.2 SSLv3' },
      'invalid ssl_protocols: "TLSv1.2 SSLv3": unknown protocol "SSLv3" (expected TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)',
    ],
    [{ ssl_prefer_server_ciphers: 'maybe' }, 'invalid ssl_prefer_server_ciphers: "maybe": expected on, off, true or false'],
    [
      { lua_ssl_protocols: 'TLSv1.2 TLSv1.4' },
      'invalid lua_ssl_protocols: "TLSv1.2 TLSv1.4": unknown protocol "TLSv1.4" (expected TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)',
    ],
    [{ lua_ssl_protocols: ' ' }, 'invalid lua_ssl_protocols: "": at least one protocol is required, e.g. TLSv1.2 TLSv1.3'],
    [{ ssl_session_tickets: 'sometimes' }, 'invalid ssl_session_tickets: "sometimes": expected on, off, true or false'],
    [{ ssl_session_timeout: 'a day' }, 'invalid ssl_session_timeout: "a day": expected an nginx time such as 60s, 500ms or 1m30s'],
    [{ ssl_session_cache_size: '10 MB' }, 'invalid ssl_session_cache_size: "10 MB": expected a size such as 0, 8k, 10m or 1g'],
    [
      { ssl_dhparam: 'ffdhe1024' },
      'invalid ssl_dhparam: "ffdhe1024": failed loading DH parameters from the value (expected ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144, ffdhe8192, a PEM file or PEM text)',
    ],
    // Kong's conf_loader checks: certificates and keys in pairs, for a family with an ssl listener
    [{ ssl_cert: '/a.crt' }, 'ssl_cert_key must be specified'],
    [{ admin_ssl_cert_key: '/a.key' }, 'admin_ssl_cert must be specified'],
    [{ ssl_cert: '/a.crt, /b.crt', ssl_cert_key: '/a.key' }, 'ssl_cert was specified 2 times while ssl_cert_key was specified 1 times'],
    [{ status_listen: '127.0.0.1:8007 ssl', status_ssl_cert: '/a.crt' }, 'status_ssl_cert_key must be specified'],
    [{ client_ssl: 'on', client_ssl_cert: '/a.crt' }, 'client_ssl_cert_key must be specified'],
    [{ client_ssl: 'on', client_ssl_cert_key: '/a.key' }, 'client_ssl_cert must be specified'],
    [{ client_ssl: 'on' }, 'client_ssl_cert must be specified'],
  ]
  for (const [overrides, message] of cases) {
    test(`${Object.keys(overrides)[0]} = ${JSON.stringify(Object.values(overrides)[0])}`, () => {
      assert.equal(errorFor(overrides), message)
    })
  }

  test('certificate settings of a family without an ssl listener are not checked', () => {
    const config = load({ overrides: { status_ssl_cert: '/a.crt' } })
    assert.deepEqual(config.status_ssl_cert, ['/a.crt'])
  })

  test("TLS settings: Kong's defaults, lists of certificates, PEM text kept as one entry", () => {
    const config = load({
      overrides: {
        ssl_cert: '/a.crt, /b.crt',
        ssl_cert_key: '/a.key, /b.key',
        admin_ssl_cert: '-----BEGIN CERTIFICATE-----\nAB,CD\n-----END CERTIFICATE-----',
        admin_ssl_cert_key: '/k',
      },
    })
    assert.deepEqual(config.ssl_cert, ['/a.crt', '/b.crt'])
    assert.equal(config.admin_ssl_cert.length, 1)
    assert.equal(config.ssl_cipher_suite, 'intermediate')
    assert.deepEqual(config.ssl_protocols, ['TLSv1.2', 'TLSv1.3'])
    assert.equal(config.ssl_ciphers, null)
    assert.deepEqual(config.lua_ssl_trusted_certificate, ['system'])
    assert.equal(config.lua_ssl_verify_depth, 1)
    assert.deepEqual(config.lua_ssl_protocols, ['TLSv1.2', 'TLSv1.3'])
    assert.equal(config.ssl_dhparam, null)
    assert.equal(config.ssl_session_tickets, true)
    assert.equal(config.ssl_session_timeout, 86400)
    assert.equal(config.ssl_session_cache_size, 10 * 1024 * 1024)
  })

  test('the error names the setting it concerns', () => {
    try {
      load({ overrides: { log_level: 'loud' } })
      assert.fail('expected an error')
    } catch (err) {
      assert.ok(err instanceof ConfigError)
      assert.equal(err.setting, 'log_level')
    }
  })

  test('a bad value in a file points at its line', () => {
    const path = writeConf('# header\nlog_level = info\nproxy_listen = 0.0.0.0:70000\n')
    assert.throws(() => load({ confPath: path }), {
      message: `invalid proxy_listen: "0.0.0.0:70000": port must be between 0 and 65535 (set in ${path} line 3)`,
    })
  })
})

describe('unknown settings', () => {
  test('in a file: error with line and a did-you-mean suggestion', () => {
    const path = writeConf('log_level = info\n\ndatabse = off\n')
    assert.throws(
      () => load({ confPath: path }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError)
        assert.equal(err.message, `unknown setting in ${path} line 3: "databse" (did you mean "database"?)`)
        assert.equal(err.setting, 'databse')
        return true
      },
    )
  })

  test('suggestions also cover Kong settings we only pass through', () => {
    assert.throws(() => load({ overrides: { pg_hots: 'x' } }), { message: 'unknown setting: "pg_hots" (did you mean "pg_host"?)' })
  })

  test('no suggestion when nothing is close', () => {
    assert.throws(() => load({ overrides: { completely_unrelated: 'x' } }), { message: 'unknown setting: "completely_unrelated"' })
  })

  test('unknown environment variables are ignored', () => {
    assert.equal(load({ env: { TURNPIKE_DATABSE: 'off', KONG_SOMETHING: 'x' } }).database, 'sqlite')
  })
})

describe('sizeToBytes', () => {
  test('converts nginx sizes for nginx_http_client_max_body_size', async () => {
    const { sizeToBytes } = await import('../../../src/config/index.js')
    assert.equal(sizeToBytes('0'), 0)
    assert.equal(sizeToBytes('512'), 512)
    assert.equal(sizeToBytes('8k'), 8192)
    assert.equal(sizeToBytes('10M'), 10 * 1024 * 1024)
    assert.equal(sizeToBytes('1g'), 1024 ** 3)
    assert.throws(() => sizeToBytes('1t'), /expected a size/)
  })
})

describe('client timeouts', () => {
  test("default to nginx's 60s and read nginx times, from the file or KONG_ variables", () => {
    const c = load({})
    assert.equal(c.nginx_http_client_header_timeout, 60_000)
    assert.equal(c.nginx_http_client_body_timeout, 60_000)
    const d = load({ overrides: { nginx_http_client_header_timeout: '1m30s', nginx_http_client_body_timeout: '250ms' } })
    assert.equal(d.nginx_http_client_header_timeout, 90_000)
    assert.equal(d.nginx_http_client_body_timeout, 250)
    assert.equal(load({ overrides: { nginx_http_client_body_timeout: '5' } }).nginx_http_client_body_timeout, 5000)
    const e = load({ env: { KONG_NGINX_HTTP_CLIENT_BODY_TIMEOUT: '2s' } })
    assert.equal(e.nginx_http_client_body_timeout, 2000)
  })
})
