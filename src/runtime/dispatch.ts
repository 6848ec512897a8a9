/**
 * The one IPC dispatcher of each side (primary and worker): routes a message to the handler of its
 * `type`. The handler table must name every type of the union (the compiler checks it), so a new
 * message cannot be forgotten on the receiving side. A message that is not an object with a known
 * `type` (garbled, or from a process speaking another version) is ignored with a log line, and a
 * handler that throws is logged instead of taking the process down.
 *
 * @module
 */

/** One handler per message type; `A` are extra arguments (the sending worker, in the primary). */
export type Handlers<M extends { readonly type: string }, A extends unknown[] = []> = {
  readonly [K in M['type']]: (msg: Extract<M, { readonly type: K }>, ...args: A) => void
}

/** How much of an unknown type is quoted in the log. */
const MAX_QUOTED = 64

function describe(msg: unknown): string {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    return `not an object (${msg === null ? 'null' : Array.isArray(msg) ? 'array' : typeof msg})`
  const type: unknown = (msg as { type?: unknown }).type
  if (typeof type !== 'string') return 'no type'
  return `unknown type ${JSON.stringify(type.slice(0, MAX_QUOTED))}${type.length > MAX_QUOTED ? '…' : ''}`
}

/**
 * Makes the dispatcher: call it with each received message (and the extra arguments). `log` is
 * told, in one line, about messages it ignores and handlers that throw.
 *
 * @example
 * const dispatch = createDispatcher<ToWorker>({ config: (m) => apply(m.payload), … }, (line) => errorLog.warn(line))
 * process.on('message', (msg) => dispatch(msg))
 */
export function createDispatcher<M extends { readonly type: string }, A extends unknown[] = []>(
  handlers: Handlers<M, A>,
  log: (line: string) => void,
): (msg: unknown, ...args: A) => void {
  // A Map: a `type` such as "__proto__" or "constructor" finds nothing.
  const table = new Map<string, (msg: M, ...args: A) => void>(Object.entries(handlers) as [string, (msg: M, ...args: A) => void][])
  return (msg, ...args) => {
    const type: unknown = typeof msg === 'object' && msg !== null ? (msg as { type?: unknown }).type : undefined
    const handler = typeof type === 'string' ? table.get(type) : undefined
    if (handler === undefined) {
      log(`ignored an IPC message: ${describe(msg)}`)
      return
    }
    try {
      handler(msg as M, ...args)
    } catch (err) {
      log(`IPC message ${JSON.stringify(type)} failed: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}
