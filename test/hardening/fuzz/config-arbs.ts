/**
 * Arbitraries for `POST /config` (DB-less): declarative configurations built from the entity and
 * plugin schemas the gateway serves (so most are nearly valid and get loaded, or fail deep in the
 * loader), sent as JSON, YAML, `config=` forms and multipart, plus hostile documents (YAML alias
 * bombs, tags, deep nesting, wrong `_format_version`, duplicate keys).
 */
import fc from 'fast-check'
import { stringify } from 'yaml'
import { anyValue, fieldsOf, hostileString, recordArb } from './arbitraries.js'
import type { AdminModel } from './admin-model.js'
import { entityBody } from './admin-model.js'
import { Obj, Raw, toJson, type Value } from './values.js'

/** Names every generated entity picks from, so that references sometimes resolve. */
const NAMES = ['a', 'b', 'c']

const nameRef: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 1, arbitrary: fc.uuid().map((id) => new Obj([['id', id]])) },
  { weight: 1, arbitrary: fc.oneof(anyValue, hostileString) },
)

/** An entity for a declarative file: its schema's fields minus the foreign key its parent implies. */
function declEntity(
  model: AdminModel,
  entity: string,
  hostility: number,
  drop: readonly string[],
  children: readonly [string, fc.Arbitrary<Value>][],
): fc.Arbitrary<Obj> {
  const schema = model.schemas.get(entity)
  if (schema === undefined) return fc.constant(new Obj([]))
  const fields = fieldsOf(schema).filter(([n]) => !drop.includes(n))
  // Foreign keys name their entity (`service: a`) or give its id, as in kong.yml.
  const base = entity === 'plugins' ? entityBody(model, 'plugins', hostility) : recordArb(fields, { hostility, ref: () => nameRef }, 1)
  return fc
    .tuple(
      base,
      fc.constantFrom(...NAMES),
      ...children.map(([key, arb]) =>
        fc.option(
          arb.map((v) => [key, v] as [string, Value]),
          { nil: undefined, freq: 2 },
        ),
      ),
    )
    .map(([o, name, ...kids]) => {
      const out = new Obj(
        o.entries.filter(
          ([k]) =>
            !drop.includes(k) &&
            !(entity === 'plugins' && (k === 'service' || k === 'route' || k === 'consumer') && drop.includes('@parent')),
        ),
      )
      // Unique names from the small pool: clashes are part of the test.
      const nameField = entity === 'consumers' ? 'username' : entity === 'targets' ? null : entity === 'plugins' ? null : 'name'
      // Schema-shaped routes get a path (Kong wants one of methods, hosts, headers, paths, snis).
      if (entity === 'routes' && hostility === 0 && out.get('paths') === undefined) out.set('paths', [`/${name}`])
      if (
        hostility > 0 &&
        nameField !== null &&
        out.get(nameField) === undefined &&
        fieldsOf(model.schemas.get(entity) ?? { fields: [] }).some(([n]) => n === nameField)
      )
        out.set(nameField, name)
      for (const kid of kids) if (kid !== undefined) out.set(kid[0], kid[1])
      return out
    })
}

function list(arb: fc.Arbitrary<Obj>): fc.Arbitrary<Value> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.array(arb, { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.array(arb, { minLength: 20, maxLength: 60 }) },
    { weight: 1, arbitrary: anyValue },
  )
}

function addEntities(out: Obj, c: Partial<Record<'services' | 'routes' | 'consumers' | 'upstreams' | 'plugins', Value | undefined>>): Obj {
  for (const key of ['services', 'routes', 'consumers', 'upstreams', 'plugins'] as const) {
    const v = c[key]
    if (v !== undefined) out.set(key, v)
  }
  return out
}

/** A declarative configuration as a value tree. */
export function declarativeArb(model: AdminModel): fc.Arbitrary<Obj> {
  return fc.constantFrom(0, 0, 0, 1, 3).chain((h) => {
    const plugin = (parent: string): fc.Arbitrary<Obj> => declEntity(model, 'plugins', h, [parent, '@parent'], [])
    const route = declEntity(model, 'routes', h, ['service'], [['plugins', list(plugin('route'))]])
    const service = declEntity(
      model,
      'services',
      h,
      [],
      [
        ['routes', list(route)],
        ['plugins', list(plugin('service'))],
      ],
    )
    const consumer = declEntity(
      model,
      'consumers',
      h,
      [],
      [
        ['keyauth_credentials', list(declEntity(model, 'keyauth_credentials', h, ['consumer'], []))],
        ['basicauth_credentials', list(declEntity(model, 'basicauth_credentials', h, ['consumer'], []))],
        ['acls', list(declEntity(model, 'acls', h, ['consumer'], []))],
        ['jwt_secrets', list(declEntity(model, 'jwt_secrets', h, ['consumer'], []))],
        ['plugins', list(plugin('consumer'))],
      ],
    )
    const upstream = declEntity(model, 'upstreams', h, [], [['targets', list(declEntity(model, 'targets', h, ['upstream'], []))]])
    const topRoute = declEntity(model, 'routes', h, [], [])
    return fc
      .record({
        version: fc.oneof(
          { weight: 12, arbitrary: fc.constantFrom<Value>('3.0', '2.1', '1.1') },
          { weight: 1, arbitrary: fc.oneof(fc.constantFrom<Value>('9.9', 3, '', null, '3.0.0'), anyValue) },
        ),
        transform: fc.option(fc.oneof(fc.boolean(), anyValue), { nil: undefined, freq: 6 }),
        services: fc.option(list(service), { nil: undefined, freq: 3 }),
        routes: fc.option(list(topRoute), { nil: undefined, freq: 2 }),
        consumers: fc.option(list(consumer), { nil: undefined, freq: 3 }),
        upstreams: fc.option(list(upstream), { nil: undefined, freq: 3 }),
        plugins: fc.option(list(declEntity(model, 'plugins', h, [], [])), { nil: undefined, freq: 2 }),
        extra: fc.option(fc.tuple(fc.constantFrom('certificates', 'no_such_entity', '_comment', '_workspace', 'vaults'), anyValue), {
          nil: undefined,
          freq: 6,
        }),
      })
      .map((c) => {
        // Schema-shaped configurations keep a valid header, so that many of them load.
        const out = new Obj([['_format_version', h === 0 ? '3.0' : c.version]])
        if (h === 0) return addEntities(out, c)
        if (c.transform !== undefined) out.set('_transform', c.transform)
        addEntities(out, c)
        if (c.extra !== undefined) out.set(c.extra[0], c.extra[1])
        return out
      })
  })
}

