/**
 * classifyUpstreamFailure on errors crafted as undici 8 and node raise them (shapes checked against
 * real sockets: see test/integration/proxy/failures.test.ts).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  classifyUpstreamFailure,
  type FailureContext,
  isIdempotent,
  looksLikeTls,
  opensslReason,
} from '../../../src/proxy/upstream-failure.js'
import type { UpstreamErrorInfo } from '../../../src/proxy/types.js'

const ctx: FailureContext = {
  scheme: 'http',
  hostname: 'api.internal',
  address: '10.0.0.7',
  port: 8080,
  connectTimeout: 300,
  readTimeout: 400,
  keepaliveIdleTimeout: 60,
  maxHeaderSize: 163840,
  method: 'GET',
  hasBody: false,
}
const https: FailureContext = { ...ctx, scheme: 'https', port: 443 }

const BEFORE: UpstreamErrorInfo = { reused: undefined, sent: false, headersReceived: false }
const SENT_FRESH: UpstreamErrorInfo = { reused: false, sent: true, headersReceived: false }
const SENT_REUSED: UpstreamErrorInfo = { reused: true, sent: true, headersReceived: false }
const MID_BODY: UpstreamErrorInfo = { reused: false, sent: true, headersReceived: true }

function err(message: string, props: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), props)
}
/** undici's HTTPParserError (7 and 8): name set, `code` undefined (its constants lookup misses), `data` a string. */
function parserError(data: string): Error {
  const e = err('Response does not match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)', { code: undefined, data })
  e.name = 'HTTPParserError'
  return e
}

const WRONG_VERSION =
  '80ECAB21B57F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n'

