/**
 * The default certificates of the TLS listeners: Kong's `ssl_cert`/`ssl_cert_key` (and the
 * `admin_`/`status_` pairs) loaded from files, PEM text or base64, or, when none is set, the
 * self-signed pairs Kong generates into `<prefix>/ssl/` (an RSA 2048 and an ECDSA P-256
 * certificate for `CN=localhost`, valid 20 years, kept across restarts). node:crypto cannot issue
 * X.509 certificates: the pairs are made with the `openssl` command, and without it the start
 * stops saying to install it or to set the certificate settings.
 *
 * @module
 */
import { execFileSync } from 'node:child_process'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULTS, type GatewayConfig } from '../config/index.js'
import type { PemPair } from '../http/tls.js'

export type ListenerFamily = 'proxy' | 'admin' | 'status'

/** A certificate setting that cannot be used: the start stops with this message. */
export class CertificateSettingError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CertificateSettingError'
  }
}

const SETTING_PREFIX: Record<ListenerFamily, '' | 'admin_' | 'status_'> = { proxy: '', admin: 'admin_', status: 'status_' }

/** Kong's default file names (`conf_loader/constants.lua`): `kong-default.crt`, `admin-kong-default-ecdsa.key`… */
function defaultFiles(prefix: string, family: ListenerFamily): { cert: string; key: string; type: 'rsa' | 'ecdsa' }[] {
  const base = family === 'proxy' ? 'kong-default' : `${family}-kong-default`
  return (['rsa', 'ecdsa'] as const).map((type) => {
    const name = type === 'rsa' ? base : `${base}-ecdsa`
    return { cert: join(prefix, 'ssl', `${name}.crt`), key: join(prefix, 'ssl', `${name}.key`), type }
  })
}

/** A setting's value as PEM: a file's content, PEM text, or base64 of PEM text (Kong's `try_decode_base64`). */
function pemOf(value: string): string | null {
  if (value.startsWith('-----BEGIN')) return value
  if (existsSync(value)) return readFileSync(value, 'utf8')
  const decoded = Buffer.from(value, 'base64').toString('utf8')
  return decoded.startsWith('-----BEGIN') ? decoded : null
}

/** One certificate setting and its key, loaded and checked; Kong's messages name `<p>ssl_cert`. */
function loadPair(p: string, certSource: string, keySource: string): PemPair {
  const cert = pemOf(certSource)
  try {
    if (cert === null) throw new Error()
    new X509Certificate(cert)
  } catch {
    throw new CertificateSettingError(`${p}ssl_cert: failed loading certificate from ${certSource}`)
  }
  const key = pemOf(keySource)
  try {
    if (key === null) throw new Error()
    createPrivateKey(key)
  } catch {
    throw new CertificateSettingError(
      `${p}ssl_cert_key: failed loading key from ${keySource.startsWith('-----BEGIN') ? '(PEM text)' : keySource}`,
    )
  }
  return { cert, key }
}

function loadConfigured(config: GatewayConfig, family: ListenerFamily): PemPair[] {
  const p = SETTING_PREFIX[family]
  const keys = config[`${p}ssl_cert_key` as const]
  return config[`${p}ssl_cert` as const].map((certSource, i) => loadPair(p, certSource, keys[i] ?? ''))
}

/**
 * kong.conf's `client_ssl_cert`/`client_ssl_cert_key` when `client_ssl` is on (nginx's
 * `proxy_ssl_certificate`): what upstream connections and https probes present when neither the
 * service nor the upstream entity names a `client_certificate`; null when off.
 *
 * @throws CertificateSettingError when the certificate or the key does not load
 */
export function clientCertificate(
  config: Partial<Pick<GatewayConfig, 'client_ssl' | 'client_ssl_cert' | 'client_ssl_cert_key'>>,
): PemPair | null {
  const { client_ssl: on, client_ssl_cert: cert, client_ssl_cert_key: key } = config
  if (on !== true || cert === null || cert === undefined || key === null || key === undefined) return null
  return loadPair('client_', cert, key)
}

