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

  test('tags: and, or, mixed, too many, bad characters', () => {
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
    assert.equal(
      message(() => parseTagsParam('a b')),
      "INVALID_OPTIONS: invalid option (tags: must only contain alphanumeric and '., -, _, ~' characters)",
    )
  })

  test('luaPretty prints like Kong messages', () => {
    assert.equal(luaPretty({ name: 'x' }), '{name="x"}')
    assert.equal(luaPretty({ service: { id: 'u' }, name: 'p', route: null }), '{name="p",route=null,service={id="u"}}')
    assert.equal(luaPretty({ 'x-y': ['a', 1] }), '{["x-y"]={"a",1}}')
  })
})
