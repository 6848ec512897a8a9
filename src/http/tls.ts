/**
 * TLS for the listeners (the only module that builds node:tls contexts): Kong's `ssl_cipher_suite`
 * / `ssl_protocols` / `ssl_ciphers` turned into node's options, and the per-certificate
 * SecureContexts the proxy's SNI callback hands out, built when a configuration is applied (never
 * during a handshake) and kept while the certificate does not change.
 *
 * @module
 */
import { constants } from 'node:crypto'
import { createSecureContext, type SecureContext, type SecureVersion, type Server, type TlsOptions } from 'node:tls'

/** A certificate and its key, PEM (a certificate file may hold its chain). */
export interface PemPair {
  readonly cert: string
  readonly key: string
}

/** A stored certificate as listeners serve it (structurally the snapshot's `ServerCertificate`). */
export interface TlsCertificate {
  readonly id: string
  readonly cert: string
  readonly key: string
  readonly cert_alt: string | null
  readonly key_alt: string | null
}

/** The TLS settings of kong.conf the listeners honour. */
export interface TlsSettings {
  readonly ssl_cipher_suite: 'modern' | 'intermediate' | 'old' | 'custom'
  readonly ssl_ciphers: string | null
  readonly ssl_protocols: readonly ('TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3')[]
  readonly ssl_prefer_server_ciphers: boolean
  /** PEM DH parameters (`old` and `custom` suites only, as Kong), or null. */
  readonly ssl_dhparam: string | null
  readonly ssl_session_tickets: boolean
  /** Seconds. */
  readonly ssl_session_timeout: number
}

/** Mozilla's intermediate list (Kong's `CIPHER_SUITES.intermediate`, Server Side TLS 5.7). */
const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
]

/** Mozilla's old list (Kong's `CIPHER_SUITES.old`). */
const OLD_CIPHERS = [
  ...INTERMEDIATE_CIPHERS,
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'DHE-RSA-AES128-SHA256',
  'DHE-RSA-AES256-SHA256',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA256',
  'AES256-SHA256',
  'AES128-SHA',
  'AES256-SHA',
  'DES-CBC3-SHA',
]

const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']

/** The protocol and cipher options of every context of a listener (they apply per context). */
export type TlsPolicy = Pick<
  TlsOptions,
  'minVersion' | 'maxVersion' | 'ciphers' | 'honorCipherOrder' | 'dhparam' | 'sessionTimeout' | 'secureOptions'
>

/**
 * The range of versions node enables for a list of nginx protocol words: from the oldest listed
 * to the newest (a gap such as `TLSv1 TLSv1.2` enables TLSv1.1 too).
 */
export function versionRange(protocols: readonly string[]): { minVersion: SecureVersion; maxVersion: SecureVersion } {
  const listed = VERSIONS.filter((v) => protocols.includes(v))
  return { minVersion: listed[0] ?? 'TLSv1.2', maxVersion: listed[listed.length - 1] ?? 'TLSv1.3' }
}

/**
 * The session settings every suite shares: `ssl_session_timeout` (how long a session can be
 * resumed, tickets included) and `ssl_session_tickets off` (OpenSSL's SSL_OP_NO_TICKET: no
 * tickets; TLSv1.2 clients resume from the session cache by id).
 */
function sessionPolicy(s: TlsSettings): Pick<TlsPolicy, 'sessionTimeout' | 'secureOptions'> {
  return { sessionTimeout: s.ssl_session_timeout, ...(s.ssl_session_tickets ? {} : { secureOptions: constants.SSL_OP_NO_TICKET }) }
}

/**
 * Kong's `conf_loader/parse.lua`: a predefined suite sets protocols, ciphers and server cipher
 * preference (`ssl_protocols` and `ssl_ciphers` are ignored then); `custom` takes them from the
 * settings. nginx enables exactly the listed versions; node takes a range, from the oldest listed
 * to the newest (a gap such as `TLSv1 TLSv1.2` enables TLSv1.1 too).
 */
