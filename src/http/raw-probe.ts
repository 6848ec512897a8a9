/**
 * Socket-level probes for `turnpike doctor`: a TCP connect, a TLS handshake that reports what it
 * saw (chain, protocol, verification) instead of failing on it, one HTTP/1.1 exchange written and
 * read by hand (so the first bytes the port answers can be classified), and how long an idle
 * connection then survives. Every step has its own timeout; every socket is destroyed by its
 * caller (or here on failure).
 *
 * @module
 */
import { connect as netConnect, isIP, type Socket } from 'node:net'
import { checkServerIdentity, connect as tlsConnect, type DetailedPeerCertificate, type SecureVersion, type TLSSocket } from 'node:tls'
import { bodyFraming, keepsAlive, MAX_HEAD_BYTES, parseResponseHead, type ResponseHead } from '../codec/response-greeting.js'

/** A failure of a probe step: the socket error code (`ECONNREFUSED` …), `TIMEOUT` or `CLOSED`, with node's message. */
export interface ProbeFailure {
  readonly ok: false
  readonly code: string
  readonly message: string
  readonly ms: number
}

const elapsed = (t0: number): number => Math.round((performance.now() - t0) * 10) / 10

/** Opens a TCP connection to `ip:port` within `timeoutMs`. */
export function openTcp(ip: string, port: number, timeoutMs: number): Promise<{ ok: true; socket: Socket; ms: number } | ProbeFailure> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    const socket = netConnect({ host: ip, port, noDelay: true })
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ ok: false, code: 'TIMEOUT', message: `no answer within ${timeoutMs} ms`, ms: elapsed(t0) })
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeAllListeners('error')
      socket.on('error', () => {})
      resolve({ ok: true, socket, ms: elapsed(t0) })
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ ok: false, code: err.code ?? 'ERROR', message: err.message, ms: elapsed(t0) })
    })
  })
}

/** One certificate of the chain the upstream presented. */
export interface CertificateFacts {
  readonly subject: string
  readonly issuer: string
  readonly valid_from: string
  readonly valid_to: string
  /** Subject alternative names as node prints them (`DNS:a.example, IP Address:127.0.0.1`). */
  readonly subject_alt_names: string | null
  readonly fingerprint256: string
}

export interface TlsFacts {
  readonly ok: true
  readonly socket: TLSSocket
  readonly ms: number
  readonly protocol: string | null
  readonly cipher: string | null
  readonly alpn: string | null
  /** Leaf first; at most 6. */
  readonly chain: readonly CertificateFacts[]
  /** The leaf's expiry as a timestamp (ms), or null when no certificate was presented. */
  readonly notAfter: number | null
  readonly notBefore: number | null
  /** OpenSSL's verdict with the trust given (`DEPTH_ZERO_SELF_SIGNED_CERT` …), null when the chain verified. */
  readonly verifyError: string | null
  /** Why the certificate does not hold `servername`, null when it does. */
  readonly hostnameError: string | null
}

export interface TlsProbeOptions {
  readonly servername: string
  readonly ca?: readonly string[]
  readonly cert?: string
  readonly key?: string
  readonly minVersion?: SecureVersion
  readonly maxVersion?: SecureVersion
  readonly alpn?: readonly string[]
}

function dn(o: Record<string, unknown> | undefined): string {
  if (o === undefined || o === null) return ''
  return Object.entries(o)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ')
}

function chainOf(leaf: DetailedPeerCertificate): CertificateFacts[] {
  const out: CertificateFacts[] = []
  let c: DetailedPeerCertificate | undefined = leaf
  const seen = new Set<string>()
  while (c !== undefined && c !== null && Object.keys(c).length > 0 && out.length < 6 && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256)
    out.push({
      subject: dn(c.subject as unknown as Record<string, unknown>),
      issuer: dn(c.issuer as unknown as Record<string, unknown>),
      valid_from: c.valid_from,
      valid_to: c.valid_to,
      subject_alt_names: c.subjectaltname ?? null,
      fingerprint256: c.fingerprint256,
    })
    c = c.issuerCertificate
  }
  return out
}

