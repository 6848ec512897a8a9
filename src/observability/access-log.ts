/**
 * The proxy access log in Kong's format:
 * `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" kong_request_id: "$kong_request_id"`
 */
import type { LogSink } from './log-file.js'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** `23/Nov/2026:14:00:00 +0000`, as nginx's `$time_local`. */
export function timeLocal(d: Date): string {
  const off = -d.getTimezoneOffset()
  const sign = off >= 0 ? '+' : '-'
  const abs = Math.abs(off)
  return `${pad(d.getDate())}/${MONTHS[d.getMonth()] ?? ''}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
}

export interface AccessEntry {
  readonly remoteAddr: string
  readonly method: string
  readonly url: string
  readonly httpVersion: string
  readonly status: number
  readonly bytesSent: number
  readonly referer: string | undefined
  readonly userAgent: string | undefined
  readonly requestId: string
}

export class AccessLog {
  readonly #sink: LogSink | null
  #second = -1
  #stamp = ''

  constructor(sink: LogSink | null) {
    this.#sink = sink
  }

  get enabled(): boolean {
    return this.#sink !== null
  }

  write(e: AccessEntry): void {
    if (this.#sink === null) return
    const now = Date.now()
    const second = Math.floor(now / 1000)
    if (second !== this.#second) {
      this.#second = second
      this.#stamp = timeLocal(new Date(now))
    }
    this.#sink.write(
      `${e.remoteAddr} - - [${this.#stamp}] "${e.method} ${e.url} HTTP/${e.httpVersion}" ${e.status} ${e.bytesSent} "${e.referer ?? '-'}" "${e.userAgent ?? '-'}" kong_request_id: "${e.requestId}"\n`,
    )
  }
}
