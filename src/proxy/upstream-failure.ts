/**
 * Turns an upstream attempt's failure into what Kong would answer (status and client message),
 * the error-log line in nginx's wording, and — our addition — a hint naming the likely cause and
 * fix. Pure: no I/O (the TLS probe that confirms a protocol mismatch lives in `protocol-probe.ts`).
 */
import type { UpstreamErrorInfo } from './types.js'

export type FailureKind =
  | 'connect_refused'
  | 'connect_timeout'
  | 'connect_error'
  | 'read_timeout'
  | 'write_timeout'
  | 'premature_close'
  | 'stale_keepalive'
  | 'reset'
  | 'tls_on_http'
  | 'http_on_https'
  | 'tls_verify'
  | 'tls_error'
  | 'invalid_response'
  | 'header_overflow'
  | 'unknown'

export interface UpstreamFailure {
  readonly kind: FailureKind
  readonly status: 502 | 504
  /** The nginx-worded cause for the error log. */
  readonly log: string
  /** The likely cause and fix, for the error log's `hint` field. */
  readonly hint: string | undefined
  /** Passive health-check category (Kong counts tcp failures and timeouts apart). */
  readonly health: 'tcp_error' | 'timeout'
  /** Whether the failure happened before the upstream could have seen the request. */
  readonly beforeSend: boolean
}

export interface FailureContext {
  readonly scheme: 'http' | 'https'
  /** Configured host name (service host or target host) and the address actually used. */
  readonly hostname: string
  readonly address: string
  readonly port: number
  readonly connectTimeout: number
  readonly readTimeout: number
  /** The service's write_timeout (ms); optional for callers that predate it. */
  readonly writeTimeout?: number
  readonly keepaliveIdleTimeout: number
  readonly maxHeaderSize: number
  /** The client's method and whether the request has a body (they decide whether a retry is safe). */
  readonly method?: string
  readonly hasBody?: boolean
}

const TLS_VERIFY_CODES: Readonly<Record<string, [number, string]>> = {
  UNABLE_TO_GET_ISSUER_CERT: [2, 'unable to get issuer certificate'],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: [20, 'unable to get local issuer certificate'],
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: [21, 'unable to verify the first certificate'],
  CERT_NOT_YET_VALID: [9, 'certificate is not yet valid'],
  CERT_HAS_EXPIRED: [10, 'certificate has expired'],
  DEPTH_ZERO_SELF_SIGNED_CERT: [18, 'self-signed certificate'],
  SELF_SIGNED_CERT_IN_CHAIN: [19, 'self-signed certificate in certificate chain'],
  ERR_TLS_CERT_ALTNAME_INVALID: [62, 'hostname mismatch'],
  CERT_REVOKED: [23, 'certificate revoked'],
}

function where(info: UpstreamErrorInfo): string {
  if (!info.sent) return 'while connecting to upstream'
  return info.headersReceived ? 'while reading upstream' : 'while reading response header from upstream'
}

/** A TLS record starts with a content type (0x14–0x17) and version major 0x03. */
export function looksLikeTls(data: string | undefined): boolean {
  if (data === undefined || data.length < 2) return false
  const type = data.charCodeAt(0)
  return type >= 0x14 && type <= 0x17 && data.charCodeAt(1) === 0x03
}

/**
 * OpenSSL's error text as node gives it (`80EC…:error:0A00010B:SSL routines:ssl3_get_record:wrong
 * version number:../deps/openssl/…/ssl3_record.c:350:\n`) in the shape nginx logs it
 * (`error:0A00010B:SSL routines::wrong version number`); other messages are kept on one line.
 */
