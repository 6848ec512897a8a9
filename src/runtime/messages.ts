/**
 * Every message between the control plane (the primary process: Admin API, store) and the proxy
 * workers, as one discriminated union per direction (`type` tells them apart); each side routes
 * them with one dispatcher (./dispatch.ts). Workers never touch the store: they receive whole
 * configurations and compile them.
 */
import type { Outcome } from '../balancer/health-model.js'
import type { ConfigPayload } from '../snapshot/snapshot.js'
import type { ClusterToPrimary, ClusterToWorker, CounterToPrimary, CounterToWorker } from '../counters/messages.js'

/** Primary → worker: run what plugin `plugin` registered for `op` (./plugin-calls.ts). */
export interface PluginCallMessage {
  readonly type: 'plugin:call'
  readonly id: number
  readonly plugin: string
  readonly op: string
  readonly args: unknown
}

/** Worker → primary: the answer to a {@link PluginCallMessage} (or why it failed). */
export interface PluginReplyMessage {
  readonly type: 'plugin:reply'
  readonly id: number
  readonly ok: boolean
  readonly result?: unknown
  readonly error?: string
}

export type ToWorker =
  | { readonly type: 'config'; readonly payload: ConfigPayload }
  | { readonly type: 'shutdown'; readonly timeoutMs: number }
  /** The node's health view (from the primary's health checker): unhealthy address keys by upstream id. */
  | { readonly type: 'health'; readonly state: Readonly<Record<string, readonly string[]>> }
  /** Node-wide rate-limiting counters (src/counters). */
  | CounterToWorker
  | ClusterToWorker
  /** A plugin endpoint asks every worker (prometheus scrape, proxy-cache lookup/purge). */
  | PluginCallMessage

export interface WorkerStats {
  readonly totalRequests: number
  readonly activeRequests: number
  readonly connectionsAccepted: number
  readonly connectionsActive: number
  /** The worker's JavaScript heap in use, bytes (`/status` memory.workers_lua_vms). */
  readonly heapUsed: number
}

export type ToPrimary =
  /** The worker's message handler is installed: it can receive its configuration now. */
  | { readonly type: 'booted' }
  | { readonly type: 'listening' }
  /** A proxy listener could not be opened; the worker exits after sending this. */
  | { readonly type: 'listen-failed'; readonly error: string }
  | { readonly type: 'applied'; readonly version: number; readonly compileMs: number; readonly routes: number }
  | { readonly type: 'config-failed'; readonly version: number; readonly error: string }
  | { readonly type: 'stats'; readonly stats: WorkerStats }
  /** A proxied outcome that passive health checks count (see Balancer.report). */
  | {
      readonly type: 'passive'
      readonly upstream: string
      readonly ip: string
      readonly port: number
      readonly hostname: string
      readonly outcome: Outcome
    }
  /** Node-wide rate-limiting counters (src/counters). */
  | CounterToPrimary
  | ClusterToPrimary
  | PluginReplyMessage

/** Any message of either direction. */
export type Message = ToWorker | ToPrimary

/** Environment variable carrying the resolved configuration to forked workers. */
export const WORKER_CONFIG_ENV = 'TURNPIKE_WORKER_CONFIG'
