/**
 * Upstreams that misbehave on purpose, on 127.0.0.1 only: raw TCP servers that close, stall, reset
 * or send garbage, a listener whose accept queue is full (SYNs dropped → connect timeouts), and a
 * TLS server with a self-signed certificate made at test time.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** One HTTP/1.x request as a raw server parsed it. */
export interface RawRequest {
  readonly connection: number
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export interface RawServer {
  readonly port: number
  /** Connections accepted so far. */
  readonly connections: () => number
  readonly requests: RawRequest[]
  close(): Promise<void>
}

/**
 * A raw TCP server. `onRequest` gets each complete request (head and Content-Length body) with the
 * socket and the request's index on its connection (0 for the first one).
 */
export async function startRawServer(
  onRequest: (socket: Socket, req: RawRequest, indexOnConnection: number) => void,
  onConnect?: (socket: Socket) => void,
): Promise<RawServer> {
  const sockets = new Set<Socket>()
  const requests: RawRequest[] = []
  let connections = 0
  const server = createServer((socket) => {
    const id = ++connections
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    onConnect?.(socket)
    let buf = Buffer.alloc(0)
    let index = 0
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      for (let guard = 0; guard < 100; guard++) {
        const end = buf.indexOf('\r\n\r\n')
        if (end === -1) return
        const head = buf.subarray(0, end).toString('latin1').split('\r\n')
        const [method = '', path = ''] = (head[0] ?? '').split(' ')
        const headers: Record<string, string> = {}
        for (const line of head.slice(1)) {
          const colon = line.indexOf(':')
          if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
        }
        const length = Number(headers['content-length'] ?? '0')
        if (buf.length < end + 4 + length) return
        const body = buf.subarray(end + 4, end + 4 + length).toString()
        buf = buf.subarray(end + 4 + length)
        const req: RawRequest = { connection: id, method, path, headers, body }
        requests.push(req)
        onRequest(socket, req, index++)
      }
    })
  })
  await listen(server)
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    requests,
    close: () => closeServer(server, sockets),
  }
}

/** Accepts and reads requests but never answers (read timeouts). */
export function startSilentServer(): Promise<RawServer> {
  return startRawServer(() => {})
}

/** Closes the connection as soon as a request arrives, without a byte of answer. */
export function startPrematureCloser(): Promise<RawServer> {
  return startRawServer((socket) => socket.end())
}

/**
 * A "load balancer" in front of a service: answers the first request on each connection with a
 * keep-alive 200, then reads the next request on that connection and closes it without
 * answering, as an LB does when its idle timeout fires just as the gateway reuses the connection.
 */
export function startKeepAliveThenClose(): Promise<RawServer> {
  return startRawServer((socket, req, index) => {
    if (index > 0) {
      socket.end()
      return
    }
    const body = JSON.stringify({ connection: req.connection, method: req.method, path: req.path })
    socket.write(
      `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\n${body}`,
    )
  })
}

/** Answers with a header block of about `bytes` bytes. */
export function startBigHeaderServer(bytes: number): Promise<RawServer> {
  return startRawServer((socket) => {
    socket.end(`HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(bytes)}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`)
  })
}

/** Sends the status line, headers and part of a Content-Length body, then closes. */
export function startMidBodyCloser(declared = 100_000, sent = 1000): Promise<RawServer> {
  return startRawServer((socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${declared}\r\n\r\n${'a'.repeat(sent)}`)
    setTimeout(() => socket.end(), 100)
  })
}

/**
 * Answers any bytes with one TLS alert record (what Java servers and older OpenSSL do when a
 * plaintext request reaches a TLS port; OpenSSL 3 and node just close).
 */
export function startTlsAlertServer(): Promise<RawServer> {
  const alert = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]) // fatal protocol_version
  return startRawServer(
    () => {},
    (socket) => socket.once('data', () => socket.end(alert)),
  )
}

export interface TlsUpstream {
  readonly port: number
  /** Plaintext requests that reached the TLS port (TLS handshake failures). */
  readonly clientErrors: () => number
  readonly requests: () => number
  close(): Promise<void>
}

let certCache: { key: Buffer; cert: Buffer } | null | undefined

/** A self-signed certificate for `localhost`/127.0.0.1 made with the openssl CLI, or null without openssl. */
export function selfSignedCert(): { key: Buffer; cert: Buffer } | null {
  if (certCache !== undefined) return certCache
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-cert-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore', timeout: 10_000 },
    )
    certCache = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
  } catch {
    certCache = null
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return certCache
}

/** An HTTPS upstream (node:https) answering 200 `{"tls":true}`. */
export async function startTlsUpstream(): Promise<TlsUpstream> {
  const pair = selfSignedCert()
  if (pair === null) throw new Error('openssl is not available to make a test certificate')
  let clientErrors = 0
  let requests = 0
  const sockets = new Set<Socket>()
  const server = createHttpsServer({ key: pair.key, cert: pair.cert }, (req, res) => {
    requests++
    req.resume()
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"tls":true}')
  })
  server.on('tlsClientError', () => clientErrors++)
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await listen(server)
  return {
    port: (server.address() as AddressInfo).port,
    clientErrors: () => clientErrors,
    requests: () => requests,
    close: () => closeServer(server, sockets),
  }
}

export interface Blackhole {
  readonly port: number
  close(): Promise<void>
}

const BLACKHOLE_PY = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(('127.0.0.1', 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`

/**
 * A listening port that never completes a TCP handshake: python3 listens with backlog 0 and never
 * accepts, and we fill its accept queue, after which the kernel drops further SYNs. Returns null
 * when python3 is missing or the queue does not fill here (the connect-timeout test then skips).
 */
export async function startBlackhole(): Promise<Blackhole | null> {
  let child: ChildProcess
  try {
    child = spawn('python3', ['-c', BLACKHOLE_PY], { stdio: ['pipe', 'pipe', 'ignore'] })
  } catch {
    return null
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.stdin?.end()
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))])
  }
  const port = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 5000)
    child.once('error', () => {
      clearTimeout(timer)
      resolve(null)
    })
    child.stdout?.once('data', (d: Buffer) => {
      clearTimeout(timer)
      const n = Number(String(d).trim())
      resolve(Number.isInteger(n) && n > 0 ? n : null)
    })
  })
  if (port === null) {
    await stop()
    return null
  }
  // Fill the accept queue until a connect stays pending: from then on SYNs are dropped.
  const fillers: Socket[] = []
  let full = false
  for (let i = 0; i < 8 && !full; i++) {
    const s = connect(port, '127.0.0.1')
    s.on('error', () => {})
    fillers.push(s)
    full = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(true), 250)
      s.once('connect', () => {
        clearTimeout(timer)
        resolve(false)
      })
      s.once('error', () => {
        clearTimeout(timer)
        resolve(false)
      })
    })
  }
  const close = async (): Promise<void> => {
    for (const s of fillers) s.destroy()
    await stop()
  }
  if (!full) {
    await close()
    return null
  }
  return { port, close }
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy()
  return new Promise((resolve) => server.close(() => resolve()))
}
