import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { ConfigError, ineffectiveSettings, loadConfig, urlOrigin } from '../../../src/config/index.js'
import { load, tempDir, writeConf } from './helpers.js'

describe('defaults', () => {
  test('match Kong 3.9 except prefix, database and sqlite_path', () => {
    const c = load()
    assert.equal(c.prefix, '/srv/gw/.turnpike')
    assert.deepEqual(c.proxy_listen, [
      { host: '0.0.0.0', port: 8000, ssl: false, http2: false, reuseport: true, backlog: 16384 },
      { host: '0.0.0.0', port: 8443, ssl: true, http2: true, reuseport: true, backlog: 16384 },
    ])
    assert.deepEqual(
      c.admin_listen.map((l) => [l.host, l.port, l.ssl]),
      [
        ['127.0.0.1', 8001, false],
        ['127.0.0.1', 8444, true],
      ],
    )
    assert.deepEqual(c.status_listen, [{ host: '127.0.0.1', port: 8007, ssl: false, http2: false, reuseport: true, backlog: 16384 }])
    assert.equal(c.database, 'sqlite')
    assert.equal(c.sqlite_path, '/srv/gw/.turnpike/turnpike.db')
    assert.equal(c.declarative_config, null)
    assert.equal(c.log_level, 'notice')
    assert.equal(c.proxy_access_log, '/srv/gw/.turnpike/logs/access.log')
    assert.equal(c.proxy_error_log, '/srv/gw/.turnpike/logs/error.log')
    assert.equal(c.admin_access_log, '/srv/gw/.turnpike/logs/admin_access.log')
    assert.equal(c.admin_error_log, '/srv/gw/.turnpike/logs/error.log')
    assert.equal(c.worker_processes, availableParallelism())
    assert.deepEqual(c.trusted_ips, [])
    assert.equal(c.real_ip_header, 'X-Real-IP')
    assert.equal(c.real_ip_recursive, false)
    assert.deepEqual(c.headers, ['server_tokens', 'latency_tokens', 'x-kong-request-id'])
    assert.deepEqual(c.headers_upstream, ['x-kong-request-id'])
    assert.equal(c.upstream_keepalive_pool_size, 512)
    assert.equal(c.upstream_keepalive_max_requests, 10000)
    assert.equal(c.upstream_keepalive_idle_timeout, 60)
    assert.equal(c.allow_debug_header, false)
    assert.equal(c.error_default_type, 'text/plain')
    assert.deepEqual(c.plugins, ['bundled'])
    assert.equal(c.nginx_http_client_max_body_size, '0')
    assert.equal(c.shutdown_timeout, 10)
  })

  test('raw holds every implemented setting as a string, with resolved prefix and sqlite_path', () => {
    const c = load()
    assert.equal(c.raw.log_level, 'notice')
    assert.equal(c.raw.prefix, '/srv/gw/.turnpike')
    assert.equal(c.raw.sqlite_path, '/srv/gw/.turnpike/turnpike.db')
    assert.equal(c.raw.headers, 'server_tokens, latency_tokens, X-Kong-Request-Id')
    assert.equal(c.raw.declarative_config, '')
  })
})

