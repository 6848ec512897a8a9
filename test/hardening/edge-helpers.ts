/**
 * Raw-socket helpers for the HTTP edge hardening tests: send exact bytes to the gateway, keep
 * everything it answers, and see whether (and when) it closed the connection.
 */
import { connect } from 'node:net'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { admin, settle } from '../integration/proxy/helpers.js'

export interface RawExchange {
  /** Everything the gateway sent, as Latin-1 text (bytes one to one). */
  readonly text: string
  readonly bytes: Buffer
  /** The gateway closed (or reset) the connection within the wait. */
  readonly closed: boolean
  /** Milliseconds from connecting to the close (or to the end of the wait). */
  readonly ms: number
}

/**
 * Connects to 127.0.0.1:port, writes `parts` (a string or buffer, or several with `gapMs`
 * between them), and collects the answer until the gateway closes the connection or `waitMs`
 * passes. Never rejects on a reset: a reset is a close.
 */
export function exchange(
  port: number,
  parts: string | Buffer | ReadonlyArray<string | Buffer>,
  opts: { waitMs?: number; gapMs?: number } = {},
): Promise<RawExchange> {
  const list = typeof parts === 'string' || Buffer.isBuffer(parts) ? [parts] : parts
  const waitMs = opts.waitMs ?? 5000
  return new Promise((resolve) => {
    const started = performance.now()
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let done = false
    const timers: NodeJS.Timeout[] = []
    const finish = (closed: boolean): void => {
      if (done) return
      done = true
      for (const t of timers) clearTimeout(t)
      socket.destroy()
      const bytes = Buffer.concat(chunks)
      resolve({ text: bytes.toString('latin1'), bytes, closed, ms: performance.now() - started })
    }
    timers.push(setTimeout(() => finish(false), waitMs))
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('end', () => finish(true))
    socket.on('close', () => finish(true))
    socket.on('error', () => finish(true))
    socket.once('connect', () => {
      list.forEach((part, i) => {
        timers.push(
          setTimeout(
            () => {
              if (!done && socket.writable) socket.write(part)
            },
            i * (opts.gapMs ?? 0),
          ),
        )
      })
    })
  })
}

export interface ParsedResponse {
  readonly status: number
  /** Lower-case names. */
  readonly headers: Record<string, string>
  readonly body: string
}

/** Splits what a gateway sent into responses (Content-Length framed; the rest ends the list). */
export function responses(text: string): ParsedResponse[] {
  const out: ParsedResponse[] = []
  let at = 0
  for (let guard = 0; guard < 100 && at < text.length; guard++) {
    const end = text.indexOf('\r\n\r\n', at)
    if (end === -1) break
    const lines = text.slice(at, end).split('\r\n')
    const status = Number((lines[0] ?? '').split(' ')[1])
    const headers: Record<string, string> = {}
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
    }
    const length = Number(headers['content-length'] ?? 0)
    out.push({ status, headers, body: text.slice(end + 4, end + 4 + length) })
    at = end + 4 + length
  }
  return out
}

export interface CountingUpstream {
  readonly port: number
  /** Requests whose head arrived (complete or not). */
  readonly started: () => number
  /** Requests that arrived whole, with their method, url and body. */
  readonly completed: Array<{ method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }>
  close(): Promise<void>
}

/** An upstream that counts what reaches it and answers 200 `ok` to each whole request. */
export async function countingUpstream(): Promise<CountingUpstream> {
  let started = 0
  const completed: CountingUpstream['completed'] = []
  const server: Server = createServer((req, res) => {
    started++
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('error', () => {})
    req.on('end', () => {
      completed.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() })
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' })
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    started: () => started,
    completed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A gateway (with these settings) whose catch-all route `/` goes to a fresh counting upstream. */
export async function startEdgeGateway(
  settings: Readonly<Record<string, string>> = {},
): Promise<{ gw: TestGateway; up: CountingUpstream; stop(): Promise<void> }> {
  const up = await countingUpstream()
  const gw = await startTestGateway({ settings })
  await admin(gw, '/services', { name: 'edge', url: `http://127.0.0.1:${up.port}` })
  await admin(gw, '/services/edge/routes', { name: 'all', paths: ['/'] })
  await settle(gw)
  return {
    gw,
    up,
    stop: async () => {
      await gw.stop()
      await up.close()
    },
  }
}
