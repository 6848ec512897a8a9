import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { bodyFraming, classifyGreeting, keepsAlive, parseResponseHead, type ResponseHead } from '../../../src/codec/response-greeting.js'

describe('classifyGreeting: the protocol a port speaks, from the bytes it answered', () => {
  test('a TLS alert or handshake record is TLS', () => {
    assert.equal(classifyGreeting(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46])), 'tls')
    assert.equal(classifyGreeting(Buffer.from([0x16, 0x03, 0x03, 0x00, 0x7a])), 'tls')
    assert.equal(classifyGreeting(Buffer.from([0x16])), 'tls')
  })
  test('an HTTP/1.x status line is HTTP, even cut short', () => {
    assert.equal(classifyGreeting(Buffer.from('HTTP/1.1 400 Bad Request\r\n')), 'http')
    assert.equal(classifyGreeting(Buffer.from('HTTP/1.0 200 OK\r\n')), 'http')
    assert.equal(classifyGreeting(Buffer.from('HTTP/')), 'http')
  })
  test('nothing, or anything else', () => {
    assert.equal(classifyGreeting(Buffer.alloc(0)), 'empty')
    assert.equal(classifyGreeting(Buffer.from('SSH-2.0-OpenSSH\r\n')), 'other')
    assert.equal(classifyGreeting(Buffer.from([0x16, 0x01])), 'other')
    assert.equal(classifyGreeting(Buffer.from('HTTP/2 200')), 'other')
  })
})

describe('parseResponseHead', () => {
  test('a complete head: status, lower-case headers (repeats joined), length', () => {
    const raw = Buffer.from('HTTP/1.1 502 Bad Gateway\r\nServer: lb\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 3\r\n\r\nabc')
    const h = parseResponseHead(raw) as ResponseHead
    assert.equal(h.status, 502)
    assert.equal(h.statusLine, 'HTTP/1.1 502 Bad Gateway')
    assert.equal(h.headers['server'], 'lb')
    assert.equal(h.headers['x-a'], '1, 2')
    assert.equal(h.length, raw.length - 3)
  })
  test('incomplete: null; not HTTP: invalid', () => {
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\nA: b')), null)
    assert.equal(parseResponseHead(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02])), 'invalid')
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 2xx OK\r\n\r\n')), 'invalid')
    assert.equal(parseResponseHead(Buffer.alloc(70 * 1024, 'HTTP/1.1 200 OK\r\nA: ')), 'invalid')
  })
  test('framing and keep-alive', () => {
    const head = (s: string): ResponseHead => parseResponseHead(Buffer.from(`${s}\r\n\r\n`)) as ResponseHead
    assert.equal(bodyFraming('HEAD', head('HTTP/1.1 200 OK\r\nContent-Length: 9')), 'none')
    assert.equal(bodyFraming('GET', head('HTTP/1.1 204 No Content')), 'none')
    assert.equal(bodyFraming('GET', head('HTTP/1.1 200 OK\r\nContent-Length: 9')), 9)
    assert.equal(bodyFraming('GET', head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked')), 'chunked')
    assert.equal(bodyFraming('GET', head('HTTP/1.1 200 OK')), 'close')
    assert.equal(keepsAlive(head('HTTP/1.1 200 OK')), true)
    assert.equal(keepsAlive(head('HTTP/1.1 200 OK\r\nConnection: close')), false)
    assert.equal(keepsAlive(head('HTTP/1.0 200 OK')), false)
    assert.equal(keepsAlive(head('HTTP/1.0 200 OK\r\nConnection: keep-alive')), true)
  })
})