describe('file, paths and values', () => {
  test('settings from the file, relative paths resolved (prefix from cwd, logs and sqlite under prefix)', () => {
    const path = writeConf(
      [
        'prefix = run/gw',
        'sqlite_path = data/db.sqlite',
        'proxy_access_log = /dev/stdout',
        'proxy_error_log = /dev/stderr',
        'admin_access_log = off',
        'admin_error_log = admin-errors.log',
        'declarative_config = kong.yml',
        'database = off',
        'worker_processes = 3',
        'trusted_ips = 10.0.0.0/8, ::1, unix:, 0.0.0.0/0, ::/0',
        'headers = Server, Via, X-Kong-Upstream-Status',
        'headers_upstream = off',
        'plugins = bundled, my-plugin',
        'error_default_type = application/json',
        'nginx_http_client_max_body_size = 8m',
        'shutdown_timeout = 0',
        'status_listen = off',
      ].join('\n'),
    )
    const c = load({ confPath: path })
    assert.equal(c.prefix, '/srv/gw/run/gw')
    assert.equal(c.sqlite_path, '/srv/gw/run/gw/data/db.sqlite')
    assert.equal(c.proxy_access_log, '/dev/stdout')
    assert.equal(c.proxy_error_log, '/dev/stderr')
    assert.equal(c.admin_access_log, 'off')
    assert.equal(c.admin_error_log, '/srv/gw/run/gw/admin-errors.log')
    assert.equal(c.declarative_config, '/srv/gw/kong.yml')
    assert.equal(c.database, 'off')
    assert.equal(c.worker_processes, 3)
    assert.deepEqual(c.trusted_ips, ['10.0.0.0/8', '::1', 'unix:', '0.0.0.0/0', '::/0'])
    assert.deepEqual(c.headers, ['server', 'via', 'x-kong-upstream-status'])
    assert.deepEqual(c.headers_upstream, [])
    assert.deepEqual(c.plugins, ['bundled', 'my-plugin'])
    assert.equal(c.error_default_type, 'application/json')
    assert.equal(c.nginx_http_client_max_body_size, '8m')
    assert.equal(c.shutdown_timeout, 0)
    assert.deepEqual(c.status_listen, [])
  })

  test('headers = off means none; off later in the list is ignored, like Kong', () => {
    assert.deepEqual(load({ overrides: { headers: 'off' } }).headers, [])
    assert.deepEqual(load({ overrides: { headers: 'via, off' } }).headers, ['via'])
  })

  test('plugins = off means none; empty lists are empty', () => {
    assert.deepEqual(load({ overrides: { plugins: 'off' } }).plugins, [])
    assert.deepEqual(load({ overrides: { trusted_ips: '' } }).trusted_ips, [])
  })

  test('Kong settings we do not implement are accepted and kept in raw', () => {
    const path = writeConf(
      'pg_host = db.internal\nmem_cache_size = 256m\nrouter_flavor = expressions\nnginx_http_gzip = on\nvault_env_prefix = X_\n',
    )
    const c = load({ confPath: path })
    assert.equal(c.raw.pg_host, 'db.internal')
    assert.equal(c.raw.mem_cache_size, '256m')
    assert.equal(c.raw.router_flavor, 'expressions')
    assert.equal(c.raw.nginx_http_gzip, 'on')
    assert.equal(c.raw.vault_env_prefix, 'X_')
  })

  test("Kong's nginx_worker_processes and nginx_proxy_real_ip_* set our settings", () => {
    const c = load({
      confPath: writeConf('nginx_worker_processes = 2\nnginx_proxy_real_ip_header = X-Forwarded-For\nnginx_proxy_real_ip_recursive = on\n'),
    })
    assert.equal(c.worker_processes, 2)
    assert.equal(c.real_ip_header, 'X-Forwarded-For')
    assert.equal(c.real_ip_recursive, true)
    assert.equal(c.raw.nginx_worker_processes, '2')
    assert.equal(c.raw.worker_processes, '2')
  })

  test('the nginx directives Kong writes the TLS session settings and lua_ssl_protocols into set them', () => {
    const c = load({
      confPath: writeConf(
        'nginx_http_ssl_session_tickets = off\nnginx_http_ssl_session_timeout = 10m\nnginx_http_lua_ssl_protocols = TLSv1.3\n',
      ),
    })
    assert.equal(c.ssl_session_tickets, false)
    assert.equal(c.ssl_session_timeout, 600)
    assert.deepEqual(c.lua_ssl_protocols, ['TLSv1.3'])
  })

  test('our name beats an alias in the same layer; a higher layer alias beats a lower one', () => {
    const path = writeConf('nginx_worker_processes = 2\nworker_processes = 4\n')
    assert.equal(load({ confPath: path }).worker_processes, 4)
    assert.equal(load({ confPath: path, env: { KONG_NGINX_WORKER_PROCESSES: '5' } }).worker_processes, 5)
  })

  test('real_ip_header accepts proxy_protocol', () => {
    assert.equal(load({ overrides: { real_ip_header: 'proxy_protocol' } }).real_ip_header, 'proxy_protocol')
  })
})

