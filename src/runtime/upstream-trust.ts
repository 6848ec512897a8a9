/**
 * Reads kong.conf's `lua_ssl_trusted_certificate` once per worker: `system` is the operating
 * system's CA store, any other entry a PEM file (every certificate in it). The result is the
 * trust of upstream TLS verification for services without `ca_certificates`. `client_ssl`'s
 * certificate, when on, comes with it.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { getCACertificates } from 'node:tls'
import type { GatewayConfig } from '../config/index.js'
import { upstreamTrust, type UpstreamTrust } from '../snapshot/upstream-tls.js'
import { clientCertificate } from './tls-certificates.js'

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g

/** The certificates of `lua_ssl_trusted_certificate`, in order; throws naming a file that cannot be read. */
export function loadUpstreamTrust(
  config: Pick<GatewayConfig, 'lua_ssl_trusted_certificate' | 'lua_ssl_verify_depth'> &
    Partial<Pick<GatewayConfig, 'client_ssl' | 'client_ssl_cert' | 'client_ssl_cert_key'>>,
): UpstreamTrust {
  const ca: string[] = []
  for (const entry of config.lua_ssl_trusted_certificate) {
    if (entry === 'system') {
      ca.push(...getCACertificates('system'))
      continue
    }
    let text: string
    try {
      text = readFileSync(entry, 'utf8')
    } catch (err) {
      throw new Error(`lua_ssl_trusted_certificate: cannot read ${entry}: ${(err as Error).message}`)
    }
    const blocks = text.match(PEM_BLOCK) ?? []
    if (blocks.length === 0) throw new Error(`lua_ssl_trusted_certificate: ${entry} holds no PEM certificate`)
    try {
      for (const block of blocks) new X509Certificate(block)
    } catch (err) {
      throw new Error(`lua_ssl_trusted_certificate: ${entry} holds a certificate that does not load: ${(err as Error).message}`)
    }
    ca.push(...blocks)
  }
  return upstreamTrust(ca, config.lua_ssl_verify_depth, clientCertificate(config))
}
