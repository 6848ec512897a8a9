/** kong.conf's ssl_dhparam: RFC 7919 groups computed as openssl knows them, PEM files and text, refusals. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { createSecureContext } from 'node:tls'
import { ffdhePrime, parseDhParam } from '../../../src/config/dhparam.js'
import { ValueProblem } from '../../../src/config/value-problem.js'

/** openssl's own PEM of a named group. */
function opensslPem(group: string): string {
  return execFileSync('openssl', ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', `group:${group}`], { encoding: 'utf8' })
}

describe('ssl_dhparam', () => {
  for (const group of ['ffdhe2048', 'ffdhe3072', 'ffdhe4096', 'ffdhe6144', 'ffdhe8192']) {
    test(`${group} is RFC 7919's group, the PEM openssl writes for it`, () => {
      assert.equal(parseDhParam(group, '/')?.pem, opensslPem(group))
    })
  }

  test('a group becomes PEM node loads; a file and PEM text (or its base64) are taken as they are', () => {
    const r = parseDhParam('ffdhe2048', '/')
    assert.ok(r !== null)
    assert.equal(r.source, 'ffdhe2048')
    createSecureContext({ dhparam: r.pem })
    const dir = mkdtempSync(join(tmpdir(), 'turnpike-dh-'))
    try {
      writeFileSync(join(dir, 'dh.pem'), r.pem)
      assert.deepEqual(parseDhParam('dh.pem', dir), { pem: r.pem, source: join(dir, 'dh.pem') })
      assert.equal(parseDhParam(r.pem, dir)?.pem, r.pem.trim())
      assert.equal(parseDhParam(Buffer.from(r.pem).toString('base64'), dir)?.pem, r.pem)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    assert.equal(parseDhParam('', '/'), null)
  })

  test('what is not DH parameters is refused', () => {
    assert.throws(
      () => parseDhParam('/nonexistent/dh.pem', '/'),
      /failed loading DH parameters from \/nonexistent\/dh\.pem \(no such file\)/,
    )
    assert.throws(() => parseDhParam('ffdhe1024', '/'), ValueProblem)
    assert.throws(
      () => parseDhParam('-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----', '/'),
      /failed loading DH parameters/,
    )
    assert.equal(ffdhePrime('ffdhe1024'), null)
  })
})
