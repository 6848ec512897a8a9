/**
 * The `proxy-cache` plugin (Kong 3.9, priority 100, memory strategy): caches upstream responses
 * by Kong's cache key and answers later requests from the cache (`X-Cache-Status: Hit`) without
 * calling the upstream. Purged through the Admin API (`/proxy-cache`, ./api.ts).
 *
 * @module
 */
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin } from '../types.js'
import { proxyCacheAdminRoutes } from './api.js'
import { answerPrimaryCalls } from './cache.js'
import { prepareProxyCache, proxyCacheAccess, proxyCacheBodyFilter, proxyCacheHeaderFilter, type ProxyCachePrepared } from './handler.js'
import { proxyCacheSchema, type ProxyCacheConfig } from './schema.js'

export const proxyCache: Plugin<ProxyCacheConfig, ProxyCachePrepared> = {
  name: 'proxy-cache',
  version: KONG_COMPAT_VERSION,
  priority: 100,
  schema: proxyCacheSchema,
  init: answerPrimaryCalls,
  api: proxyCacheAdminRoutes,
  prepare: prepareProxyCache,
  access: proxyCacheAccess,
  headerFilter: proxyCacheHeaderFilter,
  bodyFilter: proxyCacheBodyFilter,
}

export default proxyCache
