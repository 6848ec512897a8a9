/**
 * The doctor's route checks: pure analysis of one configuration, no I/O.
 *
 * @module
 */
import type { ConfigPayload } from '../snapshot/snapshot.js'
import type { Finding } from './types.js'

/** What the node's proxy listeners serve (from `proxy_listen` and `stream_listen`). */
export interface ListenerFacts {
  /** Route protocols some proxy listener serves: `http` (plain), `https` (ssl), `grpc` (plain h2c), `grpcs` (ssl h2). */
  readonly protocols: ReadonlySet<string>
}

/** Which routes to check: all, or those of one service, or one route (id or name). */
export interface RouteCheckScope {
  readonly service?: string
  readonly route?: string
}

/**
 * Findings about the routes of `payload`: shadowed routes, equal-priority conflicts, the
 * strip_path/path effect, plugins that refuse every request, protocols no listener serves.
 */
export function checkRoutes(payload: ConfigPayload, listeners: ListenerFacts, scope: RouteCheckScope = {}): Finding[] {
  // Implemented by the route-checks work (issue 19); the doctor framework calls this.
  void payload
  void listeners
  void scope
  return []
}
