/**
 * Upstream response headers forwarded as flat lists: hop-by-hop headers dropped as nginx and
 * Kong's header_filter drop them, Via and Server as Kong sets them, and the object plugins see.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { contentLength, forwardedResponseHeaders, headerObject } from '../../../src/proxy/response-headers.js'

const VIA = '1.1 turnpike/0.1.0'
const SERVER = 'turnpike/0.1.0'

describe('forwardedResponseHeaders', () => {
  test('hop-by-hop headers go, in any case; the others keep their name case and order', () => {
    const out = forwardedResponseHeaders(
      ['Server', 'nginx', 'Content-Type', 'text/plain', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'TRANSFER-ENCODING', 'chunked', 'te', 'x', 'Trailer', 'y', 'Upgrade', 'h2c', 'Proxy-Connection', 'close', 'X-Other', '1'],
      false, null, null,
    )
    assert.deepEqual(out, ['Server', 'nginx', 'Content-Type', 'text/plain', 'X-Other', '1'])
  })

  test('headers the Connection header names are dropped too, wherever they are', () => {
    const out = forwardedResponseHeaders(['X-Secret', 's', 'X-Keep', 'k', 'Connection', 'keep-alive, X-Secret', 'x-also', 'a', 'connection', 'X-ALSO'], false, null, null)
    assert.deepEqual(out, ['X-Keep', 'k'])
  })

  test('Via: the gateway token appended to the upstream value(s); Server added only when the upstream sent none', () => {
    assert.deepEqual(forwardedResponseHeaders(['A', '1'], false, VIA, SERVER), ['A', '1', 'via', VIA, 'server', SERVER])
    assert.deepEqual(forwardedResponseHeaders(['Via', '1.0 cache', 'VIA', '1.1 lb', 'server', 'up'], false, VIA, SERVER), ['server', 'up', 'via', `1.0 cache, 1.1 lb, ${VIA}`])
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
