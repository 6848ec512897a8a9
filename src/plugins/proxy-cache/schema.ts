/**
 * proxy-cache's configuration, as Kong 3.9's `kong/plugins/proxy-cache/schema.lua` (strategy
 * `memory` only, as Kong OSS).
 *
 * @module
 */
import type { Field, InferFields } from '../../schema/index.js'
import type { PluginSchema } from '../types.js'

export const proxyCacheConfigFields = {
  response_code: {
    type: 'array',
    default: [200, 301, 404],
    required: true,
    len_min: 1,
    elements: { type: 'integer', between: [100, 900] },
    description: 'Upstream response status code considered cacheable.',
  },
  request_method: {
    type: 'array',
    default: ['GET', 'HEAD'],
    required: true,
    elements: { type: 'string', one_of: ['HEAD', 'GET', 'POST', 'PATCH', 'PUT'] },
    description: 'Downstream request methods considered cacheable.',
  },
  content_type: {
    type: 'array',
    default: ['text/plain', 'application/json'],
    required: true,
    elements: { type: 'string' },
    description:
      'Upstream response content types considered cacheable. The plugin performs an **exact match** against each specified value.',
  },
  cache_ttl: { type: 'integer', default: 300, gt: 0, description: 'TTL, in seconds, of cache entities.' },
  strategy: { type: 'string', required: true, one_of: ['memory'], description: 'The backing data store in which to hold cache entities.' },
  cache_control: {
    type: 'boolean',
    default: false,
    required: true,
    description: 'When enabled, respect the Cache-Control behaviors defined in RFC7234.',
  },
  ignore_uri_case: {
    type: 'boolean',
    default: false,
    required: false,
    description: 'Determines whether to treat URIs as case sensitive. By default, case sensitivity is enabled.',
  },
  storage_ttl: {
    type: 'integer',
    description:
      'Number of seconds to keep resources in the storage backend. This value is independent of `cache_ttl` or resource TTLs defined by Cache-Control behaviors.',
  },
  memory: {
    type: 'record',
    required: true,
    fields: {
      dictionary_name: {
        type: 'string',
        required: true,
        default: 'kong_db_cache',
        description:
          'The name of the shared dictionary in which to hold cache entities when the memory strategy is selected. (Turnpike: a per-worker in-memory store by this name.)',
      },
    },
  },
  vary_query_params: {
    type: 'array',
    elements: { type: 'string' },
    description: 'Relevant query parameters considered for the cache key. If undefined, all params are taken into consideration.',
  },
  vary_headers: {
    type: 'array',
    elements: { type: 'string' },
    description: 'Relevant headers considered for the cache key. If undefined, none of the headers are taken into consideration.',
  },
  response_headers: {
    type: 'record',
    required: true,
    description: 'Caching related diagnostic headers that should be included in cached responses',
    fields: {
      age: { type: 'boolean', default: true },
      'X-Cache-Status': { type: 'boolean', default: true },
      'X-Cache-Key': { type: 'boolean', default: true },
    },
  },
} as const satisfies Record<string, Field>

export const proxyCacheSchema: PluginSchema = {
  config: proxyCacheConfigFields,
  protocols: ['grpc', 'grpcs', 'http', 'https'],
}

/** The validated `config`, inferred from its schema. */
export type ProxyCacheConfig = InferFields<typeof proxyCacheConfigFields>
