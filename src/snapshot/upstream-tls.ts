/**
 * How a service talks TLS to its upstream (Kong 3.9 `kong/runloop/upstream_ssl.lua`), compiled
 * once per configuration: `tls_verify` (null: Kong's `proxy_ssl_verify off`), the CAs trusted
 * (the service's `ca_certificates`, else `lua_ssl_trusted_certificate`), the chain depth
 * (`tls_verify_depth`, else `lua_ssl_verify_depth`) and `client_certificate` (upstream mTLS; else
 * kong.conf's `client_ssl` certificate).
 * The request path only reads the result.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { StoredRow } from './snapshot.js'

/** The global trust of kong.conf, loaded once by the worker (PEM certificates). */
export interface UpstreamTrust {
  /** The CAs of `lua_ssl_trusted_certificate`, each one PEM certificate. */
  readonly ca: readonly string[]
  readonly verifyDepth: number
  /** Names the set of CAs in connection pool keys. */
  readonly id: string
  /** `client_ssl`'s certificate and key (PEM): presented when no `client_certificate` is named. */
  readonly client?: { readonly cert: string; readonly key: string } | null
}

/** The TLS settings of one service's upstream connections. */
export interface UpstreamTls {
  readonly verify: boolean
  readonly verifyDepth: number
  /** Trusted CAs when verifying (PEM); empty when `verify` is off. */
  readonly ca: readonly string[]
  /** The client certificate and key presented to the upstream, or null. */
  readonly cert: string | null
  readonly key: string | null
  /** Everything above in a short string: connections with different settings never share a pool. */
  readonly id: string
}

export const NO_TRUST: UpstreamTrust = { ca: [], verifyDepth: 1, id: 'none' }

function shortHash(...parts: readonly string[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p).update('\0')
  return h.digest('base64url').slice(0, 16)
}

/** The global trust from the CA certificates read from `lua_ssl_trusted_certificate`. */
export function upstreamTrust(
  ca: readonly string[],
  verifyDepth: number,
  client: { readonly cert: string; readonly key: string } | null = null,
): UpstreamTrust {
  return { ca, verifyDepth, id: shortHash(...ca), client }
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null
}

function refId(v: unknown): string | null {
  return v !== null && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string' ? (v as { id: string }).id : null
}

/** The stored CA certificates and certificates by id (built once per configuration). */
export class TlsMaterial {
  readonly #ca = new Map<string, string>()
  readonly #certs = new Map<string, { cert: string; key: string }>()

  constructor(caCertificates: readonly StoredRow[], certificates: readonly StoredRow[]) {
    for (const row of caCertificates) {
      const cert = text(row['cert'])
      if (cert !== null) this.#ca.set(row.id, cert)
    }
    for (const row of certificates) {
      const cert = text(row['cert'])
      const key = text(row['key'])
      if (cert !== null && key !== null) this.#certs.set(row.id, { cert, key })
    }
  }

  /**
   * A service row's upstream TLS settings. `upstream` is the upstream entity the service's host
   * names, if any: its `client_certificate` is presented when the service has none (Kong's
   * `fallback_upstream_client_cert`).
   */
  compile(row: Readonly<Record<string, unknown>>, trust: UpstreamTrust, upstream?: Readonly<Record<string, unknown>>): UpstreamTls {
    const verify = row['tls_verify'] === true
    const depth = typeof row['tls_verify_depth'] === 'number' ? row['tls_verify_depth'] : trust.verifyDepth
    let ca: readonly string[] = []
    let caId = 'off'
    if (verify) {
      const ids = Array.isArray(row['ca_certificates']) ? row['ca_certificates'].filter((x): x is string => typeof x === 'string') : []
      const own = ids.map((id) => this.#ca.get(id)).filter((c): c is string => c !== undefined)
      if (ids.length > 0) {
        ca = own
        caId = shortHash(...own)
      } else {
        ca = trust.ca
        caId = trust.id
      }
    }
    // The service's, else the upstream entity's (Kong's fallback_upstream_client_cert), else
    // kong.conf's client_ssl certificate (nginx's proxy_ssl_certificate).
    const clientId = refId(row['client_certificate']) ?? refId(upstream?.['client_certificate'])
    const client = clientId === null ? (trust.client ?? undefined) : this.#certs.get(clientId)
    const cert = client?.cert ?? null
    const key = client?.key ?? null
    const id = `${verify ? 1 : 0}|${depth}|${caId}|${cert === null ? '' : shortHash(cert, key ?? '')}`
    return { verify, verifyDepth: depth, ca, cert, key, id }
  }
}
