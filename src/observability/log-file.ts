/**
 * Log destinations: a file path (created with its folder), `/dev/stdout`, `/dev/stderr`, or `off`.
 * Writes are asynchronous and buffered (pino's SonicBoom), so logging never blocks a request.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import pino from 'pino'

export interface LogSink {
  write(line: string): void
  /** Writes what is buffered, synchronously (at exit). */
  flush(): void
  /** Writes what is buffered in the background: never blocks the event loop (periodic use). */
  drain(): void
}

const OFF: LogSink = { write() {}, flush() {}, drain() {} }

/** Opens a sink for a Kong-style log setting value (already resolved against the prefix). */
export function openLogSink(target: string, options: { sync?: boolean; minLength?: number } = {}): LogSink {
  if (target === 'off' || target === '') return OFF
  const dest = target === '/dev/stdout' ? 1 : target === '/dev/stderr' ? 2 : target
  if (typeof dest === 'string') mkdirSync(dirname(dest), { recursive: true })
  const minLength = options.minLength ?? 0
  // SonicBoom requires minLength < maxWrite (16 KiB by default).
  const boom = pino.destination({ dest, sync: options.sync ?? false, minLength, maxWrite: Math.max(16 * 1024, minLength * 2), mkdir: true })
  return {
    write(line: string) {
      boom.write(line)
    },
    flush() {
      try {
        boom.flushSync()
      } catch {
        // not yet open or already closed: nothing buffered to lose
      }
    },
    drain() {
      try {
        boom.flush()
      } catch {
        // not yet open or already closed
      }
    },
  }
}
