/**
 * Real upstream servers on loopback for proxy tests: an echo server that answers with what it
 * received, plus helpers for misbehaving upstreams.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Echo {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

export interface TestUpstream {
  readonly server: Server
  readonly port: number
  readonly url: string
  readonly received: Echo[]
  close(): Promise<void>
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

/** An HTTP upstream; by default it echoes the request as JSON. */
export async function startUpstream(handler?: Handler, host = '127.0.0.1'): Promise<TestUpstream> {
  const received: Echo[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      const echo: Echo = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      received.push(echo)
      if (handler !== undefined) return handler(req, res, body)
      const out = JSON.stringify(echo)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
      res.end(out)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const port = (server.address() as AddressInfo).port
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
