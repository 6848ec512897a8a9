/**
 * Upstream path construction under `path_handling = v0` (the only behaviour of Kong's
 * `traditional_compatible` router; `kong/router/utils.lua`: `get_upstream_uri_v0`).
 *
 * @module
 */

import type { RouteInput, RouteMatch } from '../types.js'

const SLASH = 0x2f

/** Drops a leading `./` or `../` (or a bare `.`/`..`) left after stripping the matched prefix. */
export function sanitizePostfix(postfix: string): string {
  if (postfix === '') return postfix
  if (postfix === '.' || postfix === '..') return ''
  if (postfix.startsWith('./')) return postfix.slice(2)
  if (postfix.startsWith('../')) return postfix.slice(3)
  return postfix
}

/**
 * Joins the service path and the request path as Kong's v0 rules do.
 *
 * When the route has `strip_path`, `match.strippedPath` is the request path after the matched
 * prefix (Kong's "postfix": it may be empty or lack a leading slash, `/foo` on `/foobar` leaves
 * `bar`); otherwise `match.path` is appended to the service path.
 *
 * @param servicePath the service `path` (null means `/`).
 * @returns the upstream path, not yet escaped (see `escapeUpstreamPath`), without query string.
 * @example joinUpstreamPath('/svc', match) // '/svc/bar' for route /foo, strip_path, request /foobar
 */
export function joinUpstreamPath(
  servicePath: string | null,
  match: Pick<RouteMatch<RouteInput>, 'path' | 'strippedPath'> & { readonly route: Pick<RouteInput, 'strip_path'> },
): string {
  const base = servicePath === null || servicePath === '' ? '/' : servicePath
  const reqUri = match.path
  const strip = match.route.strip_path
  const postfix = match.strippedPath

  if (base.charCodeAt(base.length - 1) === SLASH) {
    if (!strip) return base + reqUri.slice(1)
    if (postfix === '') {
      if (base === '/') return '/'
      if (reqUri.charCodeAt(reqUri.length - 1) === SLASH) return base
      return base.slice(0, -1)
    }
    // Avoid a double slash between the base and a postfix that starts with one.
    if (postfix.charCodeAt(0) === SLASH) return base.slice(0, -1) + postfix
    return base + postfix
  }

  if (!strip) return reqUri === '/' ? base : base + reqUri
  if (postfix === '') {
    return reqUri.length > 1 && reqUri.charCodeAt(reqUri.length - 1) === SLASH ? base + '/' : base
  }
  if (postfix.charCodeAt(0) === SLASH) return base + postfix
  return base + '/' + postfix
}
