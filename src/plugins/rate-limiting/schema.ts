/**
 * rate-limiting's configuration, as Kong 3.9's `kong/plugins/rate-limiting/schema.lua`: limits per
 * `second`…`year` (at least one, non-decreasing), `limit_by`, `policy` (`local`, `cluster`,
 * `redis`), `redis` (Kong's shared `kong.tools.redis.schema`), `fault_tolerant`,
 * `hide_client_headers`, `error_code`, `error_message`, `sync_rate`.
 *
 * Turnpike adds `window_type` (`fixed`, Kong OSS's behaviour and the default, or `sliding`: the
 * name Kong Enterprise's rate-limiting-advanced uses).
 *
 * Kong 3.9 accepts the old flat `redis_host`, `redis_port`, … as deprecated shorthands for
 * `redis.*`; here they are accepted as fields and folded into `redis` when the instance is
 * prepared (`redis.*` wins when both are set).
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { CheckErrors, Field, InferFields } from '../../schema/index.js'
import type { PluginSchema } from '../types.js'
import { PERIODS, type Period } from '../../counters/window.js'

const SYNC_RATE_REALTIME = -1

/** Kong's `kong.tools.redis.schema` `config_schema`. */
export const redisConfigSchema = {
  type: 'record',
  required: true,
  description: 'Redis configuration',
  fields: {
    host: { ...t.host, description: 'A string representing a host name, such as example.com.' },
    port: { ...t.port, default: 6379, description: 'An integer representing a port number between 0 and 65535, inclusive.' },
    timeout: {
      ...t.timeout,
      default: 2000,
      description: 'An integer representing a timeout in milliseconds. Must be between 0 and 2^31-2.',
    },
    username: {
      type: 'string',
      referenceable: true,
      description:
        "Username to use for Redis connections. If undefined, ACL authentication won't be performed. This requires Redis v6.0.0+. To be compatible with Redis v5.x.y, you can set it to `default`.",
    },
    password: {
      type: 'string',
      len_min: 0,
      referenceable: true,
      encrypted: true,
      description: 'Password to use for Redis connections. If undefined, no AUTH commands are sent to Redis.',
    },
    database: { type: 'integer', default: 0, description: 'Database to use for the Redis connection when using the `redis` strategy' },
    ssl: { type: 'boolean', required: false, default: false, description: 'If set to true, uses SSL to connect to Redis.' },
    ssl_verify: {
      type: 'boolean',
      required: false,
      default: false,
      description:
        'If set to true, verifies the validity of the server SSL certificate. If setting this parameter, also configure `lua_ssl_trusted_certificate` in `kong.conf` to specify the CA (or server) certificate used by your Redis server. You may also need to configure `lua_ssl_verify_depth` accordingly.',
    },
    server_name: { ...t.sni, description: 'A string representing an SNI (server name indication) value for TLS.' },
  },
} as const satisfies Field

const limit = (what: string) =>
  ({ type: 'number', gt: 0, description: `The number of HTTP requests that can be made per ${what}.` }) as const satisfies Field

export const rateLimitingConfigFields = {
  second: limit('second'),
  minute: limit('minute'),
  hour: limit('hour'),
  day: limit('day'),
  month: limit('month'),
  year: limit('year'),
  limit_by: {
    type: 'string',
    default: 'consumer',
    one_of: ['consumer', 'credential', 'ip', 'service', 'header', 'path'],
    description: 'The entity that is used when aggregating the limits.',
  },
  header_name: { ...t.header_name, description: 'A string representing an HTTP header name.' },
  path: {
    ...t.path,
    description:
      'A string representing a URL path, such as /path/to/resource. Must start with a forward slash (/) and must not contain empty segments (i.e., two consecutive forward slashes).',
  },
  policy: {
    type: 'string',
    default: 'local',
    len_min: 0,
    one_of: ['local', 'cluster', 'redis'],
    description: 'The rate-limiting policies to use for retrieving and incrementing the limits.',
  },
  fault_tolerant: {
    type: 'boolean',
    required: true,
    default: true,
    description:
      'A boolean value that determines if the requests should be proxied even if Kong has troubles connecting a third-party data store. If `true`, requests will be proxied anyway, effectively disabling the rate-limiting function until the data store is working again. If `false`, then the clients will see `500` errors.',
  },
  redis: redisConfigSchema,
  hide_client_headers: { type: 'boolean', required: true, default: false, description: 'Optionally hide informative response headers.' },
  error_code: { type: 'number', default: 429, gt: 0, description: 'Set a custom error code to return when the rate limit is exceeded.' },
  error_message: {
    type: 'string',
    default: 'API rate limit exceeded',
    description: 'Set a custom error message to return when the rate limit is exceeded.',
  },
  sync_rate: {
    type: 'number',
    required: true,
    default: -1,
    description:
      'How often to sync counter data to the central data store. A value of -1 results in synchronous behavior. (Turnpike always counts synchronously and exactly; a positive value is accepted for compatibility.)',
  },
  window_type: {
    type: 'string',
    required: true,
    default: 'fixed',
    one_of: ['fixed', 'sliding'],
    description:
      'Turnpike extension (Kong Enterprise name): `fixed` counts calendar-aligned windows as Kong OSS does; `sliding` also weighs the previous window by how much of it still falls within one window length of now.',
    // Kong OSS does not know the field: a dump leaves out its default
    dumped: (v) => v !== 'fixed',
  },
  // Deprecated flat forms (Kong 3.9 shorthands for `redis.*`).
  redis_host: { type: 'string', dumped: t.dumpedWhenSet, description: 'Deprecated: use `redis.host`.' },
  redis_port: { type: 'integer', between: [0, 65535], dumped: t.dumpedWhenSet, description: 'Deprecated: use `redis.port`.' },
  redis_password: {
    type: 'string',
    len_min: 0,
    encrypted: true,
    dumped: t.dumpedWhenSet,
    description: 'Deprecated: use `redis.password`.',
  },
  redis_username: { type: 'string', dumped: t.dumpedWhenSet, description: 'Deprecated: use `redis.username`.' },
  redis_ssl: { type: 'boolean', dumped: t.dumpedWhenSet, description: 'Deprecated: use `redis.ssl`.' },
  redis_ssl_verify: { type: 'boolean', dumped: t.dumpedWhenSet, description: 'Deprecated: use `redis.ssl_verify`.' },
  redis_server_name: { type: 'string', dumped: t.dumpedWhenSet, description: 'Deprecated: use `redis.server_name`.' },
  redis_timeout: { type: 'integer', between: [0, 2 ** 31 - 2], dumped: t.dumpedWhenSet, description: 'Deprecated: use `redis.timeout`.' },
  redis_database: { type: 'integer', dumped: t.dumpedWhenSet, description: 'Deprecated: use `redis.database`.' },
} as const satisfies Record<string, Field>

