/**
 * The `snis` entity (Kong 3.9 `kong/db/schema/entities/snis.lua`): a server name (exact,
 * `*.example.com` or `example.*`) and the certificate served for it. A certificate's `snis`
 * list (see certificates.ts) creates and replaces these rows.
 *
 * @module
 */
import { typedefs as t } from '../schema/index.js'
import type { EntitySchema, InferRow } from '../schema/index.js'

export const snis = {
  name: 'snis',
  primary_key: ['id'],
  endpoint_key: 'name',
  workspaceable: true,
  fields: {
    id: t.uuid,
    name: { ...t.wildcard_host, required: true, unique: true },
    created_at: t.auto_timestamp_s,
    updated_at: t.auto_timestamp_s,
    tags: t.tags,
    certificate: {
      type: 'foreign',
      reference: 'certificates',
      required: true,
      description: 'The id (a UUID) of the certificate with which to associate the SNI hostname.',
    },
  },
} as const satisfies EntitySchema

/** A stored SNI row. */
export type Sni = InferRow<typeof snis>
