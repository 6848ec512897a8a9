import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { validateEntity } from '../../../src/schema/validate.js'
import type { EntitySchema } from '../../../src/schema/types.js'

/** A synthetic schema exercising every engine feature without entity-specific rules. */
const things = {
  name: 'things',
  primary_key: ['id'],
  fields: {
    id: { type: 'string', uuid: true, auto: true },
    name: { type: 'string', required: true },
    count: { type: 'integer', default: 3, between: [1, 10] },
    ratio: { type: 'number' },
    flag: { type: 'boolean', default: false },
    kind: { type: 'string', one_of: ['a', 'b'] },
    labels: { type: 'set', elements: { type: 'string' } },
    list: { type: 'array', elements: { type: 'integer' } },
    meta: { type: 'map', keys: { type: 'string' }, values: { type: 'integer' } },
    config: {
      type: 'record',
      required: true,
      fields: {
        minute: { type: 'integer' },
        hour: { type: 'integer' },
        policy: { type: 'string', default: 'local', one_of: ['local', 'redis'] },
        nested: { type: 'record', required: true, fields: { depth: { type: 'integer', default: 2 } } },
      },
      entity_checks: [{ at_least_one_of: ['minute', 'hour'] }],
    },
    owner: { type: 'foreign', reference: 'things' },
    a: { type: 'string' },
    b: { type: 'string' },
  },
  entity_checks: [
    { only_one_of: ['a', 'b'] },
    { conditional: { if_field: 'kind', if_match: { eq: 'a' }, then_field: 'ratio', then_match: { required: true } } },
  ],
} as const satisfies EntitySchema

const base = { name: 'x', config: { minute: 1 }, a: 'set' }
const insert = (input: unknown) => validateEntity(things, input, { mode: 'insert' })

describe('validateEntity: insert', () => {
  test('fills defaults, nested record defaults and nulls for absent optional fields', () => {
    const r = insert(base)
    assert.ok(r.ok)
    assert.deepEqual(r.row, {
      name: 'x',
      count: 3,
      ratio: null,
      flag: false,
      kind: null,
      labels: null,
      list: null,
      meta: null,
      config: { minute: 1, hour: null, policy: 'local', nested: { depth: 2 } },
      owner: null,
      a: 'set',
      b: null,
    })
    assert.equal('id' in r.row, false, 'auto fields are left to the DAO')
  })

  test('explicit null on a field with a default stays null; on a required field it fails', () => {
    const r = insert({ ...base, count: null })
    assert.ok(r.ok)
    assert.equal(r.row['count'], null)
    assert.deepEqual(insert({ ...base, name: null }), { ok: false, errors: { name: 'required field missing' } })
  })

  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['missing required', { config: { minute: 1 }, a: 'x' }, { name: 'required field missing' }],
    ['unknown field', { ...base, nope: 1 }, { nope: 'unknown field' }],
    ['string type', { ...base, name: 5 }, { name: 'expected a string' }],
    ['empty string', { ...base, name: '' }, { name: 'length must be at least 1' }],
    ['integer type', { ...base, count: 1.5 }, { count: 'expected an integer' }],
    ['between', { ...base, count: 11 }, { count: 'value should be between 1 and 10' }],
    ['number type', { ...base, ratio: 'x' }, { ratio: 'expected a number' }],
    ['boolean type', { ...base, flag: 'true' }, { flag: 'expected a boolean' }],
    ['one_of', { ...base, kind: 'c' }, { kind: 'expected one of: a, b' }],
    ['set type', { ...base, labels: 'x' }, { labels: 'expected a set' }],
    ['array type', { ...base, list: {} }, { list: 'expected an array' }],
    [
      'array element errors keep positions',
      { ...base, list: [1, 'x', 2, 'y'] },
      { list: [null, 'expected an integer', null, 'expected an integer'] },
    ],
    ['null element', { ...base, list: [null] }, { list: ['required field missing'] }],
    ['map type', { ...base, meta: 'x' }, { meta: 'expected a map' }],
    ['map value error is a single message', { ...base, meta: { k: 'v' } }, { meta: 'expected an integer' }],
    ['record type', { ...base, config: 'x' }, { config: 'expected a record' }],
    [
      'nested record errors',
      { ...base, config: { minute: 'x', policy: 'y' } },
      { config: { minute: 'expected an integer', policy: 'expected one of: local, redis' } },
    ],
    [
      'record entity check',
      { ...base, config: {} },
      { config: { '@entity': ["at least one of these fields must be non-empty: 'minute', 'hour'"] } },
    ],
    ['foreign bad uuid', { ...base, owner: { id: 'nope' } }, { owner: { id: 'expected a valid UUID' } }],
    ['foreign without id', { ...base, owner: {} }, { owner: { id: 'missing primary key' } }],
    ['invalid id', { ...base, id: 'nope' }, { id: 'expected a valid UUID' }],
    ['only_one_of', { ...base, b: 'too' }, { '@entity': ["exactly one of these fields must be non-empty: 'a', 'b'"] }],
    [
      'conditional required',
      { ...base, kind: 'a' },
      { ratio: 'required field missing', '@entity': ["failed conditional validation given value of field 'kind'"] },
    ],
  ]
  for (const [name, input, errors] of cases) {
    test(name, () => assert.deepEqual(insert(input), { ok: false, errors }))
  }

  test('sets drop duplicates; foreign ids are accepted', () => {
    const owner = { id: '5f1c8c2e-9a55-4e43-9f3a-2d5a8b0b6c11' }
    const r = insert({ ...base, labels: ['a', 'b', 'a'], owner })
    assert.ok(r.ok)
    assert.deepEqual(r.row['labels'], ['a', 'b'])
    assert.deepEqual(r.row['owner'], owner)
  })

  test('non-object input', () => {
    assert.deepEqual(insert('x'), { ok: false, errors: { '@entity': ['expected an input table'] } })
  })

  test('does not mutate the input', () => {
    const input = { ...base, labels: ['a', 'a'] }
    insert(input)
    assert.deepEqual(input.labels, ['a', 'a'])
  })
})

