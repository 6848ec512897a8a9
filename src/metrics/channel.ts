/**
 * A request/answer channel from the primary to every proxy worker, for node-wide plugin features
 * whose state lives in the workers: the prometheus plugin's counters (collected from each worker
 * at scrape time and summed) and the proxy-cache plugin's per-worker caches (looked up and purged
 * on every worker).
 *
 * Workers register what they answer with {@link onWorkerCall}; the primary asks all workers with
 * {@link WorkerFanout.call} and gets one answer per worker that replied in time (a worker that is
 * restarting or stuck is left out rather than holding the Admin API up).
 *
 * @module
 */
import type { Worker } from 'node:cluster'

/** Primary → worker: run the handler registered for `op`. */
export interface WorkerCallMessage {
  readonly type: 'plugin:call'
  readonly id: number
  readonly op: string
  readonly args: unknown
}

/** Worker → primary: the handler's result (or why it failed). */
export interface WorkerReplyMessage {
  readonly type: 'plugin:reply'
  readonly id: number
  readonly ok: boolean
  readonly result?: unknown
  readonly error?: string
}

export function isWorkerCall(msg: unknown): msg is WorkerCallMessage {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'plugin:call'
}

export function isWorkerReply(msg: unknown): msg is WorkerReplyMessage {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'plugin:reply'
}

type CallHandler = (args: unknown) => unknown

const handlers = new Map<string, CallHandler>()

/** Registers what this process answers to `op` (a worker; harmless in the primary). */
export function onWorkerCall(op: string, handler: CallHandler): void {
  handlers.set(op, handler)
}

/** Runs a registered handler for a primary's call (also used in-process when there are no workers). */
export async function runWorkerCall(op: string, args: unknown): Promise<unknown> {
  const handler = handlers.get(op)
  if (handler === undefined) throw new Error(`no handler for ${op} in this process`)
  return await handler(args)
}

/** Worker side: answers one call. */
export async function answerWorkerCall(msg: WorkerCallMessage): Promise<WorkerReplyMessage> {
  try {
    return { type: 'plugin:reply', id: msg.id, ok: true, result: await runWorkerCall(msg.op, msg.args) }
  } catch (err) {
    return { type: 'plugin:reply', id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) }
  }
}

/** One worker's answer. */
export interface WorkerAnswer<T> {
  readonly pid: number
  readonly result: T
}

/** Primary side: asks every live worker and gathers the answers. */
export class WorkerFanout {
  readonly #workers: () => readonly Worker[]
  readonly #pending = new Map<number, (reply: WorkerReplyMessage) => void>()
  #nextId = 0

  constructor(workers: () => readonly Worker[]) {
    this.#workers = workers
  }

  /**
   * Sends `op` to every connected worker; resolves with the answers received within `timeoutMs`
   * (failed answers are dropped; `errors` counts them and the workers that did not answer).
   */
  async call<T>(op: string, args: unknown, timeoutMs = 2000): Promise<{ answers: WorkerAnswer<T>[]; errors: number }> {
    const workers = this.#workers().filter((w) => w.isConnected())
    let errors = 0
    const answers: WorkerAnswer<T>[] = []
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const id = ++this.#nextId
            const timer = setTimeout(() => {
              this.#pending.delete(id)
              errors++
              resolve()
            }, timeoutMs)
            timer.unref()
            this.#pending.set(id, (reply) => {
              clearTimeout(timer)
              if (reply.ok) answers.push({ pid: w.process.pid ?? 0, result: reply.result as T })
              else errors++
              resolve()
            })
            try {
              w.send({ type: 'plugin:call', id, op, args } satisfies WorkerCallMessage)
            } catch {
              clearTimeout(timer)
              this.#pending.delete(id)
              errors++
              resolve()
            }
          }),
      ),
    )
    return { answers, errors }
  }

  /** Handles a worker message if it is a reply; returns whether it was. */
  handle(msg: unknown): boolean {
    if (!isWorkerReply(msg)) return false
    const resolve = this.#pending.get(msg.id)
    if (resolve !== undefined) {
      this.#pending.delete(msg.id)
      resolve(msg)
    }
    return true
  }
}
