/** proxy-cache: Kong's cache key, content type matching, Cache-Control parsing, the memory store. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import { buildCacheKey, CACHE_VERSION, headersKey, MemoryStore, paramsKey, prefixUuid } from '../../../../src/plugins/proxy-cache/cache.js'
import { contentTypeCacheable, parseDirectives, parseMime, resourceTtl } from '../../../../src/plugins/proxy-cache/handler.js'

describe('proxy-cache key', () => {
  test('prefix: consumer:route, route, default', () => {
    assert.equal(prefixUuid('c', 'r'), 'c:r')
    assert.equal(prefixUuid(null, 'r'), 'r')
    assert.equal(prefixUuid(null, null), 'default')
  })
  test('params: all sorted when none configured; arrays sorted and joined; bare flags', () => {
    assert.equal(paramsKey({ b: '2', a: '1', f: true, m: ['z', 'y'] }, null), 'a=1:b=2:f:m=y,z')
    assert.equal(paramsKey({ b: '2', a: '1' }, ['b', 'zz']), 'b=2')
  })
  test('headers: only configured ones, names case-insensitive', () => {
    assert.equal(headersKey({ 'x-tenant': 't1', other: 'x' }, ['X-Tenant']), 'X-Tenant=t1')
    assert.equal(headersKey({ 'x-tenant': 't1' }, []), '')
  })
  test('sha256 hex of prefix|method|uri|params|headers', () => {
    const key = buildCacheKey({ consumerId: null, routeId: 'r1', method: 'GET', uri: '/a', query: { q: '1' }, headers: {} })
    assert.equal(key, createHash('sha256').update('r1|GET|/a|q=1|').digest('hex'))
  })
})

describe('proxy-cache response checks', () => {
  const types = ['text/plain', 'application/json', 'image/*'].map((t) => parseMime(t)!)
  test('content type: exact type/subtype and parameters, wildcards', () => {
    assert.ok(contentTypeCacheable(types, 'application/json'))
    assert.ok(contentTypeCacheable(types, 'Application/JSON'))
    assert.ok(!contentTypeCacheable(types, 'application/json; charset=utf-8'))
    assert.ok(contentTypeCacheable(types, 'image/png'))
    assert.ok(!contentTypeCacheable(types, 'text/html'))
    assert.ok(!contentTypeCacheable(types, undefined))
  })
  test('Cache-Control directives and the resource ttl', () => {
    assert.deepEqual(parseDirectives('public, max-age=60, no-cache, x="y"'), { public: true, 'max-age': 60, 'no-cache': true, x: 'y' })
    assert.equal(resourceTtl(parseDirectives('max-age=60, s-maxage=10'), undefined, 0), 10)
    assert.equal(resourceTtl({}, new Date(100_000).toUTCString(), 40), 60)
    assert.equal(resourceTtl({}, undefined, 0), 0)
  })
})

describe('proxy-cache memory store', () => {
  const res = (body: string) => ({
    status: 200,
    headers: {},
    body: Buffer.from(body),
    body_len: body.length,
    timestamp: 0,
    ttl: 1,
    version: CACHE_VERSION,
    req_body: '',
  })
  test('entries expire after their storage ttl', () => {
    let now = 0
    const s = new MemoryStore(1 << 20, () => now)
    s.store('k', res('x'), 2)
    assert.ok(s.fetch('k') !== null)
    now = 2001
    assert.equal(s.fetch('k'), null)
  })
  test('bounded in bytes: the oldest entries go first', () => {
    const s = new MemoryStore(1000, () => 0)
    for (let i = 0; i < 10; i++) s.store(`k${i}`, res('y'.repeat(200)), 60)
    assert.ok(s.size < 10)
    assert.equal(s.fetch('k0'), null)
    assert.ok(s.fetch('k9') !== null)
  })
})
