/**
 * Declarative text nested deeper than Kong's parsers allow (cjson's 1000 levels) is refused with
 * Kong's parse error, before anything recursive walks it; a YAML alias that contains itself too.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DeclarativeError } from '../../../src/declarative/errors.js'
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
    assert.match(refused(`_format_version: "3.0"\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'kong.yml'), /^failed parsing declarative configuration/)
  })
  test('a YAML anchor that contains itself is refused, not walked forever', () => {
    assert.match(refused('_format_version: "3.0"\nx: &a [ *a ]\n', 'kong.yml'), /^failed parsing declarative configuration/)
  })
  test('nesting within the limit is parsed', () => {
    const ok = parseDeclarativeText(`{"_format_version":"3.0","x":${'['.repeat(998)}${']'.repeat(998)}}`)
    assert.equal(ok['_format_version'], '3.0')
  })
})
