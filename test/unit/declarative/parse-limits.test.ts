/**
 * Declarative text nested deeper than Kong's parsers allow (cjson's 1000 levels) is refused with
 * Kong's parse error, before anything recursive walks it; a YAML alias that contains itself too.
 * Prototype names in a configuration are unknown fields, reported as such.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ENTITIES } from '../../../src/entities/index.js'
import { DeclarativeError, errorTree } from '../../../src/declarative/errors.js'
import { entityGraph } from '../../../src/declarative/graph.js'
import { loadDeclarativeText } from '../../../src/declarative/load.js'
import { parseDeclarativeText } from '../../../src/declarative/parse-text.js'

function refused(text: string, name?: string): string {
  try {
    parseDeclarativeText(text, name)
  } catch (err) {
    assert.ok(err instanceof DeclarativeError)
    return err.message
  }
  assert.fail('accepted')
}

describe('declarative parsing limits', () => {
  test('JSON and YAML nested 5,000 deep: failed parsing declarative configuration', () => {
    const deep = `{"_format_version":"3.0","services":[{"name":"s","tags":${'['.repeat(5000)}${']'.repeat(5000)}}]}`
    assert.match(refused(deep), /^failed parsing declarative configuration: Found too many nested data structures/)
    assert.match(
      refused(`_format_version: "3.0"\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'kong.yml'),
      /^failed parsing declarative configuration/,
    )
  })
  test('a YAML anchor that contains itself is refused, not walked forever', () => {
    assert.match(refused('_format_version: "3.0"\nx: &a [ *a ]\n', 'kong.yml'), /^failed parsing declarative configuration/)
  })
  test('nesting within the limit is parsed', () => {
    const ok = parseDeclarativeText(`{"_format_version":"3.0","x":${'['.repeat(998)}${']'.repeat(998)}}`)
    assert.equal(ok['_format_version'], '3.0')
  })
})

describe('declarative input with prototype names', () => {
  test('a __proto__ or constructor field is reported as an unknown field, and nothing is polluted', () => {
    const result = loadDeclarativeText(
      '{"_format_version":"3.0","__proto__":{"polluted":"yes"},"services":[{"name":"s","url":"http://a","__proto__":{"tags":["evil"]},"constructor":{"prototype":{"x":1}}}]}',
      entityGraph(ENTITIES),
    )
    assert.equal(result.ok, false)
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined)
    assert.equal(({} as Record<string, unknown>)['tags'], undefined)
    const tree = errorTree(result.ok ? [] : result.problems) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.ok(Object.hasOwn(tree, '__proto__'), JSON.stringify(tree))
    const service = tree['services'][0]
    assert.equal(service['__proto__'], 'unknown field')
    assert.equal(service['constructor'], 'unknown field')
  })
})