/** Makes one self-signed pair with the openssl CLI, as Kong's `gen_default_ssl_cert` does. */
function generate(cert: string, key: string, type: 'rsa' | 'ecdsa'): void {
  const newkey = type === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...newkey,
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(20 * 365),
      '-subj',
      '/C=US/ST=California/L=San Francisco/O=Kong/OU=IT Department/CN=localhost',
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'extendedKeyUsage=serverAuth,clientAuth',
      '-addext',
      'subjectKeyIdentifier=hash',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 },
  )
  chmodSync(key, 0o600)
}

/**
 * The default certificates of a listener family. `generate`: make the self-signed defaults
 * that are missing (the primary, before any worker starts); workers only read them.
 *
 * @throws CertificateSettingError naming the setting or the missing tool
 */
export function listenerCertificates(config: GatewayConfig, family: ListenerFamily, opts: { generate: boolean }): PemPair[] {
  const p = SETTING_PREFIX[family]
  if (config[`${p}ssl_cert` as const].length > 0) return loadConfigured(config, family)
  const files = defaultFiles(config.prefix, family)
  if (opts.generate) {
    mkdirSync(join(config.prefix, 'ssl'), { recursive: true })
    for (const f of files) {
      if (existsSync(f.cert) && existsSync(f.key)) continue
      try {
        generate(f.cert, f.key, f.type)
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { stderr?: Buffer }
        const why = e.code === 'ENOENT' ? 'the openssl command was not found' : (e.stderr?.toString().trim().split('\n')[0] ?? e.message)
        throw new CertificateSettingError(
          `could not generate the default ${family} certificate ${f.cert}: ${why}; set ${p}ssl_cert and ${p}ssl_cert_key, or install openssl`,
        )
      }
    }
  }
  return files.map((f) => ({ cert: readFileSync(f.cert, 'utf8'), key: readFileSync(f.key, 'utf8') }))
}

/** True when a family has an `ssl` listener. */
export function hasTlsListener(config: GatewayConfig, family: ListenerFamily): boolean {
  return config[`${family}_listen` as const].some((l) => l.ssl)
}

/**
 * Kong ignores `ssl_protocols`, `ssl_ciphers` and `ssl_prefer_server_ciphers` unless
 * `ssl_cipher_suite` is `custom`, without a word; Turnpike does the same and says so at start when
 * one of them was changed from its default (null: nothing to say).
 */
export function ignoredTlsSettings(config: GatewayConfig): string | null {
  if (config.ssl_cipher_suite === 'custom') return null
  if (!(['proxy', 'admin', 'status'] as const).some((f) => hasTlsListener(config, f))) return null
  const dhIgnored = config.ssl_cipher_suite !== 'old'
  const changed = [
    config.ssl_protocols.join(' ') !== DEFAULTS.ssl_protocols ? 'ssl_protocols' : null,
    config.ssl_ciphers !== null ? 'ssl_ciphers' : null,
    !config.ssl_prefer_server_ciphers ? 'ssl_prefer_server_ciphers' : null,
  ].filter((n) => n !== null)
  // ssl_dhparam counts for `old` too (Kong: `modern` needs none, `intermediate` forces ffdhe2048).
  const dh = dhIgnored && config.ssl_dhparam !== null
  if (changed.length === 0 && !dh) return null
  const parts = [
    changed.length > 0
      ? `${changed.join(', ')} ${changed.length === 1 ? 'is' : 'are'} ignored: ssl_cipher_suite is ${config.ssl_cipher_suite}, not custom`
      : null,
    dh ? `ssl_dhparam is ignored: ssl_cipher_suite is ${config.ssl_cipher_suite}, not old or custom` : null,
  ].filter((p) => p !== null)
  return `${parts.join('; ')} (as in Kong)`
}
