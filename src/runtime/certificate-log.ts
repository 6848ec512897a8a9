/**
 * The subject and expiry of the node's certificates, in the error log: Kong's Admin API shows
 * neither, and Kong-compatible clients send back what they read, so Turnpike names them here
 * instead of adding fields to the entity. Logged at start for every certificate (and each
 * alternative one) and on every write; an expired certificate is a warning.
 *
 * @module
 */
import type { ChangeEvent } from '../dao/index.js'
import { describeCertificate } from '../entities/index.js'
import type { Row, Store } from '../store/index.js'

export interface CertificateLog {
  info(message: string): void
  warn(message: string): void
}

/** Logs one certificate row: `certificate <id>: subject CN=…, expires 2027-…`. */
export function logCertificate(log: CertificateLog, row: Row, now = Date.now()): void {
  for (const field of ['cert', 'cert_alt']) {
    const pem = row[field]
    if (typeof pem !== 'string') continue
    const d = describeCertificate(pem, now)
    if (d === undefined) continue
    const what = `certificate ${row.id}${field === 'cert_alt' ? ' (alternative)' : ''}: subject ${d.subject}`
    if (d.expired) log.warn(`${what}, expired on ${d.not_after}`)
    else log.info(`${what}, expires ${d.not_after}`)
  }
}

/** Logs every stored certificate (at start). */
export async function logStoredCertificates(log: CertificateLog, store: Store): Promise<void> {
  for (const row of await store.all('certificates')) logCertificate(log, row)
}

/** A `dao.onChange` listener logging created and updated certificates. */
export function certificateChangeLogger(log: CertificateLog): (e: ChangeEvent) => void {
  return (e) => {
    if (e.entity === 'certificates' && e.op !== 'delete') logCertificate(log, e.row)
  }
}
