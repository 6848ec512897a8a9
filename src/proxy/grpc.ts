/**
 * gRPC in the runloop, as Kong 3.9 does it: the checks on routes with `grpc`/`grpcs` protocols
 * (kong/runloop/handler.lua: 426 over HTTP/1.x, 415 for a non-gRPC content type, grpc-status 1
 * for a gRPC request over plain HTTP on a grpcs-only route), and the shape of the answers the
 * gateway makes itself for a gRPC request (kong/pdk/response.lua's `send`: the HTTP status maps
 * to a `grpc-status` header, the message goes in `grpc-message`, and the body is empty).
 */
import type { Downstream, ResponseHeaders } from './types.js'

/** kong/pdk/response.lua `HTTP_TO_GRPC_STATUS`. */
const HTTP_TO_GRPC_STATUS: ReadonlyMap<number, number> = new Map([
  [200, 0],
  [400, 3],
  [401, 16],
  [403, 7],
  [404, 5],
  [409, 6],
  [429, 8],
  [499, 1],
  [500, 13],
  [501, 12],
  [503, 14],
  [504, 4],
])

/** kong/pdk/response.lua `GRPC_MESSAGES`, by grpc-status. */
const GRPC_MESSAGES: readonly string[] = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
]

const GRPC_TYPE = 'application/grpc'

/** The grpc-status Kong gives an HTTP status: the table, else by class (5xx 13, 4xx 3, 2xx 0), else 2 (Unknown). */
export function grpcStatusOf(status: number): number {
  const known = HTTP_TO_GRPC_STATUS.get(status)
  if (known !== undefined) return known
  if (status >= 500 && status <= 599) return 13
  if (status >= 400 && status <= 499) return 3
  if (status >= 200 && status <= 299) return 0
  return 2
}

function startsGrpc(v: string | string[] | undefined): boolean {
  return typeof v === 'string' && v.startsWith(GRPC_TYPE)
}

/** Kong's `is_grpc_request`: a gRPC content type, over HTTP/2. */
export function isGrpcRequest(d: Downstream): boolean {
  return d.httpVersion === '2.0' && startsGrpc(d.headers['content-type'])
}

/**
 * Kong's checks on a matched route with gRPC protocols (after the https-only one): the status
 * to answer, or null to go on. `forwardedProto`: a trusted X-Forwarded-Proto, else the scheme.
 */
export function grpcRouteCheck(protocols: readonly string[], d: Downstream, forwardedProto: string): 'http2' | 'type' | 'tls' | null {
  // Kong's schema keeps grpc/grpcs apart from the other protocols: the first one tells.
  const first = protocols[0]
  if (first !== 'grpc' && first !== 'grpcs') return null
  const grpc = first === 'grpc' || protocols.includes('grpc')
  if (!startsGrpc(d.headers['content-type'])) return 'type'
  if (d.httpVersion !== '2.0') return 'http2'
  if (!grpc && forwardedProto !== 'https') return 'tls'
  return null
}

/**
 * kong.response.exit's gRPC branch (`send`). `headers` are the response's (merged already);
 * `body` as the caller gave it (an object: its `message` is taken). Sets grpc-status (unless
 * present) and grpc-message, and returns the body to send; null when the request and answer are
 * not gRPC ones (the caller goes on as for HTTP).
 */
export function grpcSend(
  d: Downstream,
  status: number,
  headers: ResponseHeaders,
  body: string | Buffer | Readonly<Record<string, unknown>> | null | undefined,
): { body: string | Buffer | null } | null {
  const ct = headers['content-type']
  const output = ct !== undefined && startsGrpc(ct)
  if (!(output || (ct === undefined && isGrpcRequest(d)))) return null
  let grpcStatus: number | null = null
  if (headers['grpc-status'] === undefined) {
    grpcStatus = grpcStatusOf(status)
    headers['grpc-status'] = String(grpcStatus)
  }
  let payload: string | Buffer | null = null
  if (body !== undefined && body !== null) {
    if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body
    else {
      const message = (body as { message?: unknown }).message
      // Kong: "table body encoding with gRPC is not supported" (an error on gRPC output; dropped otherwise).
      payload = !output && typeof message === 'string' ? message : null
    }
  }
  if (payload !== null && !output) {
    headers['content-length'] = '0'
    headers['grpc-message'] = payload.toString()
    return { body: null }
  }
  if (grpcStatus !== null && headers['grpc-message'] === undefined) headers['grpc-message'] = GRPC_MESSAGES[grpcStatus] ?? 'Unknown'
  return { body: payload }
}

/** kong.response.error on a gRPC request: content type application/grpc, no body, the status's grpc-message. */
export function grpcError(d: Downstream, status: number, headers: ResponseHeaders): { body: string | Buffer | null } | null {
  if (!isGrpcRequest(d) || headers['content-type'] !== undefined) return null
  headers['content-type'] = GRPC_TYPE
  return grpcSend(d, status, headers, null)
}
