/** correlation-id's generators, no gateway. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { generateId } from '../../../../src/plugins/correlation-id/index.js'

describe('correlation-id generators', () => {
  test('uuid: a random v4 UUID each time', () => {
    const a = generateId('uuid')
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.notEqual(a, generateId('uuid'))
  })
  test('uuid#counter: one worker UUID and an increasing counter', () => {
    const [u1, n1] = generateId('uuid#counter').split('#')
    const [u2, n2] = generateId('uuid#counter').split('#')
    assert.equal(u1, u2)
    assert.equal(Number(n2), Number(n1) + 1)
  })
  test('tracker: address-port-pid-connection-requests-time', () => {
    assert.match(generateId('tracker'), new RegExp(`^127\\.0\\.0\\.1-0-${process.pid}-\\d+-\\d+-\\d+\\.\\d{3}$`))
  })
})
