/**
 * Header blocks as node:http2 sends them, built from the gateway's header lists: lower-case
 * names, no connection-specific fields (RFC 9113 §8.2.2: nginx's HTTP/2 module never sends
 * them), and one value for the fields node allows only once (a repeated one, which an HTTP/1.1
 * peer may send, keeps its first value instead of failing the whole response).
 */

/** Fields HTTP/2 forbids. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])

/** The fields node:http2 refuses to send more than once (its kSingleValueHeaders). */
const SINGLE_VALUE = new Set([
  'access-control-allow-credentials',
  'access-control-max-age',
  'access-control-request-method',
  'age',
  'authorization',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'dnt',
  'etag',
  'expires',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'range',
  'referer',
  'retry-after',
  'tk',
  'upgrade-insecure-requests',
  'user-agent',
  'x-content-type-options',
])

export type H2HeaderBlock = Record<string, string | string[] | number>

/** Adds a flat `[name, value …]` list to a block (pseudo-headers are left out: the caller sets its own). */
export function addHeaderList(block: H2HeaderBlock, list: readonly string[]): H2HeaderBlock {
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase()
    if (CONNECTION_SPECIFIC.has(name) || name.startsWith(':')) continue
    const value = list[i + 1] as string
    const had = block[name]
    if (had === undefined) block[name] = value
    else if (!SINGLE_VALUE.has(name)) block[name] = Array.isArray(had) ? [...had, value] : [String(had), value]
  }
  return block
}

/** An empty block (no prototype: names come from peers). */
export function headerBlock(): H2HeaderBlock {
  return Object.create(null) as H2HeaderBlock
}
