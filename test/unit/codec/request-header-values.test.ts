/** Unit tests for the every-value view of request headers (src/codec/request-header-values.ts). */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { kongHeaderValue, requestHeaderValues } from '../../../src/codec/request-header-values.js'

describe('requestHeaderValues', () => {
  test('no repeated name: the same object, nothing copied', () => {
    const h = { host: 'a', 'user-agent': 'x' }
    assert.equal(requestHeaderValues(h, ['Host', 'a', 'User-Agent', 'x']), h)
  })
  test('a repeated name gets every raw value in order; the others stay as node gave them', () => {
    const h = { host: 'a', location: 'l1', apikey: 'k1, k2', accept: '*/*' }
    const raw = ['Host', 'a', 'Location', 'l1', 'location', 'l2', 'apikey', 'k1', 'APIKEY', 'k2', 'Accept', '*/*']
    const out = requestHeaderValues(h, raw)
    assert.deepEqual({ ...out }, { host: 'a', location: ['l1', 'l2'], apikey: ['k1', 'k2'], accept: '*/*' })
    assert.deepEqual(h, { host: 'a', location: 'l1', apikey: 'k1, k2', accept: '*/*' })
  })
  test('a repeated __proto__ header is an own value, never the prototype', () => {
    const h: Record<string, string> = { host: 'a' }
    Object.defineProperty(h, '__proto__', { value: 'x, y', enumerable: true })
    const out = requestHeaderValues(h, ['Host', 'a', '__proto__', 'x', '__proto__', 'y'])
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, ['x', 'y'])
    assert.equal(Object.getPrototypeOf(out), Object.prototype)
  })
  // Kong 3.9.3 kong/tools/http.lua get_header (what kong.request.get_header calls)
  test('kongHeaderValue: the first of a repeated header; Cookie joined as $http_cookie, unless a value holds ", "', () => {
    assert.equal(kongHeaderValue('x-a', ['1', '2']), '1')
    assert.equal(kongHeaderValue('content-type', ['application/json', 'text/plain']), 'application/json')
    assert.equal(kongHeaderValue('cookie', ['a=1', 'b=2']), 'a=1; b=2')
    assert.equal(kongHeaderValue('cookie', ['a=1, x', 'b=2']), 'a=1, x')
    assert.equal(kongHeaderValue('x-a', 'v, w'), 'v, w')
    assert.equal(kongHeaderValue('x-a', undefined), undefined)
  })
})