function fmt1(n: number): string {
  return n.toFixed(1)
}

/** Kong's `validate_periods_order` (config record `custom_validator`). */
export function validatePeriods(config: Readonly<Record<string, unknown>>): string | undefined {
  for (let i = 0; i < PERIODS.length; i++) {
    const lower = PERIODS[i] as Period
    const v1 = config[lower]
    if (typeof v1 !== 'number') continue
    for (let j = i + 1; j < PERIODS.length; j++) {
      const upper = PERIODS[j] as Period
      const v2 = config[upper]
      if (typeof v2 === 'number' && v2 < v1)
        return `The limit for ${upper}(${fmt1(v2)}) cannot be lower than the limit for ${lower}(${fmt1(v1)})`
    }
  }
  const policy = config['policy']
  const syncRate = config['sync_rate']
  if (policy !== 'redis' && typeof syncRate === 'number' && syncRate !== SYNC_RATE_REALTIME)
    return 'sync_rate can only be used with the redis policy'
  if (policy === 'redis' && typeof syncRate === 'number' && syncRate !== SYNC_RATE_REALTIME && syncRate < 0.02)
    return 'sync_rate must be greater than 0.02, or -1 to disable'
  return undefined
}

function redisValue(row: Readonly<Record<string, unknown>>, field: string): unknown {
  const redis = row['redis']
  const nested = typeof redis === 'object' && redis !== null ? (redis as Record<string, unknown>)[field] : undefined
  return nested ?? row[`redis_${field}`] ?? null
}

export const rateLimitingSchema: PluginSchema = {
  config: rateLimitingConfigFields,
  config_checks: [
    { at_least_one_of: [...PERIODS] },
    {
      custom_entity_check: {
        field_sources: [...PERIODS, 'policy', 'sync_rate'],
        fn: (row): CheckErrors | undefined => {
          const err = validatePeriods(row)
          return err === undefined ? undefined : { '@entity': err }
        },
      },
    },
    {
      // The cluster policy counts fixed windows in Kong's table (which has no sliding estimate).
      custom_entity_check: {
        field_sources: ['policy', 'window_type'],
        fn: (row): CheckErrors | undefined =>
          row['policy'] === 'cluster' && row['window_type'] === 'sliding'
            ? { window_type: "window_type 'sliding' is not available with the 'cluster' policy: use 'local' or 'redis'" }
            : undefined,
      },
    },
    {
      // Kong: `conditional { if policy = redis then redis.host/port/timeout required }` (the flat forms count).
      custom_entity_check: {
        field_sources: ['policy', 'redis', 'redis_host', 'redis_port', 'redis_timeout'],
        fn: (row): CheckErrors | undefined => {
          if (row['policy'] !== 'redis') return undefined
          const missing = ['host', 'port', 'timeout'].filter((f) => redisValue(row, f) === null)
          if (missing.length === 0) return undefined
          return { redis: Object.fromEntries(missing.map((f) => [f, 'required field missing'])) as unknown as string }
        },
      },
    },
    { conditional: { if_field: 'limit_by', if_match: { eq: 'header' }, then_field: 'header_name', then_match: { required: true } } },
    { conditional: { if_field: 'limit_by', if_match: { eq: 'path' }, then_field: 'path', then_match: { required: true } } },
  ],
  protocols: t.HTTP_PROTOCOLS,
  // Kong 3.9: without a database there is no `cluster` policy (`expected one of: local, redis`).
  dbless_config: { policy: { ...rateLimitingConfigFields.policy, one_of: ['local', 'redis'] } },
}

/** The `redis` record of the configuration (also the shape `effectiveRedis` folds the flat fields into). */
export type RedisConfig = InferFields<typeof redisConfigSchema.fields>

/** The validated `config` of a rate-limiting instance. */
export type RateLimitingConfig = InferFields<typeof rateLimitingConfigFields>
