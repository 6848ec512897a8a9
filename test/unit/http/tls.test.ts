/** kong.conf's TLS settings as node options, and the per-certificate contexts kept across configurations. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CertificateContexts, tlsPolicy } from '../../../src/http/tls.js'
import { makeCert } from '../../helpers/certs.js'

const settings = {
  ssl_cipher_suite: 'intermediate',
  ssl_ciphers: null,
  ssl_protocols: ['TLSv1.2', 'TLSv1.3'],
  ssl_prefer_server_ciphers: true,
} as const

describe('tlsPolicy', () => {
  test("predefined suites set the protocols, ignoring ssl_protocols (Kong's parse.lua)", () => {
    const intermediate = tlsPolicy({ ...settings, ssl_protocols: ['TLSv1.3'] })
    assert.deepEqual([intermediate.minVersion, intermediate.maxVersion, intermediate.honorCipherOrder], ['TLSv1.2', 'TLSv1.3', false])
    assert.match(String(intermediate.ciphers), /^ECDHE-ECDSA-AES128-GCM-SHA256:.*:DHE-RSA-CHACHA20-POLY1305$/)
    const modern = tlsPolicy({ ...settings, ssl_cipher_suite: 'modern' })
    assert.deepEqual([modern.minVersion, modern.maxVersion, modern.ciphers], ['TLSv1.3', 'TLSv1.3', undefined])
    const old = tlsPolicy({ ...settings, ssl_cipher_suite: 'old' })
    assert.deepEqual([old.minVersion, old.maxVersion, old.honorCipherOrder], ['TLSv1', 'TLSv1.3', true])
    assert.match(String(old.ciphers), /DES-CBC3-SHA:@SECLEVEL=0$/)
  })
  test('custom takes ssl_protocols (oldest to newest listed), ssl_ciphers and ssl_prefer_server_ciphers', () => {
    const p = tlsPolicy({ ...settings, ssl_cipher_suite: 'custom', ssl_protocols: ['TLSv1.3'], ssl_ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })
    assert.deepEqual(p, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', honorCipherOrder: true })
    const noCiphers = tlsPolicy({
      ...settings,
      ssl_cipher_suite: 'custom',
      ssl_protocols: ['TLSv1.1', 'TLSv1.2'],
      ssl_prefer_server_ciphers: false,
    })
    assert.deepEqual(noCiphers, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.2', honorCipherOrder: false })
  })
})

describe('CertificateContexts', () => {
  test('a context per certificate, kept while its PEM text is the same, rebuilt when it changes, dropped when it goes', () => {
    const rsa = makeCert({ cn: 'a.test' })
    const ec = makeCert({ cn: 'a.test', type: 'ec' })
    const other = makeCert({ cn: 'b.test' })
    const errors: string[] = []
    const contexts = new CertificateContexts(tlsPolicy(settings), (id) => errors.push(id))
    const a = { id: 'a', cert: rsa.cert, key: rsa.key, cert_alt: ec.cert, key_alt: ec.key }
    contexts.update([a])
    const first = contexts.get('a')
    assert.ok(first !== undefined)
    contexts.update([{ ...a }])
    assert.equal(contexts.get('a'), first, 'same PEM text: same context')
    contexts.update([{ ...a, cert: other.cert, key: other.key, cert_alt: null, key_alt: null }])
    assert.notEqual(contexts.get('a'), first, 'changed certificate: new context')
    const bad = { id: 'bad', cert: rsa.cert, key: other.key, cert_alt: null, key_alt: null }
    contexts.update([bad])
    assert.equal(contexts.get('a'), undefined, 'removed')
    assert.equal(contexts.get('bad'), undefined)
    assert.deepEqual(errors, ['bad'], 'a key that does not match is reported, not thrown')
    contexts.update([{ ...bad }])
    assert.deepEqual(errors, ['bad'], 'reported once while it does not change')
  })
})
