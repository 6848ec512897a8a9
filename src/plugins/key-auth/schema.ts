/**
 * key-auth's configuration (Kong 3.9 `kong/plugins/key-auth/schema.lua`): names, defaults and
 * descriptions as in Kong. Cannot be scoped to a consumer (`typedefs.no_consumer`).
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { PluginSchema } from '../types.js'

export const keyAuthConfigFields = {
  key_names: {
    type: 'array',
    required: true,
    elements: t.header_name,
    default: ['apikey'],
    description:
      'Describes an array of parameter names where the plugin will look for a key. The key names may only contain [a-z], [A-Z], [0-9], [_] underscore, and [-] hyphen.',
  },
  hide_credentials: {
    type: 'boolean',
    required: true,
    default: false,
    description:
      'An optional boolean value telling the plugin to show or hide the credential from the upstream service. If `true`, the plugin strips the credential from the request.',
  },
  anonymous: {
    type: 'string',
    description:
      'An optional string (consumer UUID or username) value to use as an “anonymous” consumer if authentication fails. If empty (default null), the request will fail with an authentication failure `4xx`.',
  },
  key_in_header: {
    type: 'boolean',
    required: true,
    default: true,
    description: 'If enabled (default), the plugin reads the request header and tries to find the key in it.',
  },
  key_in_query: {
    type: 'boolean',
    required: true,
    default: true,
    description: 'If enabled (default), the plugin reads the query parameter in the request and tries to find the key in it.',
  },
  key_in_body: {
    type: 'boolean',
    required: true,
    default: false,
    description:
      'If enabled, the plugin reads the request body. Supported MIME types: `application/www-form-urlencoded`, `application/json`, and `multipart/form-data`.',
  },
  run_on_preflight: {
    type: 'boolean',
    required: true,
    default: true,
    description:
      'A boolean value that indicates whether the plugin should run (and try to authenticate) on `OPTIONS` preflight requests. If set to `false`, then `OPTIONS` requests are always allowed.',
  },
  realm: {
    type: 'string',
    required: false,
    description: 'When authentication fails the plugin sends `WWW-Authenticate` header with `realm` attribute value.',
  },
} as const satisfies Record<string, Field>

export const keyAuthSchema: PluginSchema = {
  config: keyAuthConfigFields,
  no_consumer: true,
  protocols: t.HTTP_PROTOCOLS,
}

/** The validated `config` of a key-auth instance. */
export type KeyAuthConfig = InferFields<typeof keyAuthConfigFields>
