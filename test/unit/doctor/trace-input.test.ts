import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTraceInput, type TraceInput } from '../../../src/doctor/trace-input.js'
import { maskSecret } from '../../../src/doctor/trace.js'

function ok(body: Record<string, unknown>): TraceInput {
  const r = parseTraceInput(body)
  assert.notEqual(typeof r, 'string', String(r))
  return r as TraceInput
}

describe('trace input', () => {
  test('the URL gives scheme, port, raw path and query; Host comes first unless given', () => {
    const r = ok({ method: 'POST', url: 'https://api.example.com/a/../b%2F?x=1&y', headers: ['X-A: 1'], body: 'hello' })
    assert.equal(r.scheme, 'https')
    assert.equal(r.port, 443)
    assert.equal(r.path, '/a/../b%2F')
    assert.equal(r.query, 'x=1&y')
    assert.deepEqual(r.headers, [
      ['Host', 'api.example.com'],
      ['X-A', '1'],
      ['Content-Length', '5'],
    ])
    const own = ok({ url: 'http://127.0.0.1:8000', headers: { Host: 'other.test', 'x-many': ['1', '2'] } })
    assert.equal(own.method, 'GET')
    assert.equal(own.path, '/')
    assert.equal(own.port, 8000)
    assert.deepEqual(own.headers, [
      ['Host', 'other.test'],
      ['x-many', '1'],
      ['x-many', '2'],
    ])
    assert.equal(ok({ url: 'http://[::1]:9000/x' }).port, 9000)
  })

  test('refusals name the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ url: 'http://x/', method: 'GET /' }, /^method:/],
      [{ url: 'http://user@x/' }, /user information/],
      [{ url: 'http://x:70000/' }, /port/],
      [{ url: 'http://x/é' }, /printable ASCII/],
      [{ url: 'http://x/', headers: 'X-A: 1' }, /headers must be/],
      [{ url: 'http://x/', headers: { 'bad name': 'v' } }, /not a valid header name/],
      [{ url: 'http://x/', headers: { a: 'x'.repeat(17000) } }, /bytes in all/],
      [{ url: 'http://x/', headers: { a: 1 } }, /must be a string/],
      [{ url: 'http://x/', body: { a: 1 } }, /^body:/],
      [{ url: 'http://x/', client_ip: '999.1.1.1' }, /^client_ip:/],
    ]
    for (const [body, message] of cases) {
      const r = parseTraceInput(body)
      assert.equal(typeof r, 'string', JSON.stringify(body))
      assert.match(r as string, message)
    }
  })

  test('credentials are shown by their first 4 characters and a fingerprint', () => {
    assert.match(maskSecret('alice-secret-key'), /^alic… \(sha256:[0-9a-f]{8}\)$/)
    assert.equal(maskSecret('alice-secret-key'), maskSecret('alice-secret-key'))
    assert.notEqual(maskSecret('alice-secret-key'), maskSecret('alice-secret-kez'))
  })
})