/**
 * A TLS handshake over `socket` that does not reject: the chain, protocol and cipher are reported
 * along with what verification with `ca` (node's own CAs when absent) and the hostname check of
 * `servername` would say. On failure the socket is destroyed.
 */
export function startTls(socket: Socket, opts: TlsProbeOptions, timeoutMs: number): Promise<TlsFacts | ProbeFailure> {
  const t0 = performance.now()
  const sni = isIP(opts.servername) === 0 && opts.servername !== '' ? opts.servername : undefined
  return new Promise((resolve) => {
    const tls = tlsConnect({
      socket,
      ...(sni !== undefined ? { servername: sni } : {}),
      rejectUnauthorized: false,
      ...(opts.ca !== undefined && opts.ca.length > 0 ? { ca: [...opts.ca] } : {}),
      ...(opts.cert !== undefined && opts.key !== undefined ? { cert: opts.cert, key: opts.key } : {}),
      ...(opts.minVersion !== undefined ? { minVersion: opts.minVersion } : {}),
      ...(opts.maxVersion !== undefined ? { maxVersion: opts.maxVersion } : {}),
      ...(opts.alpn !== undefined ? { ALPNProtocols: [...opts.alpn] } : {}),
    })
    let settled = false
    const fail = (code: string, message: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      tls.destroy()
      socket.destroy()
      resolve({ ok: false, code, message, ms: elapsed(t0) })
    }
    const timer = setTimeout(() => fail('TIMEOUT', `no TLS handshake within ${timeoutMs} ms`), timeoutMs)
    tls.once('secureConnect', () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      tls.removeAllListeners('error')
      tls.on('error', () => {})
      const leaf = tls.getPeerCertificate(true)
      const hasLeaf = Object.keys(leaf).length > 0
      const identity = hasLeaf ? checkServerIdentity(opts.servername, leaf) : new Error('the upstream presented no certificate')
      const cipher = tls.getCipher()
      const verifyError = tls.authorizationError
      resolve({
        ok: true,
        socket: tls,
        ms: elapsed(t0),
        protocol: tls.getProtocol(),
        cipher: cipher?.standardName ?? cipher?.name ?? null,
        alpn: typeof tls.alpnProtocol === 'string' ? tls.alpnProtocol : null,
        chain: hasLeaf ? chainOf(leaf) : [],
        notAfter: hasLeaf ? Date.parse(leaf.valid_to) : null,
        notBefore: hasLeaf ? Date.parse(leaf.valid_from) : null,
        verifyError: verifyError === null || verifyError === undefined ? null : String(verifyError),
        hostnameError: identity === undefined ? null : identity.message,
      })
    })
    // OpenSSL's messages run over several lines with source paths: the first line says it.
    tls.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'ERROR', (err.message.split('\n')[0] ?? '').slice(0, 300)))
    tls.once('close', () => fail('CLOSED', 'the upstream closed the connection during the TLS handshake'))
  })
}

export interface ExchangeResult {
  readonly ok: true
  readonly head: ResponseHead
  /** Time to the first byte and to the end of the head, from the request written. */
  readonly firstByteMs: number
  readonly ms: number
  /** The response ended and the upstream keeps the connection open: it can be reused. */
  readonly reusable: boolean
  /** Why not, when not reusable: what the keep-alive check reports instead of a measurement. */
  readonly notReusable: NotReusable | null
  /** The first bytes of the answer (hex, at most 16), for the report. */
  readonly firstBytes: string
  /** The start of the body read (latin1, at most 512 bytes): error pages name their cause. */
  readonly bodyStart: string
}

export interface ExchangeFailure extends ProbeFailure {
  /** What the port answered before failing (for protocol detection). */
  readonly received: Buffer
}

/**
 * Why a probed connection cannot be reused: `close` (the upstream says `Connection: close`),
 * `unframed` (a body ended by closing the connection), `large` (a body over the probe's read
 * limit), `slow` (the body did not end within the probe's time), `ended` (the upstream closed or
 * reset the connection after its head).
 */
export type NotReusable = 'close' | 'unframed' | 'large' | 'slow' | 'ended'

/** The largest body read to find the end of a response (the rest is not waited for). */
const MAX_BODY_BYTES = 1024 * 1024

