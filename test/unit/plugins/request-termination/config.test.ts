/** request-termination's configuration check and correlation-id's generators, no gateway. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DEFAULT_MESSAGES, validateTerminationConfig } from '../../../../src/plugins/request-termination/index.js'

describe('request-termination config', () => {
  test("Kong's record-level checks", () => {
    assert.equal(validateTerminationConfig({ message: 'x' }), undefined)
    assert.equal(validateTerminationConfig({ body: 'b', content_type: 'text/plain' }), undefined)
    assert.equal(validateTerminationConfig({ message: 'x', body: 'b' }), 'message cannot be used with content_type or body')
    assert.equal(validateTerminationConfig({ content_type: 'text/plain' }), 'content_type requires a body')
    assert.equal(validateTerminationConfig({ echo: true, body: 'b' }), 'echo cannot be used with content_type and body')
    assert.equal(validateTerminationConfig({ message: '', body: 'b' }), undefined, 'empty strings do not count')
  })
  test('default messages', () => {
    assert.equal(DEFAULT_MESSAGES[503], 'Service unavailable')
    assert.equal(DEFAULT_MESSAGES[502], 'Bad Gateway')
    assert.equal(DEFAULT_MESSAGES[200], undefined)
  })
})
