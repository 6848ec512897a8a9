/**
 * The primary's counter service: one {@link CounterAuthority} for the node, reached by the proxy
 * workers over cluster IPC (`counter:*` messages).
 *
 * @module
 */
import cluster, { type Worker } from 'node:cluster'
import { CounterAuthority } from './authority.js'
import type { CounterToPrimary } from './messages.js'

export class CounterService {
  readonly authority: CounterAuthority
  readonly #sweeper: NodeJS.Timeout

  constructor() {
    this.authority = new CounterAuthority(
      (workerId, msg) => {
        const w = cluster.workers?.[workerId]
        if (w !== undefined && w.isConnected()) w.send(msg)
      },
      () => Object.keys(cluster.workers ?? {}).length,
    )
    this.#sweeper = setInterval(() => this.authority.sweep(), 5000)
    this.#sweeper.unref()
  }

  /** A counter message from a worker (routed here by the primary's IPC dispatcher). */
  handle(w: Worker, msg: CounterToPrimary): void {
    this.authority.handle(w.id, msg)
  }

  workerGone(workerId: number): void {
    this.authority.workerGone(workerId)
  }

  close(): void {
    clearInterval(this.#sweeper)
  }
}
