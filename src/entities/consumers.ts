/**
 * The `consumers` entity (Kong 3.9 `kong/db/schema/entities/consumers.lua`): a `username` and/or
 * a `custom_id`, both unique; credentials and consumer-scoped plugins hang off it.
 *
 * @module
 */
import { typedefs as t } from '../schema/index.js'
import type { EntitySchema, InferRow } from '../schema/index.js'

export const consumers = {
  name: 'consumers',
  primary_key: ['id'],
  endpoint_key: 'username',
  workspaceable: true,
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    // Kong 3.9's own `db_export` carries it on consumers (3.x added it to the core entities).
    updated_at: t.auto_timestamp_s,
    username: { type: 'string', unique: true, description: 'The unique username of the Consumer.' },
    custom_id: { type: 'string', unique: true, description: 'Field for storing an existing ID for the Consumer.' },
    tags: t.tags,
  },
  entity_checks: [{ at_least_one_of: ['custom_id', 'username'] }],
} as const satisfies EntitySchema

/** A stored consumer row. */
export type Consumer = InferRow<typeof consumers>
