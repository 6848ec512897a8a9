/**
 * certificates, snis, ca_certificates, keys and key_sets through the real Admin API (SQLite),
 * and the real kong.yml files that use them loaded DB-less (read from ../shared/kong/, never
 * copied here).
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { parse } from 'yaml'
import { call, ROOT, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { makeCert, type TestCert } from '../../helpers/certs.js'
import { runTurnpike } from '../../helpers/cli.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const REAL =
  [join(ROOT, '..', 'shared', 'kong', 'realworld-configs'), '/work/shared/kong/realworld-configs'].find((d) => existsSync(d)) ??
  '/work/shared/kong/realworld-configs'

describe('Admin API: certificates, snis, ca_certificates', () => {
  let gw: TestGateway
  let rsa: TestCert
  let other: TestCert
  let ca: TestCert
  before(async () => {
    rsa = makeCert({ cn: 'rsa.example.com' })
    other = makeCert({ cn: 'other.example.com' })
    ca = makeCert({ ca: true, cn: 'Test CA' })
    gw = await startTestGateway()
  })
  after(async () => {
    await gw.stop()
  })
  const admin = (path: string): string => `${gw.adminUrl}${path}`

  test('create with snis, read by id and by SNI name, nested snis, wildcard names', async () => {
    const created = await call('POST', admin('/certificates'), {
      cert: rsa.cert,
      key: rsa.key,
      snis: ['b.example.com', 'a.example.com'],
      tags: ['t1'],
    })
    assert.equal(created.status, 201, created.text)
    assert.deepEqual(created.body.snis, ['a.example.com', 'b.example.com'])
    assert.equal(created.body.cert_alt, null)
    assert.equal(created.body.key, rsa.key)
    assert.equal(created.body.not_after, undefined, 'no field Kong does not have')
    const id = created.body.id as string
    // subject and expiry go to the error log instead
    await gw.waitForLog(new RegExp(`certificate ${id}: subject CN=rsa\\.example\\.com, expires 20\\d\\d-`))

    for (const key of [id, 'a.example.com', 'b.example.com']) {
      const got = await call('GET', admin(`/certificates/${key}`))
      assert.equal(got.status, 200, key)
      assert.equal(got.body.id, id)
      assert.deepEqual(got.body.snis, ['a.example.com', 'b.example.com'])
    }
    const unknown = await call('GET', admin('/certificates/nope.example.com'))
    assert.equal(unknown.status, 404)
    assert.deepEqual(unknown.body, { message: 'SNI not found' })

    const wildcard = await call('POST', admin('/certificates/a.example.com/snis'), { name: '*.wild.example.com' })
    assert.equal(wildcard.status, 201, wildcard.text)
    assert.deepEqual(wildcard.body.certificate, { id })
    const suffix = await call('POST', admin('/snis'), 'name=example.*&certificate.id=' + id, FORM)
    assert.equal(suffix.status, 201, suffix.text)
    const listed = await call('GET', admin(`/certificates/${id}/snis`))
    assert.deepEqual(listed.body.data.map((s: { name: string }) => s.name).sort(), [
      '*.wild.example.com',
      'a.example.com',
      'b.example.com',
      'example.*',
    ])
    const nested = await call('GET', admin(`/certificates/b.example.com/snis/example.*`))
    assert.equal(nested.status, 200)
    assert.equal(nested.body.name, 'example.*')
    const listedCerts = await call('GET', admin('/certificates'))
    assert.deepEqual(listedCerts.body.data[0].snis, ['*.wild.example.com', 'a.example.com', 'b.example.com', 'example.*'])

    const disabled = await call('GET', admin('/snis/a.example.com/certificate'))
    assert.deepEqual([disabled.status, disabled.body], [404, { message: 'Not found' }], 'Kong disables it: use /certificates/{sni}')
    const bad = await call('POST', admin('/snis'), { name: 'a.exam*le.com', certificate: { id } })
    assert.equal(bad.status, 400)
    assert.deepEqual(bad.body.fields, { name: 'wildcard must be leftmost or rightmost character' })
  })

  test("duplicate SNI: 409 on /snis, 400 on a certificate's snis list (Kong's messages)", async () => {
    const first = await call('POST', admin('/certificates'), { cert: rsa.cert, key: rsa.key, snis: ['dup.example.com'] })
    assert.equal(first.status, 201, first.text)
    const again = await call('POST', admin('/snis'), { name: 'dup.example.com', certificate: { id: first.body.id } })
    assert.equal(again.status, 409)
    assert.equal(again.body.code, 5)
    assert.equal(again.body.message, `UNIQUE violation detected on '{name="dup.example.com"}'`)
    const taken = await call('POST', admin('/certificates'), {
      cert: other.cert,
      key: other.key,
      snis: ['new.example.com', 'dup.example.com'],
    })
    assert.equal(taken.status, 400)
    assert.equal(
      taken.body.message,
      `schema violation (snis: dup.example.com already associated with existing certificate '${String(first.body.id)}')`,
    )
    const twice = await call('POST', admin('/certificates'), { cert: other.cert, key: other.key, snis: ['x.example.com', 'x.example.com'] })
    assert.equal(twice.status, 400)
    assert.equal(twice.body.message, 'schema violation (snis: x.example.com is duplicated)')
    assert.equal((await call('GET', admin('/snis/new.example.com'))).status, 404, 'nothing written')
  })

  test("key mismatch: 400 with Kong's message and fields; form posts work", async () => {
    const res = await call('POST', admin('/certificates'), { cert: rsa.cert, key: other.key })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body, {
      code: 2,
      name: 'schema violation',
      message: 'schema violation (certificate does not match key)',
      fields: { '@entity': ['certificate does not match key'] },
    })
    const form = await call(
      'POST',
      admin('/certificates'),
      `cert=${encodeURIComponent(other.cert)}&key=${encodeURIComponent(other.key)}&snis[1]=form1.example.com&snis[2]=form2.example.com`,
      FORM,
    )
    assert.equal(form.status, 201, form.text)
    assert.deepEqual(form.body.snis, ['form1.example.com', 'form2.example.com'])
  })

  test('PUT by SNI name creates a certificate with that name; PATCH replaces the list; PUT without snis clears it', async () => {
    const put = await call('PUT', admin('/certificates/put.example.com'), { cert: rsa.cert, key: rsa.key, snis: ['put2.example.com'] })
    assert.equal(put.status, 200, put.text)
    assert.deepEqual(put.body.snis, ['put.example.com', 'put2.example.com'])
    const id = put.body.id as string
    const patched = await call('PATCH', admin('/certificates/put.example.com'), { snis: 'only.example.com' })
    assert.equal(patched.status, 200, patched.text)
    assert.deepEqual(patched.body.snis, ['only.example.com'])
    assert.equal((await call('GET', admin('/certificates/put.example.com'))).status, 404)
    const replaced = await call('PUT', admin(`/certificates/${id}`), { cert: rsa.cert, key: rsa.key })
    assert.equal(replaced.status, 200, replaced.text)
    assert.deepEqual(replaced.body.snis, [])
  })

  test('deleting a certificate deletes its SNIs', async () => {
    const created = await call('POST', admin('/certificates'), {
      cert: other.cert,
      key: other.key,
      snis: ['gone1.example.com', 'gone2.example.com'],
    })
    assert.equal(created.status, 201, created.text)
    assert.equal((await call('DELETE', admin('/certificates/gone1.example.com'))).status, 204)
    assert.equal((await call('GET', admin(`/certificates/${String(created.body.id)}`))).status, 404)
    assert.equal((await call('GET', admin('/snis/gone1.example.com'))).status, 404)
    assert.equal((await call('GET', admin('/snis/gone2.example.com'))).status, 404)
  })

  test("ca_certificates: digest, Kong's CA message, dangling ids refused, delete refused while referenced", async () => {
    const notCa = await call('POST', admin('/ca_certificates'), { cert: rsa.cert })
    assert.equal(notCa.status, 400)
    assert.equal(
      notCa.body.message,
      'schema violation (certificate does not appear to be a CA because it is missing the "CA" basic constraint)',
    )
    const created = await call('POST', admin('/ca_certificates'), { cert: ca.cert, cert_digest: 'ignored' })
    assert.equal(created.status, 201, created.text)
    assert.match(created.body.cert_digest, /^[0-9a-f]{64}$/)
    const caId = created.body.id as string

    const dangling = '6e4f8c3a-1f57-4b35-9a6e-c4b0d9a2e011'
    const refused = await call('POST', admin('/services'), {
      name: 'tls-svc',
      url: 'https://example.com',
      ca_certificates: [caId, dangling],
    })
    assert.equal(refused.status, 400)
    assert.equal(refused.body.code, 4)
    assert.equal(refused.body.message, `the foreign key '{id="${dangling}"}' does not reference an existing 'ca_certificates' entity.`)
    const cert = await call('POST', admin('/certificates'), { cert: other.cert, key: other.key })
    const svc = await call('POST', admin('/services'), {
      name: 'tls-svc',
      url: 'https://example.com',
      ca_certificates: [caId],
      tls_verify: true,
      tls_verify_depth: 2,
      client_certificate: { id: cert.body.id },
    })
    assert.equal(svc.status, 201, svc.text)
    const badCc = await call('PATCH', admin('/services/tls-svc'), { client_certificate: { id: dangling } })
    assert.equal(badCc.status, 400)
    assert.equal(badCc.body.message, `the foreign key '{id="${dangling}"}' does not reference an existing 'certificates' entity.`)

    const del = await call('DELETE', admin(`/ca_certificates/${caId}`))
    assert.equal(del.status, 400)
    assert.deepEqual(del.body, {
      code: 19,
      name: 'referenced by others',
      message: `ca certificate ${caId} is still referenced by services (id = ${String(svc.body.id)})`,
    })
    assert.equal((await call('GET', admin(`/services/tls-svc/client_certificate`))).body.id, cert.body.id)
    assert.equal((await call('DELETE', admin('/services/tls-svc'))).status, 204)
    assert.equal((await call('DELETE', admin(`/ca_certificates/${caId}`))).status, 204)
  })

  test("/schemas show Kong's fields (snis transient, cert_digest)", async () => {
    const certs = await call('GET', admin('/schemas/certificates'))
    assert.equal(certs.status, 200)
    const snisField = certs.body.fields.find((f: Record<string, unknown>) => 'snis' in f).snis
    assert.equal(snisField.transient, true)
    assert.equal(snisField.type, 'array')
    assert.equal((await call('GET', admin('/schemas/snis'))).status, 200)
    const cas = await call('GET', admin('/schemas/ca_certificates'))
    assert.ok(cas.body.fields.some((f: Record<string, unknown>) => 'cert_digest' in f))
    const valid = await call('POST', admin('/schemas/certificates/validate'), { cert: rsa.cert, key: other.key })
    assert.equal(valid.status, 400)
    assert.equal(valid.body.message, 'schema violation (certificate does not match key)')
  })
})

describe('DB-less: real kong.yml files with certificates, snis and ca_certificates', () => {
  let gw: TestGateway
  before(async () => {
    gw = await startTestGateway({ settings: { database: 'off' } })
  })
  after(async () => {
    await gw.stop()
  })
  const post = (text: string, type = 'text/yaml') => call('POST', `${gw.adminUrl}/config`, text, { 'content-type': type })

  test('KIC golden ingress with TLS: the certificate and its SNIs', async () => {
    const res = await post(
      readFileSync(join(REAL, 'Kong-kubernetes-ingress-controller__golden-ingress-v1-rule-with-tls-and-consumer.yaml'), 'utf8'),
    )
    assert.equal(res.status, 201, res.text)
    const certs = await call('GET', `${gw.adminUrl}/certificates`)
    assert.equal(certs.body.data.length, 1)
    assert.equal(certs.body.data[0].id, 'c6ac927c-4f5a-4e88-8b5d-c7b01d0f43af')
    assert.deepEqual(certs.body.data[0].snis, ['1.example.com', '2.example.com'])
    assert.equal((await call('GET', `${gw.adminUrl}/certificates/2.example.com`)).body.id, 'c6ac927c-4f5a-4e88-8b5d-c7b01d0f43af')
    const write = await call('POST', `${gw.adminUrl}/certificates`, { cert: 'x', key: 'y' })
    assert.equal(write.status, 400, 'the schema error comes before the DB-less refusal, as in Kong')
  })

  test('decK diff-007: ca_certificates with their digests, referenced by a service', async () => {
    const res = await post(readFileSync(join(REAL, 'Kong-go-database-reconciler__diff-007-ca-certs-order__initial.yaml'), 'utf8'))
    assert.equal(res.status, 201, res.text)
    const cas = await call('GET', `${gw.adminUrl}/ca_certificates`)
    const digests = Object.fromEntries(cas.body.data.map((c: { id: string; cert_digest: string }) => [c.id, c.cert_digest]))
    assert.equal(digests['3f994d1e-c70a-4748-b28c-f116453eefb5'], 'b554a4a6fbe1de6bc1b80a2a0f5aca64dde0599188377834eed85e826427247a')
    assert.equal(digests['4bc05ecd-7895-4abb-967f-9816f3e4a3ba'], 'e0d3a612cdf6e5f96015e1a5570b225db45b64f80cf5c668c6cf1020f702c17a')
    const svc = await call('GET', `${gw.adminUrl}/services/svc-example`)
    assert.equal(svc.body.ca_certificates.length, 3)
  })

  test('a dangling ca_certificates id in a file is refused', async () => {
    const text = readFileSync(join(REAL, 'Kong-go-database-reconciler__diff-007-ca-certs-order__initial.yaml'), 'utf8')
    const doc = parse(text) as { ca_certificates: unknown[] }
    doc.ca_certificates = doc.ca_certificates.slice(1)
    const res = await post(JSON.stringify(doc), 'application/json')
    assert.equal(res.status, 400)
    assert.match(
      res.text,
      /invalid reference 'ca_certificates: b824e7c0-d116-4c03-9e27-de05c5d30083' \(no such entry in 'ca_certificates'\)/,
    )
  })

  test('decK dump-001 (certificate with nested tagged SNIs)', async () => {
    const res = await post(readFileSync(join(REAL, 'Kong-go-database-reconciler__dump-001-entities-with-tags__kong.yaml'), 'utf8'))
    assert.equal(res.status, 201, res.text)
    const snis = await call('GET', `${gw.adminUrl}/certificates/13c562a1-191c-4464-9b18-e5222b46035b/snis`)
    assert.deepEqual(snis.body.data.map((s: { name: string }) => s.name).sort(), [
      'demo1.example.com',
      'demo2.example.com',
      'demo3.example.com',
    ])
    assert.deepEqual(snis.body.data[0].tags, ['managed-by-deck', 'org-unit-42'])
  })
})

describe('turnpike config sync/diff/dump with certificates and SNIs', () => {
  let gw: TestGateway
  let dir: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'turnpike-certsync-'))
    gw = await startTestGateway()
  })
  after(async () => {
    await gw.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const cli = (...args: string[]) => runTurnpike(['config', ...args, '--admin-url', gw.adminUrl])

  test('the KIC TLS file syncs, diffs clean, and a certificate update keeps its SNIs', async () => {
    const file = join(REAL, 'Kong-kubernetes-ingress-controller__golden-ingress-v1-rule-with-tls-and-consumer.yaml')
    const first = await cli('sync', file)
    assert.equal(first.status, 0, first.stderr)
    assert.match(
      first.stdout,
      /^creating certificate c6ac927c-4f5a-4e88-8b5d-c7b01d0f43af\ncreating sni 1\.example\.com\ncreating sni 2\.example\.com\n/,
    )
    const again = await cli('diff', file)
    assert.match(again.stdout, /Created: 0\n {2}Updated: 0\n {2}Deleted: 0/)
    const changed = join(dir, 'changed.yaml')
    writeFileSync(changed, readFileSync(file, 'utf8').replace('  - k8s-kind:Secret\n', '  - k8s-kind:TLSSecret\n'))
    const update = await cli('sync', changed)
    assert.match(update.stdout, /^updating certificate c6ac927c-4f5a-4e88-8b5d-c7b01d0f43af\n {2}tags: /)
    assert.match(update.stdout, /Created: 0\n {2}Updated: 1\n {2}Deleted: 0/)
    const cert = await call('GET', `${gw.adminUrl}/certificates/1.example.com`)
    assert.deepEqual(cert.body.snis, ['1.example.com', '2.example.com'])
    const dump = await cli('dump')
    assert.match(dump.stdout, /\n {2}snis:\n {2}- name: 1\.example\.com\n {2}- name: 2\.example\.com\n/)
    assert.match((await cli('diff', changed)).stdout, /Created: 0\n {2}Updated: 0\n {2}Deleted: 0/)
  })
})

describe('Admin API and DB-less: keys and key_sets', () => {
  let gw: TestGateway
  let dbless: TestGateway
  before(async () => {
    ;[gw, dbless] = await Promise.all([startTestGateway(), startTestGateway({ settings: { database: 'off' } })])
  })
  after(async () => {
    await Promise.all([gw.stop(), dbless.stop()])
  })

  test("/key-sets and /keys with Kong's JWK message; nested /key-sets/{s}/keys", async () => {
    const set = await call('POST', `${gw.adminUrl}/key-sets`, { name: 'signing' })
    assert.equal(set.status, 201, set.text)
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const jwk = JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid: 'k1' })
    const key = await call('POST', `${gw.adminUrl}/key-sets/signing/keys`, { name: 'k1', kid: 'k1', jwk })
    assert.equal(key.status, 201, key.text)
    assert.deepEqual(key.body.set, { id: set.body.id })
    const bad = await call('POST', `${gw.adminUrl}/keys`, { kid: 'k2', jwk: JSON.stringify({ kty: 'RSA', kid: 'k2', e: 'AQAB' }) })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.message, 'schema violation (could not load JWK, likely not a valid key)')
    assert.equal((await call('GET', `${gw.adminUrl}/keys/k1/set`)).body.name, 'signing')
    assert.equal((await call('DELETE', `${gw.adminUrl}/key-sets/signing`)).status, 204)
    assert.equal((await call('GET', `${gw.adminUrl}/keys/k1`)).status, 404)
  })

  test('decK sync-043 (JWK and PEM keys, a set referenced by id and by name) loads DB-less', async () => {
    const res = await call(
      'POST',
      `${dbless.adminUrl}/config`,
      readFileSync(join(REAL, 'Kong-deck__sync-043-keys-and-key_sets__kong.yaml'), 'utf8'),
      { 'content-type': 'text/yaml' },
    )
    assert.equal(res.status, 201, res.text)
    const inSet = await call('GET', `${dbless.adminUrl}/key-sets/bar/keys`)
    assert.deepEqual(inSet.body.data.map((k: { name: string }) => k.name).sort(), ['baz', 'foo', 'my-pem-key'])
    const pem = await call('GET', `${dbless.adminUrl}/keys/my-pem-key`)
    assert.match(pem.body.pem.private_key, /^-----BEGIN RSA PRIVATE KEY-----/)
  })
})
