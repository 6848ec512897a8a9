import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { validateEntity } from '../../../src/schema/validate.js'
import { services } from '../../../src/entities/services.js'
import { expandServiceUrl, parseUrl } from '../../../src/entities/url-shorthand.js'

const insert = (input: unknown) => validateEntity(services, input, { mode: 'insert' })
const errorsOf = (input: unknown) => {
  const r = insert(input)
  assert.equal(r.ok, false, 'expected a validation failure')
  return r.ok ? undefined : r.errors
}
const CERT = { id: '6e4f8c3a-1f57-4b35-9a6e-c4b0d9a2e011' }

describe('services: defaults', () => {
  test('a host alone gets Kong 3.9 defaults', () => {
    const r = insert({ host: 'example.com' })
    assert.ok(r.ok)
    assert.deepEqual(r.row, {
      host: 'example.com',
      name: null,
      retries: 5,
      protocol: 'http',
      port: 80,
      path: null,
      connect_timeout: 60000,
      write_timeout: 60000,
      read_timeout: 60000,
      tags: null,
      client_certificate: null,
      tls_verify: null,
      tls_verify_depth: null,
      ca_certificates: null,
      enabled: true,
    })
  })
})

describe('services: url shorthand', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['http://example.com', { protocol: 'http', host: 'example.com', port: 80, path: null }],
    ['https://example.com', { protocol: 'https', host: 'example.com', port: 443, path: null }],
    ['https://example.com:8443/api/v1?x=1#frag', { protocol: 'https', host: 'example.com', port: 8443, path: '/api/v1' }],
    ['example.com:443', { protocol: 'example.com', host: null, port: 80, path: '443' }],
    ['//example.com:443/a', { protocol: 'https', host: 'example.com', port: 443, path: '/a' }],
    ['grpcs://example.com', { protocol: 'grpcs', host: 'example.com', port: 80, path: null }],
    ['http://user:pw@[::1]:8080/x', { protocol: 'http', host: '::1', port: 8080, path: '/x' }],
  ]
  for (const [url, expected] of cases) {
    test(url, () => assert.deepEqual(expandServiceUrl(url), expected))
  }

  test('the expansion is validated like any service input', () => {
    const r = insert({ url: 'https://example.com:8443/api' })
    assert.ok(r.ok)
    assert.deepEqual([r.row['protocol'], r.row['host'], r.row['port'], r.row['path']], ['https', 'example.com', 8443, '/api'])
    assert.equal('url' in r.row, false)
  })

  test('parseUrl follows LuaSocket', () => {
    assert.deepEqual(parseUrl('https://h:1/p;params?q#f'), { scheme: 'https', host: 'h', port: '1', path: '/p' })
    assert.deepEqual(parseUrl('/just/a/path'), { path: '/just/a/path' })
  })

  test('bad url values report Kong field errors', () => {
    assert.deepEqual(errorsOf({ url: 5 }), { url: 'expected a string' })
    assert.deepEqual(errorsOf({ url: '' }), { url: 'length must be at least 1' })
    assert.deepEqual(errorsOf({ url: 'not a url' }), { host: 'required field missing', path: 'should start with: /' })
    assert.deepEqual(errorsOf({ url: 'http://example.com:abc' }), { port: 'expected an integer' })
    assert.deepEqual(errorsOf({ url: 'ftp://example.com' }), {
      protocol: 'expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp',
    })
  })

  test('PATCH with url replaces protocol/host/port and clears the old path', () => {
    const existing = insert({ host: 'old.test', path: '/old', port: 8080 })
    assert.ok(existing.ok)
    const r = validateEntity(services, { url: 'https://new.test' }, { mode: 'update', existing: existing.row })
    assert.ok(r.ok)
    assert.deepEqual([r.row['protocol'], r.row['host'], r.row['port'], r.row['path']], ['https', 'new.test', 443, null])
  })
})

