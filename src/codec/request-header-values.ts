/**
 * Request headers with every value of a repeated header, as Kong sees them
 * (`ngx.req.get_headers()`: a string for a header sent once, an array of the values in order
 * for one sent several times). node:http's header object keeps only the first value of some
 * headers (`location`, `user-agent`, `authorization`, `host` …) and joins the others with `, `;
 * the raw `[name, value …]` list still has every line. Kong's router and plugins read all the
 * values, so the router (a condition matches when any value does) and `kong.request.get_headers`
 * are given this view.
 *
 * @module
 */
import type { RequestHeaders } from './header-types.js'

/**
 * `headers` itself when no name repeats (the common case: one count of the object's keys, no
 * allocation); otherwise a copy where each repeated name has the array of its raw values.
 */
export function requestHeaderValues(headers: RequestHeaders, rawHeaders: readonly string[]): RequestHeaders {
  let names = 0
  for (const _ in headers) names++
  // Every raw line has its lower-case name among the object's keys: as many keys as lines, no repeat.
  if (names * 2 >= rawHeaders.length) return headers
  const values = new Map<string, string[]>()
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = (rawHeaders[i] as string).toLowerCase()
    const value = rawHeaders[i + 1] as string
    const list = values.get(lower)
    if (list === undefined) values.set(lower, [value])
    else list.push(value)
  }
  const out: Record<string, string | string[] | undefined> = { ...headers }
  for (const [name, list] of values) {
    if (list.length < 2) continue
    // A defined property, never an assignment: a `__proto__` header must not set the prototype.
    Object.defineProperty(out, name, { value: list, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * One header's value as `kong.request.get_header` gives it (kong/tools/http.lua `get_header` at
 * 3.9.3): nginx's `$http_<name>`, which joins a repeated header's values with `, ` (`; ` for
 * Cookie); when that holds `, `, the value of `ngx.req.get_headers()` instead, and of a repeated
 * header its first value. So a repeated header reads as its first value (Cookie: joined, unless
 * a value holds `, `).
 */
export function kongHeaderValue(name: string, value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  const joined = value.join(name === 'cookie' ? '; ' : ', ')
  return joined.includes(', ') ? value[0] : joined
}

/**
 * The first value of a header in the raw `[name, value …]` list (`kong.request.get_header` on a
 * repeated header: `value[1]` of `ngx.req.get_headers()`), or undefined when it is absent.
 */
export function firstRawValue(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if ((rawHeaders[i] as string).toLowerCase() === name) return rawHeaders[i + 1]
  return undefined
}
