/**
 * The `certificates` entity (Kong 3.9 `kong/db/schema/entities/certificates.lua` and
 * `kong/db/dao/certificates.lua`): a PEM certificate and its key, optionally an alternative pair
 * of the other key type (RSA and ECDSA), with the `snis` pseudo-field: a list of server names
 * that creates, replaces and reports the certificate's `snis` rows, as Kong's DAO does.
 *
 * Kong's Admin API shows neither the subject nor the expiry of a certificate, and Kong-compatible
 * clients (decK, go-kong) send back what they read: no extra field is added to the entity; see
 * {@link describeCertificate} for where Turnpike shows them.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { keyMatchesCertificate, parseCertificate, parsePrivateKey, typedefs as t } from '../schema/index.js'
import type { DaoHookContext, DaoReadContext, EntityDaoHooks, FieldErrors, EntitySchema, InferRow } from '../schema/index.js'

const SAME_TYPE =
  'certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), the provided certificates were both of the same type'

/** A `custom_entity_check` that the key of `keyField` belongs to the certificate of `certField`. */
function pairCheck(certField: string, keyField: string, message: string) {
  return (row: Readonly<Record<string, unknown>>): { '@entity': string } | undefined => {
    const certPem = row[certField]
    const keyPem = row[keyField]
    if (typeof certPem !== 'string' || typeof keyPem !== 'string') return undefined
    const cert = parseCertificate(certPem)
    const key = parsePrivateKey(keyPem)
    // Unparsable values are reported by the fields' own checks; a public key never matches.
    if (cert === undefined) return undefined
    return key !== undefined && keyMatchesCertificate(cert, key) ? undefined : { '@entity': message }
  }
}

function keyType(pem: unknown): string | undefined {
  return typeof pem === 'string' ? parseCertificate(pem)?.publicKey.asymmetricKeyType : undefined
}

/** The names of the SNIs of a certificate, sorted (Kong's `list_for_certificate`). */
async function sniNames(ctx: DaoReadContext, certificateId: string): Promise<string[]> {
  const rows = await ctx.children('snis', 'certificate', certificateId)
  return rows.map((r) => String(r['name'])).sort()
}

/** Kong's `parse_name_list` and `check_list_is_new`: no name twice, none taken by another certificate. */
async function checkNameList(
  ctx: DaoHookContext,
  input: Readonly<Record<string, unknown>>,
  id: string | undefined,
): Promise<FieldErrors | undefined> {
  const list = input['snis']
  if (!Array.isArray(list)) return undefined
  const seen = new Set<unknown>()
  for (const name of list) {
    if (seen.has(name)) return { snis: `${String(name)} is duplicated` }
    seen.add(name)
  }
  for (const name of [...list].filter((n): n is string => typeof n === 'string').sort()) {
    const row = await ctx.tx.selectByUnique('snis', 'name', name)
    const owner = row === null ? undefined : (row['certificate'] as { id?: unknown } | null)?.id
    if (row !== null && owner !== id) return { snis: `${name} already associated with existing certificate '${String(owner)}'` }
  }
  return undefined
}

/** Kong's `update_list`: adds the missing names, removes the others; answers with the sorted list. */
async function replaceNames(ctx: DaoHookContext, certificateId: string, wanted: readonly string[]): Promise<string[]> {
  const current = await ctx.children('snis', 'certificate', certificateId)
  const have = new Set(current.map((r) => r['name']))
  const now = Math.floor(Date.now() / 1000)
  for (const name of wanted) {
    if (have.has(name)) continue
    await ctx.insert('snis', { id: randomUUID(), name, created_at: now, updated_at: now, tags: null, certificate: { id: certificateId } })
  }
  const keep = new Set(wanted)
  for (const row of current) if (!keep.has(row['name'] as string)) await ctx.delete('snis', row)
  return [...wanted].sort()
}

const hooks: EntityDaoHooks = {
  beforeWrite: checkNameList,
  afterWrite: async (ctx, row, transient) => {
    if (!Object.hasOwn(transient, 'snis')) return { ...row, snis: await sniNames(ctx, row.id) }
    const list = transient['snis']
    const names = Array.isArray(list) ? list.filter((n): n is string => typeof n === 'string') : []
    return { ...row, snis: await replaceNames(ctx, row.id, names) }
  },
  beforeDelete: async (ctx, row) => {
    for (const sni of await ctx.children('snis', 'certificate', row.id)) await ctx.delete('snis', sni)
  },
  view: async (ctx, row) => ({ ...row, snis: await sniNames(ctx, row.id) }),
}

export const certificates = {
  name: 'certificates',
  primary_key: ['id'],
  workspaceable: true,
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    updated_at: t.auto_timestamp_s,
    cert: { ...t.certificate, required: true, referenceable: true },
    key: { ...t.key, required: true, referenceable: true, encrypted: true },
    cert_alt: { ...t.certificate, required: false, referenceable: true },
    key_alt: { ...t.key, required: false, referenceable: true, encrypted: true },
    tags: t.tags,
    snis: { type: 'array', elements: t.wildcard_host, required: false, transient: true },
  },
  entity_checks: [
    { mutually_required: ['cert_alt', 'key_alt'] },
    { custom_entity_check: { field_sources: ['cert', 'key'], fn: pairCheck('cert', 'key', 'certificate does not match key') } },
    {
      custom_entity_check: {
        field_sources: ['cert_alt', 'key_alt'],
        fn: pairCheck('cert_alt', 'key_alt', 'alternative certificate does not match key'),
      },
    },
    {
      custom_entity_check: {
        field_sources: ['cert', 'cert_alt'],
        fn: (row) => {
          const a = keyType(row['cert'])
          return a !== undefined && a === keyType(row['cert_alt']) ? { '@entity': SAME_TYPE } : undefined
        },
      },
    },
  ],
  dao_hooks: hooks,
} as const satisfies EntitySchema

/** A stored certificate row. */
export type Certificate = InferRow<typeof certificates>

/** What Turnpike tells about a certificate outside its entity JSON (logs): subject and expiry. */
export interface CertificateSummary {
  readonly subject: string
  readonly not_after: string
  readonly expired: boolean
}

/** Subject and expiry of a PEM certificate, or undefined when it does not parse. */
export function describeCertificate(pem: string, now = Date.now()): CertificateSummary | undefined {
  const cert = parseCertificate(pem)
  if (cert === undefined) return undefined
  const notAfter = Date.parse(cert.validTo)
  return { subject: cert.subject.replaceAll('\n', ', '), not_after: new Date(notAfter).toISOString(), expired: notAfter < now }
}
