/**
 * acl's entity, `acls` (Kong 3.9 `kong/plugins/acl/daos.lua`): one row per (consumer, group),
 * Admin API `/acls` and `/consumers/{consumer}/acls`. Under a consumer, a group name can be used
 * instead of the id (`/consumers/bob/acls/admins`), as in Kong's `acl/api.lua`.
 *
 * Deviation: Kong declares `endpoint_key = "group"`, but a group is not unique across consumers,
 * so the top-level `/acls/{x}` accepts only ids here; name lookups go through the consumer.
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { EntitySchema, InferRow } from '../../schema/index.js'

export const acls = {
  name: 'acls',
  primary_key: ['id'],
  cache_key: ['consumer', 'group'],
  workspaceable: true,
  admin_nested_path: { parent: 'consumers', field: 'consumer', segment: 'acls' },
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    consumer: { type: 'foreign', reference: 'consumers', required: true, on_delete: 'cascade' },
    group: { type: 'string', required: true },
    tags: t.tags,
  },
} as const satisfies EntitySchema

/** A stored ACL group membership. */
export type Acl = InferRow<typeof acls>