describe('classifyUpstreamFailure', () => {
  test('ECONNREFUSED → 502, nginx connect() wording, retryable before send', () => {
    const f = classifyUpstreamFailure(err('connect ECONNREFUSED 10.0.0.7:8080', { code: 'ECONNREFUSED' }), BEFORE, ctx)
    assert.equal(f.kind, 'connect_refused')
    assert.equal(f.status, 502)
    assert.equal(f.log, 'connect() failed (111: Connection refused) while connecting to upstream')
    assert.match(f.hint ?? '', /^nothing accepts connections on api\.internal \(10\.0\.0\.7:8080\)/)
    assert.equal(f.beforeSend, true)
    assert.equal(f.health, 'tcp_error')
  })

  test('an IP service host is not repeated in the hint', () => {
    const f = classifyUpstreamFailure(err('x', { code: 'ECONNREFUSED' }), BEFORE, { ...ctx, hostname: '10.0.0.7' })
    assert.match(f.hint ?? '', /^nothing accepts connections on 10\.0\.0\.7:8080:/)
  })

  test('connect timeout (undici and kernel) → 504 naming connect_timeout', () => {
    for (const code of ['UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']) {
      const f = classifyUpstreamFailure(err('Connect Timeout Error', { code }), BEFORE, ctx)
      assert.equal(f.kind, 'connect_timeout', code)
      assert.equal(f.status, 504)
      assert.equal(f.log, 'upstream timed out (110: Connection timed out) while connecting to upstream')
      assert.match(f.hint ?? '', /connect_timeout=300ms/)
      assert.equal(f.health, 'timeout')
      assert.equal(f.beforeSend, true)
    }
  })

  test('headers timeout → 504 read timeout naming read_timeout; body timeout reads "while reading upstream"', () => {
    const h = classifyUpstreamFailure(err('Headers Timeout Error', { code: 'UND_ERR_HEADERS_TIMEOUT' }), SENT_FRESH, ctx)
    assert.equal(h.status, 504)
    assert.equal(h.log, 'upstream timed out (110: Connection timed out) while reading response header from upstream')
    assert.match(h.hint ?? '', /read_timeout=400ms/)
    assert.equal(h.beforeSend, false)
    const b = classifyUpstreamFailure(err('Body Timeout Error', { code: 'UND_ERR_BODY_TIMEOUT' }), MID_BODY, ctx)
    assert.equal(b.log, 'upstream timed out (110: Connection timed out) while reading upstream')
  })

  test('unreachable networks use nginx connect() to ip:port wording', () => {
    assert.equal(
      classifyUpstreamFailure(err('x', { code: 'EHOSTUNREACH' }), BEFORE, ctx).log,
      'connect() to 10.0.0.7:8080 failed (113: No route to host) while connecting to upstream',
    )
    assert.equal(
      classifyUpstreamFailure(err('x', { code: 'ENETUNREACH' }), BEFORE, ctx).log,
      'connect() to 10.0.0.7:8080 failed (101: Network is unreachable) while connecting to upstream',
    )
  })

  test('socket closed on a reused connection before any header → stale keep-alive, hint depends on the method', () => {
    const get = classifyUpstreamFailure(err('other side closed', { code: 'UND_ERR_SOCKET' }), SENT_REUSED, ctx)
    assert.equal(get.kind, 'stale_keepalive')
    assert.equal(get.log, 'upstream prematurely closed connection while reading response header from upstream')
    assert.match(
      get.hint ?? '',
      /upstream_keepalive_idle_timeout \(now 60s\) below that load balancer's idle timeout; the GET is retried on a new connection$/,
    )
    const post = classifyUpstreamFailure(err('other side closed', { code: 'UND_ERR_SOCKET' }), SENT_REUSED, {
      ...ctx,
      method: 'POST',
      hasBody: true,
    })
    assert.match(post.hint ?? '', /this POST was not retried because the upstream may have received it \(POST is not idempotent\)$/)
    const put = classifyUpstreamFailure(err('other side closed', { code: 'UND_ERR_SOCKET' }), SENT_REUSED, {
      ...ctx,
      method: 'PUT',
      hasBody: true,
    })
    assert.match(put.hint ?? '', /this PUT was not retried because its body was already streamed/)
    const reset = classifyUpstreamFailure(err('read ECONNRESET', { code: 'ECONNRESET' }), SENT_REUSED, ctx)
    assert.equal(reset.kind, 'stale_keepalive')
    assert.equal(reset.log, 'recv() failed (104: Connection reset by peer) while reading response header from upstream')
  })

  test('socket closed on a fresh connection → premature close; for http the hint mentions TLS', () => {
    const f = classifyUpstreamFailure(err('other side closed', { code: 'UND_ERR_SOCKET' }), SENT_FRESH, ctx)
    assert.equal(f.kind, 'premature_close')
    assert.equal(f.log, 'upstream prematurely closed connection while reading response header from upstream')
    assert.match(f.hint ?? '', /set the service's protocol to https/)
    const s = classifyUpstreamFailure(err('other side closed', { code: 'UND_ERR_SOCKET' }), SENT_FRESH, https)
    assert.doesNotMatch(s.hint ?? '', /protocol/)
  })

  test('socket closed mid-body → "while reading upstream"', () => {
    const f = classifyUpstreamFailure(err('other side closed', { code: 'UND_ERR_SOCKET' }), MID_BODY, ctx)
    assert.equal(f.kind, 'premature_close')
    assert.equal(f.log, 'upstream prematurely closed connection while reading upstream')
    assert.match(f.hint ?? '', /before the end of the response body/)
  })

  test('reset: during connect vs after sending', () => {
    assert.equal(
      classifyUpstreamFailure(err('x', { code: 'ECONNRESET' }), BEFORE, ctx).log,
      'connect() failed (104: Connection reset by peer) while connecting to upstream',
    )
    const f = classifyUpstreamFailure(err('read ECONNRESET', { code: 'ECONNRESET' }), SENT_FRESH, ctx)
    assert.equal(f.kind, 'reset')
    assert.equal(f.log, 'recv() failed (104: Connection reset by peer) while reading response header from upstream')
  })

  test('header overflow → 502 naming the limit', () => {
    const f = classifyUpstreamFailure(err('Headers Overflow Error', { code: 'UND_ERR_HEADERS_OVERFLOW' }), SENT_FRESH, ctx)
    assert.equal(f.kind, 'header_overflow')
    assert.equal(f.log, 'upstream sent too big header while reading response header from upstream')
    assert.match(f.hint ?? '', /exceed 163840 bytes/)
  })

  test('TLS alert bytes to a plaintext request (undici HTTPParserError without code) → tls_on_http', () => {
    for (const alert of ['\x15\x03\x01\x00\x02\x02F', '\x15\x03\x03\x00\x02\x022']) {
      const f = classifyUpstreamFailure(parserError(alert), SENT_FRESH, ctx)
      assert.equal(f.kind, 'tls_on_http')
      assert.equal(f.status, 502)
      assert.equal(f.log, 'upstream sent no valid HTTP/1.0 header while reading response header from upstream')
      assert.match(f.hint ?? '', /set protocol=https/)
    }
    // The same with an HPE_ code (older undici versions set one).
    assert.equal(
      classifyUpstreamFailure(err('x', { code: 'HPE_INVALID_CONSTANT', data: '\x16\x03\x03\x00' }), SENT_FRESH, ctx).kind,
      'tls_on_http',
    )
  })

  test('non-HTTP bytes (SSH banner, HTTP/2 frame) → invalid_response, the bytes quoted on one line', () => {
    const f = classifyUpstreamFailure(parserError('SSH-2.0-OpenSSH_9\r\n'), SENT_FRESH, ctx)
    assert.equal(f.kind, 'invalid_response')
    assert.equal(f.log, 'upstream sent invalid header while reading response header from upstream')
    assert.match(f.hint ?? '', /it sent "SSH-2\.0-OpenSSH_9\\r\\n"/)
    assert.doesNotMatch(f.hint ?? '', /[\r\n]/)
  })

  test('https to a plain-HTTP upstream → http_on_https with nginx-shaped OpenSSL text', () => {
    const f = classifyUpstreamFailure(err(WRONG_VERSION, { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), BEFORE, https)
    assert.equal(f.kind, 'http_on_https')
    assert.equal(
      f.log,
      'SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream',
    )
    assert.match(f.hint ?? '', /set the service's protocol to http \(or url=http:\/\/…\)/)
    assert.equal(f.beforeSend, true)
  })

  test('hang-up during the TLS handshake → peer closed connection in SSL handshake', () => {
    const e = err('Client network socket disconnected before secure TLS connection was established', { code: 'ECONNRESET' })
    const f = classifyUpstreamFailure(e, BEFORE, https)
    assert.equal(f.kind, 'tls_error')
    assert.equal(f.log, 'peer closed connection in SSL handshake while SSL handshaking to upstream')
    assert.match(f.hint ?? '', /protocol to http/)
    assert.match(f.hint ?? '', /SNI "api\.internal"/)
  })

  test('certificate verification errors → nginx (N:reason) wording', () => {
    const f = classifyUpstreamFailure(err('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), BEFORE, https)
    assert.equal(f.kind, 'tls_verify')
    assert.equal(f.log, 'upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream')
    assert.match(f.hint ?? '', /tls_verify=false/)
  })

  test('each verification failure gets the hint naming the field that fixes it', () => {
    const unknown = classifyUpstreamFailure(
      err('unable to get local issuer certificate', { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }),
      BEFORE,
      https,
    )
    assert.equal(unknown.error.code, 'TP_UPSTREAM_TLS_UNKNOWN_CA')
    assert.equal(unknown.status, 502)
    assert.match(unknown.hint ?? '', /add the CA to the service's ca_certificates or lua_ssl_trusted_certificate/)

    const mismatch = classifyUpstreamFailure(
      err("Hostname/IP does not match certificate's altnames", {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        host: 'api.internal',
        cert: { subjectaltname: 'DNS:other.internal, DNS:www.other.internal', subject: { CN: 'other.internal' } },
      }),
      BEFORE,
      https,
    )
    assert.equal(mismatch.error.code, 'TP_UPSTREAM_TLS_HOSTNAME_MISMATCH')
    assert.equal(mismatch.log, 'upstream SSL certificate verify error: (62:hostname mismatch) while SSL handshaking to upstream')
    assert.match(mismatch.hint ?? '', /checked api\.internal; the certificate holds DNS:other\.internal, DNS:www\.other\.internal/)
    assert.match(mismatch.hint ?? '', /set the service host/)

    const expired = classifyUpstreamFailure(err('certificate has expired', { code: 'CERT_HAS_EXPIRED' }), BEFORE, https)
    assert.equal(expired.error.code, 'TP_UPSTREAM_TLS_EXPIRED')
    assert.match(expired.hint ?? '', /renew it on the upstream/)

    const long = classifyUpstreamFailure(err('certificate chain too long', { code: 'CERT_CHAIN_TOO_LONG' }), BEFORE, https)
    assert.equal(long.error.code, 'TP_UPSTREAM_TLS_CHAIN_TOO_LONG')
    assert.match(long.log, /\(22:certificate chain too long\)/)
    assert.match(long.hint ?? '', /tls_verify_depth or lua_ssl_verify_depth/)
  })

  test('the upstream asking for a client certificate → the hint names client_certificate', () => {
    const f = classifyUpstreamFailure(
      err(
        'C0:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../ssl/record/rec_layer_s3.c:1605:SSL alert number 116\n',
        {
          code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
        },
      ),
      SENT_FRESH,
      https,
    )
    assert.equal(f.kind, 'tls_client_certificate')
    assert.equal(f.error.code, 'TP_UPSTREAM_TLS_CLIENT_CERTIFICATE')
    assert.equal(
      f.log,
      'SSL_read() failed (SSL: error:0A00045C:SSL routines::tlsv13 alert certificate required) while reading response header from upstream',
    )
    assert.match(f.hint ?? '', /set the service's client_certificate/)
  })

  test('other TLS errors keep one line', () => {
    const f = classifyUpstreamFailure(
      err(
        'C0:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1586:SSL alert number 40\n',
        { code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' },
      ),
      BEFORE,
      https,
    )
    assert.equal(f.kind, 'tls_error')
    assert.equal(
      f.log,
      'SSL_do_handshake() failed (SSL: error:0A000410:SSL routines::sslv3 alert handshake failure) while SSL handshaking to upstream',
    )
  })

  test('response longer than its Content-Length, broken pipe, unknown errors', () => {
    assert.equal(
      classifyUpstreamFailure(err('x', { code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' }), MID_BODY, ctx).log,
      'upstream sent more data than specified in "Content-Length" header while reading upstream',
    )
    assert.equal(
      classifyUpstreamFailure(err('write EPIPE', { code: 'EPIPE' }), SENT_FRESH, ctx).log,
      'send() failed (32: Broken pipe) while sending request to upstream',
    )
    const u = classifyUpstreamFailure(err('something\nodd'), SENT_FRESH, ctx)
    assert.equal(u.kind, 'unknown')
    assert.equal(u.status, 502)
    assert.equal(u.log, 'something odd while reading response header from upstream')
  })
})

describe('helpers', () => {
  test('looksLikeTls', () => {
    assert.equal(looksLikeTls('\x15\x03\x03'), true)
    assert.equal(looksLikeTls('\x16\x03\x01'), true)
    assert.equal(looksLikeTls('HTTP/1.1'), false)
    assert.equal(looksLikeTls(undefined), false)
    assert.equal(looksLikeTls('\x15'), false)
  })

  test('opensslReason', () => {
    assert.equal(opensslReason(WRONG_VERSION), 'error:0A00010B:SSL routines::wrong version number')
    assert.equal(opensslReason('plain\nmessage'), 'plain message')
  })

  test('isIdempotent: nginx refuses to resend POST, PATCH, LOCK', () => {
    for (const m of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']) assert.equal(isIdempotent(m), true, m)
    for (const m of ['POST', 'PATCH', 'LOCK']) assert.equal(isIdempotent(m), false, m)
  })
})
