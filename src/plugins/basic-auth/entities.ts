/**
 * basic-auth's credential entity, `basicauth_credentials` (Kong 3.9
 * `kong/plugins/basic-auth/daos.lua` + `basicauth_credentials.lua`): Admin API `/basic-auths` and
 * `/consumers/{consumer}/basic-auth`.
 *
 * The password is never stored: Kong's format is kept so a database shared with Kong stays
 * usable — the lower-case hex SHA-1 of `password .. consumer_id` (the consumer's UUID appended as
 * salt). A write whose password equals the stored digest is not hashed again (Kong's rule, so a
 * PUT of a row read back does not double-hash).
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { typedefs as t } from '../../schema/index.js'
import type { EntitySchema, InferRow, TransformContext } from '../../schema/index.js'

/** Kong's `crypto.hash(consumer_id, password)`: hex SHA-1 of the password salted with the consumer id. */
export function hashBasicAuthPassword(consumerId: string, password: string): string {
  return createHash('sha1')
    .update(password + consumerId, 'utf8')
    .digest('hex')
}

/** Checks a clear-text password against a stored digest, in constant time. */
export function verifyBasicAuthPassword(consumerId: string, password: string, digest: string): boolean {
  const wanted = Buffer.from(hashBasicAuthPassword(consumerId, password), 'utf8')
  const stored = Buffer.from(digest, 'utf8')
  return wanted.length === stored.length && timingSafeEqual(wanted, stored)
}

function consumerIdOf(row: Readonly<Record<string, unknown>>): string | undefined {
  const c = row['consumer']
  if (typeof c !== 'object' || c === null) return undefined
  const id = (c as Record<string, unknown>)['id']
  return typeof id === 'string' ? id : undefined
}

function hashOnWrite(row: Record<string, unknown>, ctx: TransformContext): Record<string, unknown> {
  const sent = ctx.input['password']
  if (typeof sent !== 'string') return row
  if (ctx.existing !== undefined && ctx.existing['password'] === sent) return row
  const consumerId = consumerIdOf(row)
  if (consumerId === undefined) return row
  return { ...row, password: hashBasicAuthPassword(consumerId, sent) }
}

export const basicauthCredentials = {
  name: 'basicauth_credentials',
  primary_key: ['id'],
  endpoint_key: 'username',
  workspaceable: true,
  admin_path: 'basic-auths',
  admin_nested_path: { parent: 'consumers', field: 'consumer', segment: 'basic-auth' },
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    consumer: { type: 'foreign', reference: 'consumers', required: true, on_delete: 'cascade' },
    username: { type: 'string', required: true, unique: true },
    password: { type: 'string', required: true, encrypted: true },
    tags: t.tags,
  },
  transform: hashOnWrite,
} as const satisfies EntitySchema

/** A stored basic-auth credential (`password` is the digest). */
export type BasicauthCredential = InferRow<typeof basicauthCredentials>
