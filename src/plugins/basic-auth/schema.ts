/**
 * basic-auth's configuration (Kong 3.9 `kong/plugins/basic-auth/schema.lua`). Cannot be scoped to
 * a consumer (`typedefs.no_consumer`).
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { PluginSchema } from '../types.js'

export const basicAuthConfigFields = {
  anonymous: {
    type: 'string',
    description:
      'An optional string (Consumer UUID or username) value to use as an “anonymous” consumer if authentication fails. If empty (default null), the request will fail with an authentication failure `4xx`. Please note that this value must refer to the Consumer `id` or `username` attribute, and **not** its `custom_id`.',
  },
  hide_credentials: {
    type: 'boolean',
    required: true,
    default: false,
    description:
      'An optional boolean value telling the plugin to show or hide the credential from the upstream service. If `true`, the plugin will strip the credential from the request (i.e. the `Authorization` header) before proxying it.',
  },
  realm: {
    type: 'string',
    required: true,
    default: 'service',
    description: 'When authentication fails the plugin sends `WWW-Authenticate` header with `realm` attribute value.',
  },
} as const satisfies Record<string, Field>

export const basicAuthSchema: PluginSchema = {
  config: basicAuthConfigFields,
  no_consumer: true,
  protocols: t.HTTP_PROTOCOLS,
}

/** The validated `config` of a basic-auth instance. */
export type BasicAuthConfig = InferFields<typeof basicAuthConfigFields>
