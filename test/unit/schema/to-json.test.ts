import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { schemaToJson } from '../../../src/schema/to-json.js'
import { storeEntity } from '../../../src/schema/store-entity.js'
import { ENTITIES, getEntity, routes, services } from '../../../src/entities/index.js'

type Json = { fields: Record<string, Record<string, unknown>>[]; entity_checks?: unknown[] }

describe('schemaToJson', () => {
  const json = schemaToJson(services) as Json
  const field = (name: string) => json.fields.find((f) => name in f)?.[name]

  test('fields keep schema order as one-key objects', () => {
    assert.deepEqual(
      json.fields.map((f) => Object.keys(f)[0]),
      [
        'id',
        'created_at',
        'updated_at',
        'name',
        'retries',
        'protocol',
        'host',
        'port',
        'path',
        'connect_timeout',
        'write_timeout',
        'read_timeout',
        'tags',
        'client_certificate',
        'tls_verify',
        'tls_verify_depth',
        'ca_certificates',
        'enabled',
      ],
    )
  })

  test('field attributes as Kong prints them, functions dropped', () => {
    assert.deepEqual(field('id'), { type: 'string', uuid: true, auto: true })
    assert.deepEqual(field('created_at'), { type: 'integer', timestamp: true, auto: true })
    assert.deepEqual(field('port'), { type: 'integer', between: [0, 65535], required: true, default: 80 })
    assert.deepEqual(field('host'), { type: 'string', required: true })
    assert.deepEqual(field('path'), { type: 'string', starts_with: '/' })
    assert.deepEqual(field('connect_timeout'), { type: 'integer', between: [1, 2147483646], default: 60000 })
    assert.deepEqual(field('tags'), { type: 'set', elements: { type: 'string', required: true } })
    assert.deepEqual(field('tls_verify_depth')?.['default'], null)
    assert.equal(field('client_certificate')?.['type'], 'foreign')
    assert.equal(field('client_certificate')?.['reference'], 'certificates')
  })

  test('entity checks are included', () => {
    assert.deepEqual(json.entity_checks?.[0], {
      conditional: {
        if_field: 'protocol',
        if_match: { one_of: ['tcp', 'tls', 'udp', 'grpc', 'grpcs'] },
        then_field: 'path',
        then_match: { eq: null },
      },
    })
  })

  test('routes: nested elements and records render; restrict on_delete is implicit; custom checks lose fn', () => {
    const r = schemaToJson(routes) as Json
    const f = (name: string) => r.fields.find((x) => name in x)?.[name]
    assert.deepEqual(f('service'), {
      type: 'foreign',
      reference: 'services',
      description: 'The Service this Route is associated to. This is where the Route proxies traffic to.',
    })
    assert.deepEqual(f('sources'), {
      type: 'set',
      elements: {
        type: 'record',
        fields: [{ ip: { type: 'string' } }, { port: { type: 'integer', between: [0, 65535] } }],
        entity_checks: [{ at_least_one_of: ['ip', 'port'] }],
      },
    })
    assert.deepEqual(f('methods'), { type: 'set', elements: { type: 'string', match: '^[A-Z]+$' } })
    assert.deepEqual(r.entity_checks, [{ custom_entity_check: { field_sources: ['protocols'] } }])
    assert.ok(JSON.stringify(r))
  })
})

describe('storeEntity and the registry', () => {
  test('services and routes', () => {
    assert.deepEqual(storeEntity(services), { name: 'services', unique: ['name'], foreign: ['client_certificate'], tags: true })
    assert.deepEqual(storeEntity(routes), { name: 'routes', unique: ['name'], foreign: ['service'], tags: true })
  })

  test('registry lookups', () => {
    assert.equal(getEntity('services'), services)
    assert.equal(getEntity('routes'), routes)
    assert.equal(getEntity('toString'), undefined)
    assert.deepEqual(Object.keys(ENTITIES), [
      'certificates',
      'ca_certificates',
      'snis',
      'key_sets',
      'keys',
      'vaults',
      'services',
      'routes',
      'upstreams',
      'targets',
    ])
    assert.equal(routes.fields.service.on_delete, 'restrict')
  })
})
