/**
 * The form decoders with hostile input: huge array indices, prototype keys, very deep keys, many
 * fields; and the JSON depth scan the Admin API runs before JSON.parse.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  ADMIN_MAX_ARGS,
  countFields,
  decodeFlatPairs,
  decodeFormPairs,
  FORM_MAX_KEY_DEPTH,
  keyToPath,
} from '../../../src/codec/form-decode.js'
import { jsonDeeperThan } from '../../../src/codec/json-depth.js'

/** Plain copies (the decoders return null-prototype objects) for deepEqual against literals. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown
}

describe('decodeFormPairs', () => {
  test('Kong shapes: repeated names, [] and [n] arrays, dotted records', () => {
    const out = decodeFormPairs(
      new URLSearchParams('paths=/a&paths=/b&hosts[]=x&hosts[]=y&methods[2]=POST&methods[1]=GET&service.id=s1&config.limits[1].minute=5'),
    )
    assert.deepEqual(plain(out), {
      paths: ['/a', '/b'],
      hosts: ['x', 'y'],
      methods: ['GET', 'POST'],
      service: { id: 's1' },
      config: { limits: [{ minute: '5' }] },
    })
  })

  test('a huge array index is one entry, not billions of slots; holes are dropped', () => {
    const started = performance.now()
    const out = decodeFormPairs([
      ['x[4294967294]', '1'],
      ['paths[4294967295]', 'z'],
      ['paths[1]', 'a'],
      ['paths[]', 'after'],
      ['y[99999999999999999999999]', 'big'],
    ])
    assert.ok(performance.now() - started < 1000, 'decoded at once')
    assert.deepEqual(plain(out), { x: ['1'], paths: ['a', 'z', 'after'], y: ['big'] })
  })

  test('__proto__, constructor and prototype are ordinary own names: nothing reaches Object.prototype', () => {
    const out = decodeFormPairs(
      new URLSearchParams(
        '__proto__.tags[]=evil&__proto__.apikey=k&constructor.prototype.polluted=1&prototype=p&a.__proto__.b=c&__proto__=v',
      ),
    )
    const probe: Record<string, unknown> = {}
    assert.equal(probe['tags'], undefined)
    assert.equal(probe['apikey'], undefined)
    assert.equal(probe['polluted'], undefined)
    assert.equal(({} as Record<string, unknown>)['b'], undefined)
    assert.equal(Object.getPrototypeOf(out), null)
    assert.deepEqual(Object.keys(out).sort(), ['__proto__', 'a', 'constructor', 'prototype'])
    assert.ok(Object.hasOwn(out, '__proto__'))
    assert.deepEqual(plain((out['a'] as Record<string, unknown>)['__proto__']), { b: 'c' })
  })

  test('a key of 2,000 or 200,000 parts decodes without recursion; parts past the limit stay one name', () => {
    const key = Array(200_000).fill('a').join('.')
    const started = performance.now()
    const path = keyToPath(key)
    assert.ok(performance.now() - started < 2000, 'linear')
    assert.equal(path.length, FORM_MAX_KEY_DEPTH)
    assert.equal(path[0], 'a')
    assert.equal((path[FORM_MAX_KEY_DEPTH - 1] as string).length, key.length - 2 * (FORM_MAX_KEY_DEPTH - 1))
    const out = decodeFormPairs([[Array(2000).fill('a').join('.'), 'x']])
    assert.deepEqual(Object.keys(out), ['a'])
  })

  test('a long key of brackets and dots costs linear time (no regex backtracking)', () => {
    const key = 'a' + '[1'.repeat(100_000) + '.'.repeat(100_000) + ']x'
    const started = performance.now()
    keyToPath(key)
    decodeFormPairs([[key, 'v']])
    assert.ok(performance.now() - started < 2000)
  })

  test('`]` before every dot with no `[n]` to close costs linear time too (a[x].x].x]…)', () => {
    assert.deepEqual(keyToPath('a[x].x]'), ['a[x]', 'x]'])
    assert.deepEqual(keyToPath('a[x].b[2]'), ['a[x]', 'b', 2])
    const key = 'a[' + 'x].'.repeat(300_000) + 'x]'
    const started = performance.now()
    const path = keyToPath(key)
    // Searching back for any `[` at each step made this quadratic: minutes at this size.
    assert.ok(performance.now() - started < 2000, `${Math.round(performance.now() - started)} ms`)
    assert.equal(path.length, FORM_MAX_KEY_DEPTH)
  })
})

describe('decodeFlatPairs (the PDK get_body shape)', () => {
  test('flat names, repeated ones as arrays, prototype names as own keys, at most maxArgs pairs', () => {
    const out = decodeFlatPairs(
      new URLSearchParams('__proto__.apikey=k&__proto__=a&__proto__=b&x[4294967294]=1&constructor=c&n=1&n=2'),
      100,
    )
    assert.equal(({} as Record<string, unknown>)['apikey'], undefined)
    assert.deepEqual(plain(out), {
      '__proto__.apikey': 'k',
      ['__proto__']: ['a', 'b'],
      'x[4294967294]': '1',
      constructor: 'c',
      n: ['1', '2'],
    })
    const many = new URLSearchParams(Array.from({ length: 150 }, (_, i) => `k${i}=v`).join('&'))
    assert.equal(Object.keys(decodeFlatPairs(many, 100)).length, 100)
  })
})

describe('limits the Admin API checks before decoding', () => {
  test('countFields counts non-empty &-separated fields', () => {
    assert.equal(countFields(''), 0)
    assert.equal(countFields('a=1&&b&'), 2)
    assert.equal(
      countFields(
        Array(ADMIN_MAX_ARGS + 1)
          .fill('a=1')
          .join('&'),
      ),
      ADMIN_MAX_ARGS + 1,
    )
  })

  test('jsonDeeperThan: nesting counted outside strings only', () => {
    assert.equal(jsonDeeperThan('{"a":[[1]]}', 3), false)
    assert.equal(jsonDeeperThan('{"a":[[[1]]]}', 3), true)
    assert.equal(jsonDeeperThan('{"a":"[[[[[[\\"[[[["}', 1), false)
    assert.equal(jsonDeeperThan('['.repeat(1001) + ']'.repeat(1001), 1000), true)
    assert.equal(jsonDeeperThan('['.repeat(1000) + ']'.repeat(1000), 1000), false)
  })
})
