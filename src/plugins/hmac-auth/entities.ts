/**
 * hmac-auth's credential entity, `hmacauth_credentials` (Kong 3.9
 * `kong/plugins/hmac-auth/daos.lua`): Admin API `/hmac-auths` and `/consumers/{consumer}/hmac-auth`.
 *
 * `username` names the credential in the `Authorization: hmac username="…"` header; `secret` is
 * the shared HMAC key, generated when absent (Kong's `auto`). Kong stores the secret as written
 * (the gateway needs it to compute signatures), and so does Turnpike.
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { EntitySchema, InferRow } from '../../schema/index.js'

export const hmacauthCredentials = {
  name: 'hmacauth_credentials',
  primary_key: ['id'],
  endpoint_key: 'username',
  workspaceable: true,
  admin_path: 'hmac-auths',
  admin_nested_path: { parent: 'consumers', field: 'consumer', segment: 'hmac-auth' },
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    consumer: { type: 'foreign', reference: 'consumers', required: true, on_delete: 'cascade' },
    username: { type: 'string', required: true, unique: true },
    secret: { type: 'string', auto: true },
    tags: t.tags,
  },
} as const satisfies EntitySchema

/** A stored hmac-auth credential. */
export type HmacauthCredential = InferRow<typeof hmacauthCredentials>
