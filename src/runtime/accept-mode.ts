/**
 * Who accepts a proxy listener's connections.
 *
 * - `reuseport`: each worker binds a socket of its own on the address (SO_REUSEPORT, as nginx's
 *   `reuseport`) and the kernel spreads new connections over them; the primary is never on a
 *   request's path, so a primary that stalls does not stall the proxy. Chosen for a `proxy_listen`
 *   entry carrying Kong's `reuseport` flag (Kong's default has it) on Linux.
 * - `shared`: the workers share the primary's socket through node:cluster: the primary accepts and
 *   hands connections out round-robin, or with one worker the worker accepts itself (see
 *   `connectionDistribution` in ./primary.ts). Used without the flag, and where reuseport cannot
 *   work: outside Linux (other systems' SO_REUSEPORT does not balance, or node does not offer it)
 *   and on port 0 (every worker would get a different free port).
 *
 * @module
 */
import type { ListenAddress } from '../config/index.js'

export type AcceptMode = { readonly mode: 'reuseport' } | { readonly mode: 'shared'; readonly fallback: string | null }

export function acceptMode(l: ListenAddress, platform: NodeJS.Platform = process.platform): AcceptMode {
  if (!l.reuseport) return { mode: 'shared', fallback: null }
  if (platform !== 'linux') return { mode: 'shared', fallback: `reuseport needs Linux (this is ${platform})` }
  if (l.port === 0) return { mode: 'shared', fallback: 'reuseport is not used on port 0: each worker would get a different port' }
  return { mode: 'reuseport' }
}

/** `server.listen` options for a proxy listener in a worker. */
export function workerListenOptions(l: ListenAddress): {
  host: string
  port: number
  backlog?: number
  reusePort?: boolean
  exclusive?: boolean
} {
  const base = { host: l.host, port: l.port, ...(l.backlog !== undefined ? { backlog: l.backlog } : {}) }
  // exclusive: the worker binds its own socket instead of asking the primary for the shared one.
  return acceptMode(l).mode === 'reuseport' ? { ...base, reusePort: true, exclusive: true } : base
}

/** A listener as the start line names it: `127.0.0.1:8443 ssl`, `[::1]:8001` (`port`: the one bound, for port 0). */
export function listenerName(l: ListenAddress, port = l.port): string {
  return `${l.host.includes(':') ? `[${l.host}]` : l.host}:${port}${l.ssl ? ' ssl' : ''}${l.http2 ? ' http2' : ''}`
}

/** The start line's words for one proxy listener. */
export function describeAcceptMode(l: ListenAddress, workerCount: number, primaryDistributes: boolean): string {
  const address = listenerName(l)
  const m = acceptMode(l)
  if (m.mode === 'reuseport') return `${address} reuseport: each worker accepts on its own socket`
  const how =
    workerCount === 1 && !primaryDistributes
      ? 'the worker accepts on the socket it shares with the primary'
      : primaryDistributes
        ? 'the primary accepts and hands connections to workers round-robin'
        : 'workers accept on the socket they share with the primary'
  return `${address}: ${how}${m.fallback !== null ? ` (${m.fallback})` : ''}`
}
