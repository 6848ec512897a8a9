/**
 * jwt's credential entity, `jwt_secrets` (Kong 3.9 `kong/plugins/jwt/daos.lua`): Admin API
 * `/jwts` and `/consumers/{consumer}/jwt`. `key` (matched against the token's `iss`, or the
 * configured claim) and `secret` are generated when absent. The asymmetric algorithms need
 * `rsa_public_key`, a PEM public key, refused with Kong's `invalid key` when it does not parse.
 *
 * @module
 */
import { createPublicKey } from 'node:crypto'
import { typedefs as t } from '../../schema/index.js'
import type { EntitySchema, InferRow } from '../../schema/index.js'

/** The algorithms Kong 3.9 accepts, in its order. */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
] as const

/** Algorithms verified with `rsa_public_key` (every one but HMAC). */
export const JWT_KEY_ALGORITHMS = JWT_ALGORITHMS.filter((a) => !a.startsWith('HS'))

/** Kong's `validate_ssl_key`: the value must parse as a key. */
function validatePublicKey(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  try {
    createPublicKey(value)
    return undefined
  } catch {
    return 'invalid key'
  }
}

export const jwtSecrets = {
  name: 'jwt_secrets',
  primary_key: ['id'],
  endpoint_key: 'key',
  workspaceable: true,
  admin_path: 'jwts',
  admin_nested_path: { parent: 'consumers', field: 'consumer', segment: 'jwt' },
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    consumer: { type: 'foreign', reference: 'consumers', required: true, on_delete: 'cascade' },
    key: { type: 'string', required: false, unique: true, auto: true },
    secret: { type: 'string', auto: true, encrypted: true },
    rsa_public_key: { type: 'string' },
    algorithm: { type: 'string', default: 'HS256', one_of: JWT_ALGORITHMS },
    tags: t.tags,
  },
  entity_checks: [
    {
      conditional: {
        if_field: 'algorithm',
        if_match: { one_of: JWT_KEY_ALGORITHMS },
        then_field: 'rsa_public_key',
        then_match: { required: true, custom_validator: validatePublicKey },
      },
    },
  ],
} as const satisfies EntitySchema

/** A stored jwt credential. */
export type JwtSecret = InferRow<typeof jwtSecrets>