/** Plain data for the YAML writer (keys as given; prototype keys are defined, never assigned). */
function plain(v: Value): unknown {
  if (v instanceof Raw) return v.bytes.toString('utf8')
  if (v instanceof Obj) {
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    for (const [k, x] of v.entries) Object.defineProperty(out, k, { value: plain(x), enumerable: true, writable: true, configurable: true })
    return out
  }
  if (Array.isArray(v)) return v.map(plain)
  return v
}

/** Hostile YAML documents. */
export const HOSTILE_YAML: fc.Arbitrary<string> = fc.constantFrom(
  // Alias bomb ("billion laughs").
  [
    '_format_version: "3.0"',
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    ...Array.from(
      { length: 9 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
    ),
  ].join('\n'),
  '_format_version: "3.0"\nservices: &s\n  - name: a\n    host: example.com\n    routes: *s\n',
  '_format_version: "3.0"\nservices:\n  - !!js/function "function(){}"\n',
  '_format_version: "3.0"\nservices:\n  - name: a\n    host: !!binary aGVsbG8=\n',
  '_format_version: "3.0"\n_format_version: "1.1"\n',
  '_format_version: "3.0"\nservices:\n  - <<: {name: a, host: example.com}\n    <<: {port: 1}\n',
  `_format_version: "3.0"\nservices: ${'['.repeat(1_500)}${']'.repeat(1_500)}\n`,
  `_format_version: "3.0"\nservices: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`,
  '_format_version: "3.0"\n---\n_format_version: "3.0"\n',
  '\t_format_version: "3.0"',
  '_format_version: "3.0"\nservices:\n  - name: a\n    host: example.com\n    port: 0x10\n    retries: .inf\n',
  '%YAML 1.1\n---\n_format_version: "3.0"\nservices:\n  - {name: a, host: example.com, tls_verify: yes}\n',
  '',
  '- 1\n- 2\n',
  'just a string',
)

export type ConfigEncoding = 'json' | 'json-config' | 'yaml' | 'form' | 'multipart' | 'hostile-yaml'

export interface ConfigRequest {
  readonly encoding: ConfigEncoding
  readonly config: Obj
  readonly hostileYaml: string
  readonly query: readonly [string, string][]
}

export const configRequestArb = (model: AdminModel): fc.Arbitrary<ConfigRequest> =>
  fc.record({
    encoding: fc.oneof(
      { weight: 6, arbitrary: fc.constant<ConfigEncoding>('json') },
      { weight: 3, arbitrary: fc.constant<ConfigEncoding>('yaml') },
      { weight: 2, arbitrary: fc.constantFrom<ConfigEncoding>('json-config', 'form', 'multipart') },
      { weight: 1, arbitrary: fc.constant<ConfigEncoding>('hostile-yaml') },
    ),
    config: declarativeArb(model),
    hostileYaml: HOSTILE_YAML,
    query: fc.array(fc.tuple(fc.constantFrom('flatten_errors', 'check_hash'), fc.constantFrom('1', '0', 'true', 'x')), { maxLength: 2 }),
  })

/** Bytes and headers of a /config request. */
export function encodeConfig(r: ConfigRequest): { path: string; headers: Record<string, string>; body: Buffer } {
  const qs = r.query.length === 0 ? '' : '?' + r.query.map(([k, v]) => `${k}=${v}`).join('&')
  const path = `/config${qs}`
  const json = toJson(r.config)
  const yamlText = (): string => stringify(plain(r.config), { aliasDuplicateObjects: false })
  switch (r.encoding) {
    case 'json':
      return { path, headers: { 'content-type': 'application/json' }, body: json }
    case 'json-config':
      return {
        path,
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat([Buffer.from('{"config":'), Buffer.from(JSON.stringify(json.toString('utf8'))), Buffer.from('}')]),
      }
    case 'yaml':
      return { path, headers: { 'content-type': 'application/yaml' }, body: Buffer.from(yamlText()) }
    case 'form':
      return {
        path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(`config=${encodeURIComponent(yamlText())}`),
      }
    case 'multipart': {
      const b = 'cfgBoundary42'
      return {
        path,
        headers: { 'content-type': `multipart/form-data; boundary=${b}` },
        body: Buffer.concat([
          Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="config"; filename="kong.yml"\r\n\r\n`),
          json,
          Buffer.from(`\r\n--${b}--\r\n`),
        ]),
      }
    }
    case 'hostile-yaml':
      return { path, headers: { 'content-type': 'text/yaml' }, body: Buffer.from(r.hostileYaml) }
  }
}
