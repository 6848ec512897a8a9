/**
 * fast-check arbitraries for Admin API payloads, derived from the schemas the gateway itself
 * serves (`GET /schemas/{entity}`, `GET /schemas/plugins/{name}`): most payloads are nearly
 * valid, so they get past the first check and reach the validator's deep branches, the DAO, the
 * foreign-key and uniqueness checks; the rest are hostile (wrong types, huge numbers, unicode,
 * invalid UTF-8, long strings, many fields, deep nesting, prototype keys, dotted keys, huge
 * array indices).
 */
import fc from 'fast-check'
import { Obj, Raw, type Value } from './values.js'

/** One field definition as `/schemas` prints it. */
export interface FieldDef {
  readonly type?: string
  readonly one_of?: readonly unknown[]
  readonly between?: readonly [number, number]
  readonly uuid?: boolean
  readonly starts_with?: string
  readonly elements?: FieldDef
  readonly keys?: FieldDef
  readonly values?: FieldDef
  readonly fields?: readonly Record<string, FieldDef>[]
  readonly reference?: string
  readonly required?: boolean
  readonly auto?: boolean
  readonly default?: unknown
  readonly len_min?: number
  readonly len_max?: number
}

export interface SchemaJson {
  readonly fields: readonly Record<string, FieldDef>[]
}

/** A reference to an existing row, resolved when the payload is sent (the store changes). */
export class Ref {
  readonly entity: string
  readonly pick: number
  readonly by: 'id' | 'key'
  constructor(entity: string, pick: number, by: 'id' | 'key') {
    this.entity = entity
    this.pick = pick
    this.by = by
  }
}

/** The fields of a schema as `[name, def]`. */
export function fieldsOf(schema: SchemaJson | { fields?: readonly Record<string, FieldDef>[] }): [string, FieldDef][] {
  return (schema.fields ?? []).flatMap((f) => Object.entries(f))
}

const SAFE = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/)

/** Strings a hostile client sends. */
export const hostileString: fc.Arbitrary<Value> = fc.oneof(
  fc.string({ maxLength: 40, unit: 'grapheme' }),
  fc.string({ maxLength: 20, unit: 'binary' }), // lone surrogates and everything else
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '../..',
    '%',
    '%zz',
    '__proto__',
    'constructor',
    'null',
    'true',
    '0',
    '-1',
    'a.b.c',
    'x[1]',
    '\u202e',
    '😀'.repeat(20),
    'ǅ',
    '\r\nX-Injected: 1',
  ),
  fc.integer({ min: 1, max: 12 }).map((k) => 'x'.repeat(k <= 8 ? 1_000 : k <= 11 ? 65_536 : 300_000)),
  // Invalid UTF-8 inside a JSON string or a form value.
  fc
    .constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82])
    .map((bytes) => new Raw(Buffer.concat([Buffer.from('"a'), Buffer.from(bytes), Buffer.from('b"')]))),
)

/** Number literals JavaScript and Lua disagree on, written verbatim into JSON. */
export const hostileNumber: fc.Arbitrary<Value> = fc.oneof(
  fc
    .constantFrom(
      '1e400',
      '-1e400',
      '1e-400',
      '-0',
      '4294967296',
      '9007199254740993',
      '123456789012345678901234567890',
      '0.1e1',
      '1E2',
      '2147483647',
      '2147483648',
      '-2147483649',
      '65536',
      '1.5',
    )
    .map((t) => new Raw(t)),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
)

/** Any JSON-ish value: wrong types for a field. */
export const anyValue: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    hostileNumber,
    hostileString,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.array(fc.tuple(SAFE, tie('v')), { maxLength: 3 }).map((e) => new Obj(e)),
  ),
})).v

/** A JSON value nested `depth` levels deep, as text (cheap to build at any depth). */
export function deepJson(depth: number, kind: 'object' | 'array'): Raw {
  const open = kind === 'object' ? '{"a":' : '['
  const close = kind === 'object' ? '}' : ']'
  return new Raw(`${open.repeat(depth)}1${close.repeat(depth)}`)
}

export const deepValue: fc.Arbitrary<Value> = fc
  .tuple(fc.constantFrom(10, 100, 500, 1_000, 1_999, 2_000, 5_000, 100_000), fc.constantFrom<'object' | 'array'>('object', 'array'))
  .map(([d, k]) => deepJson(d, k))

export interface SchemaArbOptions {
  /** Probability-ish weight of a hostile value instead of a valid-looking one, out of 10. */
  readonly hostility: number
  /** How to reference a foreign entity. */
  readonly ref: (entity: string) => fc.Arbitrary<Value | Ref>
}

type Arb = fc.Arbitrary<Value | Ref | Obj>

/** A value for one field: usually what the schema asks for, sometimes anything. */
export function fieldValue(def: FieldDef, opts: SchemaArbOptions, depth = 0): Arb {
  const valid = validish(def, opts, depth)
  if (opts.hostility <= 0) return valid
  return fc.oneof(
    { weight: 10 - opts.hostility, arbitrary: valid },
    {
      weight: opts.hostility,
      arbitrary: depth === 0 ? fc.oneof({ weight: 6, arbitrary: anyValue }, { weight: 1, arbitrary: deepValue }) : anyValue,
    },
  )
}

