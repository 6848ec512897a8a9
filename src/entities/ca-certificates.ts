/**
 * The `ca_certificates` entity (Kong 3.9 `kong/db/schema/entities/ca_certificates.lua`): one CA
 * certificate (PEM) trusted when verifying upstreams (services' `ca_certificates`), with its
 * `cert_digest` (sha256 of the DER, hex) computed on every write. Deleting one that a service
 * still lists is refused (see the services' `id_list_refs`).
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { parseCertificate, typedefs as t } from '../schema/index.js'
import type { EntitySchema, InferRow } from '../schema/index.js'

const CERT_TAG = '-----BEGIN CERTIFICATE-----'

/** Kong's checks, in Kong's order: one certificate, not expired, a CA. */
function checkCaCertificate(row: Readonly<Record<string, unknown>>): { '@entity': string } | undefined {
  const pem = row['cert']
  if (typeof pem !== 'string') return undefined
  const first = pem.indexOf(CERT_TAG)
  if (first >= 0 && pem.indexOf(CERT_TAG, first + CERT_TAG.length + 1) >= 0)
    return { '@entity': 'please submit only one certificate at a time' }
  const cert = parseCertificate(pem)
  if (cert === undefined) return undefined // the field's own check reports it
  if (Date.parse(cert.validTo) < Date.now()) return { '@entity': 'certificate expired, "Not After" time is in the past' }
  if (!cert.ca) return { '@entity': 'certificate does not appear to be a CA because it is missing the "CA" basic constraint' }
  return undefined
}

/** sha256 of the certificate's DER, lower-case hex (Kong's `cert_digest`). */
export function certDigest(pem: string): string | undefined {
  const cert = parseCertificate(pem)
  return cert === undefined ? undefined : createHash('sha256').update(cert.raw).digest('hex')
}

export const caCertificates = {
  name: 'ca_certificates',
  primary_key: ['id'],
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    updated_at: t.auto_timestamp_s,
    cert: { ...t.certificate, required: true },
    cert_digest: { type: 'string', unique: true },
    tags: t.tags,
  },
  entity_checks: [{ custom_entity_check: { field_sources: ['cert'], fn: checkCaCertificate } }],
  // Kong's `transformations.on_write`: the digest always follows the certificate.
  transform: (row) => {
    const digest = typeof row['cert'] === 'string' ? certDigest(row['cert']) : undefined
    return digest === undefined ? row : { ...row, cert_digest: digest }
  },
} as const satisfies EntitySchema

/** A stored CA certificate row. */
export type CaCertificate = InferRow<typeof caCertificates>
