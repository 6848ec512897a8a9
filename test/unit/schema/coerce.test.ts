import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { coerceFormInput, luaToNumber } from '../../../src/schema/coerce.js'
import { validateEntity } from '../../../src/schema/validate.js'
import { routes } from '../../../src/entities/routes.js'
import { services } from '../../../src/entities/services.js'
import type { EntitySchema } from '../../../src/schema/types.js'

describe('coerceFormInput', () => {
  test('service form body', () => {
    const out = coerceFormInput(services, {
      host: 'example.com',
      port: '8080',
      retries: '0x10',
      enabled: 'false',
      tls_verify: 'maybe',
      path: '',
      tags: 'one',
      ca_certificates: ['a', ''],
      client_certificate: { id: '' },
      extra: '5',
    })
    assert.deepEqual(out, {
      host: 'example.com',
      port: 8080,
      retries: 16,
      enabled: false,
      tls_verify: 'maybe',
      path: null,
      tags: ['one'],
      ca_certificates: ['a', null],
      client_certificate: { id: null },
      extra: '5',
    })
  })

  test('route form body: single values become arrays, maps of arrays, numbers', () => {
    const out = coerceFormInput(routes, {
      paths: '/x',
      methods: ['GET', 'POST'],
      headers: { 'x-a': 'v' },
      regex_priority: ' 10 ',
      strip_path: 'true',
      https_redirect_status_code: '30x',
      sources: [{ ip: '1.2.3.4', port: '80' }],
    })
    assert.deepEqual(out, {
      paths: ['/x'],
      methods: ['GET', 'POST'],
      headers: { 'x-a': ['v'] },
      regex_priority: 10,
      strip_path: true,
      https_redirect_status_code: '30x',
      sources: [{ ip: '1.2.3.4', port: 80 }],
    })
  })

  test('nested records coerce known fields only', () => {
    const schema = {
      name: 'x',
      primary_key: ['id'],
      fields: { config: { type: 'record', fields: { minute: { type: 'number' }, on: { type: 'boolean' } } } },
    } as const satisfies EntitySchema
    assert.deepEqual(coerceFormInput(schema, { config: { minute: '5', on: 'true', other: '1' } }), {
      config: { minute: 5, on: true, other: '1' },
    })
  })

  test('coerced form input validates like JSON', () => {
    const r = validateEntity(services, coerceFormInput(services, { host: 'h', port: '81', enabled: 'true' }), { mode: 'insert' })
    assert.ok(r.ok)
    assert.equal(r.row['port'], 81)
    const bad = validateEntity(services, coerceFormInput(services, { host: 'h', port: 'eighty' }), { mode: 'insert' })
    assert.deepEqual(bad, { ok: false, errors: { port: 'expected an integer' } })
  })

  test('luaToNumber', () => {
    assert.equal(luaToNumber('42'), 42)
    assert.equal(luaToNumber('-1.5e2'), -150)
    assert.equal(luaToNumber('0xff'), 255)
    assert.equal(luaToNumber('12abc'), undefined)
    assert.equal(luaToNumber(''), undefined)
  })
})
