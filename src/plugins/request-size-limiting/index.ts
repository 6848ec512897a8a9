/**
 * The `request-size-limiting` plugin (Kong 3.9, priority 951, `kong/plugins/request-size-limiting`):
 * refuses request bodies larger than `allowed_payload_size` × `size_unit` with 413 `Request size
 * limit exceeded` (417 when the client sent `Expect: 100-continue`), and, with
 * `require_content_length`, requests that have neither a valid `Content-Length` nor a chunked body
 * with 411 `A valid Content-Length header is required`.
 *
 * A declared `Content-Length` is checked without reading anything. A body without one (chunked) is
 * counted as it arrives and refused as soon as it passes the limit: at most `limit + 1` bytes are
 * ever held, never the rest of an oversized upload. A body within the limit is kept and sent
 * upstream.
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { Pdk } from '../../pdk/types.js'
import { KONG_COMPAT_VERSION } from '../../version.js'
import { routeLabel } from '../shared/consumer.js'
import type { Plugin, PluginSchema } from '../types.js'

export const SIZE_UNITS = ['megabytes', 'kilobytes', 'bytes'] as const
export type SizeUnit = (typeof SIZE_UNITS)[number]

export const UNIT_FACTOR: Readonly<Record<SizeUnit, number>> = { bytes: 1, kilobytes: 1024, megabytes: 1048576 }

export const ERR_TOO_LARGE = 'Request size limit exceeded'
export const ERR_LENGTH_REQUIRED = 'A valid Content-Length header is required'

export const requestSizeLimitingConfigFields = {
  allowed_payload_size: {
    type: 'integer',
    default: 128,
    description: 'Allowed request payload size in megabytes. Default is `128` megabytes (128000000 bytes).',
  },
  size_unit: {
    type: 'string',
    required: true,
    default: 'megabytes',
    one_of: SIZE_UNITS,
    description:
      'Size unit can be set either in `bytes`, `kilobytes`, or `megabytes` (default). This configuration is not available in versions prior to Kong Gateway 1.3 and Kong Gateway (OSS) 2.0.',
  },
  require_content_length: {
    type: 'boolean',
    required: true,
    default: false,
    description: 'Set to `true` to ensure a valid `Content-Length` header exists before reading the request body.',
  },
} as const satisfies Record<string, Field>

export const requestSizeLimitingSchema: PluginSchema = {
  config: requestSizeLimitingConfigFields,
  protocols: t.HTTP_PROTOCOLS,
}

/** The validated `config`, inferred from its schema. */
export type RequestSizeLimitingConfig = InferFields<typeof requestSizeLimitingConfigFields>

export interface RequestSizeLimitingPrepared extends RequestSizeLimitingConfig {
  readonly allowedBytes: number
}

export function prepareRequestSizeLimiting(conf: RequestSizeLimitingConfig): RequestSizeLimitingPrepared {
  return { ...conf, allowedBytes: (conf.allowed_payload_size ?? 128) * UNIT_FACTOR[conf.size_unit] }
}

/** Lua's `tonumber` on a Content-Length value, for the decimal forms a client sends. */
export function parseContentLength(v: string | undefined): number | null {
  if (v === undefined) return null
  const s = v.trim()
  if (s === '' || !/^\+?\d+(\.\d*)?([eE][+-]?\d+)?$|^0[xX][0-9a-fA-F]+$/.test(s)) return null
  const n = Number(s)
  return Number.isFinite(n) ? n : null
}

function refuse(kong: Pdk, conf: RequestSizeLimitingPrepared, size: string): void {
  const expect = kong.request.getHeader('expect')
  const status = expect !== undefined && expect.trim().toLowerCase() === '100-continue' ? 417 : 413
  kong.log.info(
    `${status} "${ERR_TOO_LARGE}" on ${routeLabel(kong)}: the body is ${size}, more than the ${conf.allowed_payload_size ?? 128} ${conf.size_unit} (${conf.allowedBytes} bytes) allowed`,
  )
  kong.response.error(status, ERR_TOO_LARGE)
}

export function requestSizeLimitingAccess(kong: Pdk, conf: RequestSizeLimitingPrepared): void | Promise<void> {
  const cl = parseContentLength(kong.request.getHeader('content-length'))
  if (cl !== null) {
    if (cl > conf.allowedBytes) refuse(kong, conf, `${cl} bytes (Content-Length)`)
    return
  }
  if (conf.require_content_length && kong.request.getHeader('transfer-encoding') !== 'chunked') {
    const cls = kong.request.getHeader('content-length')
    kong.log.info(
      `411 "${ERR_LENGTH_REQUIRED}" on ${routeLabel(kong)}: require_content_length is set and the request has ${cls === undefined ? 'no Content-Length header' : `an invalid Content-Length "${cls}"`} and no chunked body`,
    )
    return kong.response.error(411, ERR_LENGTH_REQUIRED)
  }
  // No length declared: count the body as it streams in, stopping one byte past the limit.
  return kong.request.getRawBody(conf.allowedBytes).then(
    () => undefined,
    (err: Error) => {
      if (/^request body larger than/.test(err.message))
        refuse(kong, conf, `over ${conf.allowedBytes} bytes (counted as it streamed, no Content-Length)`)
      else throw err
    },
  )
}

export const requestSizeLimiting: Plugin<RequestSizeLimitingConfig, RequestSizeLimitingPrepared> = {
  name: 'request-size-limiting',
  version: KONG_COMPAT_VERSION,
  priority: 951,
  schema: requestSizeLimitingSchema,
  prepare: prepareRequestSizeLimiting,
  access: requestSizeLimitingAccess,
}

export default requestSizeLimiting
