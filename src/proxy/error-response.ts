/**
 * Gateway-generated error responses, byte for byte as Kong renders them (`kong/tools/http.lua`
 * templates), with content negotiation:
 *
 * - errors Kong raises itself (`kong.response.error`: no route, DNS failure, ring-balancer) pick the
 *   type from `Accept` with q-values, JSON by default;
 * - errors that nginx raises (upstream 502/504 …, through `/kong_error_handler`) look at `Accept`,
 *   else the request `Content-Type`, else the `error_default_type` setting.
 */

export type ErrorMime = 'application/json' | 'text/html' | 'application/xml' | 'text/plain' | 'application/grpc'

const CONTENT_TYPES: Readonly<Record<ErrorMime, string>> = {
  'application/json': 'application/json; charset=utf-8',
  'text/html': 'text/html; charset=utf-8',
  'application/xml': 'application/xml; charset=utf-8',
  'text/plain': 'text/plain; charset=utf-8',
  'application/grpc': '',
}

/**
 * Kong's `get_mime_type` for one media range: `*\/*` → the default (JSON), `text/*` → text/plain,
 * `application/*` → JSON, an exact known type → itself, anything else → the default. The lookup
 * is case-sensitive, as Kong's table lookup is (`Text/HTML` falls back to JSON).
 */
function mimeOf(mediaRange: string): ErrorMime {
  const semi = mediaRange.indexOf(';')
  const value = (semi === -1 ? mediaRange : mediaRange.slice(0, semi)).trim()
  const parts = value.split('/')
  if (parts.length < 2) return 'application/json'
  if (parts[1] === '*') {
    if (parts[0] === 'text') return 'text/plain'
    return 'application/json'
  }
  return Object.hasOwn(CONTENT_TYPES, value) ? (value as ErrorMime) : 'application/json'
}

/** A media range at the start of one `Accept` element (Kong's pattern is anchored at the start only). */
const MEDIA_RANGE = /^((?:[a-z0-9][a-z0-9\-!#$&^_+.]+|\*)\/(?:[a-z0-9][a-z0-9\-!#$&^_+.]+|\*))/i
/** One parameter after it: `q=` with Kong's accepted values, or any other `name[=value]`. */
const MEDIA_PARAM = /\s*;\s*(?:q=(1(?:\.0{0,3})?|0(?:\.\d{0,3})?)|[a-z0-9][a-z0-9\-!#$&^_+.]+(?:=[^;]*)?)/iy

/**
 * `kong.response.error` negotiation (Kong's `get_response_type`): the first element with the
 * highest q wins (an element with q=0 never does); an unknown type picks JSON; JSON when
 * nothing usable is there.
 */
export function negotiateKongError(accept: string | undefined): ErrorMime {
  if (accept === undefined) return 'application/json'
  let best: ErrorMime = 'application/json'
  let bestQ = 0
  for (const part of accept.split(',')) {
    const element = part.trim()
    const m = MEDIA_RANGE.exec(element)
    if (m === null) continue
    let q = 1
    MEDIA_PARAM.lastIndex = m[0].length
    for (let p = MEDIA_PARAM.exec(element); p !== null; p = MEDIA_PARAM.exec(element)) {
      if (p[1] !== undefined) q = Number(p[1])
    }
    if (q > bestQ) {
      bestQ = q
      best = mimeOf(m[1] ?? '')
    }
  }
  return best
}

/**
 * The nginx error-page negotiation (`/kong_error_handler`): the same negotiation over `Accept`,
 * else the request `Content-Type`, else the `error_default_type` setting; gRPC requests get no body.
 */
export function negotiateNginxError(accept: string | undefined, contentType: string | undefined, defaultType: string): ErrorMime {
  const source = accept ?? contentType ?? defaultType
  if (source.startsWith('application/grpc')) return 'application/grpc'
  return negotiateKongError(source)
}

function escapeFor(mime: ErrorMime, s: string): string {
  if (mime === 'application/json') return s.replace(/[\\"]/g, (c) => `\\${c}`)
  if (mime === 'text/html' || mime === 'application/xml') {
    return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'))
  }
  return s
}

/** Renders Kong's error body for a message and request id. */
export function renderError(mime: ErrorMime, message: string, requestId: string): { contentType: string; body: string } {
  const m = escapeFor(mime, message)
  switch (mime) {
    case 'application/json':
      return { contentType: CONTENT_TYPES[mime], body: `{\n  "message":"${m}",\n  "request_id":"${requestId}"\n}` }
    case 'text/html':
      return {
        contentType: CONTENT_TYPES[mime],
        body: `<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>${m}.</p>\n    <p>request_id: ${requestId}</p>\n  </body>\n</html>\n`,
      }
    case 'application/xml':
      return {
        contentType: CONTENT_TYPES[mime],
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>${m}</message>\n  <requestid>${requestId}</requestid>\n</error>\n`,
      }
    case 'text/plain':
      return { contentType: CONTENT_TYPES[mime], body: `${m}\nrequest_id: ${requestId}\n` }
    case 'application/grpc':
      return { contentType: 'application/grpc', body: '' }
  }
}

/** nginx-level error messages by status: they live in the error registry. */
export { nginxStatusMessage as nginxErrorMessage } from '../errors/registry.js'
