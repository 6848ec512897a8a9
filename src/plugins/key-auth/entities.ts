/**
 * key-auth's credential entity, `keyauth_credentials` (Kong 3.9 `kong/plugins/key-auth/daos.lua`):
 * Admin API `/key-auths` and `/consumers/{consumer}/key-auth`. A key absent on create is
 * generated (32 random alphanumeric characters, as Kong's `random_string`); `ttl` (seconds) on
 * create makes the credential expire.
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { EntitySchema, InferRow } from '../../schema/index.js'

export const keyauthCredentials = {
  name: 'keyauth_credentials',
  primary_key: ['id'],
  endpoint_key: 'key',
  workspaceable: true,
  ttl: true,
  admin_path: 'key-auths',
  admin_nested_path: { parent: 'consumers', field: 'consumer', segment: 'key-auth' },
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    consumer: { type: 'foreign', reference: 'consumers', required: true, on_delete: 'cascade' },
    key: { type: 'string', required: false, unique: true, auto: true, referenceable: true, encrypted: true },
    tags: t.tags,
  },
} as const satisfies EntitySchema

/** A stored key-auth credential. */
export type KeyauthCredential = InferRow<typeof keyauthCredentials>
