import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkRequestHead, originForm, validHost } from '../../../src/proxy/request-head.js'

function head(rawHeaders: string[], over: { method?: string; target?: string; httpVersion?: string } = {}): number | null {
  return checkRequestHead({ method: over.method ?? 'GET', target: over.target ?? '/', httpVersion: over.httpVersion ?? '1.1', rawHeaders })
}

describe('checkRequestHead (nginx 1.25 request head checks)', () => {
  test('a plain request passes', () => {
    assert.equal(head(['Host', 'example.com', 'Accept', '*/*']), null)
    assert.equal(head([], { httpVersion: '1.0' }), null)
  })
  test('request line over one 8k buffer: 414; at the limit: passes', () => {
    // GET SP target SP HTTP/1.1 CRLF = 3 + 1 + n + 1 + 8 + 2
    assert.equal(head(['Host', 'x'], { target: `/${'a'.repeat(8192 - 15 - 1)}` }), null)
    assert.equal(head(['Host', 'x'], { target: `/${'a'.repeat(8192 - 15)}` }), 414)
  })
  test('a header line over 8k, or a head over 4 x 8k: 494', () => {
    assert.equal(head(['Host', 'x', 'Cookie', 'c'.repeat(8200)]), 494)
    const many = ['Host', 'x']
    for (let i = 0; i < 9; i++) many.push(`X-${i}`, 'v'.repeat(4000))
    assert.equal(head(many), 494)
  })
  test('Host: missing on 1.1, empty, invalid or twice: 400', () => {
    assert.equal(head([]), 400)
    assert.equal(head(['Host', '']), 400)
    assert.equal(head(['Host', 'a..b']), 400)
    assert.equal(head(['Host', 'a/b']), 400)
    assert.equal(head(['Host', 'a b']), 400)
    assert.equal(head(['Host', 'a', 'host', 'a']), 400)
  })
  test('a repeated header nginx keeps one of: 400; others may repeat', () => {
    assert.equal(head(['Host', 'x', 'Authorization', 'a', 'Authorization', 'b']), 400)
    assert.equal(head(['Host', 'x', 'Accept', 'a', 'Accept', 'b']), null)
  })
  test('Transfer-Encoding: on 1.0 400, not exactly chunked 501, with Content-Length 400', () => {
    assert.equal(head(['Transfer-Encoding', 'chunked'], { httpVersion: '1.0' }), 400)
    assert.equal(head(['Host', 'x', 'Transfer-Encoding', 'identity, chunked']), 501)
    assert.equal(head(['Host', 'x', 'Transfer-Encoding', 'Chunked']), null)
    assert.equal(head(['Host', 'x', 'Transfer-Encoding', 'chunked', 'Content-Length', '3']), 400)
  })
  test('TRACE: 405', () => {
    assert.equal(head(['Host', 'x'], { method: 'TRACE' }), 405)
  })
  test('a target neither origin- nor absolute-form: 400', () => {
    assert.equal(head(['Host', 'x'], { target: '*' }), 400)
    assert.equal(head(['Host', 'x'], { target: 'http://a..b/' }), 400)
  })
})

describe('originForm', () => {
  test('absolute-form targets route by their path', () => {
    assert.equal(originForm('/a?b'), '/a?b')
    assert.equal(originForm('http://h.example/p/q?x=1'), '/p/q?x=1')
    assert.equal(originForm('https://h.example:8443'), '/')
    assert.equal(originForm('http://h.example?x'), '/?x')
    assert.equal(originForm('h.example/p'), null)
  })
})

describe('validHost', () => {
  test('nginx 1.25 rules', () => {
    for (const ok of ['example.com', 'example.com.', 'EXAMPLE.com:8000', '[::1]:80', '10.0.0.1', 'a_b~c']) assert.ok(validHost(ok), ok)
    for (const bad of ['', '.', ':80', 'a..b', 'a/b', 'a\tb', 'a\x7fb']) assert.ok(!validHost(bad), JSON.stringify(bad))
  })
})
