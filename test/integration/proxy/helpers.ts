/**
 * Shared pieces of the proxy integration tests: Admin API set-up that waits until the workers
 * run the new configuration, and a raw HTTP/1.x client for requests undici refuses to send
 * (hop-by-hop headers, HTTP/1.0, absent Host, exact byte control).
 */
import { connect } from 'node:net'
import { call, eventually, type JsonResponse, type TestGateway } from '../../helpers/gateway.js'

let sentinel = 0

/** POSTs to the Admin API and fails with the answer when it is not 201. */
export async function admin(gw: TestGateway, path: string, body: unknown, method = 'POST'): Promise<JsonResponse> {
  const res = await call(method, `${gw.adminUrl}${path}`, body)
  if (res.status !== 201 && res.status !== 200) throw new Error(`${method} ${path} → ${res.status} ${res.text}`)
  return res
}

/**
 * Waits until the proxy runs a configuration that includes every change made so far: adds a
 * throwaway route on a unique path and polls it until it stops answering 404 (configuration
 * snapshots are built whole, so earlier changes are in as well).
 */
export async function settle(gw: TestGateway): Promise<void> {
  const path = `/__settle-${++sentinel}-${process.pid}`
  await admin(gw, '/routes', { name: path.slice(1), paths: [path] })
  await eventually(async () => (await call('GET', `${gw.proxyUrl}${path}`)).status === 503, 10_000, `route ${path} to reach the proxy`)
}

export interface RawResponse {
  readonly statusLine: string
  readonly status: number
  /** Lower-case names; repeated headers joined with `, ` (set-cookie kept apart is not needed here). */
  readonly headers: Record<string, string>
  /** Header names in the order and case received. */
  readonly names: string[]
  readonly body: Buffer
}

function parseHead(head: string): { statusLine: string; status: number; headers: Record<string, string>; names: string[] } {
  const lines = head.split('\r\n')
  const statusLine = lines[0] ?? ''
  const status = Number(statusLine.split(' ')[1])
  const headers: Record<string, string> = {}
  const names: string[] = []
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon)
    const value = line.slice(colon + 1).trim()
    names.push(name)
    const lower = name.toLowerCase()
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}, ${value}`
  }
  return { statusLine, status, headers, names }
}

/** Decodes a complete chunked body, or returns null while it is incomplete. */
function dechunk(data: Buffer): Buffer | null {
  const parts: Buffer[] = []
  let at = 0
  for (let guard = 0; guard < 1_000_000; guard++) {
    const eol = data.indexOf('\r\n', at)
    if (eol === -1) return null
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16)
    if (Number.isNaN(size)) throw new Error('bad chunk size')
    if (size === 0) return data.length >= eol + 4 ? Buffer.concat(parts) : null // no trailers expected
    if (data.length < eol + 2 + size + 2) return null
    parts.push(data.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  throw new Error('too many chunks')
}

/**
 * Sends raw bytes to 127.0.0.1:port and reads one response: framed by Content-Length, chunked
 * encoding, or the connection closing. HEAD-style bodiless answers need `noBody`.
 */
export function rawRequest(
  port: number,
  request: string | Buffer,
  opts: { noBody?: boolean; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = Buffer.alloc(0)
    let done = false
    const timer = setTimeout(
      () => finish(new Error(`no complete response in ${opts.timeoutMs ?? 5000} ms; got: ${data.toString('latin1').slice(0, 500)}`)),
      opts.timeoutMs ?? 5000,
    )
    const finish = (err: Error | null, res?: RawResponse): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      if (err !== null) reject(err)
      else resolve(res as RawResponse)
    }
    const tryParse = (closed: boolean): void => {
      const end = data.indexOf('\r\n\r\n')
      if (end === -1) {
        if (closed) finish(new Error(`connection closed before a full head: ${data.toString('latin1')}`))
        return
      }
      const head = parseHead(data.subarray(0, end).toString('latin1'))
      const rest = data.subarray(end + 4)
      let body: Buffer | null = null
      if (opts.noBody === true || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200))
        body = Buffer.alloc(0)
      else if (head.headers['transfer-encoding']?.toLowerCase().includes('chunked') === true) body = dechunk(rest)
      else if (head.headers['content-length'] !== undefined) {
        const n = Number(head.headers['content-length'])
        body = rest.length >= n ? rest.subarray(0, n) : null
      } else if (closed) body = rest
      if (body !== null) finish(null, { ...head, body })
      else if (closed) finish(new Error(`connection closed mid-body (${rest.length} bytes)`))
    }
    socket.on('data', (c: Buffer) => {
      data = Buffer.concat([data, c])
      tryParse(false)
    })
    socket.on('end', () => tryParse(true))
    socket.on('error', (e) => finish(e))
    socket.write(request)
  })
}

/** Builds a raw request text. */
export function rawText(
  method: string,
  path: string,
  headers: ReadonlyArray<readonly [string, string]>,
  version = '1.1',
  body = '',
): string {
  let text = `${method} ${path} HTTP/${version}\r\n`
  for (const [k, v] of headers) text += `${k}: ${v}\r\n`
  return `${text}\r\n${body}`
}

export const REQUEST_ID = /^[0-9a-f]{32}$/
