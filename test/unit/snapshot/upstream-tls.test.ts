/**
 * A service's upstream TLS settings compiled from its row, the stored CA certificates and
 * certificates, and kong.conf's trust (Kong 3.9 `upstream_ssl.lua`).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TlsMaterial, upstreamTrust } from '../../../src/snapshot/upstream-tls.js'

const material = new TlsMaterial(
  [
    { id: 'ca-1', cert: 'CA-ONE' },
    { id: 'ca-2', cert: 'CA-TWO' },
  ],
  [{ id: 'crt-1', cert: 'CLIENT-CERT', key: 'CLIENT-KEY' }],
)
const trust = upstreamTrust(['SYSTEM-CA', 'FILE-CA'], 1)

describe('TlsMaterial.compile', () => {
  test('tls_verify null or false: no verification, no CAs (Kong: proxy_ssl_verify off)', () => {
    for (const tls_verify of [null, false]) {
      const t = material.compile({ tls_verify, ca_certificates: ['ca-1'] }, trust)
      assert.equal(t.verify, false)
      assert.deepEqual(t.ca, [])
    }
  })

  test("tls_verify=true trusts the service's ca_certificates instead of lua_ssl_trusted_certificate", () => {
    assert.deepEqual(material.compile({ tls_verify: true, ca_certificates: ['ca-2', 'ca-1'] }, trust).ca, ['CA-TWO', 'CA-ONE'])
    assert.deepEqual(material.compile({ tls_verify: true, ca_certificates: null }, trust).ca, ['SYSTEM-CA', 'FILE-CA'])
    assert.deepEqual(material.compile({ tls_verify: true, ca_certificates: [] }, trust).ca, ['SYSTEM-CA', 'FILE-CA'])
  })

  test('tls_verify_depth wins over lua_ssl_verify_depth', () => {
    assert.equal(material.compile({ tls_verify: true, tls_verify_depth: 4 }, trust).verifyDepth, 4)
    assert.equal(material.compile({ tls_verify: true, tls_verify_depth: null }, trust).verifyDepth, 1)
  })

  test('client_certificate: the stored certificate and key are presented', () => {
    const t = material.compile({ client_certificate: { id: 'crt-1' } }, trust)
    assert.equal(t.cert, 'CLIENT-CERT')
    assert.equal(t.key, 'CLIENT-KEY')
    assert.equal(material.compile({ client_certificate: null }, trust).cert, null)
  })

  test("a balanced service without client_certificate presents its upstream entity's; its own wins", () => {
    const upstream = { name: 'pool', client_certificate: { id: 'crt-1' } }
    assert.equal(material.compile({ client_certificate: null }, trust, upstream).cert, 'CLIENT-CERT')
    const own = new TlsMaterial(
      [],
      [
        { id: 'crt-1', cert: 'UPSTREAM-CERT', key: 'K1' },
        { id: 'crt-2', cert: 'SERVICE-CERT', key: 'K2' },
      ],
    )
    assert.equal(own.compile({ client_certificate: { id: 'crt-2' } }, trust, upstream).cert, 'SERVICE-CERT')
  })

  test('different settings never share a connection pool key; equal settings do', () => {
    const ids = new Set(
      [
        {},
        { tls_verify: true },
        { tls_verify: true, ca_certificates: ['ca-1'] },
        { tls_verify: true, ca_certificates: ['ca-2'] },
        { tls_verify: true, tls_verify_depth: 3 },
        { client_certificate: { id: 'crt-1' } },
      ].map((row) => material.compile(row, trust).id),
    )
    assert.equal(ids.size, 6)
    assert.equal(material.compile({ tls_verify: true }, trust).id, material.compile({ tls_verify: true }, trust).id)
  })
})
