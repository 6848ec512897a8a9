/**
 * The `hmac-auth` plugin (Kong 3.9, priority 1030): authenticates a consumer by an HMAC signature
 * of the request (`Authorization` or `Proxy-Authorization: hmac username="…", algorithm="…",
 * headers="…", signature="…"`), made with the secret of one of its `hmacauth_credentials`
 * (`/consumers/{consumer}/hmac-auth`, `/hmac-auths`). See {@link ./handler.ts} for the checks.
 *
 * @module
 */
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin } from '../types.js'
import { hmacauthCredentials } from './entities.js'
import { hmacAuthAccess, prepareHmacAuth, type HmacAuthPrepared } from './handler.js'
import { hmacAuthSchema, type HmacAuthConfig } from './schema.js'

export const hmacAuth: Plugin<HmacAuthConfig, HmacAuthPrepared> = {
  name: 'hmac-auth',
  version: KONG_COMPAT_VERSION,
  priority: 1030,
  schema: hmacAuthSchema,
  entities: [hmacauthCredentials],
  prepare: prepareHmacAuth,
  access: hmacAuthAccess,
}

export default hmacAuth