export function opensslReason(message: string): string {
  const m = /error:([0-9A-F]{8}):([^:]*):[^:]*:([^:\n]+)/i.exec(message)
  if (m !== null) return `error:${m[1]}:${m[2]}::${m[3]}`
  return oneLine(message)
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

/** Classifies one failed attempt. */
export function classifyUpstreamFailure(error: Error, info: UpstreamErrorInfo, c: FailureContext): UpstreamFailure {
  const code = (error as { code?: string }).code ?? ''
  const target = `${c.address}:${c.port}`
  const named = c.hostname === c.address ? target : `${c.hostname} (${target})`
  const phase = where(info)
  const failure = (kind: FailureKind, status: 502 | 504, log: string, hint: string | undefined, health: 'tcp_error' | 'timeout' = 'tcp_error'): UpstreamFailure => ({
    kind,
    status,
    log,
    hint,
    health,
    beforeSend: !info.sent,
  })

  switch (code) {
    case 'ECONNREFUSED':
      return failure('connect_refused', 502, `connect() failed (111: Connection refused) ${phase}`,
        `nothing accepts connections on ${named}: check the service's host and port, and that the upstream (or the load balancer in front of it) is running and listening there`)
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return failure('connect_timeout', 504, `upstream timed out (110: Connection timed out) while connecting to upstream`,
        `no answer to the TCP connect to ${named} within connect_timeout=${c.connectTimeout}ms: a firewall or security group may be dropping packets, or the host is down; raise the service's connect_timeout only if the network is known to be slow`, 'timeout')
    case 'EHOSTUNREACH':
      return failure('connect_error', 502, `connect() to ${target} failed (113: No route to host) ${phase}`,
        `no network route from the gateway to ${named}: check routing and security groups`)
    case 'ENETUNREACH':
      return failure('connect_error', 502, `connect() to ${target} failed (101: Network is unreachable) ${phase}`,
        `the gateway host has no route to ${named}'s network`)
    case 'UND_ERR_HEADERS_TIMEOUT':
      return failure('read_timeout', 504, `upstream timed out (110: Connection timed out) while reading response header from upstream`,
        `${named} accepted the request but sent no response header within read_timeout=${c.readTimeout}ms: the service is slow or stuck; if that is expected, raise the service's read_timeout`, 'timeout')
    case 'TP_WRITE_TIMEOUT':
      return failure('write_timeout', 504, `upstream timed out (110: Connection timed out) while sending request to upstream`,
        `${named} stopped reading the request body for more than write_timeout=${c.writeTimeout ?? '?'}ms (between two successive writes): the upstream is stuck or too slow to take uploads this size; raise the service's write_timeout if that is expected`, 'timeout')
    case 'UND_ERR_BODY_TIMEOUT':
      return failure('read_timeout', 504, `upstream timed out (110: Connection timed out) while reading upstream`,
        `${named} stopped sending the response body for more than read_timeout=${c.readTimeout}ms`, 'timeout')
    case 'UND_ERR_HEADERS_OVERFLOW':
      return failure('header_overflow', 502, `upstream sent too big header while reading response header from upstream`,
        `the response headers from ${named} exceed ${c.maxHeaderSize} bytes (large cookies or debug headers?): make them smaller`)
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return failure('invalid_response', 502, `upstream sent more data than specified in "Content-Length" header while reading upstream`,
        `the response from ${named} does not match its Content-Length header: fix the upstream's framing`)
    case 'EPIPE':
      return failure('reset', 502, `send() failed (32: Broken pipe) while sending request to upstream`,
        `${named} closed the connection while the gateway was still sending the request (it may reject large bodies, or a load balancer cut the connection)`)
    case 'ECONNRESET':
      if (!info.sent && c.scheme === 'https' && /secure TLS connection/i.test(error.message)) {
        // node: "Client network socket disconnected before secure TLS connection was established"
        return failure('tls_error', 502, `peer closed connection in SSL handshake while SSL handshaking to upstream`,
          `${named} closed the connection during the TLS handshake: if it serves plain HTTP, set the service's protocol to http (or url=http://…); otherwise it rejected the handshake (TLS version, cipher, or SNI "${c.hostname}")`)
      }
      if (info.sent && !info.headersReceived && info.reused === true) {
        return failure('stale_keepalive', 502, `recv() failed (104: Connection reset by peer) ${phase}`, staleHint(named, c))
      }
      return failure('reset', 502, info.sent ? `recv() failed (104: Connection reset by peer) ${phase}` : `connect() failed (104: Connection reset by peer) ${phase}`,
        info.sent ? `${named} reset the connection: the upstream crashed or a load balancer/firewall cut it` : `${named} reset the connection during connect: a load balancer without healthy backends, or a firewall rejecting it`)
    case 'UND_ERR_SOCKET':
      if (info.headersReceived) {
        return failure('premature_close', 502, `upstream prematurely closed connection while reading upstream`, `${named} closed the connection before the end of the response body`)
      }
      if (info.reused === true) {
        return failure('stale_keepalive', 502, `upstream prematurely closed connection ${phase}`, staleHint(named, c))
      }
      return failure('premature_close', 502, `upstream prematurely closed connection ${phase}`,
        c.scheme === 'http'
          ? `${named} closed the connection without answering: the upstream crashed on this request, or it expects TLS (if ${target} serves HTTPS, set the service's protocol to https)`
          : `${named} closed the connection without answering: the upstream crashed on this request or rejected it`)
    default:
      break
  }
  // undici's HTTPParserError carries no code in undici 7 and 8 (`constants.ERROR[ret]` is undefined): match its name too.
  if (code.startsWith('HPE_') || error.name === 'HTTPParserError') {
    const data = (error as { data?: string }).data
    if (looksLikeTls(data)) {
      return failure('tls_on_http', 502, `upstream sent no valid HTTP/1.0 header ${phase}`,
        `${named} answered with a TLS record: it serves HTTPS but the service's protocol is http: set protocol=https (or url=https://…)`)
    }
    return failure('invalid_response', 502, `upstream sent invalid header ${phase}`,
      `${named} did not answer in HTTP/1.x (${oneLine(error.message)}${data === undefined ? '' : `; it sent ${JSON.stringify(data.slice(0, 24))}`}): is the port right, or is the upstream HTTP/2-only or another protocol?`)
  }
  const message = opensslReason(error.message)
  if (/wrong version number|packet length too long|http request|unknown protocol/i.test(message) || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return failure('http_on_https', 502, `SSL_do_handshake() failed (SSL: ${message}) while SSL handshaking to upstream`,
      `${named} answered the TLS handshake in plain text: it serves HTTP, not HTTPS: set the service's protocol to http (or url=http://…)`)
  }
  const verify = TLS_VERIFY_CODES[code]
  if (verify !== undefined) {
    return failure('tls_verify', 502, `upstream SSL certificate verify error: (${verify[0]}:${verify[1]}) while SSL handshaking to upstream`,
      `the certificate of ${named} did not verify (${verify[1]}): fix it, trust its CA, or set tls_verify=false on the service`)
  }
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || code.startsWith('ERR_TLS')) {
    return failure('tls_error', 502, `SSL_do_handshake() failed (SSL: ${message}) while SSL handshaking to upstream`, `the TLS handshake with ${named} failed: check the upstream's TLS setup`)
  }
  return failure('unknown', 502, `${message}${code === '' ? '' : ` (${code})`} ${phase}`, undefined)
}

function staleHint(named: string, c: FailureContext): string {
  const base = `${named} (or a load balancer in front of it) closed an idle keep-alive connection just as the gateway reused it: set upstream_keepalive_idle_timeout (now ${c.keepaliveIdleTimeout}s) below that load balancer's idle timeout`
  if (c.method === undefined) return `${base}; idempotent requests without a body are retried on a new connection`
  if (!isIdempotent(c.method)) return `${base}; this ${c.method} was not retried because the upstream may have received it (${c.method} is not idempotent)`
  if (c.hasBody === true) return `${base}; this ${c.method} was not retried because its body was already streamed to the upstream`
  return `${base}; the ${c.method} is retried on a new connection`
}

/** Methods nginx will pass to the next attempt after the request was sent. */
export function isIdempotent(method: string): boolean {
  return method !== 'POST' && method !== 'PATCH' && method !== 'LOCK'
}
