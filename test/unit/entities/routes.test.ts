import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { validateEntity } from '../../../src/schema/validate.js'
import { routes, type Route } from '../../../src/entities/routes.js'
import type { RouteInput } from '../../../src/router/types.js'

// Type-level: a stored route row can be handed to the router as is.
type AssertAssignable<T extends U, U> = T
export type RouteFitsRouter = AssertAssignable<Route, RouteInput>

const insert = (input: unknown) => validateEntity(routes, input, { mode: 'insert' })
const errorsOf = (input: unknown) => {
  const r = insert(input)
  assert.equal(r.ok, false, 'expected a validation failure')
  return r.ok ? undefined : r.errors
}
const SERVICE = { id: '0c3b44f5-2f0a-4b1e-9f5d-8d1f4c6a7b21' }

describe('routes: defaults', () => {
  test('http route defaults', () => {
    const r = insert({ paths: ['/'], service: SERVICE })
    assert.ok(r.ok)
    assert.deepEqual(r.row, {
      paths: ['/'],
      service: SERVICE,
      name: null,
      protocols: ['http', 'https'],
      https_redirect_status_code: 426,
      strip_path: true,
      preserve_host: false,
      request_buffering: true,
      response_buffering: true,
      tags: null,
      snis: null,
      sources: null,
      destinations: null,
      methods: null,
      hosts: null,
      headers: null,
      regex_priority: 0,
      path_handling: 'v0',
    })
  })

  test('grpc routes default strip_path to false', () => {
    const r = insert({ protocols: ['grpc'], paths: ['/svc'] })
    assert.ok(r.ok)
    assert.equal(r.row['strip_path'], false)
  })

  test('stream endpoints get their nested nulls; sets drop duplicates', () => {
    const r = insert({ protocols: ['tcp', 'tcp'], sources: [{ ip: '10.0.0.0/8' }], destinations: [{ port: 80 }] })
    assert.ok(r.ok)
    assert.deepEqual(r.row['protocols'], ['tcp'])
    assert.deepEqual(r.row['sources'], [{ ip: '10.0.0.0/8', port: null }])
    assert.deepEqual(r.row['destinations'], [{ ip: null, port: 80 }])
  })

  test('methods set dedupe', () => {
    const r = insert({ methods: ['GET', 'GET', 'POST'] })
    assert.ok(r.ok)
    assert.deepEqual(r.row['methods'], ['GET', 'POST'])
  })
})

