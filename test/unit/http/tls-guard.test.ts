/**
 * nginx's first-byte test on a TLS listener (tls-guard.ts): a TLS record or an SSLv2 hello starts
 * a handshake, anything else (an HTTP method's first letter) is plain HTTP.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startsTls } from '../../../src/http/tls-guard.js'

test('a TLS record (0x16) and an SSLv2 hello (top bit set) start a handshake', () => {
  assert.equal(startsTls(0x16), true)
  assert.equal(startsTls(0x80), true)
  assert.equal(startsTls(0xff), true)
})

test('an HTTP request line, or any other byte, is plain HTTP', () => {
  for (const c of 'GPDHOCT') assert.equal(startsTls(c.charCodeAt(0)), false, c)
  assert.equal(startsTls(0x00), false)
  assert.equal(startsTls(0x15), false)
  assert.equal(startsTls(0x7f), false)
})
