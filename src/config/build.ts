/**
 * Turns the final string of each setting into the typed {@link GatewayConfig}.
 *
 * @module
 */

import { availableParallelism } from 'node:os'
import { isIP } from 'node:net'
import { isAbsolute, resolve } from 'node:path'
import { existsSync, statSync } from 'node:fs'
import { isUuid } from '../ids/uuid.js'
import { ConfigError, invalidSetting } from './errors.js'
import { isTrustedIpEntry } from './ip.js'
import { parseListen } from './listen.js'
import {
  DATABASES,
  ERROR_DEFAULT_TYPES,
  HEADER_TOKENS,
  LOG_LEVELS,
  SSL_CIPHER_SUITES,
  SSL_PROTOCOLS,
  UPSTREAM_HEADER_TOKENS,
  type SettingName,
} from './settings.js'
import type { LayeredValue } from './sources.js'
import type { GatewayConfig, ListenAddress, SslProtocol } from './types.js'
import { ValueProblem } from './value-problem.js'
import { buildPostgresSettings } from './postgres-settings.js'
import { parseBoolean, parseEnum, parseInteger, parseList, parseNginxTime, parseSize, sizeToBytes } from './values.js'
import { parseDhParam } from './dhparam.js'

/** Kong's `node_id`: unset, or a UUID (Kong: "node_id must be a valid UUID"). */
function nodeIdSetting(value: string): string | null {
  if (value === '') return null
  if (!isUuid(value)) throw new ValueProblem('must be a valid UUID')
  return value
}

