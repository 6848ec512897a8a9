/**
 * What the first bytes an upstream sends say about the protocol it speaks, and an HTTP/1.x
 * response head read from raw bytes. Used by `turnpike doctor` to tell "this port speaks TLS"
 * from "this port speaks plain HTTP" by what the port answered, not by guessing from errors.
 *
 * @module
 */

/**
 * `tls`: a TLS record (handshake 0x16 or alert 0x15, version byte 0x03); `http`: an HTTP/1.x status
 * line; `empty`: no byte; `other`: anything else (another protocol, HTTP/2 frames, garbage).
 */
export type Greeting = 'tls' | 'http' | 'empty' | 'other'

/** Classifies the first bytes a peer sent. */
export function classifyGreeting(bytes: Uint8Array): Greeting {
  if (bytes.length === 0) return 'empty'
  const first = bytes[0]
  if ((first === 0x15 || first === 0x16) && (bytes.length < 2 || bytes[1] === 0x03)) return 'tls'
  const head = Buffer.from(bytes.subarray(0, 9)).toString('latin1')
  if (/^HTTP\/1\.[01] /.test(head) || (head.length < 9 && 'HTTP/1.1 '.startsWith(head.replace(/^(HTTP\/1\.)0/, '$11')))) return 'http'
  return 'other'
}

/** nginx's answer to plain HTTP on an ssl port: a 400 whose page names the mistake. */
export function isPlainHttpOnTlsPortPage(body: string): boolean {
  return body.includes('The plain HTTP request was sent to HTTPS port')
}

export interface ResponseHead {
  readonly status: number
  readonly statusLine: string
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>
  /** Bytes of the head including the blank line. */
  readonly length: number
}

/** The largest head read (nginx's default proxy buffer is smaller; the doctor needs only a few headers). */
export const MAX_HEAD_BYTES = 64 * 1024

/**
 * The response head at the start of `buf`: null while incomplete, `invalid` when the bytes are
 * not an HTTP/1.x response head (or it is larger than {@link MAX_HEAD_BYTES}).
 */
export function parseResponseHead(buf: Buffer): ResponseHead | null | 'invalid' {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) {
    if (buf.length > MAX_HEAD_BYTES) return 'invalid'
    return classifyGreeting(buf) === 'http' || buf.length === 0 ? null : 'invalid'
  }
  if (end > MAX_HEAD_BYTES) return 'invalid'
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n')
  const statusLine = lines[0] ?? ''
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine)
  if (m === null) return 'invalid'
  const headers = new Map<string, string>()
  for (const line of lines.slice(1, 201)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    const had = headers.get(name)
    headers.set(name, had === undefined ? value : `${had}, ${value}`)
  }
  return { status: Number(m[1]), statusLine, headers: Object.fromEntries(headers), length: end + 4 }
}

/**
 * How the body after a response head ends: `none` (HEAD, 1xx, 204, 304), a byte count, `chunked`,
 * or `close` (delimited by the connection closing, so the connection cannot be reused).
 */
export function bodyFraming(method: string, head: ResponseHead): 'none' | 'chunked' | 'close' | number {
  if (method === 'HEAD' || head.status < 200 || head.status === 204 || head.status === 304) return 'none'
  const te = head.headers['transfer-encoding']
  if (te !== undefined && /(?:^|,)\s*chunked\s*$/i.test(te)) return 'chunked'
  const cl = head.headers['content-length']
  if (cl !== undefined && /^\d{1,15}$/.test(cl)) return Number(cl)
  return 'close'
}

/** Whether the upstream keeps the connection open after this response (HTTP/1.1 default, or `keep-alive` on 1.0). */
export function keepsAlive(head: ResponseHead): boolean {
  const conn = (head.headers['connection'] ?? '').toLowerCase()
  if (/(?:^|,)\s*close\s*(?:,|$)/.test(conn)) return false
  if (head.statusLine.startsWith('HTTP/1.0')) return /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(conn)
  return true
}
