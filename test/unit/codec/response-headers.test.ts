/**
 * Upstream response headers forwarded as flat lists: hop-by-hop headers dropped as nginx and
 * Kong's header_filter drop them, Via and Server as Kong sets them, and the object plugins see.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { contentLength, forwardedResponseHeaders, headerObject, ResponseHeaderSet } from '../../../src/codec/response-headers.js'

const VIA = '1.1 turnpike/0.1.0'
const SERVER = 'turnpike/0.1.0'

describe('forwardedResponseHeaders', () => {
  test('hop-by-hop headers go, in any case; the others keep their name case and order', () => {
    const out = forwardedResponseHeaders(
      [
        'Server',
        'nginx',
        'Content-Type',
        'text/plain',
        'Connection',
        'keep-alive',
        'Keep-Alive',
        'timeout=5',
        'TRANSFER-ENCODING',
        'chunked',
        'te',
        'x',
        'Trailer',
        'y',
        'Upgrade',
        'h2c',
        'Proxy-Connection',
        'close',
        'X-Other',
        '1',
      ],
      false,
      null,
      null,
    )
    assert.deepEqual(out, ['Server', 'nginx', 'Content-Type', 'text/plain', 'X-Other', '1'])
  })

  test('headers the Connection header names are dropped too, wherever they are', () => {
    const out = forwardedResponseHeaders(
      ['X-Secret', 's', 'X-Keep', 'k', 'Connection', 'keep-alive, X-Secret', 'x-also', 'a', 'connection', 'X-ALSO'],
      false,
      null,
      null,
    )
    assert.deepEqual(out, ['X-Keep', 'k'])
  })

  test('Via: the gateway token appended to the upstream value(s); Server added only when the upstream sent none', () => {
    assert.deepEqual(forwardedResponseHeaders(['A', '1'], false, VIA, SERVER), ['A', '1', 'via', VIA, 'server', SERVER])
    assert.deepEqual(forwardedResponseHeaders(['Via', '1.0 cache', 'VIA', '1.1 lb', 'server', 'up'], false, VIA, SERVER), [
      'server',
      'up',
      'via',
      `1.0 cache, 1.1 lb, ${VIA}`,
    ])
    // headers = off: neither is added and the upstream's Via passes as it is.
    assert.deepEqual(forwardedResponseHeaders(['Via', '1.0 cache'], false, null, null), ['Via', '1.0 cache'])
  })

  test('a protocol switch (101) keeps Connection and Upgrade: they are the switch itself', () => {
    const out = forwardedResponseHeaders(['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'k'], true, VIA, null)
    assert.deepEqual(out, ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'k', 'via', VIA])
  })
})

describe('headerObject', () => {
  test('lower-case names; repeated names become arrays in order', () => {
    assert.deepEqual(headerObject(['Set-Cookie', 'a=1', 'Content-Type', 'text/plain', 'set-cookie', 'b=2', 'SET-COOKIE', 'c=3']), {
      'set-cookie': ['a=1', 'b=2', 'c=3'],
      'content-type': 'text/plain',
    })
  })
})

describe('contentLength', () => {
  test('the number, in any name case; -1 when absent or not a plain number', () => {
    assert.equal(contentLength(['Content-Type', 'x', 'Content-Length', '100']), 100)
    assert.equal(contentLength(['content-length', '0']), 0)
    assert.equal(contentLength(['Transfer-Encoding', 'chunked']), -1)
    assert.equal(contentLength(['Content-Length', '1, 1']), -1)
    assert.equal(contentLength(['Content-Length', '-3']), -1)
  })
})

describe('ResponseHeaderSet', () => {
  test('a list: read, set, add and clear in any case; the list given is never changed', () => {
    const received = ['Content-Type', 'text/plain', 'X-Up', '1', 'x-up', '2', 'Server', 'nginx']
    const h = ResponseHeaderSet.ofList(received)
    assert.equal(h.get('x-UP'), '1')
    h.set('X-Up', 'one')
    h.add('Set-Cookie', 'a=1')
    h.add('set-cookie', 'b=2')
    h.clear('SERVER')
    h.set('X-Many', ['p', 'q'])
    assert.deepEqual(h.forWrite(), [
      'Content-Type',
      'text/plain',
      'x-up',
      'one',
      'set-cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'x-many',
      'p',
      'x-many',
      'q',
    ])
    assert.deepEqual(received, ['Content-Type', 'text/plain', 'X-Up', '1', 'x-up', '2', 'Server', 'nginx'])
  })

  test('once an object is asked for, it is the headers: changes go to it and it is what is written', () => {
    const h = ResponseHeaderSet.ofList(['A', '1', 'b', '2', 'a', '3'])
    const o = h.object()
    assert.deepEqual(o, { a: ['1', '3'], b: '2' })
    h.set('B', 'two')
    h.add('a', '4')
    h.clear('c')
    assert.equal(h.forWrite(), o)
    assert.deepEqual(o, { a: ['1', '3', '4'], b: 'two' })
    assert.equal(h.get('A'), '1')
  })

  test('an object (a response the gateway makes) is changed in place', () => {
    const headers = { 'content-type': 'application/json' }
    const h = ResponseHeaderSet.ofObject(headers)
    h.set('X-Kong', 'y')
    assert.deepEqual(headers, { 'content-type': 'application/json', 'x-kong': 'y' })
    assert.equal(h.object(), headers)
  })
})

test('Trailer is dropped unless the client asked for trailers (Kong 3.9.3 03-upstream_headers_spec.lua)', () => {
  const raw = ['Trailer', 'Expires', 'X', '1']
  assert.deepEqual(forwardedResponseHeaders(raw, false, null, null), ['X', '1'])
  assert.deepEqual(forwardedResponseHeaders(raw, false, null, null, true), ['Trailer', 'Expires', 'X', '1'])
})
