/**
 * Request path normalization and upstream re-escaping, as Kong does it
 * (`kong/tools/uri.lua`: `normalize(uri, true)` and `escape(uri)`).
 *
 * Paths are handled as "byte strings": Node gives the request target as latin1, one char per
 * byte, so percent-decoding produces one char per decoded byte and re-escaping turns each such
 * char back into the same `%XX` triplet.
 *
 * @module
 */

const PERCENT = 0x25
const SLASH = 0x2f
const DOT = 0x2e

/** Reserved characters stay percent-encoded (uppercased); everything else is decoded. */
const RESERVED = new Uint8Array(256)
for (const ch of "!*'();:@&=+$,/?%#[]") RESERVED[ch.charCodeAt(0)] = 1

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30
  if (code >= 0x41 && code <= 0x46) return code - 0x37
  if (code >= 0x61 && code <= 0x66) return code - 0x57
  return -1
}

/**
 * Decodes `%XX` triplets of unreserved and "other" bytes, uppercases the kept ones.
 * Returns null on a malformed triplet or an encoded NUL: nginx rejects those with 400
 * before Kong ever sees them.
 */
function decodePercents(uri: string): string | null {
  let out = ''
  let last = 0
  const n = uri.length
  for (let i = uri.indexOf('%'); i !== -1; i = uri.indexOf('%', i)) {
    if (i + 2 >= n) return null
    const hi = hexValue(uri.charCodeAt(i + 1))
    const lo = hexValue(uri.charCodeAt(i + 2))
    if (hi < 0 || lo < 0) return null
    const byte = hi * 16 + lo
    if (byte === 0) return null
    out += uri.slice(last, i)
    out += RESERVED[byte] === 1 ? uri.slice(i, i + 3).toUpperCase() : String.fromCharCode(byte)
    i += 3
    last = i
  }
  return last === 0 ? uri : out + uri.slice(last)
}

/** RFC 3986 dot-segment removal with `//` merged, following Kong's loop case by case. */
function removeDotSegments(uri: string): string {
  const out: string[] = []
  const n = uri.length
  let i = 0
  while (i < n) {
    const rest = n - i
    const c0 = uri.charCodeAt(i)
    const c1 = rest > 1 ? uri.charCodeAt(i + 1) : -1
    const c2 = rest > 2 ? uri.charCodeAt(i + 2) : -1
    const c3 = rest > 3 ? uri.charCodeAt(i + 3) : -1
    if (rest === 2 && c0 === SLASH && c1 === DOT) {
      // "/."
      out.push('/')
      break
    }
    if (rest === 3 && c0 === SLASH && c1 === DOT && c2 === DOT) {
      // "/.."
      out.pop()
      out.push('/')
      break
    }
    if ((rest === 1 && c0 === DOT) || (rest === 2 && c0 === DOT && c1 === DOT)) break
    if (c0 === DOT && c1 === DOT && c2 === SLASH) {
      i += 3
      continue
    } // "../"
    if (c0 === DOT && c1 === SLASH) {
      i += 2
      continue
    } // "./"
    if (c0 === SLASH && c1 === DOT && c2 === SLASH) {
      i += 2
      continue
    } // "/./"
    if (c0 === SLASH && c1 === DOT && c2 === DOT && c3 === SLASH) {
      // "/../"
      i += 3
      out.pop()
      continue
    }
    if (c0 === SLASH && c1 === SLASH) {
      i += 1
      continue
    } // "//"
    let j = uri.indexOf('/', i + 1)
    if (j === -1) j = n
    out.push(uri.slice(i, j))
    i = j
  }
  return out.join('')
}

/**
 * Normalizes a raw request path (no query string) the way Kong does before routing:
 * percent-decodes unreserved and other bytes, keeps reserved ones encoded with uppercase hex,
 * removes dot segments and merges `//`. `/public/../admin` becomes `/admin`.
 *
 * @returns the normalized path, or null when the path is invalid (bad or NUL percent-encoding),
 *   which the proxy answers with 400 like nginx.
 * @example normalizePath('/a/%2e%2e/b//c%7e') // '/b/c~'
 */
export function normalizePath(raw: string): string | null {
  if (raw === '' || raw === '/') return raw
  let uri: string | null = raw
  if (raw.indexOf('%') !== -1) {
    uri = decodePercents(raw)
    if (uri === null) return null
  }
  if (uri.indexOf('.') === -1 && uri.indexOf('//') === -1) return uri
  return removeDotSegments(uri)
}

/** Bytes left as they are when sending the path upstream (Kong's `ESCAPE_PATTERN` complement). */
const UPSTREAM_SAFE = new Uint8Array(128)
for (const ch of "!#$&'()*+,/:;=?@[]-_.~%") UPSTREAM_SAFE[ch.charCodeAt(0)] = 1
for (let c = 0x30; c <= 0x39; c++) UPSTREAM_SAFE[c] = 1
for (let c = 0x41; c <= 0x5a; c++) UPSTREAM_SAFE[c] = 1
for (let c = 0x61; c <= 0x7a; c++) UPSTREAM_SAFE[c] = 1

const HEX = '0123456789ABCDEF'

function pct(byte: number): string {
  return '%' + HEX.charAt(byte >> 4) + HEX.charAt(byte & 15)
}

/**
 * Re-escapes a normalized path before it is sent upstream: every byte outside
 * `!#$&'()*+,/:;=?@[]A-Za-z0-9-_.~%` is percent-encoded with uppercase hex (`%` itself is kept,
 * so reserved triplets stay as they were). Chars above 0xFF are encoded as UTF-8.
 *
 * @example escapeUpstreamPath('/a b/é') // '/a%20b/%E9' for a latin1 byte string
 */
export function escapeUpstreamPath(path: string): string {
  const n = path.length
  let i = 0
  while (i < n) {
    const c = path.charCodeAt(i)
    if (c >= 128 || UPSTREAM_SAFE[c] !== 1) break
    i++
  }
  if (i === n) return path
  let out = path.slice(0, i)
  for (; i < n; i++) {
    const c = path.charCodeAt(i)
    if (c < 128 && UPSTREAM_SAFE[c] === 1) {
      out += path.charAt(i)
    } else if (c <= 0xff) {
      out += pct(c)
    } else {
      // A real Unicode char (the caller did not pass a byte string): send its UTF-8 bytes.
      const cp = path.codePointAt(i) ?? c
      if (cp > 0xffff) i++
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += pct(b)
    }
  }
  return out
}
