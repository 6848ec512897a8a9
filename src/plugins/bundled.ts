/**
 * The plugins bundled with Turnpike (`plugins = bundled`). Each lives in its own folder under
 * `src/plugins/`, named as in Kong.
 */
import type { AnyPlugin } from './types.js'
import { jwt } from './jwt/index.js'
import { keyAuth } from './key-auth/index.js'
import { basicAuth } from './basic-auth/index.js'
import { hmacAuth } from './hmac-auth/index.js'
import { acl } from './acl/index.js'
import { openidConnect } from './openid-connect/index.js'
import { rateLimiting } from './rate-limiting/index.js'
import { requestSizeLimiting } from './request-size-limiting/index.js'
import { ipRestriction } from './ip-restriction/index.js'
import { fileLog } from './file-log/index.js'
import { httpLog } from './http-log/index.js'
import { prometheus } from './prometheus/index.js'
import { proxyCache } from './proxy-cache/index.js'
import { cors } from './cors/index.js'
import { requestTransformer } from './request-transformer/index.js'
import { responseTransformer } from './response-transformer/index.js'
import { correlationId } from './correlation-id/index.js'
import { requestTermination } from './request-termination/index.js'
import { botDetection } from './bot-detection/index.js'

export const BUNDLED_PLUGINS: readonly AnyPlugin[] = [
  keyAuth,
  basicAuth,
  hmacAuth,
  acl,
  jwt,
  openidConnect,
  rateLimiting,
  requestSizeLimiting,
  ipRestriction,
  cors,
  requestTransformer,
  responseTransformer,
  correlationId,
  requestTermination,
  botDetection,
  fileLog,
  httpLog,
  prometheus,
  proxyCache,
]
