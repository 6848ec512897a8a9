/**
 * The router: Kong 3.9 `traditional_compatible` route matching, compiled once per configuration
 * and pure at request time.
 *
 * @example
 * const router = compileRouter(routes)
 * const path = normalizePath(rawPath)           // null → answer 400
 * const m = router.match({ method, scheme, host, port, path: rawPath, headers })
 * if (m) upstreamPath = escapeUpstreamPath(joinUpstreamPath(service.path, m))
 *
 * @module
 */

export type { MatchInput, PriorityKey, RouteExplanation, RouteInput, RouteMatch, RouteVerdict, Router } from './types.js'
export { compileRouter, type CompileRouterOptions } from './internal/compile-router.js'
export { normalizePath, escapeUpstreamPath } from './internal/normalize-path.js'
export { joinUpstreamPath } from './internal/upstream-path.js'
export { httpsRedirectStatus } from './internal/protocols.js'
export { RoutePathRegexError } from './internal/regex-path.js'
// The rules the doctor's route checks reason with (src/doctor/routes.ts): the router's own.
export { comparePriority, isRegexPath, priorityOf, splitRoute } from './internal/priority.js'
export { canonicalHost, HOST_EXACT, HOST_PREFIX, HOST_SUFFIX, parseHostEntry, type HostEntry } from './internal/hosts.js'
export { compilePathRegex, literalPrefixOf, toByteString } from './internal/regex-path.js'
