/**
 * Router types. The router is pure: it is compiled from routes once per configuration change
 * and answers `match()` with no I/O and no dependency on node:http.
 *
 * @module
 */
import type { PriorityKey } from './internal/priority.js'
export type { PriorityKey } from './internal/priority.js'

/** The route fields the router reads (a structural subset of the `routes` entity row). */
export interface RouteInput {
  readonly id: string
  readonly name: string | null
  readonly protocols: readonly string[]
  readonly methods: readonly string[] | null
  readonly hosts: readonly string[] | null
  readonly paths: readonly string[] | null
  /** Header name → accepted values (a value starting with `~*` is a case-insensitive regex). */
  readonly headers: Readonly<Record<string, readonly string[]>> | null
  readonly snis: readonly string[] | null
  readonly strip_path: boolean
  readonly preserve_host: boolean
  readonly regex_priority: number
  readonly path_handling: string
  readonly https_redirect_status_code: number
  readonly created_at: number
  readonly service: { readonly id: string } | null
}

/** What the router needs from an incoming request. Header names are lower-case. */
export interface MatchInput {
  readonly method: string
  /** `http` or `https`: the scheme the client used to reach the gateway. */
  readonly scheme: string
  /** The Host header value as sent (may include a port); empty string if none. */
  readonly host: string
  /** The port the gateway received the request on (used when `hosts` entries carry a port and Host has none). */
  readonly port: number
  /** The raw request target path, without query string, before normalization. */
  readonly path: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The TLS server name the client sent (https requests); routes' `snis` match it. */
  readonly sni?: string | undefined
}

/** The result of a successful match. */
export interface RouteMatch<R extends RouteInput = RouteInput> {
  readonly route: R
  /** The normalized request path that was matched. */
  readonly path: string
  /**
   * The path to send upstream before the service `path` is joined: the normalized request path
   * with the matched prefix stripped when `strip_path` is on (Kong's v0 rules); see `joinUpstreamPath`.
   */
  readonly strippedPath: string
  /** The matched prefix removed by strip_path (`/` when nothing was stripped); for X-Forwarded-Prefix. */
  readonly prefix: string
  /** Regex captures: numbered (`"0"`, `"1"` …) and named, as Kong's `uri_captures`. */
  readonly captures: Readonly<Record<string, string>> | null
}

/** One compiled route's verdict on a request (see {@link Router.explain}). */
export interface RouteVerdict<R extends RouteInput = RouteInput> {
  readonly route: R
  /** Position in Kong's priority order (0 is tried first); a route split by path groups has one per group. */
  readonly rank: number
  /** The priority fields that decide the rank (./internal/priority.ts). */
  readonly priority: PriorityKey
  /** The route `match()` picks (at most one verdict of an explanation). */
  readonly matched: boolean
  /** Why the route does not match (empty for the chosen route), one per failing condition. */
  readonly reasons: readonly string[]
  /** The prefix or regex match of the path ('' for a route without paths); null when the path does not fit. */
  readonly matchedPath: string | null
}

/** Every compiled route's verdict on one request, in priority order. */
export interface RouteExplanation<R extends RouteInput = RouteInput> {
  /** The normalized request path (null: invalid percent-encoding, nginx answers 400). */
  readonly path: string | null
  /** The canonical request host and the port the routes' `host:port` entries compare. */
  readonly host: string
  readonly port: number
  readonly winner: RouteVerdict<R> | null
  readonly verdicts: readonly RouteVerdict<R>[]
}

export interface Router<R extends RouteInput = RouteInput> {
  /** Finds the route Kong would pick for this request, or null (404). */
  match(input: MatchInput): RouteMatch<R> | null
  /**
   * Explains a request against every route, in priority order (for `turnpike trace`): linear in
   * the number of routes and never used on the proxy path; `match()` is unaffected.
   */
  explain(input: MatchInput): RouteExplanation<R>
  /** How many routes (after Kong's split by path-length groups) were compiled. */
  readonly size: number
}
