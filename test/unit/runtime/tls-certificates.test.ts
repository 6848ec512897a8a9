/** The TLS listeners' default certificates: kong.conf's ssl_cert settings, or Kong's generated self-signed pairs. */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { clientCertificate, ignoredTlsSettings, listenerCertificates } from '../../../src/runtime/tls-certificates.js'
import { makeCert } from '../../helpers/certs.js'
import { load, tempDir } from '../config/helpers.js'

describe('listenerCertificates', () => {
  const pair = makeCert({ cn: 'configured.test' })

  test('ssl_cert / ssl_cert_key as files, PEM text or base64 of PEM', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'c.crt'), pair.cert)
    writeFileSync(join(dir, 'c.key'), pair.key)
    const fromFiles = load({ overrides: { prefix: dir, ssl_cert: join(dir, 'c.crt'), ssl_cert_key: join(dir, 'c.key') } })
    assert.deepEqual(listenerCertificates(fromFiles, 'proxy', { generate: true }), [pair])
    const inline = load({
      overrides: { prefix: dir, admin_ssl_cert: pair.cert, admin_ssl_cert_key: Buffer.from(pair.key).toString('base64') },
    })
    // PEM text in a setting is trimmed, as every setting's value
    assert.deepEqual(listenerCertificates(inline, 'admin', { generate: true }), [{ cert: pair.cert.trim(), key: pair.key }])
  })

  test("a certificate or key that does not load stops the start with Kong's message", () => {
    const dir = tempDir()
    const missing = load({ overrides: { prefix: dir, ssl_cert: '/nowhere/x.crt', ssl_cert_key: '/nowhere/x.key' } })
    assert.throws(() => listenerCertificates(missing, 'proxy', { generate: true }), {
      message: 'ssl_cert: failed loading certificate from /nowhere/x.crt',
    })
    writeFileSync(join(dir, 'c.crt'), pair.cert)
    const badKey = load({
      overrides: {
        prefix: dir,
        status_listen: '127.0.0.1:8007 ssl',
        status_ssl_cert: join(dir, 'c.crt'),
        status_ssl_cert_key: join(dir, 'c.crt'),
      },
    })
    assert.throws(() => listenerCertificates(badKey, 'status', { generate: true }), {
      message: `status_ssl_cert_key: failed loading key from ${join(dir, 'c.crt')}`,
    })
  })

  test("without settings: Kong's self-signed RSA and ECDSA pairs, generated once into <prefix>/ssl/", () => {
    const dir = tempDir()
    const config = load({ overrides: { prefix: dir } })
    const pairs = listenerCertificates(config, 'proxy', { generate: true })
    assert.equal(pairs.length, 2)
    const [rsa, ec] = pairs.map((p) => new X509Certificate(p.cert))
    assert.equal(rsa?.publicKey.asymmetricKeyType, 'rsa')
    assert.equal(ec?.publicKey.asymmetricKeyType, 'ec')
    assert.match(rsa?.subject ?? '', /O=Kong[\s\S]*CN=localhost/)
    assert.equal(pairs[0]?.cert, readFileSync(join(dir, 'ssl', 'kong-default.crt'), 'utf8'))
    assert.equal((statSync(join(dir, 'ssl', 'kong-default.key')).mode & 0o777).toString(8), '600')
    // kept across restarts; workers read them without generating
    assert.deepEqual(listenerCertificates(config, 'proxy', { generate: false }), pairs)
    assert.deepEqual(listenerCertificates(config, 'proxy', { generate: true }), pairs)
  })
})

describe('ignoredTlsSettings', () => {
  test('ssl_protocols, ssl_ciphers and ssl_prefer_server_ciphers changed without the custom suite are named', () => {
    assert.equal(ignoredTlsSettings(load()), null)
    assert.equal(
      ignoredTlsSettings(load({ overrides: { ssl_protocols: 'TLSv1.3' } })),
      'ssl_protocols is ignored: ssl_cipher_suite is intermediate, not custom (as in Kong)',
    )
    assert.equal(
      ignoredTlsSettings(load({ overrides: { ssl_cipher_suite: 'modern', ssl_ciphers: 'AES128-SHA', ssl_prefer_server_ciphers: 'off' } })),
      'ssl_ciphers, ssl_prefer_server_ciphers are ignored: ssl_cipher_suite is modern, not custom (as in Kong)',
    )
    assert.equal(ignoredTlsSettings(load({ overrides: { ssl_cipher_suite: 'custom', ssl_protocols: 'TLSv1.3' } })), null)
    assert.equal(
      ignoredTlsSettings(load({ overrides: { ssl_protocols: 'TLSv1.3', proxy_listen: '127.0.0.1:8000', admin_listen: 'off' } })),
      null,
    )
  })
  test('ssl_dhparam is named unless the suite is old or custom', () => {
    assert.equal(
      ignoredTlsSettings(load({ overrides: { ssl_dhparam: 'ffdhe3072', ssl_protocols: 'TLSv1.3' } })),
      'ssl_protocols is ignored: ssl_cipher_suite is intermediate, not custom; ssl_dhparam is ignored: ssl_cipher_suite is intermediate, not old or custom (as in Kong)',
    )
    assert.equal(ignoredTlsSettings(load({ overrides: { ssl_dhparam: 'ffdhe3072', ssl_cipher_suite: 'old' } })), null)
  })
})

describe('clientCertificate (client_ssl)', () => {
  test('off: none; on: the pair from files or PEM text; a file that does not load is named as Kong does', () => {
    const pair = makeCert({ cn: 'client.test' })
    assert.equal(clientCertificate(load()), null)
    assert.deepEqual(
      clientCertificate(load({ overrides: { client_ssl: 'on', client_ssl_cert: pair.cert, client_ssl_cert_key: pair.key } })),
      { cert: pair.cert.trim(), key: pair.key.trim() },
    )
    const dir = tempDir()
    writeFileSync(join(dir, 'c.crt'), 'not a certificate')
    assert.throws(
      () =>
        clientCertificate(load({ overrides: { client_ssl: 'on', client_ssl_cert: join(dir, 'c.crt'), client_ssl_cert_key: pair.key } })),
      { message: `client_ssl_cert: failed loading certificate from ${join(dir, 'c.crt')}` },
    )
  })
})
