/**
 * http-log's configuration, as Kong 3.9's `kong/plugins/http-log/schema.lua` with Kong's shared
 * `typedefs.queue` record. The deprecated `retry_count`, `queue_size` and `flush_timeout` are
 * accepted (`queue_size` → `queue.max_batch_size`, `flush_timeout` → `queue.max_coalescing_delay`).
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import { customFieldsByLuaField } from '../shared/custom-fields.js'
import type { PluginSchema } from '../types.js'
import type { QueueConfig } from './queue.js'

function validateEndpoint(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  let u: URL
  try {
    u = new URL(v)
  } catch {
    return 'missing host in url'
  }
  // Kong's typedefs.url checks the host first (`invalid::#//url`: missing host in url)
  if (u.hostname === '') return 'missing host in url'
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `unsupported scheme '${u.protocol.slice(0, -1)}'`
  return undefined
}

const FORBIDDEN_HEADERS = ['host', 'content-length', 'content-type']

function validateHeaders(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  for (const k of Object.keys(v)) {
    const lower = k.toLowerCase()
    if (FORBIDDEN_HEADERS.includes(lower)) return `cannot contain '${k}' header`
  }
  return undefined
}

/** Kong's `typedefs.queue`. */
export const queueField = {
  type: 'record',
  required: true,
  fields: {
    max_batch_size: {
      type: 'integer',
      default: 1,
      between: [1, 1_000_000],
      description: 'Maximum number of entries that can be processed at a time.',
    },
    max_coalescing_delay: {
      type: 'number',
      default: 1,
      between: [0, 3600],
      description:
        'Maximum number of (fractional) seconds to elapse after the first entry was queued before the queue starts calling the handler.',
    },
    max_entries: {
      type: 'integer',
      default: 10000,
      between: [1, 1_000_000],
      description: 'Maximum number of entries that can be waiting on the queue.',
    },
    max_bytes: { type: 'integer', description: 'Maximum number of bytes that can be waiting on a queue, requires string content.' },
    max_retry_time: {
      type: 'number',
      default: 60,
      description: 'Time in seconds before the queue gives up calling a failed handler for a batch.',
    },
    initial_retry_delay: {
      type: 'number',
      default: 0.01,
      between: [0.001, 1_000_000],
      description: 'Time in seconds before the initial retry is made for a failing batch.',
    },
    max_retry_delay: {
      type: 'number',
      default: 60,
      between: [0.001, 1_000_000],
      description: 'Maximum time in seconds between retries, caps exponential backoff.',
    },
    concurrency_limit: {
      type: 'integer',
      default: 1,
      one_of: [-1, 1],
      description: 'The number of of queue delivery timers. -1 indicates unlimited.',
    },
  },
} as const satisfies Field

export const httpLogConfigFields = {
  http_endpoint: {
    type: 'string',
    required: true,
    encrypted: true,
    referenceable: true,
    custom_validator: validateEndpoint,
    description:
      'An optional custom endpoint for the http-log plugin. It takes a URL including scheme, host, optional port and path; credentials in it (`http://user:pass@host/`) become an `Authorization: Basic` header.',
  },
  method: {
    type: 'string',
    default: 'POST',
    one_of: ['POST', 'PUT', 'PATCH'],
    description: 'An optional method used to send data to the HTTP server. Supported values are `POST` (default), `PUT`, and `PATCH`.',
  },
  content_type: {
    type: 'string',
    default: 'application/json',
    one_of: ['application/json', 'application/json; charset=utf-8'],
    description: 'Indicates the type of data sent. The only available option is `application/json`.',
  },
  timeout: { type: 'number', default: 10000, description: 'An optional timeout in milliseconds when sending data to the upstream server.' },
  keepalive: {
    type: 'number',
    default: 60000,
    description: 'An optional value in milliseconds that defines how long an idle connection will live before being closed.',
  },
  retry_count: { type: 'integer', dumped: t.dumpedWhenSet, description: 'Deprecated (Kong 3.3): use `queue.max_retry_time`.' },
  queue_size: { type: 'integer', dumped: t.dumpedWhenSet, description: 'Deprecated (Kong 3.3): use `queue.max_batch_size`.' },
  flush_timeout: { type: 'number', dumped: t.dumpedWhenSet, description: 'Deprecated (Kong 3.3): use `queue.max_coalescing_delay`.' },
  headers: {
    type: 'map',
    keys: t.header_name,
    values: { type: 'string', referenceable: true },
    custom_validator: validateHeaders,
    description:
      'An optional table of headers included in the HTTP message to the upstream server. Values are indexed by header name, and each header name accepts a single string.',
  },
  queue: queueField,
  custom_fields_by_lua: customFieldsByLuaField,
} as const satisfies Record<string, Field>

export const httpLogSchema: PluginSchema = {
  config: httpLogConfigFields,
  protocols: t.PROTOCOLS,
}

/** The validated `config`, inferred from its schema. */
export type HttpLogConfig = InferFields<typeof httpLogConfigFields>