describe('validateEntity: update (PATCH)', () => {
  const existing = {
    id: '5f1c8c2e-9a55-4e43-9f3a-2d5a8b0b6c11',
    name: 'x',
    count: 3,
    ratio: null,
    flag: false,
    kind: null,
    labels: ['l1'],
    list: null,
    meta: null,
    config: { minute: 1, hour: null, policy: 'redis', nested: { depth: 2 } },
    owner: null,
    a: 'set',
    b: null,
  }
  const update = (input: unknown) => validateEntity(things, input, { mode: 'update', existing })

  test('top-level fields are replaced, records merged key by key, arrays replaced', () => {
    const r = update({ count: 4, labels: ['l2'], config: { hour: 5 } })
    assert.ok(r.ok)
    assert.equal(r.row['count'], 4)
    assert.deepEqual(r.row['labels'], ['l2'])
    assert.deepEqual(r.row['config'], { minute: 1, hour: 5, policy: 'redis', nested: { depth: 2 } })
    assert.equal(r.row['id'], existing.id)
  })

  test('null clears a field and is not replaced by its default', () => {
    const r = update({ count: null })
    assert.ok(r.ok)
    assert.equal(r.row['count'], null)
  })

  test('null on a required field fails', () => {
    assert.deepEqual(update({ name: null }), { ok: false, errors: { name: 'required field missing' } })
  })

  test('update wording for at_least_one_of', () => {
    assert.deepEqual(update({ config: { minute: null } }), {
      ok: false,
      errors: { config: { '@entity': ["when updating, at least one of these fields must be non-empty: 'minute', 'hour'"] } },
    })
  })

  test('entity checks see the merged row', () => {
    assert.deepEqual(update({ b: 'also' }), {
      ok: false,
      errors: { '@entity': ["exactly one of these fields must be non-empty: 'a', 'b'"] },
    })
    assert.ok(update({ a: null, b: 'now' }).ok)
  })
})
