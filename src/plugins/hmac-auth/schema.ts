/**
 * hmac-auth's configuration (Kong 3.9 `kong/plugins/hmac-auth/schema.lua`): fields, defaults and
 * descriptions as Kong's. Cannot be scoped to a consumer (`typedefs.no_consumer`).
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { PluginSchema } from '../types.js'

/** The digest algorithms Kong 3.9 knows, in its order (also the default of `algorithms`). */
export const HMAC_ALGORITHMS = ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const

/** One of {@link HMAC_ALGORITHMS}. */
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number]

export const hmacAuthConfigFields = {
  hide_credentials: {
    type: 'boolean',
    required: true,
    default: false,
    description: 'An optional boolean value telling the plugin to show or hide the credential from the upstream service.',
  },
  clock_skew: { type: 'number', default: 300, gt: 0, description: 'Clock skew in seconds to prevent replay attacks.' },
  anonymous: {
    type: 'string',
    description: 'An optional string (Consumer UUID or username) value to use as an “anonymous” consumer if authentication fails.',
  },
  validate_request_body: {
    type: 'boolean',
    required: true,
    default: false,
    description: 'A boolean value telling the plugin to enable body validation.',
  },
  enforce_headers: {
    type: 'array',
    elements: { type: 'string' },
    default: [],
    description: 'A list of headers that the client should at least use for HTTP signature creation.',
  },
  algorithms: {
    type: 'array',
    elements: { type: 'string', one_of: HMAC_ALGORITHMS },
    default: [...HMAC_ALGORITHMS],
    description:
      'A list of HMAC digest algorithms that the user wants to support. Allowed values are `hmac-sha1`, `hmac-sha256`, `hmac-sha384`, and `hmac-sha512`',
  },
  realm: {
    type: 'string',
    required: false,
    description: 'When authentication fails the plugin sends `WWW-Authenticate` header with `realm` attribute value.',
  },
} as const satisfies Record<string, Field>

export const hmacAuthSchema: PluginSchema = {
  config: hmacAuthConfigFields,
  no_consumer: true,
  protocols: t.HTTP_PROTOCOLS,
}

/** The validated `config` of an hmac-auth instance. */
export type HmacAuthConfig = InferFields<typeof hmacAuthConfigFields>