export function tlsPolicy(s: TlsSettings): TlsPolicy {
  const range = versionRange
  // `ssl_dhparam` counts for `old` and `custom` only (Kong: `modern` needs none, `intermediate`
  // forces ffdhe2048); without it the DHE ciphers are off, as in nginx.
  const dhparam = s.ssl_dhparam !== null ? { dhparam: s.ssl_dhparam } : {}
  switch (s.ssl_cipher_suite) {
    case 'modern':
      return { ...range(['TLSv1.3']), honorCipherOrder: false, ...sessionPolicy(s) }
    case 'intermediate':
      // Kong's intermediate sets nginx's ssl_dhparam to the ffdhe2048 group; `auto` is OpenSSL's
      // choice of a well-known group for the DHE suites.
      return {
        ...range(['TLSv1.2', 'TLSv1.3']),
        ciphers: INTERMEDIATE_CIPHERS.join(':'),
        honorCipherOrder: false,
        dhparam: 'auto',
        ...sessionPolicy(s),
      }
    case 'old':
      // Kong's template lowers OpenSSL's security level for `old` (TLSv1 and TLSv1.1 need it).
      return {
        ...range(VERSIONS),
        ciphers: `${OLD_CIPHERS.join(':')}:@SECLEVEL=0`,
        honorCipherOrder: true,
        ...dhparam,
        ...sessionPolicy(s),
      }
    case 'custom':
      return {
        ...range(s.ssl_protocols),
        ...(s.ssl_ciphers !== null ? { ciphers: s.ssl_ciphers } : {}),
        honorCipherOrder: s.ssl_prefer_server_ciphers,
        ...dhparam,
        ...sessionPolicy(s),
      }
  }
}

/**
 * A context serving `pairs` (node picks the pair matching the client's key type: an RSA and an
 * ECDSA certificate can be served side by side, as nginx's repeated `ssl_certificate`).
 *
 * @throws when a certificate or key does not load
 */
export function secureContext(policy: TlsPolicy, pairs: readonly PemPair[]): SecureContext {
  return createSecureContext({ ...policy, cert: pairs.map((p) => p.cert), key: pairs.map((p) => p.key) })
}

/** The pairs of a stored certificate: `cert`/`key`, and `cert_alt`/`key_alt` when set. */
function pairsOf(c: TlsCertificate): PemPair[] {
  const pairs = [{ cert: c.cert, key: c.key }]
  if (c.cert_alt !== null && c.key_alt !== null) pairs.push({ cert: c.cert_alt, key: c.key_alt })
  return pairs
}

/**
 * The SecureContexts of the stored certificates, by certificate id. `update` is called with every
 * new configuration: a certificate whose PEM text did not change keeps its context, a changed one
 * gets a new context, a removed one is dropped.
 */
export class CertificateContexts {
  readonly #policy: TlsPolicy
  readonly #onError: (certificateId: string, err: Error) => void
  /** By certificate id; context null: OpenSSL refused it (logged once, not retried until it changes). */
  #contexts = new Map<string, { readonly source: TlsCertificate; readonly context: SecureContext | null }>()

  constructor(policy: TlsPolicy, onError: (certificateId: string, err: Error) => void) {
    this.#policy = policy
    this.#onError = onError
  }

