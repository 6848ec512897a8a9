/**
 * The `upstreams` entity (Kong 3.9 `kong/db/schema/entities/upstreams.lua`): a virtual hostname
 * that services name in their `host` to be load balanced over the upstream's targets, with the
 * balancing algorithm, hashing inputs and health-check configuration.
 *
 * @module
 */
import { normalizeIp } from '../schema/index.js'
import { typedefs as t } from '../schema/index.js'
import type { ArrayField, EntityCheck, EntitySchema, Field, InferRow, NumberField, RecordField, StringField } from '../schema/index.js'

/** Kong's upstream name check: a hostname, no IP, no port. */
function validateUpstreamName(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  const r = normalizeIp(v)
  if ('error' in r) return 'Invalid name; must be a valid hostname'
  if (r.type !== 'name') return 'Invalid name; no ip addresses allowed'
  if (r.port !== undefined) return 'Invalid name; no port allowed'
  return undefined
}

/** RFC 6265 cookie-name token characters (Kong's `validate_cookie_name`). */
function validateCookieName(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v)
    ? undefined
    : 'contains one or more invalid characters. ASCII control characters (0-31;127), space, tab and the characters ()<>@,;:\\"/?={}[] are not allowed.'
}

export const HASH_ON = ['none', 'consumer', 'ip', 'header', 'cookie', 'path', 'query_arg', 'uri_capture'] as const
export const ALGORITHMS = ['consistent-hashing', 'least-connections', 'round-robin', 'latency'] as const
const CHECK_TYPES = ['tcp', 'http', 'https', 'grpc', 'grpcs'] as const

const hashOn = {
  type: 'string',
  default: 'none',
  one_of: HASH_ON,
  description: 'What to use as hashing input.',
} as const satisfies StringField
const simpleParam = {
  type: 'string',
  match: /^[A-Za-z0-9_\-.~]+$/,
  match_message: 'contains one or more invalid characters',
} as const satisfies StringField
// Typed with their defaults (`as const`), so that code reading a row can take the schema's
// default where the row holds an explicit null (`orDefault`).
const httpStatuses = <const D extends readonly number[]>(def: D) =>
  ({ type: 'array', default: def, elements: { type: 'integer', between: [100, 999] } }) as const satisfies ArrayField
const seconds = <const D extends number>(def: D) => ({ type: 'number', default: def, between: [0, 65535] }) as const satisfies NumberField
const counter = <const D extends number>(def: D) => ({ type: 'integer', default: def, between: [0, 255] }) as const satisfies NumberField
const rec = <const Fs extends Readonly<Record<string, Field>>>(fields: Fs) =>
  ({ type: 'record', required: true, fields }) as const satisfies RecordField

const ACTIVE_HEALTHY_STATUSES = [200, 302] as const
const ACTIVE_UNHEALTHY_STATUSES = [429, 404, 500, 501, 502, 503, 504, 505] as const
const PASSIVE_HEALTHY_STATUSES = [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308] as const
const PASSIVE_UNHEALTHY_STATUSES = [429, 500, 503] as const

const healthchecks = rec({
  active: rec({
    type: { type: 'string', default: 'http', one_of: CHECK_TYPES },
    timeout: seconds(1),
    concurrency: { type: 'integer', default: 10, between: [1, 2 ** 31] },
    http_path: { ...t.path, default: '/' },
    https_sni: t.sni,
    https_verify_certificate: { type: 'boolean', default: true },
    headers: { type: 'map', keys: { type: 'string' }, values: { type: 'array', elements: { type: 'string' } } },
    healthy: rec({ interval: seconds(0), http_statuses: httpStatuses(ACTIVE_HEALTHY_STATUSES), successes: counter(0) }),
    unhealthy: rec({
      interval: seconds(0),
      http_statuses: httpStatuses(ACTIVE_UNHEALTHY_STATUSES),
      tcp_failures: counter(0),
      timeouts: counter(0),
      http_failures: counter(0),
    }),
  }),
  passive: rec({
    type: { type: 'string', default: 'http', one_of: CHECK_TYPES },
    healthy: rec({ http_statuses: httpStatuses(PASSIVE_HEALTHY_STATUSES), successes: counter(0) }),
    unhealthy: rec({
      http_statuses: httpStatuses(PASSIVE_UNHEALTHY_STATUSES),
      tcp_failures: counter(0),
      timeouts: counter(0),
      http_failures: counter(0),
    }),
  }),
  threshold: { type: 'number', default: 0, between: [0, 100] },
})