describe('precedence: defaults < file < KONG_ env < TURNPIKE_ env < overrides', () => {
  const path = writeConf('log_level = info\n')

  test('file over default', () => {
    assert.equal(load({ confPath: path }).log_level, 'info')
  })

  test('KONG_ over file', () => {
    assert.equal(load({ confPath: path, env: { KONG_LOG_LEVEL: 'warn' } }).log_level, 'warn')
  })

  test('TURNPIKE_ over KONG_', () => {
    assert.equal(load({ confPath: path, env: { KONG_LOG_LEVEL: 'warn', TURNPIKE_LOG_LEVEL: 'error' } }).log_level, 'error')
  })

  test('overrides over environment', () => {
    const c = load({ confPath: path, env: { TURNPIKE_LOG_LEVEL: 'error' }, overrides: { log_level: 'debug', prefix: '/opt/tp' } })
    assert.equal(c.log_level, 'debug')
    assert.equal(c.prefix, '/opt/tp')
    assert.equal(c.sqlite_path, '/opt/tp/turnpike.db')
  })

  test('env reaches Kong pass-through settings, including dynamic nginx_* names', () => {
    const c = load({ env: { KONG_PG_PASSWORD: 's3cret', TURNPIKE_NGINX_HTTP_GZIP: 'on', KONG_VERSION: '3.9' } })
    assert.equal(c.raw.pg_password, 's3cret')
    assert.equal(c.raw.nginx_http_gzip, 'on')
    assert.equal(c.raw.version, undefined)
  })

  test("vaults: bundled is env, off loads none, an Enterprise vault is refused with Kong's message; vault_env_prefix", () => {
    assert.deepEqual(load({}).vaults, ['env'])
    assert.deepEqual(load({ overrides: { vaults: 'off' } }).vaults, [])
    assert.deepEqual(load({ overrides: { vaults: 'bundled,env' } }).vaults, ['env'])
    assert.throws(() => load({ env: { KONG_VAULTS: 'bundled,hcv' } }), {
      name: 'ConfigError',
      message: /^invalid vaults: "bundled,hcv": error loading vault schemas: on vault 'hcv': hcv vault is enabled but not installed/,
    })
    assert.equal(load({}).vault_env_prefix, null)
    assert.equal(load({ env: { KONG_VAULT_ENV_PREFIX: 'SECRETS_' } }).vault_env_prefix, 'SECRETS_')
    assert.throws(() => load({ overrides: { vault_env_prefix: '1BAD' } }), { name: 'ConfigError' })
  })

  test('an invalid env value names the variable', () => {
    assert.throws(() => load({ env: { KONG_DATABASE: 'mysql' } }), {
      name: 'ConfigError',
      message: 'invalid database: "mysql": expected one of: sqlite, off, postgres (from KONG_DATABASE)',
    })
  })
})

describe('node_id', () => {
  // Kong 3.9.3 conf_loader/parse.lua: "node_id must be a valid UUID"; unset by default.
  test('unset by default, a UUID when given, anything else refused', () => {
    assert.equal(load().node_id, null)
    const id = '8b3a5c8e-2c8f-4b59-9a30-b1c0b8f2d0a1'
    assert.equal(load({ env: { KONG_NODE_ID: id } }).node_id, id)
    assert.throws(() => load({ env: { KONG_NODE_ID: 'node-1' } }), {
      name: 'ConfigError',
      message: 'invalid node_id: "node-1": must be a valid UUID (from KONG_NODE_ID)',
    })
  })
})

