/** request-size-limiting's pure parts: units and Content-Length parsing (Lua's tonumber). */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseContentLength, prepareRequestSizeLimiting } from '../../../../src/plugins/request-size-limiting/index.js'

describe('request-size-limiting', () => {
  test('units are binary: kilobytes = 1024 bytes, megabytes = 1048576', () => {
    assert.equal(
      prepareRequestSizeLimiting({ allowed_payload_size: 128, size_unit: 'megabytes', require_content_length: false }).allowedBytes,
      128 * 1048576,
    )
    assert.equal(
      prepareRequestSizeLimiting({ allowed_payload_size: 2, size_unit: 'kilobytes', require_content_length: false }).allowedBytes,
      2048,
    )
    assert.equal(
      prepareRequestSizeLimiting({ allowed_payload_size: 10, size_unit: 'bytes', require_content_length: false }).allowedBytes,
      10,
    )
  })

  test('Content-Length values as Lua tonumber reads them', () => {
    assert.equal(parseContentLength('42'), 42)
    assert.equal(parseContentLength(' 42 '), 42)
    assert.equal(parseContentLength('0x10'), 16)
    assert.equal(parseContentLength(''), null)
    assert.equal(parseContentLength('abc'), null)
    assert.equal(parseContentLength(undefined), null)
  })
})
