/**
 * One HTTP/1.1 request on a fresh connection, timed phase by phase (TCP connect, TLS handshake,
 * first response byte, end): what `turnpike trace --send` measures. A new socket every time (no
 * pool), so the timings are those of a cold connection, as a new keep-alive connection of the
 * proxy would see them. Only the head and the first bytes of the answer are kept.
 *
 * @module
 */
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'

export interface TimedRequest {
  readonly scheme: 'http' | 'https'
  /** The IP address to connect to. */
  readonly address: string
  readonly port: number
  /** TLS: SNI and the name the certificate is checked against. */
  readonly servername: string
  readonly verify: boolean
  readonly ca: readonly string[]
  readonly cert: string | null
  readonly key: string | null
  readonly method: string
  /** Path and query, as sent. */
  readonly path: string
  /** Flat `[name, value …]` list, Host included. */
  readonly headers: readonly string[]
  readonly body: Buffer | null
  readonly connectTimeoutMs: number
  /** Bounds the wait for the answer (write and read), from the service's timeouts. */
  readonly readTimeoutMs: number
  /** How many body bytes to keep (the rest is read and dropped until the end or the cap below). */
  readonly keepBytes: number
}

export interface TimedAnswer {
  /** Milliseconds from the start: connected, TLS done (https), first response byte, end. */
  readonly connect_ms: number | null
  readonly tls_ms: number | null
  readonly first_byte_ms: number | null
  readonly total_ms: number
  readonly status: number | null
  readonly headers: readonly [string, string][]
  /** The first `keepBytes` of the body (chunked framing removed), as UTF-8 text. */
  readonly body_preview: string
  /** Body bytes received, as on the wire (chunk framing included). */
  readonly body_bytes: number
  /** What went wrong, in one line; null on a complete answer. */
  readonly error: string | null
  /** The TLS protocol and the upstream certificate's subject (https). */
  readonly tls?: { readonly protocol: string | null; readonly authorized: boolean; readonly subject: string | null }
}

/** Longest response head read (bytes). */
const MAX_HEAD = 64 * 1024
/** Most body bytes read before the answer is cut (the rest is not waited for). */
const MAX_BODY = 1024 * 1024
/** Raw body bytes kept to make the preview from (chunk framing included). */
const KEEP_RAW = 64 * 1024

/** The data of a chunked body, as far as the bytes at hand go. */
function dechunk(raw: Buffer): Buffer {
  const out: Buffer[] = []
  let at = 0
  while (at < raw.length) {
    const eol = raw.indexOf('\r\n', at)
    if (eol === -1) break
    const size = parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0] ?? '', 16)
    if (!Number.isFinite(size) || size <= 0) break
    out.push(raw.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(out)
}

function writeRequest(s: Socket, r: TimedRequest): void {
  let head = `${r.method} ${r.path} HTTP/1.1\r\n`
  for (let i = 0; i + 1 < r.headers.length; i += 2) head += `${r.headers[i]}: ${r.headers[i + 1]}\r\n`
  s.write(head + '\r\n', 'latin1')
  if (r.body !== null && r.body.length > 0) s.write(r.body)
}

interface Head {
  status: number
  headers: [string, string][]
  length: number | null
  chunked: boolean
}

function parseHead(text: string): Head | string {
  const lines = text.split('\r\n')
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
  if (m === null) return `not an HTTP/1.x answer: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`
  const headers: [string, string][] = []
  let length: number | null = null
  let chunked = false
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim()
    const value = line.slice(colon + 1).trim()
    headers.push([name, value])
    const lower = name.toLowerCase()
    if (lower === 'content-length' && /^\d+$/.test(value)) length = Number(value)
    if (lower === 'transfer-encoding' && value.toLowerCase().includes('chunked')) chunked = true
  }
  return { status: Number(m[1]), headers, length, chunked }
}

