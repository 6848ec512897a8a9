/**
 * The `openid-connect` plugin (Kong Enterprise's name and priority, 1050; open here): validates
 * bearer JWTs issued by an OpenID provider. Discovery from `issuer`, the JWKS cached per worker
 * and refreshed (rate-limited) when a token names an unknown `kid`, so a provider's key rotation
 * never turns into 401s; issuer/expiry/audience/scope checks; consumer mapping by a claim;
 * claims passed upstream as headers. Only the `bearer` auth method is implemented.
 *
 * @module
 */
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin } from '../types.js'
import { access, prepare, warm, type Prepared } from './handler.js'
import { useHttp } from './discovery.js'
import { setStoreLog } from './jwks-cache.js'
import { OIDC_CONFIG_CHECKS, OIDC_CONFIG_FIELDS, type OidcConfig } from './schema.js'

export const openidConnect: Plugin<OidcConfig, Prepared> = {
  name: 'openid-connect',
  version: KONG_COMPAT_VERSION,
  priority: 1050,
  schema: { config: OIDC_CONFIG_FIELDS, config_checks: OIDC_CONFIG_CHECKS, no_consumer: true },
  init(ctx) {
    setStoreLog((level, message) => ctx.log[level](message))
    useHttp(ctx.http)
  },
  prepare(conf) {
    const p = prepare(conf)
    warm(p)
    return p
  },
  access,
}

export default openidConnect
