import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseSizeParam, parseTagsParam, luaPretty } from '../../../src/dao/index.js'
import { DbError } from '../../../src/errors/db-errors.js'

function message(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof DbError)
    return `${err.kind}: ${err.message}`
  }
  return 'no error'
}

describe('query options', () => {
  test('size parsing', () => {
    assert.equal(parseSizeParam(undefined), undefined)
    assert.equal(parseSizeParam('10'), 10)
    assert.equal(
      message(() => parseSizeParam('abc')),
      'INVALID_SIZE: size must be a number',
    )
    assert.equal(
      message(() => parseSizeParam('0')),
      'INVALID_SIZE: size must be an integer between 1 and 1000',
    )
    assert.equal(
      message(() => parseSizeParam('2.5')),
      'INVALID_SIZE: size must be an integer between 1 and 1000',
    )
  })

  test('tags: and, or, mixed, too many, empty, any printable text', () => {
    assert.deepEqual(parseTagsParam('a,b'), { tags: ['a', 'b'], mode: 'and' })
    assert.deepEqual(parseTagsParam('a/b'), { tags: ['a', 'b'], mode: 'or' })
    assert.deepEqual(parseTagsParam('solo'), { tags: ['solo'], mode: 'and' })
    assert.equal(
      message(() => parseTagsParam('a,b/c')),
      'INVALID_OPTIONS: invalid option (tags: invalid filter syntax)',
    )
    assert.equal(
      message(() => parseTagsParam('a,b,c,d,e,f')),
      'INVALID_OPTIONS: invalid option (tags: cannot query more than 5 tags)',
    )
    // Kong 3.9.3 (api/endpoints.lua, db/dao/init.lua): printable ASCII but ',' and '/', and UTF-8.
    assert.deepEqual(parseTagsParam('team: payments,été 2026'), { tags: ['team: payments', 'été 2026'], mode: 'and' })
    assert.deepEqual(parseTagsParam('a!b/c~d'), { tags: ['a!b', 'c~d'], mode: 'or' })
    assert.equal(
      message(() => parseTagsParam('')),
      'INVALID_OPTIONS: invalid option (tags: cannot be null)',
    )
    assert.equal(
      message(() => parseTagsParam('a\tb')),
      'INVALID_OPTIONS: invalid option (tags: invalid filter syntax)',
    )
  })

  test('luaPretty prints like Kong messages', () => {
    assert.equal(luaPretty({ name: 'x' }), '{name="x"}')
    assert.equal(luaPretty({ service: { id: 'u' }, name: 'p', route: null }), '{name="p",route=null,service={id="u"}}')
    assert.equal(luaPretty({ 'x-y': ['a', 1] }), '{["x-y"]={"a",1}}')
  })
})
