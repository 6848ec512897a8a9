/**
 * The `key-auth` plugin (Kong 3.9, priority 1250): authenticates a consumer by an API key sent in
 * a header, the query string or the body. Credentials are `keyauth_credentials`
 * (`/consumers/{consumer}/key-auth`, `/key-auths`).
 *
 * @module
 */
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin } from '../types.js'
import { keyauthCredentials } from './entities.js'
import { keyAuthAccess, prepareKeyAuth, type KeyAuthPrepared } from './handler.js'
import { keyAuthSchema, type KeyAuthConfig } from './schema.js'

export const keyAuth: Plugin<KeyAuthConfig, KeyAuthPrepared> = {
  name: 'key-auth',
  version: KONG_COMPAT_VERSION,
  priority: 1250,
  schema: keyAuthSchema,
  entities: [keyauthCredentials],
  prepare: prepareKeyAuth,
  access: keyAuthAccess,
}

export default keyAuth
