/**
 * The plugins bundled with Turnpike (`plugins = bundled`). Each lives in its own folder under
 * `src/plugins/`, named as in Kong.
 */
import type { AnyPlugin } from './types.js'
import { jwt } from './jwt/index.js'
import { keyAuth } from './key-auth/index.js'
import { basicAuth } from './basic-auth/index.js'
import { acl } from './acl/index.js'
import { openidConnect } from './openid-connect/index.js'
import { rateLimiting } from './rate-limiting/index.js'
import { requestSizeLimiting } from './request-size-limiting/index.js'
import { ipRestriction } from './ip-restriction/index.js'

export const BUNDLED_PLUGINS: readonly AnyPlugin[] = [keyAuth, basicAuth, acl, jwt, openidConnect, rateLimiting, requestSizeLimiting, ipRestriction]
