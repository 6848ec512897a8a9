/**
 * Whether the database can be reached, as the store's own queries find out: a failure that says
 * the server is gone (refused, reset, timed out, shut down) marks it unreachable at once, the next
 * query that succeeds marks it reachable again. A database that stops answering without closing
 * its connections (packets dropped) is noticed by the first query that times out (`pg_timeout`),
 * not by a later check. Each transition is reported once.
 *
 * @module
 */

/** Node's socket errors meaning the server cannot be reached. */
const SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** SQLSTATEs of a server that refuses or drops connections: admin/crash shutdown, starting up, too many connections. */
const SERVER_CODES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '53300'])

/**
 * node-postgres's own messages for a connection that timed out or broke (no SQLSTATE, no
 * socket code): `Query read timeout`, `Connection terminated unexpectedly`, `Connection terminated
 * due to connection timeout`, `timeout exceeded when trying to connect`, `Client has encountered a
 * connection error and is not queryable`.
 */
const DRIVER_MESSAGES =
  /^(?:Query read timeout|Connection terminated|timeout exceeded when trying to connect|timeout expired|Client has encountered a connection error|Client was closed)/

/** A failure that says the database cannot be reached (rather than a refused statement). */
export function isConnectionFailure(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error)) return false
  // A StoreError wrapping the driver's failure (asStoreError) keeps it as its cause.
  if (err.cause !== undefined && depth < 3) return isConnectionFailure(err.cause, depth + 1)
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') {
    // SQLSTATE class 08: connection exception.
    return SOCKET_CODES.has(code) || SERVER_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)
  }
  return DRIVER_MESSAGES.test(err.message)
}

/** The database's reachability as the store's queries see it. */
export class Reachability {
  #down: Error | null = null
  readonly #listeners: ((down: Error | null) => void)[] = []

  /** Why the database is unreachable, or null. */
  get down(): Error | null {
    return this.#down
  }

  /** Calls `fn` on each transition (an Error: unreachable; null: reachable again). */
  onChange(fn: (down: Error | null) => void): void {
    this.#listeners.push(fn)
  }

  /** A query failed: marks the database unreachable when the failure says so. */
  failed(err: unknown): void {
    if (this.#down !== null || !isConnectionFailure(err)) return
    this.#down = err as Error
    for (const fn of this.#listeners) fn(this.#down)
  }

  /** A query succeeded. */
  succeeded(): void {
    if (this.#down === null) return
    this.#down = null
    for (const fn of this.#listeners) fn(null)
  }
}