/**
 * Writes `request` (an HTTP/1.1 request head, no body) and reads the response head, then the body
 * when its end can be told (Content-Length, chunked) within `timeoutMs`. A response whose head is
 * not HTTP/1.x fails with code `INVALID` and the bytes received.
 */
export function exchange(socket: Socket, method: string, request: string, timeoutMs: number): Promise<ExchangeResult | ExchangeFailure> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0)
    let firstByteMs = -1
    let head: ResponseHead | null = null
    let headMs = 0
    let framing: ReturnType<typeof bodyFraming> = 'none'
    let settled = false
    const finish = (r: ExchangeResult | ExchangeFailure): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.removeListener('data', onData)
      socket.removeListener('end', onEnd)
      socket.removeListener('close', onEnd)
      socket.removeListener('error', onError)
      if (!r.ok) socket.destroy()
      resolve(r)
    }
    const fail = (code: string, message: string): void =>
      finish({ ok: false, code, message, ms: elapsed(t0), received: buf.subarray(0, MAX_HEAD_BYTES) })
    const done = (why: NotReusable | null): void => {
      const h = head as ResponseHead
      const notReusable = why ?? (keepsAlive(h) ? null : 'close')
      finish({
        ok: true,
        head: h,
        firstByteMs,
        ms: headMs,
        reusable: notReusable === null,
        notReusable,
        firstBytes: buf.subarray(0, 16).toString('hex'),
        bodyStart: buf.subarray(h.length, h.length + 512).toString('latin1'),
      })
    }
    const timer = setTimeout(() => {
      if (head !== null) done('slow')
      else fail('TIMEOUT', `no response header within ${timeoutMs} ms`)
    }, timeoutMs)
    const bodyEnded = (): boolean | null => {
      const body = buf.length - (head as ResponseHead).length
      if (framing === 'none') return true
      if (framing === 'close') return null
      if (body > MAX_BODY_BYTES) return null
      if (typeof framing === 'number') return body >= framing
      // chunked: the last chunk and an empty trailer
      const tail = buf.subarray(Math.max((head as ResponseHead).length, buf.length - 7)).toString('latin1')
      return tail.endsWith('0\r\n\r\n')
    }
    const onData = (chunk: Buffer): void => {
      if (firstByteMs < 0) firstByteMs = elapsed(t0)
      if (buf.length < MAX_HEAD_BYTES + MAX_BODY_BYTES + 16) buf = Buffer.concat([buf, chunk])
      if (head === null) {
        const parsed = parseResponseHead(buf)
        if (parsed === null) return
        if (parsed === 'invalid') return fail('INVALID', 'the answer is not an HTTP/1.x response')
        head = parsed
        headMs = elapsed(t0)
        framing = bodyFraming(method, head)
      }
      const ended = bodyEnded()
      if (ended === true) done(null)
      else if (ended === null && framing !== 'close') done('large')
    }
    const onEnd = (): void => {
      if (head !== null) done(framing === 'close' ? 'unframed' : 'ended')
      else if (buf.length > 0) fail('INVALID', 'the upstream closed the connection after an incomplete answer')
      else fail('CLOSED', 'the upstream closed the connection without answering')
    }
    const onError = (err: NodeJS.ErrnoException): void => {
      if (head !== null) done('ended')
      else fail(err.code ?? 'ERROR', err.message)
    }
    socket.on('data', onData)
    socket.once('end', onEnd)
    socket.once('close', onEnd)
    socket.once('error', onError)
    socket.write(request)
  })
}

/**
 * Leaves `socket` idle and waits for the upstream to close it, up to `maxMs`: the idle time it
 * survived (ms) and whether the upstream closed it (false: still open when the wait ended). The
 * socket is destroyed in both cases.
 */
export function idleSurvival(socket: Socket, maxMs: number): Promise<{ closed: boolean; ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    let settled = false
    const end = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ closed, ms: elapsed(t0) })
    }
    const timer = setTimeout(() => end(false), maxMs)
    if (socket.destroyed || socket.readableEnded) return end(true)
    socket.on('data', () => {})
    socket.once('end', () => end(true))
    socket.once('close', () => end(true))
    socket.once('error', () => end(true))
    socket.resume()
  })
}
