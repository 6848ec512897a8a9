/**
 * openid-connect's `config`: the bearer-token subset of Kong Enterprise's openid-connect plugin,
 * with Kong's field names and defaults where Kong has the field (`issuer`, `issuers_allowed`,
 * `rediscovery_lifetime`, `audience_claim`/`audience_required`, `scopes_claim`/`scopes_required`,
 * `consumer_claim`/`consumer_by`/`consumer_optional`, `upstream_headers_claims`/`_names`,
 * `bearer_token_param_type`, `anonymous`, `run_on_preflight`, `leeway`, `hide_credentials`,
 * `unauthorized_error_message`, `forbidden_error_message`, `display_errors`, `cache_ttl`,
 * `timeout`). Only the `bearer` auth method is implemented: tokens are JWTs verified against the
 * provider's JWKS.
 *
 * @module
 */
import type { ArrayField, EntityCheck, Field, InferFields } from '../../schema/index.js'

const strings = { type: 'array', elements: { type: 'string' }, default: null } as const satisfies ArrayField

const httpUrl = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return undefined
  try {
    const u = new URL(v)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http or https URL'
  } catch {
    return 'must be an http or https URL'
  }
  return undefined
}

export const OIDC_CONFIG_FIELDS = {
  /** The issuer identifier, or its discovery URL (`…/.well-known/openid-configuration`). */
  issuer: { type: 'string', required: true, custom_validator: httpUrl },
  /** Accepted `iss` values; default: the `issuer` of the discovery document. */
  issuers_allowed: strings,
  /** Seconds between JWKS refreshes triggered by an unknown `kid` (per issuer and worker). */
  rediscovery_lifetime: { type: 'number', default: 30, between: [0, 86400] },
  audience_claim: { ...strings, default: ['aud'] },
  /** Each entry is a space-separated list that must all be present (AND); entries are OR-ed. */
  audience_required: strings,
  scopes_claim: { ...strings, default: ['scope'] },
  /** Same AND/OR form as `audience_required`. */
  scopes_required: strings,
  /** Path of the claim whose value names the consumer (`["sub"]`, `["realm", "user"]`…). */
  consumer_claim: strings,
  consumer_by: {
    type: 'array',
    elements: { type: 'string', one_of: ['id', 'username', 'custom_id'] },
    default: ['username', 'custom_id'],
  },
  consumer_optional: { type: 'boolean', required: true, default: false },
  upstream_headers_claims: strings,
  upstream_headers_names: strings,
  bearer_token_param_type: {
    type: 'array',
    elements: { type: 'string', one_of: ['header', 'query', 'body'] },
    default: ['header', 'query', 'body'],
  },
  anonymous: { type: 'string', default: null },
  run_on_preflight: { type: 'boolean', required: true, default: true },
  /** Seconds of clock skew tolerated for `exp`, `nbf` and `iat`. */
  leeway: { type: 'number', default: 0, between: [0, 3600] },
  hide_credentials: { type: 'boolean', required: true, default: false },
  unauthorized_error_message: { type: 'string', required: true, default: 'Unauthorized' },
  forbidden_error_message: { type: 'string', required: true, default: 'Forbidden' },
  /** Adds the reason to the client's error message and `error_description`. */
  display_errors: { type: 'boolean', required: true, default: false },
  /** Seconds after which cached discovery and JWKS are refreshed in the background. */
  cache_ttl: { type: 'number', default: 3600, gt: 0 },
  /** Milliseconds allowed for each request to the provider. */
  timeout: { type: 'number', default: 10000, gt: 0 },
} as const satisfies Record<string, Field>

export const OIDC_CONFIG_CHECKS: readonly EntityCheck[] = [
  {
    custom_entity_check: {
      field_sources: ['upstream_headers_claims', 'upstream_headers_names'],
      fn: (row) => {
        const claims = (row['upstream_headers_claims'] as unknown[] | null | undefined) ?? []
        const names = (row['upstream_headers_names'] as unknown[] | null | undefined) ?? []
        if (claims.length !== names.length) {
          return { '@entity': ['upstream_headers_claims and upstream_headers_names must have the same number of elements'] }
        }
        return undefined
      },
    },
  },
]

/** The validated `config`. */
export type OidcConfig = InferFields<typeof OIDC_CONFIG_FIELDS>
