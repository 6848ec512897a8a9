/**
 * What the proxy adapters answer for a request nginx refuses before Kong sees it (a head the
 * parser refused, a body that broke a limit): the status, the gateway's headers and Kong's error
 * body negotiated on the request's headers; and the body limits that lead to it. Shared by the
 * HTTP/1.1 adapter (./node-proxy-server.ts) and the HTTP/2 one (./h2-server.ts).
 */
import { firstRawValue } from '../codec/request-header-values.js'
import { negotiateNginxError, nginxErrorMessage, renderError } from '../proxy/error-response.js'
import { HEADER_TOO_LARGE } from '../proxy/request-head.js'
import { nextRequestId } from '../proxy/request-id.js'
import { gatewayResponseHeaders, type Proxy } from '../proxy/runloop.js'
import type { RequestHeaders, ResponseHeaders } from '../proxy/types.js'

/** nginx's `lingering_timeout`: how long a closing connection waits for the client's side to end. */
export const LINGERING_TIMEOUT_MS = 5000

/** nginx's answer to a refused request: status (494 is answered as 400), headers (no length), Kong's body. */
export function refusalAnswer(
  proxy: Proxy,
  status: number,
  headers: RequestHeaders | undefined,
  rawHeaders?: readonly string[],
): { status: number; headers: ResponseHeaders; body: string } {
  const requestId = nextRequestId()
  const settings = proxy.settings
  // Kong's handler negotiates on the request's headers when they were read (a body that broke),
  // else falls back to error_default_type.
  // (Kong's handler reads them with kong.request.get_header: the first of a repeated header)
  const accept = rawHeaders === undefined ? headers?.['accept'] : firstRawValue(rawHeaders, 'accept')
  const ct = rawHeaders === undefined ? headers?.['content-type'] : firstRawValue(rawHeaders, 'content-type')
  const mime = negotiateNginxError(
    typeof accept === 'string' ? accept : undefined,
    typeof ct === 'string' ? ct : undefined,
    settings.errorDefaultType,
  )
  const r = renderError(mime, nginxErrorMessage(status), requestId)
  return {
    status: status === HEADER_TOO_LARGE ? 400 : status,
    headers: gatewayResponseHeaders(settings, r.contentType, 0, requestId),
    body: r.body,
  }
}

/** nginx's limits on a request body: `client_body_timeout` (ms) and `client_max_body_size` (bytes, 0: none). */
export interface BodyLimits {
  readonly timeout: number
  readonly maxSize: number
}

/**
 * A body without Content-Length, passed on as it arrives until it grows past `max` bytes: then
 * `onOver` is told and the body fails there (the upstream request is aborted, never completed).
 */
export async function* capped(body: AsyncIterable<Uint8Array>, max: number, onOver: () => void): AsyncIterable<Uint8Array> {
  // Iterated by hand: leaving a `for await` would destroy the request, and its socket with the
  // 413 still being written.
  const chunks = body[Symbol.asyncIterator]()
  let size = 0
  for (;;) {
    const next = await chunks.next()
    if (next.done === true) return
    size += next.value.length
    if (size > max) {
      onOver()
      // Thrown, not returned: an ended body would let the client finish the upstream request.
      throw new Error(`request body over client_max_body_size (${max} bytes)`)
    }
    yield next.value
  }
}

/**
 * nginx's `client_body_timeout` for a body read as a stream of chunks (HTTP/2): `onIdle` is told
 * when no chunk arrives for `ms` while the gateway waits for one (time the gateway is not
 * reading, a slow upstream holding the body back, is not the client's).
 */
export async function* idleTimed(body: AsyncIterable<Uint8Array>, ms: number, onIdle: () => void): AsyncIterable<Uint8Array> {
  // Iterated by hand, as in capped: the stream must outlive a refusal.
  const chunks = body[Symbol.asyncIterator]()
  for (;;) {
    let timer: NodeJS.Timeout | undefined
    // Past the timeout the body fails at once (the upstream request is aborted, never completed).
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onIdle()
        reject(new Error(`no request body byte for client_body_timeout (${ms} ms)`))
      }, ms)
    })
    let next: IteratorResult<Uint8Array>
    try {
      next = await Promise.race([chunks.next(), idle])
    } finally {
      clearTimeout(timer)
    }
    if (next.done === true) return
    yield next.value
  }
}