describe('admin_gui_url', () => {
  test('a list of http(s) URLs; their origins are kept as written', () => {
    assert.deepEqual(load().admin_gui_url, [])
    const c = load({ env: { KONG_ADMIN_GUI_URL: 'http://localhost:8002/manager, https://gui.example.com' } })
    assert.deepEqual(c.admin_gui_url, ['http://localhost:8002/manager', 'https://gui.example.com'])
    assert.deepEqual(c.admin_gui_url.map(urlOrigin), ['http://localhost:8002', 'https://gui.example.com'])
    assert.throws(() => load({ env: { KONG_ADMIN_GUI_URL: 'localhost:8002' } }), {
      message: 'invalid admin_gui_url: "localhost:8002": "localhost:8002" is not an http or https URL (from KONG_ADMIN_GUI_URL)',
    })
  })
})

describe('kong.conf as Kong users have it (issue 18, theme 9)', () => {
  test('Enterprise settings and nginx_* injections load, and each is named as having no effect', () => {
    const path = writeConf(
      'enforce_rbac = on\nadmin_gui_auth = basic-auth\nvitals = on\nportal_gui_host = p.test\nnginx_proxy_proxy_buffer_size = 160k\nnginx_http_client_max_body_size = 8m\nnginx_main_worker_processes = 2\n',
    )
    const c = load({ confPath: path })
    assert.equal(c.nginx_http_client_max_body_size, '8m')
    assert.deepEqual(ineffectiveSettings(c), [
      'admin_gui_auth is a Kong Enterprise setting: accepted, no effect in Turnpike',
      'enforce_rbac is a Kong Enterprise setting: accepted, no effect in Turnpike',
      "nginx_proxy_proxy_buffer_size injects the nginx directive 'proxy_buffer_size 160k': accepted, no effect in Turnpike (there is no nginx); see docs/configuration.md for the nginx_* settings it implements",
      'portal_gui_host is a Kong Enterprise setting: accepted, no effect in Turnpike',
      'vitals is a Kong Enterprise setting: accepted, no effect in Turnpike',
    ])
  })

  test('unknown names in no Kong edition are all listed at once', () => {
    const path = writeConf('log_levle = debug\nproxy_listen = 0.0.0.0:8000\nfoo_bar = 1\n')
    assert.throws(() => load({ confPath: path }), {
      name: 'ConfigError',
      message: `unknown settings in ${path}: "log_levle" line 1 (did you mean "log_level"?), "foo_bar" line 3`,
    })
  })

  test('keep-alive: nginx_http_keepalive_timeout and nginx_http_keepalive_requests are honoured', () => {
    const c = load({ env: { KONG_NGINX_HTTP_KEEPALIVE_TIMEOUT: '5s', KONG_NGINX_HTTP_KEEPALIVE_REQUESTS: '3' } })
    assert.equal(c.nginx_http_keepalive_timeout, 5000)
    assert.equal(c.nginx_http_keepalive_requests, 3)
    assert.deepEqual([load().nginx_http_keepalive_timeout, load().nginx_http_keepalive_requests], [60_000, 10000])
    assert.equal(load({ env: { KONG_NGINX_HTTP_KEEPALIVE_TIMEOUT: '0' } }).nginx_http_keepalive_timeout, 0)
  })
})

describe('finding the file', () => {
  test('the first existing file of the search list is used', () => {
    const dir = tempDir()
    const second = writeConf('log_level = crit\n')
    const c = loadConfig({ env: {}, searchPaths: [join(dir, 'missing.conf'), second] })
    assert.equal(c.log_level, 'crit')
  })

  test('no file found is fine: defaults apply', () => {
    const dir = tempDir()
    assert.equal(loadConfig({ env: {}, searchPaths: [join(dir, 'a.conf')] }).log_level, 'notice')
  })

  test('an explicit confPath must exist', () => {
    const missing = join(tempDir(), 'nope.conf')
    assert.throws(
      () => load({ confPath: missing }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError)
        assert.equal(err.message, `configuration file not found: ${missing}`)
        return true
      },
    )
  })

  test('a relative confPath is resolved against cwd', () => {
    const path = writeConf('log_level = alert\n')
    const dir = path.slice(0, path.lastIndexOf('/'))
    assert.equal(load({ cwd: dir, confPath: 'turnpike.conf' }).log_level, 'alert')
  })
})
