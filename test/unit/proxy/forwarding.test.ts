/**
 * Client address and upstream request headers, as Kong's runloop (access phase) and nginx
 * template (`proxy_set_header` lines, realip module) set them.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  forwardedHost,
  type ForwardInput,
  hostWithoutPort,
  realClientIp,
  TrustedIps,
  upstreamHeaders,
  viaToken,
  viaVersion,
} from '../../../src/proxy/forwarding.js'
import type { RequestHeaders } from '../../../src/proxy/types.js'

describe('TrustedIps', () => {
  test('addresses, CIDRs, IPv4-mapped IPv6, all and none', () => {
    const t = new TrustedIps(['10.0.0.0/8', '192.168.1.7', '::1', 'unix:'])
    assert.equal(t.has('10.20.30.40'), true)
    assert.equal(t.has('::ffff:10.1.1.1'), true)
    assert.equal(t.has('192.168.1.7'), true)
    assert.equal(t.has('192.168.1.8'), false)
    assert.equal(t.has('::1'), true)
    assert.equal(t.has('2001:db8::1'), false)
    assert.equal(new TrustedIps(['0.0.0.0/0', '::/0']).has('203.0.113.9'), true)
    assert.equal(new TrustedIps([]).has('127.0.0.1'), false)
    assert.equal(new TrustedIps(['unix:']).has('127.0.0.1'), false)
  })
})

describe('realClientIp (nginx realip)', () => {
  const trusted = new TrustedIps(['127.0.0.1', '10.0.0.0/8'])
  test('untrusted peer: the peer, whatever the headers say', () => {
    assert.equal(
      realClientIp('198.51.100.1', { 'x-real-ip': '1.2.3.4' }, { trusted, header: 'x-real-ip', recursive: false }),
      '198.51.100.1',
    )
  })
  test('X-Real-IP from a trusted peer', () => {
    assert.equal(realClientIp('127.0.0.1', { 'x-real-ip': '1.2.3.4' }, { trusted, header: 'x-real-ip', recursive: false }), '1.2.3.4')
    assert.equal(realClientIp('127.0.0.1', { 'x-real-ip': 'not-an-ip' }, { trusted, header: 'x-real-ip', recursive: false }), '127.0.0.1')
    assert.equal(realClientIp('127.0.0.1', {}, { trusted, header: 'x-real-ip', recursive: false }), '127.0.0.1')
  })
  test('X-Forwarded-For: the last address, or with recursion the last untrusted one', () => {
    const h: RequestHeaders = { 'x-forwarded-for': '203.0.113.7, 198.51.100.2, 10.1.1.1' }
    assert.equal(realClientIp('127.0.0.1', h, { trusted, header: 'x-forwarded-for', recursive: false }), '10.1.1.1')
    assert.equal(realClientIp('127.0.0.1', h, { trusted, header: 'x-forwarded-for', recursive: true }), '198.51.100.2')
    assert.equal(
      realClientIp('127.0.0.1', { 'x-forwarded-for': '10.2.2.2, 10.1.1.1' }, { trusted, header: 'x-forwarded-for', recursive: true }),
      '10.2.2.2',
    )
  })
  test('proxy_protocol (not supported yet): the peer', () => {
    assert.equal(realClientIp('127.0.0.1', { 'x-real-ip': '1.2.3.4' }, { trusted, header: null, recursive: false }), '127.0.0.1')
  })
})

describe('hostWithoutPort / forwardedHost / viaVersion', () => {
  test("nginx's $host: no port, lower-cased, IPv6 brackets kept", () => {
    assert.equal(hostWithoutPort('API.Example.com:8443'), 'api.example.com')
    assert.equal(hostWithoutPort('[::1]:8000'), '[::1]')
    assert.equal(hostWithoutPort('example.com'), 'example.com')
  })
  test('forwardedHost: trusted X-Forwarded-Host as is, else $host, else the server name', () => {
    const h: RequestHeaders = { host: 'Inner:8000', 'x-forwarded-host': 'Public.Example' }
    assert.equal(forwardedHost(h, true), 'Public.Example')
    assert.equal(forwardedHost(h, false), 'inner')
    assert.equal(forwardedHost({}, false), 'kong')
  })
  test('Via version as Kong prints ngx.req.http_version()', () => {
    assert.equal(viaVersion('1.1'), '1.1')
    assert.equal(viaVersion('1.0'), '1')
    assert.equal(viaVersion('2.0'), '2')
  })
})

function input(raw: string[], over: Partial<ForwardInput> = {}): ForwardInput {
  const headers: Record<string, string> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const k = (raw[i] as string).toLowerCase()
    headers[k] = headers[k] === undefined ? (raw[i + 1] as string) : `${headers[k]}, ${raw[i + 1] as string}`
  }
  return {
    rawHeaders: raw,
    headers,
    hostHeader: 'backend:8080',
    peer: '127.0.0.1',
    clientIp: '127.0.0.1',
    trusted: false,
    scheme: 'http',
    localPort: 8000,
    path: '/api/x',
    prefix: '/api',
    via: viaToken(over.httpVersion ?? '1.1', 'turnpike/0.1.0'),
    requestId: 'a'.repeat(32),
    httpVersion: '1.1',
    ...over,
  }
}

function asMap(list: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>()
  for (let i = 0; i < list.length; i += 2) {
    const k = (list[i] as string).toLowerCase()
    m.set(k, [...(m.get(k) ?? []), list[i + 1] as string])
  }
  return m
}

describe('viaToken', () => {
  test('the HTTP version as Kong writes it, then the product; the same string again for HTTP/1.1', () => {
    assert.equal(viaToken('1.1', 'turnpike/0.1.0'), '1.1 turnpike/0.1.0')
    assert.equal(viaToken('1.0', 'turnpike/0.1.0'), '1 turnpike/0.1.0')
    assert.equal(viaToken('2.0', 'turnpike/0.1.0'), '2 turnpike/0.1.0')
    assert.equal(viaToken('1.1', 'other/1'), '1.1 other/1')
    assert.equal(viaToken('1.1', 'other/1'), '1.1 other/1')
  })
})

describe('upstreamHeaders', () => {
  test('hop-by-hop headers and those named in Connection are dropped; the rest keep name case and order', () => {
    const out = asMap(
      upstreamHeaders(
        input([
          'Host',
          'client.test',
          'Connection',
          'keep-alive, X-Hop, Upgrade',
          'X-Hop',
          '1',
          'Keep-Alive',
          'timeout=5',
          'TE',
          'gzip',
          'Proxy-Connection',
          'keep-alive',
          'Proxy',
          'x',
          'Expect',
          '100-continue',
          'Transfer-Encoding',
          'chunked',
          'Upgrade',
          'h2c',
          'X-Keep',
          'a',
          'X-Keep',
          'b',
        ]),
      ),
    )
    for (const gone of ['connection', 'x-hop', 'keep-alive', 'te', 'proxy-connection', 'proxy', 'expect', 'transfer-encoding', 'upgrade'])
      assert.equal(out.has(gone), false, gone)
    assert.deepEqual(out.get('x-keep'), ['a', 'b'])
    assert.deepEqual(out.get('host'), ['backend:8080'])
  })

  test('forwarded headers from an untrusted peer are recomputed', () => {
    const out = asMap(
      upstreamHeaders(
        input([
          'Host',
          'Client.Test:9000',
          'X-Forwarded-For',
          '1.1.1.1',
          'X-Forwarded-Proto',
          'https',
          'X-Forwarded-Host',
          'evil',
          'X-Forwarded-Port',
          '1',
          'X-Forwarded-Path',
          '/evil',
          'X-Forwarded-Prefix',
          '/evil',
          'X-Real-IP',
          '9.9.9.9',
        ]),
      ),
    )
    assert.deepEqual(out.get('x-forwarded-for'), ['1.1.1.1, 127.0.0.1'])
    assert.deepEqual(out.get('x-real-ip'), ['127.0.0.1'])
    assert.deepEqual(out.get('x-forwarded-proto'), ['http'])
    assert.deepEqual(out.get('x-forwarded-host'), ['client.test'])
    assert.deepEqual(out.get('x-forwarded-port'), ['8000'])
    assert.deepEqual(out.get('x-forwarded-path'), ['/api/x'])
    assert.deepEqual(out.get('x-forwarded-prefix'), ['/api'])
  })

  test('trusted peer: client values kept; X-Forwarded-For appends the peer, not the real client', () => {
    const out = asMap(
      upstreamHeaders(
        input(
          [
            'Host',
            'h',
            'X-Forwarded-For',
            '203.0.113.7',
            'X-Forwarded-Proto',
            'https',
            'X-Forwarded-Host',
            'Pub',
            'X-Forwarded-Port',
            '443',
            'X-Forwarded-Path',
            '/p',
            'X-Forwarded-Prefix',
            '/x',
          ],
          { trusted: true, clientIp: '203.0.113.7' },
        ),
      ),
    )
    assert.deepEqual(out.get('x-forwarded-for'), ['203.0.113.7, 127.0.0.1'])
    assert.deepEqual(out.get('x-real-ip'), ['203.0.113.7'])
    assert.deepEqual(out.get('x-forwarded-proto'), ['https'])
    assert.deepEqual(out.get('x-forwarded-host'), ['Pub'])
    assert.deepEqual(out.get('x-forwarded-port'), ['443'])
    assert.deepEqual(out.get('x-forwarded-path'), ['/p'])
    assert.deepEqual(out.get('x-forwarded-prefix'), ['/x'])
  })

  test('no X-Forwarded-For from the client: the real client address alone', () => {
    const out = asMap(upstreamHeaders(input(['Host', 'h'], { trusted: true, clientIp: '203.0.113.7' })))
    assert.deepEqual(out.get('x-forwarded-for'), ['203.0.113.7'])
  })

  test('X-Forwarded-Prefix only when something was stripped', () => {
    assert.equal(asMap(upstreamHeaders(input(['Host', 'h'], { prefix: '/' }))).has('x-forwarded-prefix'), false)
  })

  test('Via appended with the client HTTP version', () => {
    assert.deepEqual(asMap(upstreamHeaders(input(['Host', 'h', 'Via', '1.1 lb']))).get('via'), ['1.1 lb, 1.1 turnpike/0.1.0'])
    assert.deepEqual(asMap(upstreamHeaders(input(['Host', 'h'], { httpVersion: '1.0' }))).get('via'), ['1 turnpike/0.1.0'])
  })

  test("X-Kong-Request-Id: the gateway's when enabled, the client's passes when not", () => {
    assert.deepEqual(asMap(upstreamHeaders(input(['Host', 'h', 'X-Kong-Request-Id', 'forged']))).get('x-kong-request-id'), ['a'.repeat(32)])
    assert.deepEqual(
      asMap(upstreamHeaders(input(['Host', 'h', 'X-Kong-Request-Id', 'from-client'], { requestId: null }))).get('x-kong-request-id'),
      ['from-client'],
    )
  })

  test('TE: trailers is kept when the client asks for trailers', () => {
    assert.deepEqual(asMap(upstreamHeaders(input(['Host', 'h', 'TE', 'gzip, Trailers']))).get('te'), ['trailers'])
    assert.equal(asMap(upstreamHeaders(input(['Host', 'h', 'TE', 'gzip']))).has('te'), false)
  })

  test('Connection: close names nothing', () => {
    const out = asMap(upstreamHeaders(input(['Host', 'h', 'Connection', 'close', 'Close', 'x'])))
    assert.deepEqual(out.get('close'), ['x'])
  })
})
