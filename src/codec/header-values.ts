/**
 * Header values as they go on the wire. HTTP/1.1 header bytes are what both node's server and
 * undici write a string as, one byte per character (Latin-1), so a value read from a peer goes
 * back out byte for byte. A value made from configuration (a consumer's username, a route's name,
 * a plugin's setting) is text and may hold characters beyond Latin-1 (`测试用户`), which node and
 * undici refuse outright; Kong sends them as their UTF-8 bytes, and so does this. Control
 * characters (CR, LF, NUL …) would split or corrupt the header block; OpenResty escapes them as
 * `%XX`, and so does this. Every value therefore becomes sendable: no entity name can make a
 * request fail or hang.
 *
 * @module
 */

/** A character node's and undici's header checks refuse (they allow TAB, 0x20–0x7E, 0x80–0xFF). */
const UNSENDABLE = /[^\t\x20-\x7e\x80-\xff]/
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/g
/** An RFC 9110 token: what node accepts as a header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

function escapeControl(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
}

/** The value as it can be written: itself when it already can (the common case, no copy). */
export function wireValue(value: string): string {
  if (!UNSENDABLE.test(value)) return value
  const escaped = value.replace(CONTROL, escapeControl)
  // Characters beyond Latin-1 remain: send the text's UTF-8 bytes, one character per byte.
  return UNSENDABLE.test(escaped) ? Buffer.from(escaped, 'utf8').toString('latin1') : escaped
}

/** True for a name node can write (a header whose name is not a token is left out). */
export function sendableName(name: string): boolean {
  return TOKEN.test(name)
}

/** A flat `[name, value …]` list with every value sendable; the same array when nothing needed a change. */
export function wireHeaderList(list: string[]): string[] {
  for (let i = 0; i + 1 < list.length; i += 2) {
    if (UNSENDABLE.test(list[i + 1] as string) || !TOKEN.test(list[i] as string)) return rebuildList(list)
  }
  return list
}

function rebuildList(list: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i] as string
    if (sendableName(name)) out.push(name, wireValue(list[i + 1] as string))
  }
  return out
}

/** A header object with every value sendable; the same object when nothing needed a change. */
export function wireHeaderObject<T extends Record<string, string | string[] | number | undefined>>(headers: T): T {
  for (const name in headers) {
    const v = headers[name]
    if (!TOKEN.test(name)) return rebuildObject(headers)
    if (typeof v === 'string' ? UNSENDABLE.test(v) : Array.isArray(v) && v.some((one) => UNSENDABLE.test(one)))
      return rebuildObject(headers)
  }
  return headers
}

function rebuildObject<T extends Record<string, string | string[] | number | undefined>>(headers: T): T {
  const out: Record<string, string | string[] | number | undefined> = Object.create(null) as Record<string, never>
  for (const name in headers) {
    if (!sendableName(name)) continue
    const v = headers[name]
    out[name] = typeof v === 'string' ? wireValue(v) : Array.isArray(v) ? v.map(wireValue) : v
  }
  return out as T
}
