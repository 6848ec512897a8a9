/**
 * Which certificate a TLS handshake gets, compiled with the snapshot from the `certificates` and
 * `snis` rows (Kong 3.9 `kong/runloop/certificate.lua`'s `find_certificate`): the SNI named
 * exactly as the client's server name, then `*.` + the name without its first label (names of
 * three labels or more), then the name with its last label replaced by `*`, then an SNI named
 * `*`; none of them: the listener's default certificate. A handshake reads maps, never the store.
 *
 * @module
 */
import type { StoredRow } from './snapshot.js'

/** A certificate as a TLS listener serves it (PEM text). */
export interface ServerCertificate {
  readonly id: string
  readonly cert: string
  readonly key: string
  /** The pair of the other key type (RSA / ECDSA), or null. */
  readonly cert_alt: string | null
  readonly key_alt: string | null
  /**
   * A vault reference of the certificate could not be resolved (its field is empty): as in Kong,
   * a handshake for one of its SNIs is refused rather than answered with another certificate.
   */
  readonly unresolved?: true
}

/** Kong's catch-all SNI name (`DEFAULT_SNI`). */
const CATCH_ALL = '*'

function text(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null
}

function serverCertificate(row: StoredRow): ServerCertificate | null {
  // Stored values are never empty: an empty one is a vault reference that did not resolve.
  if (['cert', 'key', 'cert_alt', 'key_alt'].some((f) => row[f] === ''))
    return { id: row.id, cert: '', key: '', cert_alt: null, key_alt: null, unresolved: true }
  const cert = text(row['cert'])
  const key = text(row['key'])
  if (cert === null || key === null) return null
  return { id: row.id, cert, key, cert_alt: text(row['cert_alt']), key_alt: text(row['key_alt']) }
}

/**
 * The wildcard names Kong looks up for a server name: `*.example.com` for `www.example.com`
 * (the first label of a name with three labels or more), `www.example.*` (the last label).
 */
export function wildcardNames(name: string): { prefix: string | null; suffix: string | null } {
  const firstDot = name.indexOf('.')
  const lastDot = name.lastIndexOf('.')
  // Kong: ([^.]+)(\.[^.]+\.\S+) → *$2, ([^.]+\.)([^.]+)$ → $1*
  const prefix = firstDot > 0 && lastDot > firstDot + 1 && lastDot < name.length - 1 ? `*${name.slice(firstDot)}` : null
  const suffix = lastDot > 0 && lastDot < name.length - 1 && name[lastDot - 1] !== '.' ? `${name.slice(0, lastDot + 1)}*` : null
  return { prefix, suffix }
}

export class CertificateIndex {
  readonly #byName = new Map<string, ServerCertificate>()
  readonly #all: ServerCertificate[] = []

  constructor(certificates: readonly StoredRow[], snis: readonly StoredRow[]) {
    const byId = new Map<string, ServerCertificate>()
    for (const row of certificates) {
      const c = serverCertificate(row)
      if (c === null) continue
      byId.set(c.id, c)
      if (c.unresolved !== true) this.#all.push(c)
    }
    for (const sni of snis) {
      const name = sni['name']
      const ref = sni['certificate'] as { id?: unknown } | null | undefined
      const cert = typeof ref?.id === 'string' ? byId.get(ref.id) : undefined
      if (typeof name === 'string' && cert !== undefined) this.#byName.set(name.toLowerCase(), cert)
    }
  }

  /** Every usable certificate (listeners prepare a TLS context for each when the snapshot changes). */
  get all(): readonly ServerCertificate[] {
    return this.#all
  }

  /** The certificate for a client's server name, or null: the listener's default one. */
  find(serverName: string): ServerCertificate | null {
    if (this.#byName.size === 0) return null
    const name = serverName.toLowerCase()
    const exact = this.#byName.get(name)
    if (exact !== undefined) return exact
    if (!name.includes('*')) {
      const { prefix, suffix } = wildcardNames(name)
      const wild = (prefix !== null ? this.#byName.get(prefix) : undefined) ?? (suffix !== null ? this.#byName.get(suffix) : undefined)
      if (wild !== undefined) return wild
    }
    return this.#byName.get(CATCH_ALL) ?? null
  }
}

export const NO_CERTIFICATES = new CertificateIndex([], [])