/** The origin of an `admin_gui_url` entry: its scheme and authority as written (Kong's `admin_gui_origin`). */
export function urlOrigin(url: string): string {
  return /^[a-z]+:\/\/[^/?#]+/i.exec(url)?.[0] ?? url
}

/**
 * Kong's `admin_gui_url`: comma-separated URLs of the Kong Manager the Admin API serves; their
 * origins (scheme and authority, as written) become the Admin API's allowed CORS origins.
 */
function adminGuiUrls(value: string): string[] {
  return parseList(value).map((url) => {
    if (!/^https?:\/\/[^/?#\s]+(?:[/?#]\S*)?$/i.test(url)) throw new ValueProblem(`${JSON.stringify(url)} is not an http or https URL`)
    return url
  })
}

/** Kong's `lua_max_uri_args` / `lua_max_post_args`: an integer between 1 and 1000. */
function argLimit(value: string): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN
  if (!(n >= 1 && n <= 1000)) throw new ValueProblem('must be an integer between 1 and 1000')
  return n
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

function required(value: string): string {
  if (value === '') throw new ValueProblem('a value is required')
  return value
}

/** A log target: `off`, an absolute path (e.g. `/dev/stdout`), or a path relative to the prefix. */
function logPath(value: string, prefix: string): string {
  const v = required(value)
  if (v === 'off' || isAbsolute(v)) return v
  return resolve(prefix, v)
}

/** Validates a list against Kong's tokens, case-insensitively; `off` first means none. */
function tokenList(value: string, allowed: readonly string[]): string[] {
  const tokens = parseList(value).map((t) => t.toLowerCase())
  if (tokens[0] === 'off') return []
  const out: string[] = []
  for (const token of tokens) {
    if (token === 'off') continue
    if (!allowed.includes(token)) {
      throw new ValueProblem(`unknown token ${JSON.stringify(token)} (expected ${allowed.join(', ')} or off)`)
    }
    if (!out.includes(token)) out.push(token)
  }
  return out
}

function trustedIps(value: string): string[] {
  const entries = parseList(value)
  for (const entry of entries) {
    if (!isTrustedIpEntry(entry)) {
      throw new ValueProblem(`${JSON.stringify(entry)} is not an IPv4/IPv6 address, a CIDR block or "unix:"`)
    }
  }
  return entries
}

function realIpHeader(value: string): string {
  const v = required(value)
  if (v !== 'proxy_protocol' && !HEADER_NAME.test(v)) {
    throw new ValueProblem('expected a header name or proxy_protocol')
  }
  return v
}

function workerProcesses(value: string): number {
  return value === 'auto' ? availableParallelism() : parseInteger(required(value), 1)
}

function plugins(value: string): string[] {
  const names = parseList(value)
  if (names[0] === 'off') return []
  for (const name of names) {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) {
      throw new ValueProblem(`${JSON.stringify(name)} is not a plugin name (letters, digits, - and _ only)`)
    }
  }
  return names
}

/** Kong OSS's bundled vault backends (`constants.BUNDLED_VAULTS`). */
const BUNDLED_VAULTS = ['env']

/**
 * `vaults`: `bundled` (the env vault), `env`, or `off`. Any other name is a vault Turnpike does
 * not have (HashiCorp Vault, AWS, GCP, Azure and CyberArk Conjur are Kong Enterprise vaults): Kong
 * OSS refuses to start with it, so does Turnpike, with Kong's message.
 */
function vaults(value: string): string[] {
  const names = parseList(value)
  if (names.length === 0 || names[0] === 'off') return []
  const out: string[] = []
  for (const name of names) {
    if (name === 'off') continue
    for (const n of name === 'bundled' ? BUNDLED_VAULTS : [name]) {
      if (!BUNDLED_VAULTS.includes(n))
        throw new ValueProblem(
          `error loading vault schemas: on vault '${n}': ${n} vault is enabled but not installed (Turnpike bundles the env vault only, as Kong OSS; other vaults are Kong Enterprise's)`,
        )
      if (!out.includes(n)) out.push(n)
    }
  }
  return out
}

/** `vault_env_prefix`: the env vault's `config.prefix` rule (Kong's `^[%a_-][%a%d_-]*$`). */
function vaultEnvPrefix(value: string): string | null {
  if (value === '') return null
  if (!/^[A-Za-z_-][A-Za-z0-9_-]*$/.test(value))
    throw new ValueProblem('letters, digits, _ and - only, not starting with a digit (an environment variable name prefix)')
  return value
}

/** `dns_resolver`: `ip[:port]` entries, normalized to `ip:port` / `[v6]:port` (Kong's check and message). */
function dnsResolver(value: string): string[] {
  return parseList(value).map((entry) => {
    const v = entry.trim()
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v) ?? /^([0-9.]+)(?::(\d+))?$/.exec(v)
    const host = m?.[1] ?? v
    const port = m?.[2] === undefined ? 53 : Number(m[2])
    const family = isIP(host)
    if ((m === null && family !== 6) || family === 0 || port < 1 || port > 65535) {
      throw new ValueProblem(`must be a comma separated list in the form of IPv4/6 or IPv4/6:port, got '${v}'`)
    }
    return family === 6 ? `[${host}]:${port}` : `${host}:${port}`
  })
}

function dnsHostsfile(value: string, cwd: string): string {
  const path = resolve(cwd, required(value))
  let isFile = false
  try {
    isFile = statSync(path).isFile()
  } catch {
    isFile = false
  }
  if (!isFile) throw new ValueProblem('file does not exist')
  return path
}

const DNS_ORDER_TYPES = ['LAST', 'SRV', 'A', 'AAAA', 'CNAME'] as const

function dnsOrder(value: string): Array<(typeof DNS_ORDER_TYPES)[number]> {
  const out: Array<(typeof DNS_ORDER_TYPES)[number]> = []
  for (const entry of parseList(value)) {
    const t = DNS_ORDER_TYPES.find((x) => x === entry.toUpperCase())
    if (t === undefined) throw new ValueProblem(`invalid entry '${entry}' (expected LAST, SRV, A, AAAA or CNAME)`)
    out.push(t)
  }
  if (out.length === 0) throw new ValueProblem('invalid order list; cannot be empty')
  return out
}

/** A number of seconds, fractions allowed (Kong's `number` settings). */
function seconds(value: string): number {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new ValueProblem('expected a number of seconds, 0 or greater')
  return Number(value)
}

/**
 * `ssl_cert`-like lists (Kong's `array` settings): each entry is a file (a relative path is made
 * absolute when it exists, as Kong's `abspath`), PEM text, or base64 of PEM text; the files are
 * read when a listener needs them (runtime/tls-certificates.ts).
 */
function pemSources(value: string, cwd: string): string[] {
  if (value.trim().startsWith('-----BEGIN')) return [value.trim()]
  return parseList(value).map((v) => (!v.startsWith('-----BEGIN') && existsSync(resolve(cwd, v)) ? resolve(cwd, v) : v))
}

/**
 * `lua_ssl_trusted_certificate`: a comma list of `system` and PEM file paths (made absolute); a
 * file that does not exist is refused, as Kong's loader does.
 */
function trustedCertificates(value: string, cwd: string): string[] {
  const out: string[] = []
  for (const entry of parseList(value)) {
    if (entry === 'system') {
      if (!out.includes('system')) out.push('system')
      continue
    }
    const path = resolve(cwd, entry)
    if (!existsSync(path)) throw new ValueProblem(`path ${JSON.stringify(entry)} does not exist`)
    out.push(path)
  }
  return out
}

/** `ssl_protocols`: nginx's words, space-separated (Kong's default `TLSv1.2 TLSv1.3`). */
function sslProtocols(value: string): SslProtocol[] {
  const out: SslProtocol[] = []
  for (const word of value.split(/[\s,]+/).filter((w) => w !== '')) {
    const p = SSL_PROTOCOLS.find((x) => x === word)
    if (p === undefined) throw new ValueProblem(`unknown protocol ${JSON.stringify(word)} (expected ${SSL_PROTOCOLS.join(', ')})`)
    if (!out.includes(p)) out.push(p)
  }
  if (out.length === 0) throw new ValueProblem('at least one protocol is required, e.g. TLSv1.2 TLSv1.3')
  return out
}

function cipherSuite(value: string): (typeof SSL_CIPHER_SUITES)[number] {
  if (value === 'fips')
    throw new ValueProblem("fips is not supported: node's OpenSSL does not run in FIPS mode here (use intermediate, modern, old or custom)")
  if (!(SSL_CIPHER_SUITES as readonly string[]).includes(value))
    throw new ValueProblem(`Undefined cipher suite ${value} (expected ${SSL_CIPHER_SUITES.join(', ')})`)
  return parseEnum(value, SSL_CIPHER_SUITES)
}

/**
 * Kong's check of a listener family's certificate settings (`conf_loader/parse.lua`), when one of
 * its listeners has `ssl`: certificates and keys come in pairs.
 */
function checkCertificatePairs(
  prefix: '' | 'admin_' | 'status_',
  listen: readonly ListenAddress[],
  certs: readonly string[],
  keys: readonly string[],
): void {
  if (!listen.some((l) => l.ssl)) return
  let problem: string | null = null
  if (certs.length > 0 && keys.length === 0) problem = `${prefix}ssl_cert_key must be specified`
  else if (keys.length > 0 && certs.length === 0) problem = `${prefix}ssl_cert must be specified`
  else if (certs.length !== keys.length) {
    problem = `${prefix}ssl_cert was specified ${certs.length} times while ${prefix}ssl_cert_key was specified ${keys.length} times`
  }
  if (problem !== null) throw new ConfigError(problem, `${prefix}ssl_cert`)
}

/**
 * Kong's check of `client_ssl` (`conf_loader/parse.lua`): the certificate and its key come
 * together. Neither is refused too: Kong's nginx would not start with an empty
 * `proxy_ssl_certificate`.
 */
function checkClientSsl(c: { client_ssl: boolean; client_ssl_cert: string | null; client_ssl_cert_key: string | null }): void {
  if (!c.client_ssl) return
  if (c.client_ssl_cert !== null && c.client_ssl_cert_key === null)
    throw new ConfigError('client_ssl_cert_key must be specified', 'client_ssl_cert_key')
  if (c.client_ssl_cert === null) throw new ConfigError('client_ssl_cert must be specified', 'client_ssl_cert')
}

/**
 * Builds the configuration from the final value of each implemented setting.
 *
 * @param get - the winning value (with its origin) for each setting
 * @param cwd - directory a relative `prefix` or `declarative_config` is resolved against
 * @param raw - every setting's final string, for `GatewayConfig.raw`
 * @throws ConfigError naming the first invalid setting
 */
export function buildConfig(get: (name: SettingName) => LayeredValue, cwd: string, raw: Readonly<Record<string, string>>): GatewayConfig {
  function parse<T>(name: SettingName, fn: (value: string) => T): T {
    const { value, source, name: givenAs } = get(name)
    try {
      return fn(value)
    } catch (err) {
      // Name the setting as the user wrote it, which may be a Kong alias of ours.
      if (err instanceof ValueProblem) throw invalidSetting(givenAs ?? name, err.value ?? value, err.message, source)
      throw err
    }
  }

  const prefix = parse('prefix', (v) => resolve(cwd, required(v)))
  const proxyListen = parse('proxy_listen', parseListen)
  const adminListen = parse('admin_listen', parseListen)
  const statusListen = parse('status_listen', parseListen)
  const pems = (name: SettingName): string[] => parse(name, (v) => pemSources(v, cwd))
  const tls = {
    ssl_cert: pems('ssl_cert'),
    ssl_cert_key: pems('ssl_cert_key'),
    admin_ssl_cert: pems('admin_ssl_cert'),
    admin_ssl_cert_key: pems('admin_ssl_cert_key'),
    status_ssl_cert: pems('status_ssl_cert'),
    status_ssl_cert_key: pems('status_ssl_cert_key'),
    ssl_cipher_suite: parse('ssl_cipher_suite', cipherSuite),
    ssl_ciphers: parse('ssl_ciphers', (v) => (v === '' ? null : v)),
    ssl_protocols: parse('ssl_protocols', sslProtocols),
    ssl_prefer_server_ciphers: parse('ssl_prefer_server_ciphers', parseBoolean),
    lua_ssl_trusted_certificate: parse('lua_ssl_trusted_certificate', (v) => trustedCertificates(v, cwd)),
    lua_ssl_verify_depth: parse('lua_ssl_verify_depth', (v) => parseInteger(v, 0)),
    lua_ssl_protocols: parse('lua_ssl_protocols', sslProtocols),
    ssl_session_tickets: parse('ssl_session_tickets', parseBoolean),
    ssl_session_timeout: parse('ssl_session_timeout', (v) => Math.max(1, Math.floor(parseNginxTime(v) / 1000))),
    ssl_session_cache_size: parse('ssl_session_cache_size', (v) => sizeToBytes(parseSize(v))),
  }
  const dhparam = parse('ssl_dhparam', (v) => parseDhParam(v, cwd))
  const clientSsl = {
    client_ssl: parse('client_ssl', parseBoolean),
    client_ssl_cert: parse('client_ssl_cert', (v) => pemSources(v, cwd)[0] ?? null),
    client_ssl_cert_key: parse('client_ssl_cert_key', (v) => pemSources(v, cwd)[0] ?? null),
  }
  checkClientSsl(clientSsl)
  checkCertificatePairs('', proxyListen, tls.ssl_cert, tls.ssl_cert_key)
  checkCertificatePairs('admin_', adminListen, tls.admin_ssl_cert, tls.admin_ssl_cert_key)
  checkCertificatePairs('status_', statusListen, tls.status_ssl_cert, tls.status_ssl_cert_key)
  return {
    prefix,
    proxy_listen: proxyListen,
    admin_listen: adminListen,
    status_listen: statusListen,
    ...tls,
    ...clientSsl,
    ssl_dhparam: dhparam?.pem ?? null,
    ssl_dhparam_source: dhparam?.source ?? null,
    database: parse('database', (v) => {
      if (v === 'cassandra') throw new ValueProblem('Cassandra is not supported (Kong dropped it in 3.4); use sqlite, off or postgres')
      return parseEnum(v, DATABASES)
    }),
    sqlite_path: parse('sqlite_path', (v) => resolve(prefix, required(v))),
    declarative_config: parse('declarative_config', (v) => (v === '' ? null : resolve(cwd, v))),
    log_level: parse('log_level', (v) => parseEnum(v, LOG_LEVELS)),
    proxy_access_log: parse('proxy_access_log', (v) => logPath(v, prefix)),
    proxy_error_log: parse('proxy_error_log', (v) => logPath(v, prefix)),
    admin_access_log: parse('admin_access_log', (v) => logPath(v, prefix)),
    admin_error_log: parse('admin_error_log', (v) => logPath(v, prefix)),
    worker_processes: parse('worker_processes', workerProcesses),
    trusted_ips: parse('trusted_ips', trustedIps),
    real_ip_header: parse('real_ip_header', realIpHeader),
    real_ip_recursive: parse('real_ip_recursive', parseBoolean),
    headers: parse('headers', (v) => tokenList(v, HEADER_TOKENS)),
    headers_upstream: parse('headers_upstream', (v) => tokenList(v, UPSTREAM_HEADER_TOKENS)),
    upstream_keepalive_pool_size: parse('upstream_keepalive_pool_size', (v) => parseInteger(v, 0)),
    upstream_keepalive_max_requests: parse('upstream_keepalive_max_requests', (v) => parseInteger(v, 0)),
    upstream_keepalive_idle_timeout: parse('upstream_keepalive_idle_timeout', (v) => parseInteger(v, 0)),
    dns_resolver: parse('dns_resolver', dnsResolver),
    dns_hostsfile: parse('dns_hostsfile', (v) => dnsHostsfile(v, cwd)),
    dns_order: parse('dns_order', dnsOrder),
    dns_valid_ttl: parse('dns_valid_ttl', (v) => (v === '' ? null : seconds(v))),
    dns_stale_ttl: parse('dns_stale_ttl', seconds),
    dns_not_found_ttl: parse('dns_not_found_ttl', seconds),
    dns_error_ttl: parse('dns_error_ttl', seconds),
    dns_cache_size: parse('dns_cache_size', (v) => parseInteger(v, 1)),
    dns_no_sync: parse('dns_no_sync', parseBoolean),
    allow_debug_header: parse('allow_debug_header', parseBoolean),
    error_default_type: parse('error_default_type', (v) => parseEnum(v, ERROR_DEFAULT_TYPES)),
    plugins: parse('plugins', plugins),
    plugins_path: parse('plugins_path', (v) => (v === '' ? null : resolve(cwd, v))),
    nginx_http_client_max_body_size: parse('nginx_http_client_max_body_size', parseSize),
    nginx_http_client_header_timeout: parse('nginx_http_client_header_timeout', parseNginxTime),
    nginx_http_client_body_timeout: parse('nginx_http_client_body_timeout', parseNginxTime),
    nginx_http_keepalive_timeout: parse('nginx_http_keepalive_timeout', (v) => (v === '0' ? 0 : parseNginxTime(v))),
    nginx_http_keepalive_requests: parse('nginx_http_keepalive_requests', (v) => parseInteger(v, 0)),
    nginx_admin_client_max_body_size: parse('nginx_admin_client_max_body_size', parseSize),
    lua_max_post_args: parse('lua_max_post_args', argLimit),
    lua_max_uri_args: parse('lua_max_uri_args', argLimit),
    shutdown_timeout: parse('shutdown_timeout', (v) => parseInteger(v, 0)),
    node_id: parse('node_id', nodeIdSetting),
    admin_gui_url: parse('admin_gui_url', adminGuiUrls),
    mem_cache_size: parse('mem_cache_size', (v) => sizeToBytes(parseSize(v))),
    vaults: parse('vaults', vaults),
    vault_env_prefix: parse('vault_env_prefix', vaultEnvPrefix),
    ...buildPostgresSettings(parse),
    raw,
  }
}
