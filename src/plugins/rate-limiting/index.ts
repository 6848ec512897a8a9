/**
 * The `rate-limiting` plugin (Kong 3.9, priority 910): limits how many requests a client makes per
 * second…year. Exact across the node's workers (`local`) and across nodes (`redis`), with an
 * optional sliding window.
 *
 * @module
 */
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin } from '../types.js'
import { prepareRateLimiting, rateLimitingAccess, rateLimitingHeaderFilter, type RateLimitingPrepared, useNodeCounters } from './handler.js'
import { rateLimitingSchema, type RateLimitingConfig } from './schema.js'

export const rateLimiting: Plugin<RateLimitingConfig, RateLimitingPrepared> = {
  name: 'rate-limiting',
  version: KONG_COMPAT_VERSION,
  priority: 910,
  schema: rateLimitingSchema,
  init: (ctx) => useNodeCounters(ctx.counters),
  prepare: prepareRateLimiting,
  access: rateLimitingAccess,
  headerFilter: rateLimitingHeaderFilter,
}

export default rateLimiting
