/**
 * certificates, snis and ca_certificates: Kong 3.9's checks and messages (validation), and the
 * certificate DAO's `snis` list, cascades and CA references over the memory store.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Dao } from '../../../src/dao/index.js'
import { DbError } from '../../../src/errors/db-errors.js'
import { ENTITIES, caCertificates, certDigest, certificates, describeCertificate, snis } from '../../../src/entities/index.js'
import { storeEntity, validateEntity } from '../../../src/schema/index.js'
import { createStore } from '../../../src/store/index.js'
import { makeCert, type TestCert } from '../../helpers/certs.js'

const errorsOf = (schema: Parameters<typeof validateEntity>[0], input: unknown): unknown => {
  const r = validateEntity(schema, input, { mode: 'insert' })
  assert.equal(r.ok, false, 'expected a validation failure')
  return r.ok ? undefined : r.errors
}

let rsa: TestCert
let rsa2: TestCert
let ec: TestCert
let ca: TestCert
let expiredCa: TestCert
before(() => {
  rsa = makeCert({ cn: 'rsa.example.com' })
  rsa2 = makeCert({ cn: 'other.example.com' })
  ec = makeCert({ type: 'ec', cn: 'ec.example.com' })
  ca = makeCert({ ca: true, cn: 'Test CA' })
  expiredCa = makeCert({ ca: true, expired: true })
})

async function newDao(): Promise<Dao> {
  const store = createStore({ kind: 'memory' })
  await store.init(Object.values(ENTITIES).map(storeEntity))
  return new Dao(store, ENTITIES)
}

async function daoError(p: Promise<unknown>): Promise<DbError> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof DbError, String(err))
    return err
  }
  assert.fail('expected a DAO error')
}

describe('certificates: validation', () => {
  test('a matching pair is valid; snis is kept apart as a transient field', () => {
    const r = validateEntity(
      certificates,
      { cert: rsa.cert, key: rsa.key, snis: ['a.example.com', '*.b.example.com', 'c.example.*'] },
      { mode: 'insert' },
    )
    assert.ok(r.ok)
    assert.equal(r.row['cert_alt'], null)
    assert.deepEqual(r.row['snis'], ['a.example.com', '*.b.example.com', 'c.example.*'])
  })

  test("Kong's messages: key mismatch, alternative mismatch, same key type, mutually required", () => {
    assert.deepEqual(errorsOf(certificates, { cert: rsa.cert, key: rsa2.key }), { '@entity': ['certificate does not match key'] })
    assert.deepEqual(errorsOf(certificates, { cert: rsa.cert, key: rsa.key, cert_alt: ec.cert, key_alt: rsa.key }), {
      '@entity': ['alternative certificate does not match key'],
    })
    assert.deepEqual(errorsOf(certificates, { cert: rsa.cert, key: rsa.key, cert_alt: rsa2.cert, key_alt: rsa2.key }), {
      '@entity': [
        'certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), the provided certificates were both of the same type',
      ],
    })
    assert.ok(validateEntity(certificates, { cert: rsa.cert, key: rsa.key, cert_alt: ec.cert, key_alt: ec.key }, { mode: 'insert' }).ok)
    const missing = errorsOf(certificates, { cert: rsa.cert, key: rsa.key, cert_alt: ec.cert }) as Record<string, unknown>
    assert.deepEqual(missing['@entity'], ["all or none of these fields must be set: 'cert_alt', 'key_alt'"])
  })

  test('PEM that does not parse: invalid certificate / invalid key, under the field', () => {
    const errors = errorsOf(certificates, {
      cert: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----',
      key: 'garbage',
    }) as Record<string, string>
    assert.match(errors['cert'] ?? '', /^invalid certificate: x509\.new: /)
    assert.match(errors['key'] ?? '', /^invalid key: pkey\.new:load_key: /)
  })

  test('SNI names: wildcard forms and their messages (Kong typedefs.wildcard_host)', () => {
    for (const name of ['example.com', '*.example.com', 'example.*'])
      assert.ok(validateEntity(snis, { name, certificate: { id: '6e4f8c3a-1f57-4b35-9a6e-c4b0d9a2e011' } }, { mode: 'insert' }).ok, name)
    const cert = { id: '6e4f8c3a-1f57-4b35-9a6e-c4b0d9a2e011' }
    assert.deepEqual(errorsOf(snis, { name: 'a.exam*le.com', certificate: cert }), {
      name: 'wildcard must be leftmost or rightmost character',
    })
    assert.deepEqual(errorsOf(snis, { name: '*.exam*', certificate: cert }), { name: 'only one wildcard must be specified' })
    assert.deepEqual(errorsOf(snis, { name: '10.0.0.1', certificate: cert }), { name: 'must not be an IP' })
    assert.deepEqual(errorsOf(snis, { name: 'example.com:443', certificate: cert }), { name: 'must not have a port' })
    assert.deepEqual(errorsOf(snis, { name: 'example.com' }), { certificate: 'required field missing' })
  })

  test('subject and expiry are described for logs, not added to the entity', () => {
    const d = describeCertificate(rsa.cert)
    assert.equal(d?.subject, 'CN=rsa.example.com')
    assert.equal(d?.expired, false)
    assert.ok(Date.parse(d?.not_after ?? '') > Date.now())
    assert.equal(describeCertificate(expiredCa.cert)?.expired, true)
    assert.equal(describeCertificate('nope'), undefined)
    assert.equal(Object.hasOwn(certificates.fields, 'not_after'), false)
  })
})

describe('ca_certificates: validation', () => {
  test('a CA is valid and gets its sha256 digest on write', () => {
    const r = validateEntity(caCertificates, { cert: ca.cert }, { mode: 'insert' })
    assert.ok(r.ok)
    const row = caCertificates.transform(r.row)
    assert.match(String(row['cert_digest']), /^[0-9a-f]{64}$/)
    assert.equal(row['cert_digest'], certDigest(ca.cert))
  })

  test("Kong's messages: not a CA, expired, more than one certificate, missing", () => {
    assert.deepEqual(errorsOf(caCertificates, { cert: rsa.cert }), {
      '@entity': ['certificate does not appear to be a CA because it is missing the "CA" basic constraint'],
    })
    assert.deepEqual(errorsOf(caCertificates, { cert: expiredCa.cert }), {
      '@entity': ['certificate expired, "Not After" time is in the past'],
    })
    assert.deepEqual(errorsOf(caCertificates, { cert: `${ca.cert}\n${ca.cert}` }), {
      '@entity': ['please submit only one certificate at a time'],
    })
    assert.deepEqual(errorsOf(caCertificates, {}), { cert: 'required field missing' })
  })
})

describe('certificates DAO: the snis list', () => {
  test('insert creates the SNIs and answers with the sorted names; reads show them', async () => {
    const dao = await newDao()
    const row = await dao.insert('certificates', { cert: rsa.cert, key: rsa.key, snis: ['b.example.com', '*.a.example.com'] })
    assert.deepEqual(row['snis'], ['*.a.example.com', 'b.example.com'])
    const sni = await dao.select('snis', 'b.example.com')
    assert.deepEqual(sni?.['certificate'], { id: row.id })
    assert.deepEqual((await dao.select('certificates', row.id))?.['snis'], ['*.a.example.com', 'b.example.com'])
    assert.deepEqual((await dao.page('certificates')).data[0]?.['snis'], ['*.a.example.com', 'b.example.com'])
    assert.equal(Object.hasOwn((await dao.store.select('certificates', row.id)) ?? {}, 'snis'), false, 'the list is never stored')
    const plain = await dao.insert('certificates', { cert: ec.cert, key: ec.key })
    assert.deepEqual(plain['snis'], [])
  })

  test('update replaces the list; null removes every SNI; absent keeps them', async () => {
    const dao = await newDao()
    const row = await dao.insert('certificates', { cert: rsa.cert, key: rsa.key, snis: ['a.example.com', 'b.example.com'] })
    const a = await dao.select('snis', 'a.example.com')
    const updated = await dao.update('certificates', row.id, { snis: ['a.example.com', 'c.example.com'] })
    assert.deepEqual(updated['snis'], ['a.example.com', 'c.example.com'])
    assert.equal((await dao.select('snis', 'a.example.com'))?.id, a?.id, 'a kept SNI keeps its id')
    assert.equal(await dao.select('snis', 'b.example.com'), null)
    assert.deepEqual((await dao.update('certificates', row.id, { tags: ['x'] }))['snis'], ['a.example.com', 'c.example.com'])
    assert.deepEqual((await dao.update('certificates', row.id, { snis: null }))['snis'], [])
    assert.equal((await dao.page('snis')).data.length, 0)
  })

  test("duplicated and taken names are refused before anything is written (Kong's messages)", async () => {
    const dao = await newDao()
    const dup = await daoError(
      dao.insert('certificates', { cert: rsa.cert, key: rsa.key, snis: ['a.example.com', 'b.example.com', 'a.example.com'] }),
    )
    assert.equal(dup.message, 'schema violation (snis: a.example.com is duplicated)')
    const first = await dao.insert('certificates', { cert: rsa.cert, key: rsa.key, snis: ['a.example.com'] })
    const taken = await daoError(dao.insert('certificates', { cert: rsa.cert, key: rsa.key, snis: ['z.example.com', 'a.example.com'] }))
    assert.equal(taken.message, `schema violation (snis: a.example.com already associated with existing certificate '${first.id}')`)
    assert.equal(taken.status, 400)
    assert.equal((await dao.page('certificates')).data.length, 1)
    assert.equal(await dao.select('snis', 'z.example.com'), null)
    // its own names are not "taken" when the certificate is updated
    assert.deepEqual((await dao.update('certificates', first.id, { snis: ['a.example.com', 'z.example.com'] }))['snis'], [
      'a.example.com',
      'z.example.com',
    ])
    const unique = await daoError(dao.insert('snis', { name: 'a.example.com', certificate: { id: first.id } }))
    assert.equal(unique.status, 409)
    assert.equal(unique.message, `UNIQUE violation detected on '{name="a.example.com"}'`)
  })

  test('deleting a certificate deletes its SNIs; a service using it as client certificate stops the delete', async () => {
    const dao = await newDao()
    const events: string[] = []
    dao.onChange((e) => events.push(`${e.op} ${e.entity}`))
    const row = await dao.insert('certificates', { cert: rsa.cert, key: rsa.key, snis: ['a.example.com', 'b.example.com'] })
    await dao.delete('certificates', row.id)
    assert.equal((await dao.page('snis')).data.length, 0)
    assert.deepEqual(events, ['create certificates', 'create snis', 'create snis', 'delete snis', 'delete snis', 'delete certificates'])
    const used = await dao.insert('certificates', { cert: rsa.cert, key: rsa.key, snis: ['c.example.com'] })
    await dao.insert('services', { name: 's', url: 'https://example.com', client_certificate: { id: used.id } })
    const refused = await daoError(dao.delete('certificates', used.id))
    assert.equal(refused.kind, 'FOREIGN_KEY_VIOLATION')
    assert.ok(await dao.select('snis', 'c.example.com'), 'nothing was deleted')
  })
})

describe('services: references to certificates and CA certificates', () => {
  test('a dangling client_certificate or ca_certificates id is refused', async () => {
    const dao = await newDao()
    const missing = '6e4f8c3a-1f57-4b35-9a6e-c4b0d9a2e011'
    const cc = await daoError(dao.insert('services', { url: 'https://example.com', client_certificate: { id: missing } }))
    assert.equal(cc.message, `the foreign key '{id="${missing}"}' does not reference an existing 'certificates' entity.`)
    const cas = await daoError(dao.insert('services', { url: 'https://example.com', ca_certificates: [missing] }))
    assert.equal(cas.kind, 'FOREIGN_KEY_VIOLATION')
    assert.equal(cas.message, `the foreign key '{id="${missing}"}' does not reference an existing 'ca_certificates' entity.`)
    assert.deepEqual(cas.fields, { ca_certificates: { id: missing } })
    const up = await daoError(dao.insert('upstreams', { name: 'u', client_certificate: { id: missing } }))
    assert.equal(up.kind, 'FOREIGN_KEY_VIOLATION')
  })

  test("a CA certificate a service lists cannot be deleted (Kong's message, code 19)", async () => {
    const dao = await newDao()
    const caRow = await dao.insert('ca_certificates', { cert: ca.cert })
    assert.equal(caRow['cert_digest'], certDigest(ca.cert))
    const svc = await dao.insert('services', { url: 'https://example.com', ca_certificates: [caRow.id], tls_verify: true })
    const refused = await daoError(dao.delete('ca_certificates', caRow.id))
    assert.equal(refused.status, 400)
    assert.equal(refused.toBody().code, 19)
    assert.equal(refused.message, `ca certificate ${caRow.id} is still referenced by services (id = ${svc.id})`)
    await dao.delete('services', svc.id)
    assert.ok(await dao.delete('ca_certificates', caRow.id))
    const again = await dao.insert('ca_certificates', { cert: ca.cert })
    const dup = await daoError(dao.insert('ca_certificates', { cert: ca.cert }))
    assert.equal(dup.status, 409)
    assert.equal(dup.message, `UNIQUE violation detected on '{cert_digest="${String(again['cert_digest'])}"}'`)
  })
})