/** Sends `r` and measures it; never throws (failures are in `error`). */
export function timedRequest(r: TimedRequest): Promise<TimedAnswer> {
  return new Promise((resolve) => {
    const start = performance.now()
    const since = (): number => Math.round((performance.now() - start) * 100) / 100
    let connectMs: number | null = null
    let tlsMs: number | null = null
    let firstByteMs: number | null = null
    let head: Head | null = null
    let headBuf = Buffer.alloc(0)
    const body: Buffer[] = []
    let bodyBytes = 0
    let kept = 0
    let tail = ''
    let settled = false
    let tlsFacts: TimedAnswer['tls'] | undefined
    const raw = netConnect({ host: r.address, port: r.port })
    let sock: Socket = raw
    const finish = (error: string | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      sock.destroy()
      raw.destroy()
      const received = Buffer.concat(body)
      const preview = (head?.chunked === true ? dechunk(received) : received).subarray(0, r.keepBytes).toString('utf8')
      resolve({
        connect_ms: connectMs,
        tls_ms: tlsMs,
        first_byte_ms: firstByteMs,
        total_ms: since(),
        status: head?.status ?? null,
        headers: head?.headers ?? [],
        body_preview: preview,
        body_bytes: bodyBytes,
        error,
        ...(tlsFacts !== undefined ? { tls: tlsFacts } : {}),
      })
    }
    let timer = setTimeout(() => finish(`connect timed out after ${r.connectTimeoutMs} ms`), r.connectTimeoutMs)
    const waitAnswer = (): void => {
      clearTimeout(timer)
      timer = setTimeout(
        () => finish(head === null ? `no answer within ${r.readTimeoutMs} ms` : `the body did not end within ${r.readTimeoutMs} ms`),
        r.readTimeoutMs,
      )
    }
    const onData = (chunk: Buffer): void => {
      firstByteMs ??= since()
      if (head === null) {
        headBuf = Buffer.concat([headBuf, chunk])
        const end = headBuf.indexOf('\r\n\r\n')
        if (end === -1) {
          if (headBuf.length > MAX_HEAD) finish(`response head larger than ${MAX_HEAD} bytes`)
          return
        }
        const parsed = parseHead(headBuf.subarray(0, end).toString('latin1'))
        if (typeof parsed === 'string') return finish(parsed)
        head = parsed
        chunk = headBuf.subarray(end + 4)
      }
      bodyBytes += chunk.length
      if (kept < KEEP_RAW) {
        const piece = chunk.subarray(0, KEEP_RAW - kept)
        body.push(piece)
        kept += piece.length
      }
      const noBody = r.method === 'HEAD' || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200)
      if (noBody || (head.length !== null && bodyBytes >= head.length)) return finish(null)
      // The last chunk (no trailers): may arrive split over two reads.
      tail = (tail + chunk.toString('latin1')).slice(-5)
      if (head.chunked && tail === '0\r\n\r\n') return finish(null)
      if (bodyBytes >= MAX_BODY) finish(null)
    }
    const onError = (err: Error): void => finish((err as NodeJS.ErrnoException).code ?? err.message)
    raw.once('error', onError)
    raw.once('connect', () => {
      connectMs = since()
      if (r.scheme === 'http') {
        waitAnswer()
        writeRequest(raw, r)
        raw.on('data', onData)
        raw.once('end', () => finish(head === null ? 'the upstream closed the connection without an answer' : null))
        return
      }
      const secure: TLSSocket = tlsConnect({
        socket: raw,
        servername: r.servername,
        rejectUnauthorized: r.verify,
        ...(r.ca.length > 0 ? { ca: [...r.ca] } : {}),
        ...(r.cert !== null && r.key !== null ? { cert: r.cert, key: r.key } : {}),
      })
      sock = secure
      secure.once('error', (err: Error) => finish(`TLS: ${(err as NodeJS.ErrnoException).code ?? err.message}`))
      secure.once('secureConnect', () => {
        tlsMs = since()
        const cert = secure.getPeerCertificate()
        tlsFacts = {
          protocol: secure.getProtocol(),
          authorized: secure.authorized,
          subject: typeof cert?.subject?.CN === 'string' ? cert.subject.CN : null,
        }
        waitAnswer()
        writeRequest(secure, r)
        secure.on('data', onData)
        secure.once('end', () => finish(head === null ? 'the upstream closed the connection without an answer' : null))
      })
    })
  })
}
