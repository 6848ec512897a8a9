/**
 * The `basic-auth` plugin (Kong 3.9, priority 1100): authenticates a consumer by HTTP Basic
 * credentials (`Authorization` or `Proxy-Authorization`). Credentials are `basicauth_credentials`
 * (`/consumers/{consumer}/basic-auth`, `/basic-auths`), passwords stored hashed in Kong's format.
 *
 * @module
 */
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin } from '../types.js'
import { basicauthCredentials } from './entities.js'
import { basicAuthAccess, prepareBasicAuth, type BasicAuthPrepared } from './handler.js'
import { basicAuthSchema, type BasicAuthConfig } from './schema.js'

export const basicAuth: Plugin<BasicAuthConfig, BasicAuthPrepared> = {
  name: 'basic-auth',
  version: KONG_COMPAT_VERSION,
  priority: 1100,
  schema: basicAuthSchema,
  entities: [basicauthCredentials],
  prepare: prepareBasicAuth,
  access: basicAuthAccess,
}

export default basicAuth
