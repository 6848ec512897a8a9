/**
 * acl's configuration (Kong 3.9 `kong/plugins/acl/schema.lua`): exactly one of `allow` / `deny`.
 * Cannot be scoped to a consumer (`typedefs.no_consumer`).
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { PluginSchema } from '../types.js'

export const aclConfigFields = {
  allow: {
    type: 'array',
    elements: { type: 'string' },
    description:
      'Arbitrary group names that are allowed to consume the service or route. One of `config.allow` or `config.deny` must be specified.',
  },
  deny: {
    type: 'array',
    elements: { type: 'string' },
    description:
      'Arbitrary group names that are not allowed to consume the service or route. One of `config.allow` or `config.deny` must be specified.',
  },
  hide_groups_header: {
    type: 'boolean',
    required: true,
    default: false,
    description: 'If enabled (`true`), prevents the `X-Consumer-Groups` header from being sent in the request to the upstream service.',
  },
  always_use_authenticated_groups: {
    type: 'boolean',
    required: true,
    default: false,
    description:
      "If enabled (`true`), the authenticated groups will always be used even when an authenticated consumer already exists. If the authenticated groups don't exist, it will fallback to use the groups associated with the consumer. By default the authenticated groups will only be used when there is no consumer or the consumer is anonymous.",
  },
} as const satisfies Record<string, Field>

export const aclSchema: PluginSchema = {
  config: aclConfigFields,
  config_checks: [{ only_one_of: ['allow', 'deny'] }, { at_least_one_of: ['allow', 'deny'] }],
  no_consumer: true,
  protocols: t.HTTP_PROTOCOLS,
}

/** The validated `config` of an acl instance. */
export type AclConfig = InferFields<typeof aclConfigFields>
