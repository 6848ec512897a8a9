/**
 * Messages between the control plane (the primary process: Admin API, store) and the proxy
 * workers. Workers never touch the store: they receive whole configurations and compile them.
 */
import type { ConfigPayload } from '../snapshot/snapshot.js'

export type ToWorker =
  | { readonly type: 'config'; readonly payload: ConfigPayload }
  | { readonly type: 'shutdown'; readonly timeoutMs: number }

export interface WorkerStats {
  readonly totalRequests: number
  readonly activeRequests: number
  readonly connectionsAccepted: number
  readonly connectionsActive: number
}

export type ToPrimary =
  /** The worker's message handler is installed: it can receive its configuration now. */
  | { readonly type: 'booted' }
  | { readonly type: 'listening' }
  | { readonly type: 'applied'; readonly version: number; readonly compileMs: number; readonly routes: number }
  | { readonly type: 'config-failed'; readonly version: number; readonly error: string }
  | { readonly type: 'stats'; readonly stats: WorkerStats }

/** Environment variable carrying the resolved configuration to forked workers. */
export const WORKER_CONFIG_ENV = 'TURNPIKE_WORKER_CONFIG'
