/**
 * Turns an upstream attempt's failure into what Kong would answer (an error of the registry,
 * src/errors/registry.ts: code, status and client message), the error-log line in nginx's wording,
 * and — our addition — a hint naming the likely cause and fix. Pure: no I/O (the TLS probe that confirms a protocol mismatch lives in `protocol-probe.ts`).
 */
import * as E from '../errors/registry.js'
import type { UpstreamErrorInfo } from './types.js'

/** A registry error an upstream attempt ends with (502 or 504). */
export type UpstreamError = E.GatewayError<E.UpstreamHintInput> & { readonly status: 502 | 504 }

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
  | 'tls_client_certificate'
  | 'tls_error'
  | 'invalid_response'
  | 'header_overflow'
  | 'unknown'

export interface UpstreamFailure {
  readonly kind: FailureKind
  /** The registry entry (code, client message, hint builder). */
  readonly error: UpstreamError
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
  CERT_CHAIN_TOO_LONG: [22, 'certificate chain too long'],
}

/** The registry entry (and so the hint) of each certificate verification failure. */
function verifyError(code: string): UpstreamError {
  switch (code) {
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return E.UPSTREAM_TLS_HOSTNAME_MISMATCH
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return E.UPSTREAM_TLS_EXPIRED
    case 'CERT_CHAIN_TOO_LONG':
      return E.UPSTREAM_TLS_CHAIN_TOO_LONG
    case 'CERT_REVOKED':
      return E.UPSTREAM_TLS_VERIFY
    default:
      return E.UPSTREAM_TLS_UNKNOWN_CA
  }
}

/** TLS alerts the upstream sends about the gateway's client certificate (missing, unknown, bad). */
const CLIENT_CERT_ALERT =
  /^ERR_SSL_(?:TLSV13|TLSV1|SSLV3)_ALERT_(?:CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)$/