function validish(def: FieldDef, opts: SchemaArbOptions, depth: number): Arb {
  if (def.one_of !== undefined && def.one_of.length > 0) return fc.constantFrom(...(def.one_of as Value[]))
  switch (def.type) {
    case 'string':
      if (def.uuid === true) return fc.uuid()
      if (def.starts_with !== undefined) return SAFE.map((s) => `${def.starts_with ?? ''}${s}`)
      return fc.oneof(
        { weight: 4, arbitrary: SAFE },
        { weight: 1, arbitrary: fc.constantFrom('example.com', '127.0.0.1', '10.0.0.1:8080', 'a', 'x-y', '/a/b', 'http://example.com/x') },
      )
    case 'integer':
    case 'number': {
      const [lo, hi] = def.between ?? [0, 100_000]
      const min = Math.ceil(Math.max(lo, -1e9))
      const ints = fc.integer({ min, max: Math.max(min, Math.floor(Math.min(hi, 1e9))) })
      return def.type === 'integer'
        ? fc.oneof(ints, fc.constantFrom(lo - 1, hi + 1))
        : fc.oneof(ints, fc.double({ min: lo, max: hi, noNaN: true }))
    }
    case 'boolean':
      return fc.boolean()
    case 'array':
    case 'set': {
      const el = def.elements ?? { type: 'string' }
      return depth > 4 ? fc.constant([]) : (fc.array(fieldValue(el, opts, depth + 1), { maxLength: 4 }) as Arb)
    }
    case 'map': {
      const v = def.values ?? { type: 'string' }
      if (depth > 4) return fc.constant(new Obj([]))
      return fc.array(fc.tuple(SAFE, fieldValue(v, opts, depth + 1)), { maxLength: 3 }).map((e) => new Obj(e as [string, Value][]))
    }
    case 'record':
      if (depth > 4) return fc.constant(new Obj([]))
      return recordArb(fieldsOf({ fields: def.fields ?? [] }), opts, depth + 1)
    case 'foreign':
      return opts.ref(def.reference ?? '')
    default:
      return anyValue
  }
}

/**
 * A record with a random subset of the fields (required ones more often), in schema order.
 * `id`, `created_at` and `updated_at` are usually left out, as clients do.
 */
export function recordArb(fields: readonly [string, FieldDef][], opts: SchemaArbOptions, depth = 0): fc.Arbitrary<Obj> {
  const parts = fields.map(([name, def]) => {
    const skipAuto = name === 'id' || name === 'created_at' || name === 'updated_at'
    // Schema-shaped payloads (hostility 0) leave most optional fields out, so that many are valid.
    const includeWeight = skipAuto ? 1 : def.required === true && def.default === undefined ? 10 : opts.hostility === 0 ? 2 : 5
    return fc
      .tuple(fc.integer({ min: 0, max: 9 }), fieldValue(def, opts, depth))
      .map(([roll, v]) => (roll < includeWeight ? ([name, v] as [string, Value | Ref]) : null))
  })
  return fc.tuple(...parts).map((entries) => new Obj(entries.filter((e): e is [string, Value] => e !== null)))
}

/** Extra entries a hostile client adds to a payload. */
export const hostileEntries: fc.Arbitrary<[string, Value][]> = fc.oneof(
  fc.constant<[string, Value][]>([]),
  fc.array(fc.tuple(fc.oneof(SAFE, fc.string({ maxLength: 12 })), anyValue), { maxLength: 4 }),
  // Prototype keys.
  fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), anyValue).map((e): [string, Value][] => [e]),
  fc.constantFrom<[string, Value][]>(
    [['__proto__', new Obj([['admin', true]])]],
    [['constructor', new Obj([['prototype', new Obj([['polluted', 'yes']])]])]],
  ),
  // Many fields.
  fc.integer({ min: 100, max: 2_000 }).map((n) => Array.from({ length: n }, (_, i) => [`f${i}`, i] as [string, Value])),
  // Dotted keys (JSON keys are kept as they are; form keys are split on dots).
  fc
    .integer({ min: 1, max: 3 })
    .map((k) => [[Array.from({ length: k === 1 ? 3 : k === 2 ? 500 : 2_500 }, () => 'a').join('.'), 'v']] as [string, Value][]),
)

/** Extra raw form pairs (keys only a form can express). */
export const hostileFormPairs: fc.Arbitrary<[string, Buffer][]> = fc.oneof(
  fc.constant<[string, Buffer][]>([]),
  fc
    .constantFrom(1, 2, 3, 100, 999, 1_000, 99_999_999, 4_294_967_295, 4_294_967_296)
    .map((i) => [[`tags[${i}]`, Buffer.from('t')]] as [string, Buffer][]),
  fc
    .constantFrom('paths[]', 'hosts[1]', 'a[]b', '[]', '[1]', 'a]', 'a[', 'config.x[2].y', '.', '..', 'a..b', 'service.', '.service')
    .map((k) => [[k, Buffer.from('v')]] as [string, Buffer][]),
  fc
    .constantFrom(10, 500, 1_999, 2_000, 5_000)
    .map((n) => [[Array.from({ length: n }, () => 'a').join('.'), Buffer.from('v')]] as [string, Buffer][]),
  fc.constantFrom(10, 500, 2_000).map((n) => [[`a${'[1]'.repeat(n)}`, Buffer.from('v')]] as [string, Buffer][]),
  fc
    .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.constantFrom('', '.x', '[x]', '.prototype.x', '[1]'))
    .map(([a, b]) => [[`${a}${b}`, Buffer.from('1')]] as [string, Buffer][]),
)
