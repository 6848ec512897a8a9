/** Certificate selection by SNI, as Kong's certificate.lua orders it: exact, *.x, x.*, `*`, default. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CertificateIndex, wildcardNames } from '../../../src/snapshot/certificates.js'

const cert = (id: string) => ({ id, cert: `CERT-${id}`, key: `KEY-${id}`, cert_alt: null, key_alt: null })
const sni = (name: string, certificate: string) => ({ id: `sni-${name}`, name, certificate: { id: certificate } })

describe('wildcardNames', () => {
  test("Kong's lookups: the first label replaced (three labels or more), the last label replaced", () => {
    assert.deepEqual(wildcardNames('www.example.com'), { prefix: '*.example.com', suffix: 'www.example.*' })
    assert.deepEqual(wildcardNames('example.com'), { prefix: null, suffix: 'example.*' })
    assert.deepEqual(wildcardNames('localhost'), { prefix: null, suffix: null })
    assert.deepEqual(wildcardNames('a.b.c.d'), { prefix: '*.b.c.d', suffix: 'a.b.c.*' })
  })
})

describe('CertificateIndex.find', () => {
  const index = new CertificateIndex(
    [cert('exact'), cert('prefix'), cert('suffix'), cert('all')],
    [sni('api.example.com', 'exact'), sni('*.example.com', 'prefix'), sni('shop.example.*', 'suffix'), sni('other.*', 'suffix')],
  )

  test('an exact name wins over the wildcards', () => {
    assert.equal(index.find('api.example.com')?.id, 'exact')
    assert.equal(index.find('API.Example.com')?.id, 'exact')
  })
  test('then *.x, then x.*', () => {
    assert.equal(index.find('www.example.com')?.id, 'prefix')
    // both wildcards exist: the prefix one (*.example.com) is looked up first
    assert.equal(index.find('shop.example.com')?.id, 'prefix')
    assert.equal(index.find('shop.example.org')?.id, 'suffix')
    assert.equal(index.find('other.net')?.id, 'suffix')
  })
  test('no match: null (the default certificate), unless an SNI named * exists', () => {
    assert.equal(index.find('unknown.test'), null)
    assert.equal(index.find('deep.www.example.com'), null)
    const withCatchAll = new CertificateIndex([cert('exact'), cert('all')], [sni('api.example.com', 'exact'), sni('*', 'all')])
    assert.equal(withCatchAll.find('unknown.test')?.id, 'all')
    assert.equal(withCatchAll.find('api.example.com')?.id, 'exact')
  })
  test('an SNI of a certificate that is not in the configuration is ignored', () => {
    const dangling = new CertificateIndex([], [sni('api.example.com', 'gone')])
    assert.equal(dangling.find('api.example.com'), null)
    assert.deepEqual(dangling.all, [])
  })
  test('all lists every certificate once', () => {
    assert.deepEqual(
      index.all.map((c) => c.id),
      ['exact', 'prefix', 'suffix', 'all'],
    )
  })
})
