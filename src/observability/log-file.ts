/**
 * Log destinations: a file path (created with its folder), `/dev/stdout`, `/dev/stderr`, or `off`.
 * Writes are asynchronous and buffered (pino's SonicBoom), so logging never blocks a request.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import pino from 'pino'

export interface LogSink {
  write(line: string): void
  /** Flushes what is buffered (at exit). */
  flush(): void
}

const OFF: LogSink = { write() {}, flush() {} }

/** Opens a sink for a Kong-style log setting value (already resolved against the prefix). */
export function openLogSink(target: string, options: { sync?: boolean; minLength?: number } = {}): LogSink {
  if (target === 'off' || target === '') return OFF
  const dest = target === '/dev/stdout' ? 1 : target === '/dev/stderr' ? 2 : target
  if (typeof dest === 'string') mkdirSync(dirname(dest), { recursive: true })
  const boom = pino.destination({ dest, sync: options.sync ?? false, minLength: options.minLength ?? 0, mkdir: true })
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
  }
}
