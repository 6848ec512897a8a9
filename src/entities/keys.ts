/**
 * The `keys` entity (Kong 3.9 `kong/db/schema/entities/keys.lua`): one key, as a JSON Web Key
 * (`jwk`, a JSON string) or a PEM pair (`pem`), with its `kid`, optionally in a `key_sets` set
 * (unique per set: the cache key is `kid` + `set`).
 *
 * @module
 */
import { typedefs as t, validateJwkKey } from '../schema/index.js'
import type { EntitySchema, InferRow } from '../schema/index.js'

/** Kong's JWK checks, in Kong's order: JSON, same `kid`, loads as a key. */
function checkJwk(row: Readonly<Record<string, unknown>>): { '@entity': string } | undefined {
  const jwk = row['jwk']
  if (typeof jwk === 'string') {
    let parsed: unknown
    try {
      parsed = JSON.parse(jwk)
    } catch {
      return { '@entity': 'could not json decode jwk string' }
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return { '@entity': 'could not load JWK, likely not a valid key' }
    const record = parsed as Record<string, unknown>
    if (record['kid'] !== row['kid']) return { '@entity': 'kid in jwk.kid must be equal to keys.kid' }
    const err = validateJwkKey(record)
    if (err !== undefined) return { '@entity': err }
  }
  const pem = row['pem']
  if (typeof pem === 'object' && pem !== null) {
    const p = pem as Record<string, unknown>
    if (typeof p['private_key'] !== 'string' && typeof p['public_key'] !== 'string')
      return { '@entity': 'need to supply a PEM formatted public and/or private key.' }
  }
  return undefined
}

export const keys = {
  name: 'keys',
  primary_key: ['id'],
  cache_key: ['kid', 'set'],
  endpoint_key: 'name',
  workspaceable: true,
  fields: {
    id: t.uuid,
    set: {
      type: 'foreign',
      description: 'The id of the key-set with which to associate the key.',
      required: false,
      reference: 'key_sets',
      on_delete: 'cascade',
    },
    name: { type: 'string', description: 'The name to associate with the given keys.', required: false, unique: true },
    kid: { type: 'string', description: 'A unique identifier for a key.', required: true, unique: false },
    jwk: { type: 'string', description: 'A JSON Web Key represented as a string.', referenceable: true, encrypted: true },
    pem: t.pem,
    tags: t.tags,
    created_at: t.auto_timestamp_s,
    updated_at: t.auto_timestamp_s,
  },
  entity_checks: [
    { mutually_exclusive: ['jwk', 'pem'] },
    { at_least_one_of: ['jwk', 'pem'] },
    { custom_entity_check: { field_sources: ['jwk', 'pem', 'kid'], fn: checkJwk } },
  ],
} as const satisfies EntitySchema

/** A stored key row. */
export type Key = InferRow<typeof keys>
