/** Unit tests for the every-value view of request headers (src/codec/request-header-values.ts). */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { joinedHeaderValue, requestHeaderValues } from '../../../src/codec/request-header-values.js'

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
  test("joinedHeaderValue: nginx's $http_<name> joining", () => {
    assert.equal(joinedHeaderValue('x-a', ['1', '2']), '1, 2')
    assert.equal(joinedHeaderValue('cookie', ['a=1', 'b=2']), 'a=1; b=2')
    assert.equal(joinedHeaderValue('x-a', 'v'), 'v')
    assert.equal(joinedHeaderValue('x-a', undefined), undefined)
  })
})
