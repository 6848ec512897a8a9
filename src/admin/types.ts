/**
 * The Admin API's view of HTTP: plain data in, plain data out. The node:http adapter
 * (`src/http/admin-server.ts`) converts; nothing under `src/admin/` touches node:http. The request
 * and response are those of plugin endpoints (`src/plugins/endpoints.ts`), so the endpoints loaded
 * plugins declare mount as they are.
 *
 * @module
 */
import type { ApiRequest, ApiResponse, NodeFacts } from '../plugins/endpoints.js'

export type AdminRequest = ApiRequest

export type AdminResponse = ApiResponse

/** Runtime facts the Admin API reports in `GET /` and `GET /status`. */
export interface NodeInfo extends NodeFacts {
  /** Settings as shown by `GET /` (secrets removed). */
  readonly configuration: Readonly<Record<string, unknown>>
  readonly pids: { readonly master: number; readonly workers: readonly number[] }
  /** Names of the plugins this node has available, with version and priority. */
  readonly plugins: Readonly<Record<string, { version: string; priority: number }>>
  /**
   * Each proxy worker's connection and request counters and JavaScript heap in use, as last
   * reported (about once a second).
   */
  /**
   * Kong's shared dicts as `GET /status` lists them (`kong`, `kong_db_cache`): capacity and bytes
   * in use, in bytes, from the closest real figures this node has.
   */
  sharedDicts(): Readonly<Record<string, { readonly capacity: number; readonly allocated: number }>>
  workers(): ReadonlyArray<{
    readonly pid: number
    readonly connectionsAccepted: number
    readonly connectionsActive: number
    readonly totalRequests: number
    readonly heapUsed: number
  }>
}
