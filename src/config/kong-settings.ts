/**
 * Kong 3.x settings Turnpike does not implement yet. They are accepted (and kept in `raw`) so
 * an existing kong.conf loads unchanged; anything else unknown is an error.
 * Names from Kong's `kong/templates/kong_defaults.lua` and `kong/conf_loader/constants.lua`.
 *
 * @module
 */

/** Exact names of accepted-but-not-implemented Kong settings. */
export const KONG_UNIMPLEMENTED_SETTINGS: ReadonlySet<string> = new Set([
  // general
  'proxy_stream_access_log',
  'proxy_stream_error_log',
  'status_access_log',
  'status_error_log',
  'debug_access_log',
  'debug_error_log',
  'port_maps',
  'host_ports',
  'anonymous_reports',
  'proxy_server',
  'proxy_server_ssl_verify',
  'error_template_html',
  'error_template_json',
  'error_template_xml',
  'error_template_plain',
  'stream_listen',
  'debug_listen',
  'admin_gui_listen',
  'admin_gui_path',
  'admin_gui_api_url',
  'admin_gui_access_log',
  'admin_gui_error_log',
  'admin_gui_ssl_cert',
  'admin_gui_ssl_cert_key',
  'admin_gui_csp',
  'admin_gui_origin',
  // hybrid mode
  'role',
  'cluster_listen',
  'cluster_control_plane',
  'cluster_cert',
  'cluster_cert_key',
  'cluster_mtls',
  'cluster_ca_cert',
  'cluster_server_name',
  'cluster_data_plane_purge_delay',
  'cluster_ocsp',
  'cluster_allowed_common_names',
  'cluster_max_payload',
  'cluster_use_proxy',
  'cluster_dp_labels',
  'cluster_rpc',
  'cluster_rpc_sync',
  'cluster_incremental_sync',
  'cluster_cjson',
  'kic',
  // caches, LMDB, workers
  'lmdb_environment_path',
  'lmdb_map_size',
  'worker_events_max_payload',
  'worker_consistency',
  'worker_state_update_frequency',
  'router_consistency',
  'router_flavor',
  'privileged_agent',
  'privileged_worker',
  'dedicated_config_processing',
  'concurrency_timeout',
  // TLS
  // (ssl_cert, ssl_cert_key, ssl_cipher_suite, ssl_ciphers, ssl_protocols, ssl_prefer_server_ciphers,
  // ssl_dhparam, ssl_session_*, lua_ssl_protocols, client_ssl* and the admin_/status_ certificates
  // are implemented: settings.ts)
  'debug_ssl_cert',
  'debug_ssl_cert_key',
  'client_body_buffer_size',
  // postgres (the connection settings are implemented: postgres-settings.ts)
  'pg_iam_auth',
  'pg_ssl_required',
  'pg_ssl_version',
  'pg_ssl_cert',
  'pg_ssl_cert_key',
  '_debug_pg_ttl_cleanup_interval',
  'pg_ro_iam_auth',
  'pg_ro_ssl_required',
  'pg_ro_ssl_version',
  'pg_ro_ssl_cert',
  'pg_ro_ssl_cert_key',
  // declarative / db cache
  'declarative_config_string',
  'db_cache_ttl',
  'db_cache_neg_ttl',
  'db_resurrect_ttl',
  'db_cache_warmup_entities',
  // DNS
  'legacy_dns_client',
  'resolver_address',
  'resolver_hosts_file',
  'resolver_family',
  'resolver_valid_ttl',
  'resolver_stale_ttl',
  'resolver_error_ttl',
  'resolver_lru_cache_size',
  'resolver_mem_cache_size',
  // Lua / OpenResty
  'lua_socket_pool_size',
  'lua_package_path',
  'lua_package_cpath',
  'lua_max_req_headers',
  'lua_max_resp_headers',
  'untrusted_lua',
  'untrusted_lua_sandbox_requires',
  'untrusted_lua_sandbox_environment',
  'openresty_path',
  'pluginserver_names',
  // observability, wasm, debugging
  'opentelemetry_tracing',
  'opentelemetry_tracing_sampling_rate',
  'tracing_instrumentations',
  'tracing_sampling_rate',
  'wasm',
  'wasm_filters_path',
  'wasm_filters',
  'request_debug',
  'request_debug_token',
  // nginx aliases Kong maps onto nginx_main_* (worker_processes is handled as an alias of ours)
  'nginx_user',
  'nginx_daemon',
])

/**
 * Kong's dynamic namespaces: any name starting with one of these is a pass-through
 * (nginx directive injection, plugin servers, vault settings), accepted and kept in `raw`.
 */
export const KONG_DYNAMIC_PREFIXES: readonly string[] = [
  'nginx_main_',
  'nginx_events_',
  'nginx_http_',
  'nginx_upstream_',
  'nginx_proxy_',
  'nginx_location_',
  'nginx_status_',
  'nginx_admin_',
  'nginx_debug_',
  'nginx_stream_',
  'nginx_supstream_',
  'nginx_sproxy_',
  'nginx_wasm_',
  'pluginserver_',
  'vault_',
]

/** True for a Kong setting Turnpike accepts without acting on it. */
export function isKongPassThrough(name: string): boolean {
  return KONG_UNIMPLEMENTED_SETTINGS.has(name) || KONG_DYNAMIC_PREFIXES.some((p) => name.startsWith(p))
}

/**
 * Kong Enterprise settings (kong.conf of Kong Gateway Enterprise 3.x): accepted so an Enterprise
 * kong.conf loads, each named once in a `warn` line at start as having no effect in Turnpike.
 */
export const KONG_ENTERPRISE_SETTINGS: ReadonlySet<string> = new Set([
  'enforce_rbac',
  'rbac_auth_header',
  'admin_gui_auth',
  'admin_gui_auth_conf',
  'admin_gui_auth_header',
  'admin_gui_auth_password_complexity',
  'admin_gui_auth_login_attempts',
  'admin_gui_auth_login_attempts_ttl',
  'admin_gui_session_conf',
  'admin_gui_header_txt',
  'admin_gui_header_bg_color',
  'admin_gui_header_txt_color',
  'admin_gui_footer_txt',
  'admin_gui_footer_bg_color',
  'admin_gui_footer_txt_color',
  'admin_gui_login_banner_title',
  'admin_gui_login_banner_body',
  'admin_emails_from',
  'admin_emails_reply_to',
  'admin_invitation_expiry',
  'vitals',
  'portal',
  'fips',
  'route_validation_strategy',
  'enforce_route_path_pattern',
  'konnect_mode',
  'event_hooks_enabled',
  'tracing',
  'generate_trace_details',
  'debug_ssl_verify',
  'cluster_fallback_config_import',
  'cluster_fallback_config_storage',
  'cluster_fallback_config_export',
  'cluster_fallback_config_export_delay',
])

/** Name prefixes of Kong Enterprise setting families (Dev Portal, Vitals, keyring, audit log …). */
export const KONG_ENTERPRISE_PREFIXES: readonly string[] = [
  'portal_',
  'vitals_',
  'keyring_',
  'audit_log',
  'smtp_',
  'analytics_',
  'cluster_telemetry_',
  'admin_gui_auth_',
  'rbac_',
]

/** True for a Kong Enterprise setting: accepted, warned about, no effect. */
export function isKongEnterpriseSetting(name: string): boolean {
  return KONG_ENTERPRISE_SETTINGS.has(name) || KONG_ENTERPRISE_PREFIXES.some((p) => name.startsWith(p))
}