const requiredWhen = (ifField: string, value: string, thenField: string): EntityCheck => ({
  conditional: { if_field: ifField, if_match: { eq: value }, then_field: thenField, then_match: { required: true } },
})
const fallbackOneOf = (hashOnValue: string, allowed: readonly string[]): EntityCheck => ({
  conditional: { if_field: 'hash_on', if_match: { eq: hashOnValue }, then_field: 'hash_fallback', then_match: { one_of: allowed } },
})
const distinct = (a: string, b: string): EntityCheck => ({
  custom_entity_check: {
    field_sources: [a, b],
    fn: (row) => {
      const x = row[a]
      const y = row[b]
      if (typeof x !== 'string' || typeof y !== 'string') return undefined
      return x.toLowerCase() === y.toLowerCase() ? { '@entity': `values of these fields must be distinct: '${a}', '${b}'` } : undefined
    },
  },
})

export const upstreams = {
  name: 'upstreams',
  primary_key: ['id'],
  endpoint_key: 'name',
  workspaceable: true,
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    updated_at: t.auto_timestamp_s,
    name: {
      type: 'string',
      required: true,
      unique: true,
      custom_validator: validateUpstreamName,
      description: 'This is a hostname, which must be equal to the host of a Service.',
    },
    algorithm: { type: 'string', default: 'round-robin', one_of: ALGORITHMS, description: 'Which load balancing algorithm to use.' },
    hash_on: hashOn,
    hash_fallback: { ...hashOn, description: 'What to use as hashing input if the primary hash_on does not return a hash.' },
    hash_on_header: t.header_name,
    hash_fallback_header: t.header_name,
    hash_on_cookie: {
      type: 'string',
      custom_validator: validateCookieName,
      description: 'The cookie name to take the value from as hash input.',
    },
    hash_on_cookie_path: { ...t.path, default: '/' },
    hash_on_query_arg: simpleParam,
    hash_fallback_query_arg: simpleParam,
    hash_on_uri_capture: simpleParam,
    hash_fallback_uri_capture: simpleParam,
    slots: { type: 'integer', default: 10000, between: [10, 2 ** 16], description: 'The number of slots in the load balancer algorithm.' },
    healthchecks,
    tags: t.tags,
    host_header: t.host_with_optional_port,
    client_certificate: {
      type: 'foreign',
      reference: 'certificates',
      description: 'If set, the certificate to be used as client certificate while TLS handshaking to the upstream server.',
    },
    use_srv_name: {
      type: 'boolean',
      default: false,
      description: 'If set, the balancer will use SRV hostname(if DNS Answer has SRV record) as the proxy upstream `Host`.',
    },
  },
  entity_checks: [
    requiredWhen('hash_on', 'header', 'hash_on_header'),
    requiredWhen('hash_fallback', 'header', 'hash_fallback_header'),
    requiredWhen('hash_on', 'cookie', 'hash_on_cookie'),
    requiredWhen('hash_fallback', 'cookie', 'hash_on_cookie'),
    requiredWhen('hash_on', 'query_arg', 'hash_on_query_arg'),
    requiredWhen('hash_fallback', 'query_arg', 'hash_fallback_query_arg'),
    requiredWhen('hash_on', 'uri_capture', 'hash_on_uri_capture'),
    requiredWhen('hash_fallback', 'uri_capture', 'hash_fallback_uri_capture'),
    fallbackOneOf('none', ['none']),
    fallbackOneOf('cookie', ['none']),
    fallbackOneOf('consumer', ['none', 'ip', 'header', 'cookie', 'path', 'query_arg', 'uri_capture']),
    fallbackOneOf('ip', ['none', 'consumer', 'header', 'cookie', 'path', 'query_arg', 'uri_capture']),
    fallbackOneOf('path', ['none', 'consumer', 'ip', 'header', 'cookie', 'query_arg', 'uri_capture']),
    distinct('hash_on_header', 'hash_fallback_header'),
    distinct('hash_on_query_arg', 'hash_fallback_query_arg'),
    distinct('hash_on_uri_capture', 'hash_fallback_uri_capture'),
  ],
  // Kong 3.9.3 keeps `algorithm` and `hash_on` consistent when they are written (its shorthand
  // hack, in this order): least-connections and latency clear hash_on; a cleared hash_on is
  // `none`; hash_on `none` means round-robin, any other hash_on consistent-hashing.
  shorthand_fields: {
    algorithm: {
      type: 'string',
      expand: (value) =>
        value === 'least-connections' || value === 'latency' ? { algorithm: value, hash_on: null } : { algorithm: value },
    },
    hash_on: {
      type: 'string',
      nullable: true,
      expand: (value) =>
        value === null
          ? { hash_on: 'none' }
          : value === 'none'
            ? { hash_on: value, algorithm: 'round-robin' }
            : { hash_on: value, algorithm: 'consistent-hashing' },
    },
  },
} as const satisfies EntitySchema

/** A stored upstream row. */
export type Upstream = InferRow<typeof upstreams>