  update(certificates: readonly TlsCertificate[]): void {
    const next = new Map<string, { readonly source: TlsCertificate; readonly context: SecureContext | null }>()
    for (const c of certificates) {
      const had = this.#contexts.get(c.id)
      if (had !== undefined && sameCertificate(had.source, c)) {
        next.set(c.id, had)
        continue
      }
      try {
        next.set(c.id, { source: c, context: secureContext(this.#policy, pairsOf(c)) })
      } catch (err) {
        // Stored certificates were checked when written; one OpenSSL refuses anyway (a key type
        // or size the policy does not allow) is logged and its SNIs get the default certificate.
        this.#onError(c.id, err as Error)
        next.set(c.id, { source: c, context: null })
      }
    }
    this.#contexts = next
  }

  /** The context of a certificate, or undefined (the listener's default is served). */
  get(id: string): SecureContext | undefined {
    return this.#contexts.get(id)?.context ?? undefined
  }
}

function sameCertificate(a: TlsCertificate, b: TlsCertificate): boolean {
  return a.cert === b.cert && a.key === b.key && a.cert_alt === b.cert_alt && a.key_alt === b.key_alt
}

/** What a TLS listener needs: its policy, its default certificates and, for the proxy, SNI selection. */
export interface ListenerTls {
  readonly policy: TlsPolicy
  readonly defaults: readonly PemPair[]
  /**
   * The context for a client's server name, undefined for the default certificate, or null to
   * refuse the handshake (Kong's `ngx.exit(ngx.ERROR)`: the name's certificate cannot be used).
   */
  readonly select?: (serverName: string) => SecureContext | undefined | null
  /** The proxy's session cache (`ssl_session_cache_size`, tickets off), shared by its TLS listeners in a worker. */
  readonly sessionCache?: SessionCache
}

/**
 * nginx's `ssl_session_cache shared:SSL:<size>` for one worker, used when `ssl_session_tickets` is
 * off: sessions a TLSv1.2 client resumes by session id, least recently used first out once their
 * bytes pass the size, and none older than `ssl_session_timeout`. node keeps no server-side
 * sessions of its own; its `newSession`/`resumeSession` events feed this. (TLSv1.3 without
 * tickets does not resume through these events in node.)
 */
export class SessionCache {
  readonly #maxBytes: number
  readonly #ttlMs: number
  /** By session id (hex), oldest first (a Map keeps insertion order; a hit re-inserts). */
  readonly #entries = new Map<string, { readonly data: Buffer; readonly at: number }>()
  #bytes = 0

  constructor(maxBytes: number, ttlSeconds: number) {
    this.#maxBytes = maxBytes
    this.#ttlMs = ttlSeconds * 1000
  }

  get size(): number {
    return this.#entries.size
  }

  set(id: Buffer, data: Buffer): void {
    const key = id.toString('hex')
    this.#drop(key)
    const cost = key.length / 2 + data.length
    if (cost > this.#maxBytes) return
    this.#entries.set(key, { data, at: Date.now() })
    this.#bytes += cost
    // Bounded: each turn removes one entry.
    for (const oldest of this.#entries.keys()) {
      if (this.#bytes <= this.#maxBytes) break
      this.#drop(oldest)
    }
  }

  get(id: Buffer): Buffer | null {
    const key = id.toString('hex')
    const e = this.#entries.get(key)
    if (e === undefined) return null
    this.#drop(key)
    if (Date.now() - e.at > this.#ttlMs) return null
    this.#entries.set(key, e)
    this.#bytes += key.length / 2 + e.data.length
    return e.data
  }

  #drop(key: string): void {
    const e = this.#entries.get(key)
    if (e === undefined) return
    this.#entries.delete(key)
    this.#bytes -= key.length / 2 + e.data.length
  }

  /** Feeds a TLS server's session events into the cache. */
  attach(server: Server): void {
    server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      this.set(id, data)
      done()
    })
    server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => done(null, this.get(id)))
  }
}

/** node:https server options for a TLS listener; `http2`: `h2` is offered by ALPN before `http/1.1`. */
export function tlsServerOptions(t: ListenerTls, http2 = false): TlsOptions {
  const select = t.select
  return {
    ...t.policy,
    cert: t.defaults.map((p) => p.cert),
    key: t.defaults.map((p) => p.key),
    // Without http2, a client offering h2 is answered in HTTP/1.1 (./h2-server.ts takes the h2 ones).
    ALPNProtocols: http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
    ...(select !== undefined
      ? {
          SNICallback: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => {
            let ctx: SecureContext | undefined | null
            try {
              ctx = select(name)
            } catch {
              ctx = undefined
            }
            if (ctx === null) cb(new Error(`no usable certificate for server name ${name}`))
            else cb(null, ctx)
          },
        }
      : {}),
  }
}
