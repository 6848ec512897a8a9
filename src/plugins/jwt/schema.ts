/**
 * jwt's configuration (Kong 3.9 `kong/plugins/jwt/schema.lua`): where tokens are looked for, which
 * claim names the credential, which registered claims are checked, and the anonymous fallback.
 *
 * @module
 */
import type { FieldConstraint, InferFields } from '../../schema/index.js'
import type { PluginSchema } from '../types.js'

/** Kong's upper bound for `maximum_expiration`: 365 days. */
export const MAX_EXPIRATION_LIMIT = 31536000

export const jwtSchema = {
  no_consumer: true,
  config: {
    uri_param_names: {
      type: 'set',
      elements: { type: 'string' },
      default: ['jwt'],
      description: 'A list of querystring parameters that Kong will inspect to retrieve JWTs.',
    },
    cookie_names: {
      type: 'set',
      elements: { type: 'string' },
      default: [],
      description: 'A list of cookie names that Kong will inspect to retrieve JWTs.',
    },
    key_claim_name: {
      type: 'string',
      default: 'iss',
      description:
        'The name of the claim in which the key identifying the secret must be passed. The plugin will attempt to read this claim from the JWT payload and the header, in that order.',
    },
    secret_is_base64: {
      type: 'boolean',
      required: true,
      default: false,
      description:
        'If true, the plugin assumes the credential’s secret to be base64 encoded. You will need to create a base64-encoded secret for your Consumer, and sign your JWT with the original secret.',
    },
    claims_to_verify: {
      type: 'set',
      elements: { type: 'string', one_of: ['exp', 'nbf'] },
      description: 'A list of registered claims (according to RFC 7519) that Kong can verify as well. Accepted values: one of exp or nbf.',
    },
    anonymous: {
      type: 'string',
      description: 'An optional string (consumer UUID or username) value to use as an “anonymous” consumer if authentication fails.',
    },
    run_on_preflight: {
      type: 'boolean',
      required: true,
      default: true,
      description:
        'A boolean value that indicates whether the plugin should run (and try to authenticate) on OPTIONS preflight requests. If set to false, then OPTIONS requests will always be allowed.',
    },
    maximum_expiration: {
      type: 'number',
      default: 0,
      between: [0, MAX_EXPIRATION_LIMIT],
      description:
        'A value between 0 and 31536000 (365 days) limiting the lifetime of the JWT to maximum_expiration seconds in the future.',
    },
    header_names: {
      type: 'set',
      elements: { type: 'string' },
      default: ['authorization'],
      description: 'A list of HTTP header names that Kong will inspect to retrieve JWTs.',
    },
    realm: {
      type: 'string',
      required: false,
      description: 'When authentication fails the plugin sends `WWW-Authenticate` header with `realm` attribute value.',
    },
  },
  // Kong: `maximum_expiration > 0` requires `exp` in `claims_to_verify`. (`gt` is understood by the
  // validator's constraint overlay although FieldConstraint does not list it.)
  config_checks: [
    {
      conditional: {
        if_field: 'maximum_expiration',
        if_match: { gt: 0 } as FieldConstraint,
        then_field: 'claims_to_verify',
        then_match: { contains: 'exp' },
      },
    },
  ],
} as const satisfies PluginSchema

/** The validated `config` (defaults filled in). */
export type JwtConfig = InferFields<typeof jwtSchema.config>
