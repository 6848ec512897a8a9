/** kong.conf's TLS settings as node options, and the per-certificate contexts kept across configurations. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { constants } from 'node:crypto'
import { CertificateContexts, SessionCache, tlsPolicy } from '../../../src/http/tls.js'
import { makeCert } from '../../helpers/certs.js'

const settings = {
  ssl_cipher_suite: 'intermediate',
  ssl_ciphers: null,
  ssl_protocols: ['TLSv1.2', 'TLSv1.3'],
  ssl_prefer_server_ciphers: true,
  ssl_dhparam: null,
  ssl_session_tickets: true,
  ssl_session_timeout: 86400,
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
    assert.deepEqual(p, {
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
      honorCipherOrder: true,
      sessionTimeout: 86400,
    })
    const noCiphers = tlsPolicy({
      ...settings,
      ssl_cipher_suite: 'custom',
      ssl_protocols: ['TLSv1.1', 'TLSv1.2'],
      ssl_prefer_server_ciphers: false,
    })
    assert.deepEqual(noCiphers, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.2', honorCipherOrder: false, sessionTimeout: 86400 })
  })
  test('ssl_dhparam counts for old and custom only; ssl_session_tickets off sets SSL_OP_NO_TICKET', () => {
    const dh = '-----BEGIN DH PARAMETERS-----\n…\n-----END DH PARAMETERS-----\n'
    assert.equal(tlsPolicy({ ...settings, ssl_cipher_suite: 'old', ssl_dhparam: dh }).dhparam, dh)
    assert.equal(tlsPolicy({ ...settings, ssl_cipher_suite: 'custom', ssl_dhparam: dh }).dhparam, dh)
    assert.equal(tlsPolicy({ ...settings, ssl_cipher_suite: 'modern', ssl_dhparam: dh }).dhparam, undefined)
    assert.equal(tlsPolicy({ ...settings, ssl_dhparam: dh }).dhparam, 'auto', 'intermediate keeps its own group')
    assert.equal(tlsPolicy(settings).secureOptions, undefined)
    const off = tlsPolicy({ ...settings, ssl_session_tickets: false, ssl_session_timeout: 300 })
    assert.equal(off.secureOptions, constants.SSL_OP_NO_TICKET)
    assert.equal(off.sessionTimeout, 300)
  })
})

describe('SessionCache', () => {
  test('keeps sessions by id within its byte size, least recently used out first, none past the timeout', async () => {
    const cache = new SessionCache(100, 1)
    const id = (n: number): Buffer => Buffer.alloc(8, n)
    cache.set(id(1), Buffer.alloc(40, 1))
    cache.set(id(2), Buffer.alloc(40, 2))
    assert.equal(cache.get(id(1))?.[0], 1, 'a hit makes 1 the most recent')
    cache.set(id(3), Buffer.alloc(40, 3))
    assert.equal(cache.get(id(2)), null, '2 was the least recently used')
    assert.equal(cache.size, 2)
    cache.set(id(4), Buffer.alloc(200))
    assert.equal(cache.get(id(4)), null, 'larger than the cache: not kept')
    assert.equal(cache.size, 2)
    await new Promise((r) => setTimeout(r, 1100))
    assert.equal(cache.get(id(1)), null, 'past ssl_session_timeout')
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
