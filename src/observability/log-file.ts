/**
 * Log destinations: a file path (created with its folder), `/dev/stdout`, `/dev/stderr`, or `off`.
 *
 * Lines are appended to an in-memory batch and written asynchronously in large chunks, so logging
 * never blocks a request and costs about a string concatenation per line. (A general-purpose
 * writer such as SonicBoom measured ~9 µs per line here — a fifth of the proxy's own budget per
 * request — because it does bookkeeping on every write; one batched write per 32 KiB does not.)
 */
import { appendFileSync, createWriteStream, mkdirSync } from 'node:fs'
import type { Writable } from 'node:stream'
import { dirname } from 'node:path'

export interface LogSink {
  write(line: string): void
  /** Writes what is batched, synchronously (at exit). */
  flush(): void
  /** Writes what is batched in the background: never blocks the event loop (periodic use). */
  drain(): void
}

const OFF: LogSink = { write() {}, flush() {}, drain() {} }

class BatchedFileSink implements LogSink {
  readonly #path: string
  readonly #stream: Writable
  readonly #batchBytes: number
  readonly #encoding: BufferEncoding
  #pending: string[] = []
  #pendingLength = 0
  /** Bytes handed to the stream and not yet written (for an exact synchronous flush). */
  #inFlight = 0

  constructor(path: string, batchBytes: number, encoding: BufferEncoding) {
    this.#path = path
    this.#batchBytes = batchBytes
    this.#encoding = encoding
    if (path === '/dev/stdout') this.#stream = process.stdout
    else if (path === '/dev/stderr') this.#stream = process.stderr
    else {
      mkdirSync(dirname(path), { recursive: true })
      this.#stream = createWriteStream(path, { flags: 'a' })
      // A log file that cannot be written must not crash the gateway: say it once on stderr.
      this.#stream.once('error', (err) => process.stderr.write(`turnpike: cannot write ${path}: ${err.message}\n`))
    }
  }

  write(line: string): void {
    this.#pending.push(line)
    this.#pendingLength += line.length
    if (this.#pendingLength >= this.#batchBytes) this.drain()
  }

  drain(): void {
    if (this.#pendingLength === 0) return
    const chunk = this.#pending.join('')
    this.#pending = []
    this.#pendingLength = 0
    this.#inFlight++
    this.#stream.write(chunk, this.#encoding, () => {
      this.#inFlight--
    })
  }

  flush(): void {
    if (this.#pendingLength === 0) return
    const chunk = this.#pending.join('')
    this.#pending = []
    this.#pendingLength = 0
    if (this.#path === '/dev/stdout' || this.#path === '/dev/stderr') {
      this.#stream.write(chunk, this.#encoding)
      return
    }
    // At exit: what is still queued in the stream is lost anyway if we exit now, so the rest is
    // appended directly (order kept only when nothing is in flight, which is the normal case).
    try {
      if (this.#inFlight === 0) appendFileSync(this.#path, chunk, this.#encoding)
      else this.#stream.write(chunk, this.#encoding)
    } catch {
      // nowhere left to report it
    }
  }
}

/**
 * Opens a sink for a Kong-style log setting value (already resolved against the prefix).
 * `batchBytes` 0 writes each line at once (the error log: lines must show up immediately).
 * `encoding` `latin1` writes each character as the byte it came from: request lines and header
 * values arrive from the HTTP parser one character per byte, so an access log written that way
 * holds the bytes the client sent (as nginx's does), and costs no UTF-8 encoding.
 */
export function openLogSink(target: string, options: { batchBytes?: number; encoding?: 'utf8' | 'latin1' } = {}): LogSink {
  if (target === 'off' || target === '') return OFF
  return new BatchedFileSink(target, options.batchBytes ?? 0, options.encoding ?? 'utf8')
}