describe('routes: invalid input', () => {
  const HTTPS_NEED = "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['nothing to match on', {}, { '@entity': [HTTPS_NEED] }],
    [
      'http only',
      { protocols: ['http'] },
      { '@entity': ["must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'"] },
    ],
    ['protocols null', { protocols: null, paths: ['/'] }, { protocols: 'required field missing' }],
    ['protocols unknown', { protocols: ['ftp'], paths: ['/'] }, { protocols: 'unknown type: ftp' }],
    ['protocols empty', { protocols: [], paths: ['/'] }, { protocols: 'unknown type: nil' }],
    [
      'protocols mixed',
      { protocols: ['http', 'tcp'], paths: ['/'] },
      { protocols: "these sets are mutually exclusive: ('http', 'https'), ('tcp', 'tls', 'udp')" },
    ],
    [
      'protocols bad element',
      { protocols: ['http', 'ftp'], paths: ['/'] },
      { protocols: [null, 'expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp'] },
    ],
    ['paths start', { paths: ['foo'] }, { paths: ['should start with: / (fixed path) or ~/ (regex path)'] }],
    ['paths second element', { paths: ['/ok', '/a//b'] }, { paths: [null, 'must not have empty segments'] }],
    ['paths non-normalized', { paths: ['/a/../b'] }, { paths: ["non-normalized path, consider use '/b' instead"] }],
    ['paths type', { paths: '/x' }, { paths: 'expected an array' }],
    ['methods lowercase', { methods: ['get'] }, { methods: ['invalid value: get'] }],
    ['hosts wildcard', { hosts: ['a.*.com'] }, { hosts: ['invalid wildcard: must be placed at leftmost or rightmost label'] }],
    ['hosts two wildcards', { hosts: ['*.a.*'] }, { hosts: ['invalid wildcard: must have at most one wildcard'] }],
    [
      'headers host',
      { headers: { host: ['x'] } },
      { headers: "cannot contain 'host' header, which must be specified in the 'hosts' attribute" },
    ],
    [
      'headers bad name',
      { headers: { 'x y': ['x'] } },
      { headers: "bad header name 'x y', allowed characters are A-Z, a-z, 0-9, '_', and '-'" },
    ],
    ['headers values type', { headers: { 'x-a': 'v' } }, { headers: 'expected an array' }],
    [
      'snis with http only',
      { protocols: ['http'], hosts: ['h'], snis: ['a.test'] },
      {
        snis: 'length must be 0',
        '@entity': ["'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'"],
      },
    ],
    ['snis IP', { hosts: ['h'], snis: ['1.2.3.4'] }, { snis: ['must not be an IP'] }],
    [
      'sources on http',
      { paths: ['/'], sources: [{ ip: '1.2.3.4' }] },
      { sources: "cannot set 'sources' when 'protocols' is 'http' or 'https'" },
    ],
    [
      'methods on tcp',
      { protocols: ['tcp'], sources: [{ port: 1 }], methods: ['GET'] },
      { methods: "cannot set 'methods' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'" },
    ],
    [
      'tcp without endpoints',
      { protocols: ['tcp'] },
      { '@entity': ["must set one of 'sources', 'destinations', 'snis' when 'protocols' is 'tcp', 'tls' or 'udp'"] },
    ],
    [
      'tls_passthrough without snis',
      { protocols: ['tls_passthrough'], sources: [{ ip: '127.0.0.1' }] },
      { '@entity': ["must set snis when 'protocols' is 'tls_passthrough'"] },
    ],
    [
      'source endpoint empty',
      { protocols: ['tcp'], sources: [{}] },
      { sources: [{ '@entity': ["at least one of these fields must be non-empty: 'ip', 'port'"] }] },
    ],
    ['source ip invalid', { protocols: ['tcp'], sources: [{ ip: 'x' }] }, { sources: [{ ip: "invalid ip or cidr range: 'x'" }] }],
    [
      'grpc strip_path',
      { protocols: ['grpc'], paths: ['/x'], strip_path: true },
      { strip_path: "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'" },
    ],
    [
      'grpc methods',
      { protocols: ['grpc'], paths: ['/x'], methods: ['GET'] },
      { methods: "cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'" },
    ],
    [
      'grpcs nothing',
      { protocols: ['grpcs'] },
      { '@entity': ["must set one of 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'grpcs'"] },
    ],
    ['grpc nothing', { protocols: ['grpc'] }, { '@entity': ["must set one of 'hosts', 'headers', 'paths' when 'protocols' is 'grpc'"] }],
    [
      'redirect code',
      { paths: ['/'], https_redirect_status_code: 303 },
      { https_redirect_status_code: 'expected one of: 426, 301, 302, 307, 308' },
    ],
    ['path_handling', { paths: ['/'], path_handling: 'v2' }, { path_handling: 'expected one of: v0, v1' }],
    ['service id', { paths: ['/'], service: { id: 'x' } }, { service: { id: 'expected a valid UUID' } }],
    [
      'name',
      { paths: ['/'], name: 'a b' },
      { name: "invalid value 'a b': the only accepted ascii characters are alphanumerics or ., -, _, and ~" },
    ],
  ]
  for (const [name, input, errors] of cases) test(name, () => assert.deepEqual(errorsOf(input), errors))
})

describe('routes: valid input', () => {
  const cases: Record<string, unknown>[] = [
    { hosts: ['example.com', '*.example.com', 'example.*', 'example.com:8000'] },
    { paths: ['~/users/(?<id>\\d+)$', '/v1'], regex_priority: 10 },
    { headers: { 'x-version': ['v1', '~*^v2$'] } },
    { protocols: ['https'], snis: ['*.example.com'] },
    { protocols: ['tls'], snis: ['example.com'] },
    { protocols: ['tls_passthrough'], snis: ['example.com'] },
    { protocols: ['udp'], destinations: [{ ip: '10.0.0.1', port: 53 }] },
    { protocols: ['grpcs'], snis: ['grpc.example.com'] },
    { methods: ['GET'], https_redirect_status_code: 301, service: null, tags: ['a', 'b'] },
  ]
  for (const input of cases) test(JSON.stringify(input), () => assert.ok(insert(input).ok, JSON.stringify(insert(input))))
})

describe('routes: PATCH', () => {
  const existing = (() => {
    const r = insert({ paths: ['/a'], methods: ['GET'], headers: { 'x-a': ['1'] } })
    assert.ok(r.ok)
    return { ...r.row, id: '3f0a7d52-0c1e-4d7b-8c53-1b1f5d8c9e44', created_at: 1, updated_at: 1 }
  })()
  const update = (input: unknown) => validateEntity(routes, input, { mode: 'update', existing })

  test('replaces arrays and maps whole, keeps the rest', () => {
    const r = update({ paths: ['/b'], headers: { 'x-b': ['2'] } })
    assert.ok(r.ok)
    assert.deepEqual(r.row['paths'], ['/b'])
    assert.deepEqual(r.row['headers'], { 'x-b': ['2'] })
    assert.deepEqual(r.row['methods'], ['GET'])
    assert.equal(r.row['id'], existing.id)
  })

  test('clearing every matcher is refused', () => {
    assert.deepEqual(update({ paths: null, methods: null, headers: null }), {
      ok: false,
      errors: { '@entity': ["must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"] },
    })
  })

  test('switching to grpc keeps the stored strip_path=true, which grpc refuses', () => {
    assert.deepEqual(update({ protocols: ['grpc'], methods: null }), {
      ok: false,
      errors: { strip_path: "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'" },
    })
  })
})
