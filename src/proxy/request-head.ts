/**
 * The checks nginx makes on a request line and headers before Kong sees the request
 * (`ngx_http_process_request_line`, `ngx_http_process_request_headers`,
 * `ngx_http_process_request_header` in nginx 1.25, the one Kong 3.9 ships). Pure: the server
 * adapter gives the parsed head, this answers the status nginx would finalize the request with.
 *
 * @module
 */

/** nginx `large_client_header_buffers 4 8k` (Kong keeps nginx's default): a line must fit in one buffer. */
export const LARGE_HEADER_BUFFER_SIZE = 8 * 1024
export const LARGE_HEADER_BUFFERS = 4

/** nginx's internal status for a request head too large; Kong's error handler answers it as 400. */
export const HEADER_TOO_LARGE = 494

export interface RequestHead {
  readonly method: string
  /** The request target as sent (origin-form `/p?q` or absolute-form `http://h/p?q`). */
  readonly target: string
  /** `1.1`, `1.0`. */
  readonly httpVersion: string
  /** `[name, value, name, value …]` as received. */
  readonly rawHeaders: readonly string[]
}

/** Headers nginx keeps one of and refuses twice (its `ngx_http_process_unique_header_line` ones). */
const UNIQUE = new Set([
  'if-modified-since',
  'if-unmodified-since',
  'if-match',
  'if-none-match',
  'content-length',
  'content-range',
  'if-range',
  'transfer-encoding',
  'expect',
  'authorization',
])

/** `scheme://authority[path]`: nginx's absolute-form request target. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?]*)(.*)$/s

/**
 * nginx's `ngx_http_validate_host` (1.25): no empty host, no `..`, no `/`, no control or space
 * characters; a trailing dot and the port do not count.
 */
export function validHost(host: string): boolean {
  let dot = -2
  let hostLen = host.length
  let state: 'usual' | 'literal' | 'rest' = 'usual'
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i)
    if (c === 0x2e /* . */) {
      if (dot === i - 1) return false
      dot = i
    } else if (c === 0x3a /* : */) {
      if (state === 'usual') {
        hostLen = i
        state = 'rest'
      }
    } else if (c === 0x5b /* [ */) {
      if (i === 0) state = 'literal'
    } else if (c === 0x5d /* ] */) {
      if (state === 'literal') {
        hostLen = i + 1
        state = 'rest'
      }
    } else if (c === 0x2f /* / */ || c <= 0x20 || c === 0x7f) return false
  }
  if (dot === hostLen - 1) hostLen--
  return hostLen > 0
}

/**
 * The origin-form target nginx routes an absolute-form one by (`GET http://h/p?q` → `/p?q`,
 * `/` when it has no path); an origin-form target as it is; null when the target is neither or
 * names an invalid host (nginx: 400).
 */
export function originForm(target: string): string | null {
  if (target.startsWith('/')) return target
  const m = ABSOLUTE_FORM.exec(target)
  if (m === null || !validHost(m[1] ?? '')) return null
  const rest = m[2] ?? ''
  return rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`
}

/**
 * The status nginx finalizes a request with before any Lua runs, or null when it passes:
 * 414 (request line longer than one large header buffer), 494 (a header line longer than one,
 * or the whole head larger than all of them), 400 (bad target, missing, invalid or repeated
 * Host, a repeated header nginx keeps one of, Transfer-Encoding on HTTP/1.0 or with
 * Content-Length), 501 (a Transfer-Encoding other than `chunked`), 405 (TRACE).
 */
export function checkRequestHead(h: RequestHead): number | null {
  // "METHOD SP target SP HTTP/x.y CRLF"
  const lineLength = h.method.length + 1 + h.target.length + 1 + 8 + 2
  if (lineLength > LARGE_HEADER_BUFFER_SIZE) return 414
  if (originForm(h.target) === null) return 400
  let total = lineLength
  let host = false
  let transferEncoding: string | null = null
  let contentLength = false
  // Made on the first unique header: most GETs carry none.
  let seen: Set<string> | null = null
  const raw = h.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    const line = name.length + 2 + value.length + 2
    if (line > LARGE_HEADER_BUFFER_SIZE) return HEADER_TOO_LARGE
    total += line
    if (total > LARGE_HEADER_BUFFER_SIZE * LARGE_HEADER_BUFFERS) return HEADER_TOO_LARGE
    const lower = name.toLowerCase()
    if (lower === 'host') {
      if (host || !validHost(value)) return 400
      host = true
    } else if (UNIQUE.has(lower)) {
      if (seen?.has(lower) === true) return 400
      ;(seen ??= new Set()).add(lower)
      if (lower === 'transfer-encoding') transferEncoding = value
      else if (lower === 'content-length') contentLength = true
    }
  }
  if (!host && h.httpVersion !== '1.0' && h.httpVersion !== '0.9') return 400
  if (transferEncoding !== null) {
    if (h.httpVersion === '1.0' || h.httpVersion === '0.9') return 400
    if (transferEncoding.toLowerCase() !== 'chunked') return 501
    if (contentLength) return 400
  }
  if (h.method === 'TRACE') return 405
  return null
}

/**
 * What the server adapter answers before the runloop, if anything: {@link checkRequestHead}, then
 * nginx's `client_max_body_size` on a declared length (413 before any byte is read; 0: no limit).
 */
export function refusedBeforeRunloop(
  h: RequestHead,
  contentLength: string | string[] | undefined,
  clientMaxBodySize: number,
): number | null {
  const refused = checkRequestHead(h)
  if (refused !== null) return refused
  return clientMaxBodySize > 0 && Number(contentLength ?? 0) > clientMaxBodySize ? 413 : null
}
