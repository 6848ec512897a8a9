/**
 * The `key_sets` entity (Kong 3.9 `kong/db/schema/entities/key_sets.lua`): a named group of
 * `keys`, at `/key-sets`. Deleting a set deletes its keys.
 *
 * @module
 */
import { typedefs as t } from '../schema/index.js'
import type { EntitySchema, InferRow } from '../schema/index.js'

export const keySets = {
  name: 'key_sets',
  primary_key: ['id'],
  endpoint_key: 'name',
  admin_path: 'key-sets',
  workspaceable: true,
  fields: {
    id: t.uuid,
    name: { type: 'string', required: false, unique: true, description: 'The name to associate with the given key-set.' },
    tags: t.tags,
    created_at: t.auto_timestamp_s,
    updated_at: t.auto_timestamp_s,
  },
} as const satisfies EntitySchema

/** A stored key set row. */
export type KeySet = InferRow<typeof keySets>
