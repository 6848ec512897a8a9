/**
 * `ngx.escape_uri` (component escaping): everything but ASCII letters, digits and `-._~` is
 * percent-encoded, as the `next` links of Kong's Admin API and its form encoders write it.
 *
 * @module
 */

/** Percent-encodes `s` as `ngx.escape_uri` does (upper-case hex). */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}
