/**
 * The error log, in nginx/Kong's line shape so that existing habits (`grep 'connect() failed'`)
 * keep working:
 *
 * `2026/11/23 14:00:00 [error] 1234#0: *5 <message>, client: 127.0.0.1, server: kong, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:9/", host: "localhost:8000", request_id: "…"`
 *
 * Turnpike adds `upstream_host` (the configured name next to the IP actually used) and `hint`
 * (the likely cause and fix, where we can tell).
 */
import type { LogLevel } from '../config/index.js'
import type { LogSink } from './log-file.js'

const LEVELS: Readonly<Record<LogLevel, number>> = {
  debug: 0,
  info: 1,
  notice: 2,
  warn: 3,
  error: 4,
  crit: 5,
  alert: 6,
  emerg: 7,
}

/** Context fields appended to a line, in this order, when present. */
export interface LogContext {
  connection?: number
  client?: string
  request?: string
  upstream?: string
  upstream_host?: string
  host?: string
  request_id?: string
  hint?: string | undefined
  [extra: string]: string | number | undefined
}

const ORDER = ['client', 'server', 'request', 'upstream', 'upstream_host', 'host', 'request_id', 'hint'] as const

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** `YYYY/MM/DD HH:MM:SS` in local time, as nginx writes it. */
export function nginxTime(d: Date): string {
  return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export class ErrorLog {
  readonly #sink: LogSink
  readonly #threshold: number
  readonly #pid = process.pid

  constructor(sink: LogSink, level: LogLevel) {
    this.#sink = sink
    this.#threshold = LEVELS[level]
  }

  /** Whether a line at this level would be written (check before building costly messages). */
  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.#threshold
  }

  log(level: LogLevel, message: string, ctx?: LogContext): void {
    if (LEVELS[level] < this.#threshold) return
    let line = `${nginxTime(new Date())} [${level}] ${this.#pid}#0: `
    if (ctx?.connection !== undefined) line += `*${ctx.connection} `
    line += message
    if (ctx !== undefined) {
      for (const key of ORDER) {
        if (key === 'server') {
          if (ctx.client !== undefined) line += ', server: kong'
          continue
        }
        const v = ctx[key]
        if (v !== undefined) line += key === 'client' ? `, client: ${v}` : `, ${key}: "${String(v).replace(/"/g, '\\"')}"`
      }
      for (const [key, v] of Object.entries(ctx)) {
        if (v === undefined || key === 'connection' || (ORDER as readonly string[]).includes(key)) continue
        line += `, ${key}: "${String(v).replace(/"/g, '\\"')}"`
      }
    }
    this.#sink.write(line + '\n')
  }

  debug(message: string, ctx?: LogContext): void {
    this.log('debug', message, ctx)
  }
  info(message: string, ctx?: LogContext): void {
    this.log('info', message, ctx)
  }
  notice(message: string, ctx?: LogContext): void {
    this.log('notice', message, ctx)
  }
  warn(message: string, ctx?: LogContext): void {
    this.log('warn', message, ctx)
  }
  error(message: string, ctx?: LogContext): void {
    this.log('error', message, ctx)
  }
  crit(message: string, ctx?: LogContext): void {
    this.log('crit', message, ctx)
  }
  flush(): void {
    this.#sink.flush()
  }
}
