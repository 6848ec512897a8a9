/**
 * Kong's schema-violation message (kong/db/errors.lua at 3.9.3, `schema_violation`): entity-level
 * messages first, then the fields in sorted order, nested fields as `field.sub`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { schemaViolation } from '../../../src/errors/db-errors.js'

test('entity-level messages come first, then fields sorted by name', () => {
  const err = schemaViolation({
    service: { protocol: 'expected one of: http, https' },
    '@entity': ["must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'http'"],
    name: 'invalid value',
    protocols: ['expected one of: http, https'],
  })
  assert.equal(
    err.message,
    "4 schema violations (must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'http'; " +
      'name: invalid value; protocols.1: expected one of: http, https; service.protocol: expected one of: http, https)',
  )
  assert.equal(schemaViolation({ host: 'required field missing' }).message, 'schema violation (host: required field missing)')
})
