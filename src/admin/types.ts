/**
 * The Admin API's view of HTTP: plain data in, plain data out. The node:http adapter
 * (`src/http/admin-server.ts`) converts; nothing under `src/admin/` touches node:http.
 *
 * @module
 */

export interface AdminRequest {
  readonly method: string
  /** Path without query string, still percent-encoded as received (`/services/my%20svc`). */
  readonly path: string
  /** Raw query string without `?` (may be empty). */
  readonly query: string
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The whole request body (the Admin API buffers; max 10 MiB as Kong). */
  readonly body: Buffer
}

export interface AdminResponse {
  status: number
  headers: Record<string, string>
  /** JSON-serialisable value (serialised by the adapter), a ready string, or nothing (204). */
  body?: unknown
}

/** Runtime facts the Admin API reports in `GET /` and `GET /status`. */
export interface NodeInfo {
  readonly version: string
  readonly hostname: string
  readonly node_id: string
  /** Settings as shown by `GET /` (secrets removed). */
  readonly configuration: Readonly<Record<string, unknown>>
  readonly pids: { readonly master: number; readonly workers: readonly number[] }
  /** Names of the plugins this node has available, with version and priority. */
  readonly plugins: Readonly<Record<string, { version: string; priority: number }>>
  /** `server` section of `/status` (connections and requests across workers). */
  serverStatus(): { total_requests: number; connections_active: number; connections_accepted: number; connections_handled: number; connections_reading: number; connections_writing: number; connections_waiting: number }
  /**
   * Each proxy worker's connection and request counters and JavaScript heap in use, as last
   * reported (about once a second).
   */
  workers(): ReadonlyArray<{ readonly pid: number; readonly connectionsAccepted: number; readonly connectionsActive: number; readonly totalRequests: number; readonly heapUsed: number }>
}
