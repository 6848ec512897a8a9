/**
 * Kong's URI normalisation (`kong/tools/uri.lua` `normalize(uri, merge_slashes)`): decodes
 * percent-encoded unreserved/other bytes (reserved ones are kept, upper-cased), resolves dot
 * segments and optionally merges slashes. Used to reject non-normalized route prefix paths.
 *
 * @module
 */

const RESERVED = new Set(Array.from("!*'();:@&=+$,/?%#[]", (c) => c.charCodeAt(0)))

function percentDecode(uri: string): string {
  const bytes = Buffer.from(uri, 'utf8')
  const out: number[] = []
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    if (b === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      const num = parseInt(String.fromCharCode(bytes[i + 1] as number, bytes[i + 2] as number), 16)
      if (RESERVED.has(num))
        out.push(0x25, ...Buffer.from(String.fromCharCode(bytes[i + 1] as number, bytes[i + 2] as number).toUpperCase()))
      else out.push(num)
      i += 2
    } else out.push(b)
  }
  return Buffer.from(out).toString('utf8')
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66))
}

/** Normalizes a request path as Kong does before routing. */
export function normalizeUri(input: string, mergeSlashes: boolean): string {
  let uri = input
  if (uri === '' || uri === '/') return uri
  if (uri.includes('%')) uri = percentDecode(uri)
  if (!uri.includes('.')) {
    if (!mergeSlashes || !uri.includes('//')) return uri
  }
  const output: string[] = []
  while (uri.length > 0) {
    if (uri === '/.') uri = '/'
    else if (uri === '/..') {
      uri = '/'
      output.pop()
    } else if (uri === '.' || uri === '..') uri = ''
    else if (uri.startsWith('../')) uri = uri.slice(3)
    else if (uri.startsWith('./')) uri = uri.slice(2)
    else if (uri.startsWith('/./')) uri = uri.slice(2)
    else if (uri.startsWith('/../')) {
      uri = uri.slice(3)
      output.pop()
    } else if (mergeSlashes && uri.startsWith('//')) uri = uri.slice(1)
    else {
      const i = uri.indexOf('/', 1)
      if (i >= 0) {
        output.push(uri.slice(0, i))
        uri = uri.slice(i)
      } else {
        output.push(uri)
        uri = ''
      }
    }
  }
  return output.join('')
}
