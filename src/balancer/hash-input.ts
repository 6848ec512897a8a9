/**
 * The hash input of a request for consistent-hashing (Kong's `balancer.get_value`): the value
 * named by `hash_on`, else by `hash_fallback` when the first is empty; `cookie` mode makes a
 * value up (and the response sets the cookie) when the client has none.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { crc32 } from 'node:zlib'
import type { HashOn, UpstreamConfig } from './config.js'

/** What the request offers as hash input. */
export interface HashSource {
  readonly consumerId: string | null
  readonly clientIp: string
  /** Every value of a repeated header (the request context's `headers`). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** Normalized request path. */
  readonly path: string
  /** Raw query string (no `?`), or null. */
  readonly query: string | null
  readonly captures: Readonly<Record<string, string>> | null
}

export interface HashResult {
  readonly hash: number | null
  /** A cookie to set on the response: the client had none (`hash_on = cookie`). */
  readonly setCookie: string | null
}

/** Kong 3.9 hashes `$http_<name>`: a header sent more than once is its values joined with `, `. */
function headerValue(headers: HashSource['headers'], name: string | null): string | null {
  if (name === null) return null
  const v = headers[name.toLowerCase()]
  if (v === undefined) return null
  return Array.isArray(v) ? v.join(', ') : v
}

function cookieValue(headers: HashSource['headers'], name: string | null): string | null {
  if (name === null) return null
  const raw = headers['cookie']
  const all = Array.isArray(raw) ? raw.join('; ') : raw
  if (all === undefined) return null
  for (const part of all.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1) continue
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return null
}

function queryValue(query: string | null, name: string | null): string | null {
  if (query === null || name === null) return null
  const values = new URLSearchParams(query).getAll(name)
  // Kong sorts and joins repeated arguments.
  return values.length === 0 ? null : values.sort().join(',')
}

function valueFor(u: UpstreamConfig, on: HashOn, fallback: boolean, s: HashSource): string | null {
  switch (on) {
    case 'none':
      return null
    case 'consumer':
      return s.consumerId
    case 'ip':
      return s.clientIp
    case 'header':
      return headerValue(s.headers, fallback ? u.hash_fallback_header : u.hash_on_header)
    case 'cookie':
      return cookieValue(s.headers, u.hash_on_cookie)
    case 'path':
      return s.path
    case 'query_arg':
      return queryValue(s.query, fallback ? u.hash_fallback_query_arg : u.hash_on_query_arg)
    case 'uri_capture':
      return s.captures?.[(fallback ? u.hash_fallback_uri_capture : u.hash_on_uri_capture) ?? ''] ?? null
  }
}

export function hashValue(value: string): number {
  return crc32(value)
}

export function requestHash(u: UpstreamConfig, s: HashSource): HashResult {
  if (u.hash_on === 'none') return { hash: null, setCookie: null }
  let value = valueFor(u, u.hash_on, false, s)
  if ((value === null || value === '') && u.hash_on === 'cookie') {
    value = randomUUID()
    return { hash: hashValue(value), setCookie: `${u.hash_on_cookie ?? ''}=${value}; Path=${u.hash_on_cookie_path}` }
  }
  if (value === null || value === '') value = valueFor(u, u.hash_fallback, true, s)
  return { hash: value === null || value === '' ? null : hashValue(value), setCookie: null }
}
