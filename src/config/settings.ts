/**
 * The settings Turnpike implements, their defaults (as kong.conf strings) and aliases.
 *
 * @module
 */

/**
 * Defaults, as they would be written in kong.conf. Kong 3.9's defaults except where noted
 * (see docs/configuration.md): `prefix`, `database`, `sqlite_path` and `shutdown_timeout`.
 * Relative `sqlite_path` and log paths are resolved under the prefix; `prefix` under the cwd.
 */
export const DEFAULTS = {
  prefix: './.turnpike',
  proxy_listen: '0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384',
  admin_listen: '127.0.0.1:8001 reuseport backlog=16384, 127.0.0.1:8444 http2 ssl reuseport backlog=16384',
  status_listen: '127.0.0.1:8007 reuseport backlog=16384',
  database: 'sqlite',
  sqlite_path: 'turnpike.db',
  declarative_config: '',
  declarative_config_writable: 'off',
  log_level: 'notice',
  proxy_access_log: 'logs/access.log',
  proxy_error_log: 'logs/error.log',
  admin_access_log: 'logs/admin_access.log',
  admin_error_log: 'logs/error.log',
  worker_processes: 'auto',
  trusted_ips: '',
  real_ip_header: 'X-Real-IP',
  real_ip_recursive: 'off',
  headers: 'server_tokens, latency_tokens, X-Kong-Request-Id',
  headers_upstream: 'X-Kong-Request-Id',
  upstream_keepalive_pool_size: '512',
  upstream_keepalive_max_requests: '10000',
  upstream_keepalive_idle_timeout: '60',
  dns_resolver: '',
  dns_hostsfile: '/etc/hosts',
  dns_order: 'LAST,SRV,A,CNAME',
  dns_valid_ttl: '',
  dns_stale_ttl: '3600',
  dns_not_found_ttl: '30',
  dns_error_ttl: '1',
  dns_cache_size: '10000',
  dns_no_sync: 'off',
  allow_debug_header: 'off',
  error_default_type: 'text/plain',
  plugins: 'bundled',
  plugins_path: '',
  nginx_http_client_max_body_size: '0',
  nginx_http_client_header_timeout: '60s',
  nginx_http_client_body_timeout: '60s',
  nginx_http_keepalive_timeout: '60s',
  nginx_http_keepalive_requests: '10000',
  nginx_admin_client_max_body_size: '10m',
  lua_max_post_args: '100',
  lua_max_uri_args: '100',
  shutdown_timeout: '10',
  node_id: '',
  admin_gui_url: '',
  mem_cache_size: '128m',
  ssl_cert: '',
  ssl_cert_key: '',
  ssl_cipher_suite: 'intermediate',
  ssl_ciphers: '',
  ssl_protocols: 'TLSv1.2 TLSv1.3',
  ssl_prefer_server_ciphers: 'on',
  admin_ssl_cert: '',
  admin_ssl_cert_key: '',
  status_ssl_cert: '',
  status_ssl_cert_key: '',
  lua_ssl_trusted_certificate: 'system',
  lua_ssl_verify_depth: '1',
  lua_ssl_protocols: 'TLSv1.2 TLSv1.3',
  ssl_dhparam: '',
  ssl_session_tickets: 'on',
  ssl_session_timeout: '1d',
  ssl_session_cache_size: '10m',
  client_ssl: 'off',
  client_ssl_cert: '',
  client_ssl_cert_key: '',
  vaults: 'bundled',
  vault_env_prefix: '',
  // PostgreSQL (Kong's kong_defaults.lua; NONE is '')
  pg_host: '127.0.0.1',
  pg_port: '5432',
  pg_database: 'kong',
  pg_schema: '',
  pg_timeout: '5000',
  pg_user: 'kong',
  pg_password: '',
  pg_ssl: 'off',
  pg_ssl_verify: 'off',
  pg_max_concurrent_queries: '0',
  pg_semaphore_timeout: '60000',
  pg_keepalive_timeout: '',
  pg_pool_size: '',
  pg_backlog: '',
  pg_ro_host: '',
  pg_ro_port: '',
  pg_ro_database: '',
  pg_ro_schema: '',
  pg_ro_timeout: '',
  pg_ro_user: '',
  pg_ro_password: '',
  pg_ro_ssl: '',
  pg_ro_ssl_verify: '',
  pg_ro_max_concurrent_queries: '',
  pg_ro_semaphore_timeout: '',
  pg_ro_keepalive_timeout: '',
  pg_ro_pool_size: '',
  pg_ro_backlog: '',
  // several nodes on one database (Kong's defaults)
  db_update_frequency: '5',
  db_update_propagation: '0',
} as const satisfies Record<string, string>

export type SettingName = keyof typeof DEFAULTS

/** Names of the implemented settings, in the order they are validated (and documented). */
export const SETTING_NAMES = Object.keys(DEFAULTS) as SettingName[]

/**
 * Kong names that set one of our settings. When several are given, the one from the highest
 * layer wins; within a layer our own name beats the aliases, listed in order of preference.
 */
export const ALIASES: Readonly<Partial<Record<SettingName, readonly string[]>>> = {
  worker_processes: ['nginx_main_worker_processes', 'nginx_worker_processes'],
  real_ip_header: ['nginx_proxy_real_ip_header'],
  real_ip_recursive: ['nginx_proxy_real_ip_recursive'],
  // The nginx directives Kong writes these settings into (`CONF_PARSERS[…].directives`).
  ssl_session_tickets: ['nginx_http_ssl_session_tickets'],
  ssl_session_timeout: ['nginx_http_ssl_session_timeout'],
  lua_ssl_protocols: ['nginx_http_lua_ssl_protocols'],
}

/** Lower-cased tokens of Kong's `headers` setting (`HEADER_KEY_TO_NAME` in Kong). */
export const HEADER_TOKENS: readonly string[] = [
  'server_tokens',
  'latency_tokens',
  'server',
  'via',
  'x-kong-proxy-latency',
  'x-kong-response-latency',
  'x-kong-admin-latency',
  'x-kong-upstream-latency',
  'x-kong-upstream-status',
  'x-kong-request-id',
]

/** Lower-cased tokens of `headers_upstream`. */
export const UPSTREAM_HEADER_TOKENS: readonly string[] = ['x-kong-request-id']

/** Kong's `log_level` values (nginx error_log levels). */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg'] as const

export const DATABASES = ['sqlite', 'off', 'postgres'] as const

/** Kong's `ssl_cipher_suite` values (`fips` is refused: node's OpenSSL runs without FIPS mode here). */
export const SSL_CIPHER_SUITES = ['modern', 'intermediate', 'old', 'custom'] as const

/** The TLS versions `ssl_protocols` names, oldest first (nginx's `ssl_protocols` words). */
export const SSL_PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const

export const ERROR_DEFAULT_TYPES = ['text/plain', 'application/json', 'text/html', 'application/xml'] as const
