/**
 * What a running node wrote in its prefix about where it listens (`<prefix>/listen.json`, next to
 * the pid file), so `turnpike health`, `stop` and `config …` find the gateway of a prefix the
 * way `kong health` reads `<prefix>/.kong_env`, instead of assuming port 8001.
 *
 * @module
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The listeners a node opened, as its start line names them (`127.0.0.1:8001`, `[::1]:8444 ssl`). */
export interface ListenRecord {
  readonly pid: number
  readonly admin_listen: readonly string[]
  readonly status_listen: readonly string[]
}

/** Where the record is written. */
export function listenFile(prefix: string): string {
  return join(prefix, 'listen.json')
}

/** Written once every listener is open (after the pid file). */
export function writeListenFile(prefix: string, record: ListenRecord): void {
  writeFileSync(listenFile(prefix), `${JSON.stringify(record)}\n`)
}

/** Removed at stop, by the process that wrote it. */
export function removeListenFile(prefix: string, pid: number): void {
  if (readListenFile(prefix)?.pid === pid) rmSync(listenFile(prefix), { force: true })
}

/** The record, or null when there is none or it is not one (a hostile file is not trusted further than its shape). */
export function readListenFile(prefix: string): ListenRecord | null {
  let parsed: unknown
  try {
    const text = readFileSync(listenFile(prefix), 'utf8')
    if (text.length > 65536) return null
    parsed = JSON.parse(text)
  } catch {
    return null
  }
  if (parsed === null || typeof parsed !== 'object') return null
  const o = parsed as Record<string, unknown>
  const list = (v: unknown): string[] | null =>
    Array.isArray(v) && v.length <= 64 && v.every((s) => typeof s === 'string' && s.length < 300) ? (v as string[]) : null
  const admin = list(o['admin_listen'])
  const status = list(o['status_listen'])
  if (typeof o['pid'] !== 'number' || admin === null || status === null) return null
  return { pid: o['pid'], admin_listen: admin, status_listen: status }
}

/**
 * The base URL of the first listener of a kind (plain HTTP preferred), with a wildcard address
 * turned into loopback: `http://127.0.0.1:8001`.
 */
export function listenerUrl(listeners: readonly string[]): string | undefined {
  const parsed = listeners
    .map((name) => /^(\[[^\]]+\]|[^\s:]+):(\d{1,5})( ssl)?$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
  const pick = parsed.find((m) => m[3] === undefined) ?? parsed[0]
  if (pick === undefined) return undefined
  let host = pick[1] as string
  if (host === '0.0.0.0' || host === '*') host = '127.0.0.1'
  else if (host === '[::]') host = '[::1]'
  return `${pick[3] === undefined ? 'http' : 'https'}://${host}:${pick[2] as string}`
}