describe('services: invalid input', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['host missing', {}, { host: 'required field missing' }],
    ['host with port', { host: 'example.com:80' }, { host: 'must not have a port' }],
    ['bad host', { host: 'ex ample' }, { host: 'invalid value: ex ample' }],
    ['port range', { host: 'h', port: 65536 }, { port: 'value should be between 0 and 65535' }],
    ['port type', { host: 'h', port: '80' }, { port: 'expected an integer' }],
    ['retries range', { host: 'h', retries: 32768 }, { retries: 'value should be between 0 and 32767' }],
    ['timeout zero', { host: 'h', connect_timeout: 0 }, { connect_timeout: 'value should be between 1 and 2147483646' }],
    ['protocol', { host: 'h', protocol: 'ftp' }, { protocol: 'expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp' }],
    ['path start', { host: 'h', path: 'foo' }, { path: 'should start with: /' }],
    ['path empty segment', { host: 'h', path: '/a//b' }, { path: 'must not have empty segments' }],
    [
      'path charset',
      { host: 'h', path: '/a b' },
      { path: "invalid path: '/a b' (characters outside of the reserved list of RFC 3986 found)" },
    ],
    [
      'name charset',
      { host: 'h', name: 'my service' },
      { name: "invalid value 'my service': the only accepted ascii characters are alphanumerics or ., -, _, and ~" },
    ],
    [
      'tags',
      { host: 'h', tags: ['ok', 'a,b'] },
      { tags: [null, "invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"] },
    ],
    [
      'tls_verify_depth range',
      { host: 'h', protocol: 'https', tls_verify_depth: 65 },
      { tls_verify_depth: 'value should be between 0 and 64' },
    ],
    ['ca_certificates uuid', { host: 'h', protocol: 'https', ca_certificates: ['x'] }, { ca_certificates: ['expected a valid UUID'] }],
    ['enabled null', { host: 'h', enabled: null }, { enabled: 'required field missing' }],
    ['unknown field', { host: 'h', foo: 1 }, { foo: 'unknown field' }],
    [
      'path with tcp',
      { host: 'h', protocol: 'tcp', path: '/x' },
      {
        path: 'value must be null',
        '@entity': ["failed conditional validation given value of field 'protocol'"],
      },
    ],
    [
      'tls_verify with http',
      { host: 'h', tls_verify: true },
      {
        tls_verify: 'value must be null',
        '@entity': ["failed conditional validation given value of field 'protocol'"],
      },
    ],
    [
      'client_certificate with http',
      { host: 'h', client_certificate: CERT },
      {
        client_certificate: 'value must be null',
        '@entity': ["failed conditional validation given value of field 'protocol'"],
      },
    ],
    [
      'ca_certificates empty with grpc',
      { host: 'h', protocol: 'grpc', ca_certificates: [] },
      {
        ca_certificates: 'value must be null',
        '@entity': ["failed conditional validation given value of field 'protocol'"],
      },
    ],
  ]
  for (const [name, input, errors] of cases) test(name, () => assert.deepEqual(errorsOf(input), errors))

  test('several violations are all reported', () => {
    assert.deepEqual(errorsOf({ host: 'h', port: -1, retries: 'x', protocol: 'tcp', path: '/p' }), {
      port: 'value should be between 0 and 65535',
      retries: 'expected an integer',
      path: 'value must be null',
      '@entity': ["failed conditional validation given value of field 'protocol'"],
    })
  })
})

describe('services: valid input', () => {
  const cases: Record<string, unknown>[] = [
    { host: 'h', protocol: 'https', tls_verify: true, tls_verify_depth: 3, client_certificate: CERT, ca_certificates: [CERT.id] },
    { host: 'h', protocol: 'tls', tls_verify: false, client_certificate: CERT },
    { host: 'h', protocol: 'tcp', port: 5432 },
    { host: 'h', protocol: 'grpcs', port: 443 },
    { host: '10.0.0.1', path: '/a%20b/c', name: 'sérvice.v1_~', tags: ['team:x', 'with space'] },
    { host: 'h', retries: null },
  ]
  for (const input of cases) test(JSON.stringify(input), () => assert.ok(insert(input).ok))
})
