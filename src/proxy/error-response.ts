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

/** Kong's MIME lookup for one media range: `*\/*` → default, `text/*` → text/plain, `application/*` → JSON. */
function mimeOf(mediaRange: string): ErrorMime | undefined {
  const semi = mediaRange.indexOf(';')
  const value = (semi === -1 ? mediaRange : mediaRange.slice(0, semi)).trim().toLowerCase()
  const slash = value.indexOf('/')
  if (slash === -1) return undefined
  const type = value.slice(0, slash)
  const sub = value.slice(slash + 1)
  if (sub === '*') {
    if (type === '*') return 'application/json'
    if (type === 'text') return 'text/plain'
    if (type === 'application') return 'application/json'
    return undefined
  }
  return value in CONTENT_TYPES ? (value as ErrorMime) : undefined
}

const ACCEPT_RANGE = /^((?:[a-z0-9][a-z0-9\-!#$&^_+.]+|\*)\/(?:[a-z0-9][a-z0-9\-!#$&^_+.]+|\*))((?:\s*;\s*[a-z0-9][a-z0-9\-!#$&^_+.]+(?:=[^;]*)?)*)$/i

/** `kong.response.error` negotiation: the highest-q known type in `Accept`, JSON by default. */
export function negotiateKongError(accept: string | undefined): ErrorMime {
  if (accept === undefined || accept === '') return 'application/json'
  let best: ErrorMime = 'application/json'
  let bestQ = 0
  for (const part of accept.split(',')) {
    const m = ACCEPT_RANGE.exec(part.trim())
    if (m === null) continue
    let q = 1
    const params = m[2] ?? ''
    const qm = /;\s*q\s*=\s*([0-9.]+)/i.exec(params)
    if (qm !== null) q = Number(qm[1])
    if (q > bestQ) {
      bestQ = q
      best = mimeOf(m[1] ?? '') ?? best
    }
  }
  return best
}

/** The nginx error-page negotiation (`/kong_error_handler`). */
export function negotiateNginxError(accept: string | undefined, contentType: string | undefined, defaultType: string): ErrorMime {
  const source = accept ?? contentType ?? defaultType
  if (source.startsWith('application/grpc')) return 'application/grpc'
  return mimeOf(source) ?? 'application/json'
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

/** nginx-level error messages by status (`kong/error_handlers.lua`). */
export function nginxErrorMessage(status: number): string {
  switch (status) {
    case 400: return 'Bad request'
    case 404: return 'Not found'
    case 405: return 'Method not allowed'
    case 408: return 'Request timeout'
    case 411: return 'Length required'
    case 412: return 'Precondition failed'
    case 413: return 'Payload too large'
    case 414: return 'URI too long'
    case 417: return 'Expectation failed'
    case 494: return 'Request header or cookie too large'
    case 500: return 'An unexpected error occurred'
    case 502: return 'An invalid response was received from the upstream server'
    case 503: return 'The upstream server is currently unavailable'
    case 504: return 'The upstream server is timing out'
    default: return `The upstream server responded with ${status}`
  }
}
