/**
 * Calls from the primary to every proxy worker on behalf of plugins whose state lives in the
 * workers: the prometheus plugin's counters (collected from each worker at scrape time and summed)
 * and the proxy-cache plugin's per-worker caches (looked up and purged on every worker).
 *
 * A worker's plugins register what they answer through their init context
 * (`ctx.onPrimaryCall(op, fn)`, kept in the worker's {@link PluginCalls}); the primary's plugin
 * endpoints ask all workers with {@link WorkerFanout.call} and get one answer per worker that
 * replied in time (a worker that is restarting or stuck is left out rather than holding the Admin
 * API up). Each op belongs to the plugin that registered it.
 *
 * @module
 */
import type { Worker } from 'node:cluster'
import type { WorkerAnswers } from '../plugins/endpoints.js'
import type { PluginCallMessage, PluginReplyMessage } from './messages.js'

type Answer = (args: unknown) => unknown

/** Worker side: what this worker's plugins answer, by plugin and op. */
export class PluginCalls {
  readonly #answers = new Map<string, Map<string, Answer>>()

  /** Registers what `plugin` answers to `op`. */
  register(plugin: string, op: string, answer: Answer): void {
    let ops = this.#answers.get(plugin)
    if (ops === undefined) {
      ops = new Map()
      this.#answers.set(plugin, ops)
    }
    ops.set(op, answer)
  }

  /** Answers one call from the primary. */
  async answer(msg: PluginCallMessage): Promise<PluginReplyMessage> {
    try {
      const answer = this.#answers.get(msg.plugin)?.get(msg.op)
      if (answer === undefined) throw new Error(`no handler for ${msg.plugin}:${msg.op} in this worker`)
      return { type: 'plugin:reply', id: msg.id, ok: true, result: await answer(msg.args) }
    } catch (err) {
      return { type: 'plugin:reply', id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) }
    }
  }
}

/** Primary side: asks every live worker and gathers the answers. */
export class WorkerFanout {
  readonly #workers: () => readonly Worker[]
  readonly #pending = new Map<number, (reply: PluginReplyMessage) => void>()
  #nextId = 0

  constructor(workers: () => readonly Worker[]) {
    this.#workers = workers
  }

  /**
   * Sends `op` of `plugin` to every connected worker; resolves with the answers received within
   * `timeoutMs` (failed answers are dropped; `errors` counts them and the workers that did not
   * answer).
   */
  async call<T>(plugin: string, op: string, args: unknown, timeoutMs = 2000): Promise<WorkerAnswers<T>> {
    const workers = this.#workers().filter((w) => w.isConnected())
    let errors = 0
    const answers: { pid: number; result: T }[] = []
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
              w.send({ type: 'plugin:call', id, plugin, op, args } satisfies PluginCallMessage)
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

  /** A worker's reply (routed here by the primary's IPC dispatcher). */
  reply(msg: PluginReplyMessage): void {
    const resolve = this.#pending.get(msg.id)
    if (resolve !== undefined) {
      this.#pending.delete(msg.id)
      resolve(msg)
    }
  }
}
