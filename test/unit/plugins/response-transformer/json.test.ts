/** response-transformer JSON transforms and content-type detection, no gateway. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  isJsonContentType,
  splitPair,
  transformJson,
  type ResponseTransformerConfig,
} from '../../../../src/plugins/response-transformer/index.js'

const empty = { json: [], headers: [], json_types: [] }
type Lists = { readonly [K in keyof ResponseTransformerConfig]?: Partial<ResponseTransformerConfig[K]> }
const conf = (c: Lists): ResponseTransformerConfig => ({
  remove: { ...empty, ...c.remove },
  rename: { ...empty, ...c.rename },
  replace: { ...empty, ...c.replace },
  add: { ...empty, ...c.add },
  append: { ...empty, ...c.append },
})

describe('response-transformer JSON', () => {
  test('remove → rename → replace → add → append', () => {
    const out = transformJson(
      conf({
        remove: { json: ['a'] },
        rename: { json: ['b:c'] },
        replace: { json: ['c:C'] },
        add: { json: ['d:D', 'c:no'] },
        append: { json: ['e:2', 'f:1'] },
      }),
      '{"a":1,"b":"x","e":"1","f":[0]}',
    )
    assert.deepEqual(JSON.parse(out ?? ''), { c: 'C', d: 'D', e: ['1', '2'], f: [0, '1'] })
  })

  test('json_types by position: number, boolean, string; an unparsable number is skipped', () => {
    const out = transformJson(
      conf({
        add: { json: ['n:1.5', 'b:true', 'f:yes', 's:7', 'bad:abc'], json_types: ['number', 'boolean', 'boolean', 'string', 'number'] },
      }),
      '{}',
    )
    assert.deepEqual(JSON.parse(out ?? ''), { n: 1.5, b: true, f: false, s: '7' })
  })

  test('Lua truthiness: replace skips false values, add overwrites them; null counts as present', () => {
    const out = transformJson(conf({ replace: { json: ['f:r', 'z:r'] }, add: { json: ['f:a', 'z:a'] } }), '{"f":false,"z":null}')
    assert.deepEqual(JSON.parse(out ?? ''), { f: 'a', z: 'r' })
  })

  test('non-objects and invalid JSON are left alone', () => {
    assert.equal(transformJson(conf({ add: { json: ['a:1'] } }), '[1,2]'), null)
    assert.equal(transformJson(conf({ add: { json: ['a:1'] } }), '{oops'), null)
  })

  test('content types: application/json with parameters or in a list; not +json', () => {
    assert.equal(isJsonContentType('application/json'), true)
    assert.equal(isJsonContentType('Application/JSON; charset=utf-8'), true)
    assert.equal(isJsonContentType('text/plain, application/json'), true)
    assert.equal(isJsonContentType('application/problem+json'), false)
    assert.equal(isJsonContentType(undefined), false)
    assert.deepEqual(splitPair('x:y:z'), ['x', 'y:z'])
  })
})
