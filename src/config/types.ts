/**
 * The gateway's settings, as read from a kong.conf-syntax file and `TURNPIKE_*` / `KONG_*`
 * environment variables. Names are Kong's.
 *
 * @module
 */

import type { PostgresSettings } from './postgres-settings.js'

export interface ListenAddress {
  readonly host: string
  readonly port: number
  readonly ssl: boolean
  readonly http2: boolean
  readonly reuseport: boolean
  readonly backlog?: number
}

/** A TLS version as `ssl_protocols` names it. */
export type SslProtocol = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'

export type LogLevel = 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'crit' | 'alert' | 'emerg'

export interface GatewayConfig extends PostgresSettings {
  readonly prefix: string
  readonly proxy_listen: readonly ListenAddress[]
  readonly admin_listen: readonly ListenAddress[]
  readonly status_listen: readonly ListenAddress[]
  readonly database: 'sqlite' | 'off' | 'postgres'
  readonly sqlite_path: string
  readonly declarative_config: string | null
  readonly log_level: LogLevel
  /** `off` or a file path (absolute, or relative to prefix); `/dev/stdout` allowed. */
  readonly proxy_access_log: string
  readonly proxy_error_log: string
  readonly admin_access_log: string
  readonly admin_error_log: string
  /** Number of proxy worker processes (`auto` resolved to the core count). */
  readonly worker_processes: number
  /** CIDRs or IPs whose forwarded headers are trusted; `unix:` / `0.0.0.0/0` allowed. */
  readonly trusted_ips: readonly string[]
  readonly real_ip_header: string
  readonly real_ip_recursive: boolean
  /** Lower-cased tokens of Kong's `headers` setting (`server_tokens`, `latency_tokens`, `x-kong-request-id` …) or [] for off. */
  readonly headers: readonly string[]
  readonly headers_upstream: readonly string[]
  readonly upstream_keepalive_pool_size: number
  readonly upstream_keepalive_max_requests: number
  readonly upstream_keepalive_idle_timeout: number
  /** Nameservers as `ip:port` (`[v6]:port`); empty = those of /etc/resolv.conf. */
  readonly dns_resolver: readonly string[]
  readonly dns_hostsfile: string
  /** Upper-cased `LAST`, `SRV`, `A`, `AAAA`, `CNAME`. */
  readonly dns_order: ReadonlyArray<'LAST' | 'SRV' | 'A' | 'AAAA' | 'CNAME'>
  /** Seconds overriding record TTLs; null = the records' own TTL. */
  readonly dns_valid_ttl: number | null
  readonly dns_stale_ttl: number
  readonly dns_not_found_ttl: number
  readonly dns_error_ttl: number
  readonly dns_cache_size: number
  readonly dns_no_sync: boolean
  readonly allow_debug_header: boolean
  readonly error_default_type: 'text/plain' | 'application/json' | 'text/html' | 'application/xml'
  readonly plugins: readonly string[]
  /** Folder where custom plugins named in `plugins` are looked up (`<name>/index.js`, `<name>.js`). */
  readonly plugins_path: string | null
  readonly nginx_http_client_max_body_size: string
  /** Milliseconds a client has to send the whole request line and headers (nginx `client_header_timeout`). */
  readonly nginx_http_client_header_timeout: number
  /** Milliseconds allowed between two successive reads of a request body (nginx `client_body_timeout`). */
  readonly nginx_http_client_body_timeout: number
  /** nginx's `keepalive_timeout` for proxy clients, in milliseconds (0: no keep-alive). */
  readonly nginx_http_keepalive_timeout: number
  /** nginx's `keepalive_requests`: requests served on one HTTP/1.1 client connection before it is closed (0: no limit). */
  readonly nginx_http_keepalive_requests: number
  /** Largest Admin API request body (nginx size; `0` = unlimited): larger ones get 413. */
  readonly nginx_admin_client_max_body_size: string
  /** Form arguments `kong.request.get_body` reads (1–1000); the rest is ignored, as nginx does. */
  readonly lua_max_post_args: number
  /** Query arguments `kong.request.get_query` reads (1–1000); the rest is ignored, as nginx does. */
  readonly lua_max_uri_args: number
  /** Seconds a graceful stop waits for in-flight requests. */
  readonly shutdown_timeout: number
  /** Kong's `node_id` (deprecated in Kong 3.9): this node's id instead of the one kept in the prefix. */
  readonly node_id: string | null
  /** Kong's `admin_gui_url` entries (Kong Manager's URLs; their origins are the Admin API's CORS origins). */
  readonly admin_gui_url: readonly string[]
  /** Kong's `mem_cache_size` in bytes: reported as the `kong_db_cache` capacity (Turnpike keeps the whole configuration in memory). */
  readonly mem_cache_size: number
  /**
   * Certificates and keys of the proxy's TLS listeners when no SNI picks one (Kong's
   * `ssl_cert`/`ssl_cert_key`, in pairs): each an absolute file path, PEM text or base64 of it.
   * Empty: a self-signed default is generated into `<prefix>/ssl/` (see docs/tls.md).
   */
  readonly ssl_cert: readonly string[]
  readonly ssl_cert_key: readonly string[]
  /** The same for `admin_listen` and `status_listen` entries with `ssl`. */
  readonly admin_ssl_cert: readonly string[]
  readonly admin_ssl_cert_key: readonly string[]
  readonly status_ssl_cert: readonly string[]
  readonly status_ssl_cert_key: readonly string[]
  /** Kong's predefined suites (Mozilla's), or `custom`: `ssl_protocols`, `ssl_ciphers` and `ssl_prefer_server_ciphers` then apply. */
  readonly ssl_cipher_suite: 'modern' | 'intermediate' | 'old' | 'custom'
  /** OpenSSL cipher list (`custom` only); null: OpenSSL's default. */
  readonly ssl_ciphers: string | null
  readonly ssl_protocols: readonly SslProtocol[]
  readonly ssl_prefer_server_ciphers: boolean
  /**
   * The CAs upstream TLS verification trusts when a service has no `ca_certificates`: `system`
   * (the operating system's store) and/or absolute paths of PEM files, in order.
   */
  readonly lua_ssl_trusted_certificate: readonly string[]
  /** Default verification depth of upstream certificate chains (a service's tls_verify_depth wins). */
  readonly lua_ssl_verify_depth: number
  /** TLS versions of the gateway's own outbound connections (health probes, plugins), as Kong's cosockets. */
  readonly lua_ssl_protocols: readonly SslProtocol[]
  /**
   * `ssl_dhparam`: DH parameters (PEM) for the DHE ciphers of the `old` and `custom` suites, from a
   * predefined group (`ffdhe2048` …), a file or the text itself; null: none (DHE off, as nginx).
   */
  readonly ssl_dhparam: string | null
  /** The name `ssl_dhparam` gave (a group name, a path, or `inline`), for messages. */
  readonly ssl_dhparam_source: string | null
  readonly ssl_session_tickets: boolean
  /** Seconds a TLS session stays resumable. */
  readonly ssl_session_timeout: number
  /** Bytes of the proxy listeners' TLS session cache (nginx's `ssl_session_cache shared:SSL:<size>`). */
  readonly ssl_session_cache_size: number
  /**
   * `client_ssl`: the client certificate presented to upstreams (and by https health probes) when
   * neither the service nor the upstream entity names one; its sources (a file, PEM text or base64).
   */
  readonly client_ssl: boolean
  readonly client_ssl_cert: string | null
  readonly client_ssl_cert_key: string | null
  /**
   * The vault backends this node loads (Kong's `vaults`: `bundled` is the `env` vault, the only one
   * Kong OSS bundles; `off` loads none).
   */
  readonly vaults: readonly string[]
  /** The env vault's default `prefix` (`vault_env_prefix`), put before the variable's name; null when unset. */
  readonly vault_env_prefix: string | null
  /** Every setting as given (after defaults), for `GET /` output. */
  readonly raw: Readonly<Record<string, string>>
}