/** What a hostname mismatch checked and what the certificate holds (node's ERR_TLS_CERT_ALTNAME_INVALID). */
function mismatchDetail(error: Error): string {
  const e = error as { host?: unknown; cert?: { subjectaltname?: unknown; subject?: { CN?: unknown } } }
  const host = typeof e.host === 'string' ? e.host : '?'
  const alt = e.cert?.subjectaltname
  const cn = e.cert?.subject?.CN
  const names = typeof alt === 'string' && alt !== '' ? alt : typeof cn === 'string' ? `CN=${cn}` : 'no names'
  return `checked ${host}; the certificate holds ${names.slice(0, 300)}`
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
  const failure = (
    kind: FailureKind,
    e: UpstreamError,
    log: string,
    detail = '',
    health: 'tcp_error' | 'timeout' = 'tcp_error',
  ): UpstreamFailure => ({
    kind,
    error: e,
    status: e.status,
    log,
    hint: e.hint?.({
      scheme: c.scheme,
      named,
      target,
      hostname: c.hostname,
      port: c.port,
      connectTimeout: c.connectTimeout,
      readTimeout: c.readTimeout,
      writeTimeout: c.writeTimeout,
      keepaliveIdleTimeout: c.keepaliveIdleTimeout,
      maxHeaderSize: c.maxHeaderSize,
      method: c.method,
      idempotent: c.method === undefined ? undefined : isIdempotent(c.method),
      hasBody: c.hasBody,
      detail,
    }),
    health,
    beforeSend: !info.sent,
  })

  switch (code) {
    case 'ECONNREFUSED':
      return failure('connect_refused', E.UPSTREAM_CONNECT_REFUSED, `connect() failed (111: Connection refused) ${phase}`)
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return failure(
        'connect_timeout',
        E.UPSTREAM_CONNECT_TIMEOUT,
        `upstream timed out (110: Connection timed out) while connecting to upstream`,
        '',
        'timeout',
      )
    case 'EHOSTUNREACH':
      return failure('connect_error', E.UPSTREAM_HOST_UNREACHABLE, `connect() to ${target} failed (113: No route to host) ${phase}`)
    case 'ENETUNREACH':
      return failure(
        'connect_error',
        E.UPSTREAM_NETWORK_UNREACHABLE,
        `connect() to ${target} failed (101: Network is unreachable) ${phase}`,
      )
    case 'UND_ERR_HEADERS_TIMEOUT':
      return failure(
        'read_timeout',
        E.UPSTREAM_READ_TIMEOUT,
        `upstream timed out (110: Connection timed out) while reading response header from upstream`,
        '',
        'timeout',
      )
    case 'TP_WRITE_TIMEOUT':
      return failure(
        'write_timeout',
        E.UPSTREAM_WRITE_TIMEOUT,
        `upstream timed out (110: Connection timed out) while sending request to upstream`,
        '',
        'timeout',
      )
    case 'UND_ERR_BODY_TIMEOUT':
      return failure(
        'read_timeout',
        E.UPSTREAM_BODY_TIMEOUT,
        `upstream timed out (110: Connection timed out) while reading upstream`,
        '',
        'timeout',
      )
    case 'UND_ERR_HEADERS_OVERFLOW':
      return failure(
        'header_overflow',
        E.UPSTREAM_HEADER_TOO_BIG,
        `upstream sent too big header while reading response header from upstream`,
      )
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return failure(
        'invalid_response',
        E.UPSTREAM_LENGTH_MISMATCH,
        `upstream sent more data than specified in "Content-Length" header while reading upstream`,
      )
    case 'EPIPE':
      return failure('reset', E.UPSTREAM_SEND_FAILED, `send() failed (32: Broken pipe) while sending request to upstream`)
    case 'ECONNRESET':
      if (!info.sent && c.scheme === 'https' && /secure TLS connection/i.test(error.message)) {
        // node: "Client network socket disconnected before secure TLS connection was established"
        return failure(
          'tls_error',
          E.UPSTREAM_TLS_HANDSHAKE_CLOSED,
          `peer closed connection in SSL handshake while SSL handshaking to upstream`,
        )
      }
      if (info.sent && !info.headersReceived && info.reused === true) {
        return failure('stale_keepalive', E.UPSTREAM_STALE_KEEPALIVE, `recv() failed (104: Connection reset by peer) ${phase}`)
      }
      return info.sent
        ? failure('reset', E.UPSTREAM_RESET, `recv() failed (104: Connection reset by peer) ${phase}`)
        : failure('reset', E.UPSTREAM_CONNECT_RESET, `connect() failed (104: Connection reset by peer) ${phase}`)
    case 'UND_ERR_SOCKET':
      if (info.headersReceived) {
        return failure('premature_close', E.UPSTREAM_CLOSED_MID_BODY, `upstream prematurely closed connection while reading upstream`)
      }
      if (info.reused === true) {
        return failure('stale_keepalive', E.UPSTREAM_STALE_KEEPALIVE, `upstream prematurely closed connection ${phase}`)
      }
      return failure('premature_close', E.UPSTREAM_PREMATURE_CLOSE, `upstream prematurely closed connection ${phase}`)
    // node:http2's session failed on what the upstream sent (gRPC services: ../http/h2-upstream.ts).
    case 'ERR_HTTP2_ERROR':
    case 'ERR_HTTP2_SESSION_ERROR':
      return failure('invalid_response', E.UPSTREAM_NOT_HTTP2, `${oneLine(error.message)} (${code}) ${phase}`, oneLine(error.message))
    default:
      break
  }
  // undici's HTTPParserError carries no code in undici 7 and 8 (`constants.ERROR[ret]` is undefined): match its name too.
  if (code.startsWith('HPE_') || error.name === 'HTTPParserError') {
    const data = (error as { data?: string }).data
    if (looksLikeTls(data)) {
      return failure('tls_on_http', E.UPSTREAM_TLS_ON_HTTP, `upstream sent no valid HTTP/1.0 header ${phase}`)
    }
    return failure(
      'invalid_response',
      E.UPSTREAM_INVALID_RESPONSE,
      `upstream sent invalid header ${phase}`,
      `${oneLine(error.message)}${data === undefined ? '' : `; it sent ${JSON.stringify(data.slice(0, 24))}`}`,
    )
  }
  const message = opensslReason(error.message)
  if (
    /wrong version number|packet length too long|http request|unknown protocol/i.test(message) ||
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG'
  ) {
    return failure(
      'http_on_https',
      E.UPSTREAM_HTTP_ON_HTTPS,
      `SSL_do_handshake() failed (SSL: ${message}) while SSL handshaking to upstream`,
    )
  }
  const verify = TLS_VERIFY_CODES[code]
  if (verify !== undefined) {
    return failure(
      'tls_verify',
      verifyError(code),
      `upstream SSL certificate verify error: (${verify[0]}:${verify[1]}) while SSL handshaking to upstream`,
      code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? mismatchDetail(error) : verify[1],
    )
  }
  if (CLIENT_CERT_ALERT.test(code)) {
    return failure(
      'tls_client_certificate',
      E.UPSTREAM_TLS_CLIENT_CERTIFICATE,
      `${info.sent ? 'SSL_read()' : 'SSL_do_handshake()'} failed (SSL: ${message}) ${info.sent ? phase : 'while SSL handshaking to upstream'}`,
      message,
    )
  }
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || code.startsWith('ERR_TLS')) {
    return failure('tls_error', E.UPSTREAM_TLS_ERROR, `SSL_do_handshake() failed (SSL: ${message}) while SSL handshaking to upstream`)
  }
  return failure('unknown', E.UPSTREAM_ERROR, `${message}${code === '' ? '' : ` (${code})`} ${phase}`)
}

/** Methods nginx will pass to the next attempt after the request was sent. */
export function isIdempotent(method: string): boolean {
  return method !== 'POST' && method !== 'PATCH' && method !== 'LOCK'
}
