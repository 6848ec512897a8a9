import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { escapeUpstreamPath, normalizePath } from '../../../src/router/index.js'

describe('normalizePath (kong/tools/uri.lua normalize)', () => {
  const cases: Array<[string, string | null]> = [
    ['/', '/'],
    ['', ''],
    ['/foo/bar', '/foo/bar'],
    // dot segments
    ['/public/../admin', '/admin'],
    ['/a/./b', '/a/b'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/..', '/'],
    ['/../../x', '/x'],
    ['/a/b/../../../c', '/c'],
    ['/a/.b/..c/...', '/a/.b/..c/...'],
    // encoded dots are dots
    ['/public/%2e%2e/admin', '/admin'],
    ['/public/%2E./admin', '/admin'],
    // merged slashes
    ['//a///b//', '/a/b/'],
    ['/a//../b', '/b'],
    // unreserved and "other" bytes are decoded
    ['/%7Euser/%61bc', '/~user/abc'],
    ['/a%20b', '/a b'],
    ['/caf%C3%A9', '/caf\u00c3\u00a9'],
    // reserved bytes stay encoded, hex upper-cased; an encoded slash is not a separator
    ['/a%2fb', '/a%2Fb'],
    ['/a%2F..%2Fb', '/a%2F..%2Fb'],
    ['/x%3a%40%25', '/x%3A%40%25'],
    ['/%2e%2e%2fadmin', '/..%2Fadmin'],
    // invalid percent-encoding: nginx answers 400
    ['/a%zz', null],
    ['/a%2', null],
    ['/a%', null],
    ['/a%00b', null],
  ]
  for (const [raw, expected] of cases) {
    test(`${JSON.stringify(raw)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizePath(raw), expected)
    })
  }
})

describe('escapeUpstreamPath (kong/tools/uri.lua escape)', () => {
  test('keeps safe and reserved characters and existing escapes', () => {
    assert.equal(escapeUpstreamPath("/a-b_c.d~e/!$&'()*+,;=:@[]?#%2F"), "/a-b_c.d~e/!$&'()*+,;=:@[]?#%2F")
  })
  test('re-encodes decoded bytes with upper-case hex', () => {
    assert.equal(escapeUpstreamPath('/a b"<>\\^`{|}'), '/a%20b%22%3C%3E%5C%5E%60%7B%7C%7D')
    assert.equal(escapeUpstreamPath('/caf\u00c3\u00a9'), '/caf%C3%A9')
  })
  test('round-trips a normalized path', () => {
    const n = normalizePath('/x/%41%20y/%c3%a9/%2f')
    assert.equal(n, '/x/A y/\u00c3\u00a9/%2F')
    assert.equal(escapeUpstreamPath(n ?? ''), '/x/A%20y/%C3%A9/%2F')
  })
  test('encodes non-byte chars as UTF-8', () => {
    assert.equal(escapeUpstreamPath('/\u20ac'), '/%E2%82%AC')
  })
})
