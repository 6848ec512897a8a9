/** lua_ssl_trusted_certificate read at start: system store, PEM files, and the files refused. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { loadUpstreamTrust } from '../../../src/runtime/upstream-trust.js'
import { makeCert } from '../../helpers/certs.js'

describe('loadUpstreamTrust', () => {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-trust-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const a = makeCert({ ca: true, cn: 'A' })
  const b = makeCert({ ca: true, cn: 'B' })

  test('every certificate of each file, in order, after the system store; the depth is kept', () => {
    writeFileSync(join(dir, 'two.pem'), `${a.cert}\n${b.cert}`)
    const files = loadUpstreamTrust({ lua_ssl_trusted_certificate: [join(dir, 'two.pem')], lua_ssl_verify_depth: 3 })
    assert.equal(files.ca.length, 2)
    assert.equal(files.ca[0]?.trim(), a.cert.trim())
    assert.equal(files.verifyDepth, 3)
    const both = loadUpstreamTrust({ lua_ssl_trusted_certificate: ['system', join(dir, 'two.pem')], lua_ssl_verify_depth: 1 })
    assert.equal(both.ca.length >= 2, true)
    assert.equal(both.ca.at(-1)?.trim(), b.cert.trim())
    assert.notEqual(both.id, files.id)
  })

  test('a file without a certificate, or with one that does not load, is refused naming the file', () => {
    writeFileSync(join(dir, 'empty.pem'), 'nothing here')
    assert.throws(
      () => loadUpstreamTrust({ lua_ssl_trusted_certificate: [join(dir, 'empty.pem')], lua_ssl_verify_depth: 1 }),
      /lua_ssl_trusted_certificate: .*empty\.pem holds no PEM certificate/,
    )
    writeFileSync(join(dir, 'bad.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
    assert.throws(
      () => loadUpstreamTrust({ lua_ssl_trusted_certificate: [join(dir, 'bad.pem')], lua_ssl_verify_depth: 1 }),
      /bad\.pem holds a certificate that does not load/,
    )
  })
})
