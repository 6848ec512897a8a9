/**
 * What the fuzzer knows about a running gateway's Admin API, learnt from the gateway itself:
 * its endpoints (`GET /endpoints`), entity schemas (`GET /schemas/{entity}`) and plugin schemas
 * (`GET /schemas/plugins/{name}`). From these it builds request arbitraries for every endpoint,
 * a full listing of every entity (the store fingerprint) and the fixtures nested paths need.
 */
import fc from 'fast-check'
import {
  anyValue,
  deepJson,
  fieldsOf,
  hostileEntries,
  hostileFormPairs,
  hostileString,
  recordArb,
  Ref,
  type FieldDef,
  type SchemaJson,
} from './arbitraries.js'
import type { AdminClient, Encoding, FuzzRequest, Snapshot } from './harness.js'
import { Obj, Raw, type ArrayStyle, type Value } from './values.js'

export interface AdminModel {
  /** Endpoint templates (`/services/{services}/routes`). */
  readonly endpoints: readonly string[]
  /** Entity schemas by entity name. */
  readonly schemas: ReadonlyMap<string, SchemaJson>
  /** Plugin schemas by plugin name. */
  readonly plugins: ReadonlyMap<string, SchemaJson>
  /** URL segment → entity name (`key-auths` and `key-auth` → `keyauth_credentials`, `service` → `services`). */
  readonly segments: ReadonlyMap<string, string>
  /** Entity name → how to list every row: `/services`, or nested under each row of a parent. */
  readonly listings: ReadonlyMap<string, { readonly path: string } | { readonly parent: string; readonly segment: string }>
  /** The methods each endpoint answers (its `Allow` to OPTIONS). */
  readonly methods: ReadonlyMap<string, readonly string[]>
}

/** Reads the model off a running gateway. */
export async function learnModel(client: AdminClient): Promise<AdminModel> {
  const endpoints = ((await client.json('GET', '/endpoints')).body as { data: string[] }).data
  const segments = new Map<string, string>()
  const entityNames = new Set<string>()
  for (const ep of endpoints) {
    const parts = ep.split('/').filter((p) => p !== '')
    parts.forEach((p, i) => {
      const next = parts[i + 1]
      const m = next === undefined ? null : /^\{(.+)\}$/.exec(next)
      if (
        m !== null &&
        m[1] !== undefined &&
        !p.startsWith('{') &&
        p !== 'schemas' &&
        p !== 'tags' &&
        p !== 'proxy-cache' &&
        p !== 'plugins' + '-schema'
      ) {
        if (m[1] !== 'name' && m[1] !== 'cache_key' && m[1] !== 'plugin_id' && m[1] !== 'address') {
          segments.set(p, m[1])
          entityNames.add(m[1])
        }
      }
    })
  }
  const schemas = new Map<string, SchemaJson>()
  for (const name of entityNames) {
    const res = await client.json('GET', `/schemas/${name}`)
    if (res.status === 200) schemas.set(name, res.body as SchemaJson)
  }
  // Foreign-key segments (`/routes/{routes}/service`): the field name → the referenced entity.
  for (const schema of schemas.values())
    for (const [field, def] of fieldsOf(schema))
      if (def.type === 'foreign' && def.reference !== undefined && schemas.has(def.reference)) segments.set(field, def.reference)
  const plugins = new Map<string, SchemaJson>()
  const enabled = ((await client.json('GET', '/plugins/enabled')).body as { enabled_plugins: string[] }).enabled_plugins
  for (const name of enabled) {
    const res = await client.json('GET', `/schemas/plugins/${name}`)
    if (res.status === 200) plugins.set(name, res.body as SchemaJson)
  }
  const listings = new Map<string, { path: string } | { parent: string; segment: string }>()
  for (const [seg, entity] of segments) {
    if (!schemas.has(entity)) continue
    if (endpoints.includes(`/${seg}`) && endpoints.includes(`/${seg}/{${entity}}`)) listings.set(entity, { path: `/${seg}` })
  }
  for (const ep of endpoints) {
    const m = /^\/([^/]+)\/\{([^}]+)\}\/([^/{]+)\/\{([^}]+)\}$/.exec(ep)
    if (m === null) continue
    const [, , parent, seg, child] = m
    if (parent !== undefined && seg !== undefined && child !== undefined && !listings.has(child) && schemas.has(child))
      listings.set(child, { parent, segment: seg })
  }
  const methods = new Map<string, string[]>()
  for (const ep of endpoints) {
    const res = await client.send('OPTIONS', ep.replace(/\{[^}]+\}/g, 'x'), {}, null)
    methods.set(
      ep,
      res.allow
        .split(',')
        .map((m) => m.trim())
        .filter((m) => m !== '' && m !== 'OPTIONS' && m !== 'HEAD'),
    )
  }
  return { endpoints, schemas, plugins, segments, listings, methods }
}

function canonical(row: unknown): string {
  return JSON.stringify(row, (_k, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  )
}

/** Every row of a collection path, following `offset`. */
async function listAll(client: AdminClient, path: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = []
  let offset: string | undefined
  for (let page = 0; page < 50; page++) {
    const res = await client.json('GET', `${path}?size=1000${offset === undefined ? '' : `&offset=${encodeURIComponent(offset)}`}`)
    if (res.status !== 200) throw new Error(`listing ${path}: ${res.status} ${res.text.slice(0, 200)}`)
    const body = res.body as { data: Record<string, unknown>[]; offset?: string }
    out.push(...body.data)
    if (body.offset === undefined) break
    offset = body.offset
  }
  return out
}

/** A full listing of every entity: entity → id → row. */
export async function snapshot(client: AdminClient, model: AdminModel): Promise<Snapshot> {
  const snap: Snapshot = new Map()
  const top = [...model.listings].filter(([, l]) => 'path' in l) as [string, { path: string }][]
  const lists = await Promise.all(top.map(([, l]) => listAll(client, l.path)))
  top.forEach(([entity], i) => snap.set(entity, new Map((lists[i] ?? []).map((r) => [String(r['id']), r]))))
  for (const [entity, l] of model.listings) {
    if ('path' in l) continue
    const parents = [...(snap.get(l.parent)?.keys() ?? [])]
    const rows = (await Promise.all(parents.map((id) => listAll(client, `/${adminSegmentOf(model, l.parent)}/${id}/${l.segment}`)))).flat()
    snap.set(entity, new Map(rows.map((r) => [String(r['id']), r])))
  }
  return snap
}

function adminSegmentOf(model: AdminModel, entity: string): string {
  const l = model.listings.get(entity)
  return l !== undefined && 'path' in l ? l.path.slice(1) : entity
}

/** Rows that expire by themselves (`ttl`) are left out of comparisons. */
function stable(row: Record<string, unknown>): boolean {
  return typeof row['ttl'] !== 'number'
}

/** What changed between two listings, or null when nothing did. */
export function diffSnapshots(before: Snapshot, after: Snapshot): string | null {
  const problems: string[] = []
  for (const entity of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(entity) ?? new Map()
    const b = after.get(entity) ?? new Map()
    for (const [id, row] of a) {
      if (!stable(row)) continue
      const now = b.get(id)
      if (now === undefined) problems.push(`${entity} ${id} disappeared`)
      else if (canonical(now) !== canonical(row))
        problems.push(`${entity} ${id} changed: ${canonical(row).slice(0, 200)} → ${canonical(now).slice(0, 200)}`)
    }
    for (const [id, row] of b) if (!a.has(id) && stable(row)) problems.push(`${entity} ${id} appeared: ${canonical(row).slice(0, 200)}`)
  }
  return problems.length === 0 ? null : problems.slice(0, 5).join('; ')
}

/** The row with this id in a listing, and its entity. */
export function findRow(snap: Snapshot, id: string): { entity: string; row: Record<string, unknown> } | null {
  for (const [entity, rows] of snap) {
    const row = rows.get(id)
    if (row !== undefined) return { entity, row }
  }
  return null
}

/** True when a write's answer and the stored row agree. */
export function sameRow(answer: unknown, row: Record<string, unknown>): boolean {
  return canonical(answer) === canonical(row)
}

/** Valid inputs for the fixtures nested paths need (a service with a route, a consumer with credentials…). */
export function fixtureInput(
  entity: string,
  n: number,
  parentIds: ReadonlyMap<string, string>,
): { path: string; body: Record<string, unknown> } | null {
  const consumer = parentIds.get('consumers')
  const upstream = parentIds.get('upstreams')
  switch (entity) {
    case 'services':
      return { path: '/services', body: { name: `fx-svc-${n}`, host: 'example.com', tags: ['fx'] } }
    case 'routes':
      return {
        path: '/routes',
        body: {
          name: `fx-route-${n}`,
          paths: [`/fx${n}`],
          service: parentIds.has('services') ? { id: parentIds.get('services') } : null,
          tags: ['fx'],
        },
      }
    case 'consumers':
      return { path: '/consumers', body: { username: `fx-user-${n}`, custom_id: `fx-${n}`, tags: ['fx'] } }
    case 'upstreams':
      return { path: '/upstreams', body: { name: `fx-up-${n}.internal`, tags: ['fx'] } }
    case 'targets':
      return upstream === undefined
        ? null
        : { path: `/upstreams/${upstream}/targets`, body: { target: `10.1.${n % 250}.${(n >> 8) % 250}:80${n % 10}` } }
    case 'plugins':
      return {
        path: '/plugins',
        body: { name: 'cors', service: parentIds.has('services') ? { id: parentIds.get('services') } : null, config: { origins: ['*'] } },
      }
    case 'keyauth_credentials':
      return consumer === undefined ? null : { path: `/consumers/${consumer}/key-auth`, body: { key: `fx-key-${n}` } }
    case 'basicauth_credentials':
      return consumer === undefined
        ? null
        : { path: `/consumers/${consumer}/basic-auth`, body: { username: `fx-basic-${n}`, password: 'pw' } }
    case 'acls':
      return consumer === undefined ? null : { path: `/consumers/${consumer}/acls`, body: { group: `fx-group-${n}` } }
    case 'jwt_secrets':
      return consumer === undefined ? null : { path: `/consumers/${consumer}/jwt`, body: { key: `fx-jwt-${n}` } }
    default:
      return null
  }
}

const ORDER = [
  'services',
  'consumers',
  'upstreams',
  'routes',
  'plugins',
  'targets',
  'keyauth_credentials',
  'basicauth_credentials',
  'acls',
  'jwt_secrets',
]

/**
 * Keeps every entity populated (fuzzed DELETEs remove fixtures) and small (fuzzed POSTs add rows;
 * the listing after every write must stay cheap). Returns true when it wrote anything.
 */
export async function tend(client: AdminClient, model: AdminModel, snap: Snapshot, counter: { n: number }): Promise<boolean> {
  let wrote = false
  for (const entity of [...ORDER].reverse()) {
    const rows = [...(snap.get(entity)?.values() ?? [])]
    if (rows.length <= 25) continue
    for (const row of rows.slice(0, rows.length - 8)) {
      const l = model.listings.get(entity)
      const path =
        l !== undefined && 'path' in l
          ? `${l.path}/${String(row['id'])}`
          : `/upstreams/${String((row['upstream'] as { id: string }).id)}/targets/${String(row['id'])}`
      await client.json('DELETE', path)
      wrote = true
    }
  }
  if (wrote) return true
  const parentIds = new Map<string, string>()
  for (const entity of ORDER) {
    const first = snap.get(entity)?.keys().next().value
    if (first !== undefined) {
      parentIds.set(entity, first)
      continue
    }
    const fx = fixtureInput(entity, counter.n++, parentIds)
    if (fx === null || !model.schemas.has(entity)) continue
    const res = await client.json('POST', fx.path, fx.body)
    if (res.status === 201) parentIds.set(entity, String((res.body as { id: string }).id))
    wrote = true
  }
  return wrote
}

// ---------------------------------------------------------------- request arbitraries

const METHODS = fc.oneof(
  { weight: 6, arbitrary: fc.constant('GET') },
  { weight: 6, arbitrary: fc.constant('POST') },
  { weight: 4, arbitrary: fc.constant('PUT') },
  { weight: 4, arbitrary: fc.constant('PATCH') },
  { weight: 2, arbitrary: fc.constant('DELETE') },
  { weight: 1, arbitrary: fc.constantFrom('HEAD', 'OPTIONS') },
)

const ENCODINGS: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Encoding>('json') },
  { weight: 4, arbitrary: fc.constant<Encoding>('form') },
  { weight: 2, arbitrary: fc.constant<Encoding>('multipart') },
  { weight: 1, arbitrary: fc.constantFrom<Encoding>('none', 'wrong-type') },
)

const ARRAY_STYLES = fc.constantFrom<ArrayStyle>('brackets', 'index', 'repeat')

/** Broken JSON documents. */
export const RAW_JSON_BODIES: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .constantFrom(
      '',
      '[]',
      '"x"',
      'null',
      '1e999',
      '{',
      '{"a":1,}',
      '{"a":1}{"b":2}',
      '\ufeff{}',
      '{"name":"\ud800"}',
      '{"name":"x","name":"y"}',
      '[{"name":"x"}]',
      '{"__proto__":{"polluted":1}}',
    )
    .map((s) => Buffer.from(s)),
  fc.constantFrom(Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])),
  fc
    .constantFrom(10, 1_999, 2_000, 50_000)
    .map((d) => Buffer.concat([Buffer.from('{"name":'), deepJson(d, 'array').bytes, Buffer.from('}')])),
)

const tagValue = fc.oneof(
  fc.constantFrom(
    'fx',
    'a,b',
    'a/b',
    'a,b/c',
    ',',
    '/',
    'x'.repeat(10_000),
    Array.from({ length: 5_000 }, (_, i) => `t${i}`).join(','),
    '\u0000',
    'é',
  ),
  fc.string({ maxLength: 20 }),
)

const QUERY_PAIRS: fc.Arbitrary<[string, string][]> = fc.array(
  fc.oneof(
    fc.tuple(
      fc.constant('size'),
      fc.constantFrom('0', '1', '2', '100', '1000', '1001', '-1', 'abc', '1e3', '99999999999999999999', '', '1.5', ' 2'),
    ),
    fc.tuple(
      fc.constant('offset'),
      fc.oneof(
        fc.constantFrom('', 'abc', 'WyJ4Il0=', 'WyIiXQ', '%%%', 'x'.repeat(5_000), 'eyJ4Ijp7fX0'),
        fc.base64String({ maxLength: 60 }),
      ),
    ),
    fc.tuple(fc.constant('tags'), tagValue),
    fc.tuple(
      fc.constantFrom('custom_id', 'balancer_health', 'unit', 'scale', 'flatten_errors', 'check_hash'),
      fc.constantFrom('1', '0', 'k', 'm', 'g', 'x', '', '-1', '99999999'),
    ),
    fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })),
  ),
  { maxLength: 3 },
)

/** An arbitrary for a path parameter of the given name. */
function paramArb(model: AdminModel, name: string): fc.Arbitrary<string | Ref | { raw: string }> {
  const hostile = fc.oneof(
    // Path parameters stay under the request line limit (a longer URI is the HTTP layer's 431/414).
    hostileString.map((v) => (typeof v === 'string' ? v.slice(0, 2_000) : 'x')),
    fc.constantFrom('%', '%zz', '%ff', '%C0%AF', '%00', '..', '.', 'a%2Fb').map((raw) => ({ raw })),
    fc.uuid(),
  )
  if (model.schemas.has(name)) {
    return fc.oneof(
      { weight: 8, arbitrary: fc.tuple(fc.nat(), fc.constantFrom<'id' | 'key'>('id', 'key')).map(([pick, by]) => new Ref(name, pick, by)) },
      { weight: 2, arbitrary: hostile },
    )
  }
  if (name === 'name') return fc.oneof(fc.constantFrom(...model.schemas.keys(), ...model.plugins.keys()), hostile)
  if (name === 'address') return fc.oneof(fc.constantFrom('10.1.0.0:80', '[::1]:80', '127.0.0.1', 'host:1'), hostile)
  return fc.oneof(fc.constantFrom('fx', 'x'), hostile)
}

/** The entity whose schema a body sent to this endpoint should follow. */
function bodyEntity(model: AdminModel, parts: readonly string[]): string | null {
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i] ?? ''
    const param = /^\{(.+)\}$/.exec(p)?.[1]
    if (param !== undefined && model.schemas.has(param)) return param
    if (param === undefined) {
      const e = model.segments.get(p)
      if (e !== undefined && model.schemas.has(e)) return e
      if (p === 'validate') return parts.includes('plugins') ? 'plugins' : null
      return null
    }
  }
  return null
}

function refArb(model: AdminModel): (entity: string) => fc.Arbitrary<Value | Ref> {
  return (entity) =>
    fc.oneof(
      { weight: 8, arbitrary: fc.nat().map((pick) => new Ref(entity, pick, 'id') as Value | Ref) },
      { weight: 1, arbitrary: fc.uuid().map((id) => new Obj([['id', id]])) },
      { weight: 1, arbitrary: fc.oneof(fc.constant(null), hostileString, anyValue, fc.constant(new Obj([['name', 'fx']]))) },
    )
}

const bodyCache = new Map<string, fc.Arbitrary<Obj>>()

/** A body for an entity at a hostility level (0: schema-shaped, 3: often wrong). */
export function entityBody(model: AdminModel, entity: string, hostility: number): fc.Arbitrary<Obj> {
  const key = `${entity}/${hostility}`
  const cached = bodyCache.get(key)
  if (cached !== undefined) return cached
  const opts = { hostility, ref: refArb(model) }
  const schema = model.schemas.get(entity)
  let arb: fc.Arbitrary<Obj>
  if (entity === 'plugins' && model.plugins.size > 0 && schema !== undefined) {
    const base = fieldsOf(schema).filter(([n]) => n !== 'config' && n !== 'name')
    const byPlugin = [...model.plugins].map(([name, ps]) => {
      const config = fieldsOf(ps).find(([n]) => n === 'config')?.[1] ?? ({ type: 'record', fields: [] } as FieldDef)
      return fc
        .tuple(recordArb(base, opts), recordArb(fieldsOf({ fields: config.fields ?? [] }), opts, 1), fc.integer({ min: 0, max: 9 }))
        .map(
          ([entityPart, configPart, roll]) =>
            new Obj([
              ['name', roll === 0 && hostility > 0 ? 'no-such-plugin' : name],
              ...entityPart.entries,
              ...(roll === 1 ? [] : [['config', configPart] as [string, Value]]),
            ]),
        )
    })
    arb = fc.oneof(...byPlugin)
  } else if (schema !== undefined) arb = recordArb(fieldsOf(schema), opts)
  else arb = fc.constant(new Obj([]))
  bodyCache.set(key, arb)
  return arb
}

/** Any Admin API request on an endpoint of the model. */
export function requestArb(model: AdminModel, endpoints: readonly string[] = model.endpoints): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...endpoints).chain((ep) => {
    const parts = ep.split('/').filter((p) => p !== '')
    const path = fc.tuple(
      ...parts.map((p) => {
        const m = /^\{(.+)\}$/.exec(p)
        return m === null ? fc.constant(p as string | Ref | { raw: string }) : paramArb(model, m[1] ?? '')
      }),
    )
    const entity = bodyEntity(model, parts) ?? (parts[0] === 'schemas' ? ([...model.schemas.keys()][0] ?? null) : null)
    const body: fc.Arbitrary<Obj | null> =
      entity === null
        ? fc.oneof(
            fc.constant(null),
            fc.array(fc.tuple(fc.string({ maxLength: 8 }), anyValue), { maxLength: 4 }).map((e) => new Obj(e)),
          )
        : fc.tuple(fc.constantFrom(0, 0, 0, 1, 2, 4), fc.nat()).chain(([h]) => entityBody(model, entity, h))
    const extras = fc.oneof({ weight: 6, arbitrary: fc.constant<[string, Value][]>([]) }, { weight: 1, arbitrary: hostileEntries })
    const allowed = model.methods.get(ep) ?? []
    const method =
      allowed.length === 0 ? METHODS : fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...allowed) }, { weight: 1, arbitrary: METHODS })
    return fc
      .record({
        method,
        path: path.map((p) => p as (string | Ref | { raw: string })[]),
        query: fc.oneof({ weight: 3, arbitrary: fc.constant<[string, string][]>([]) }, { weight: 2, arbitrary: QUERY_PAIRS }),
        body,
        extras,
        encoding: ENCODINGS,
        arrayStyle: ARRAY_STYLES,
        extraPairs: fc.oneof({ weight: 8, arbitrary: fc.constant<[string, Buffer][]>([]) }, { weight: 1, arbitrary: hostileFormPairs }),
        raw: fc.oneof({ weight: 15, arbitrary: fc.constant<Buffer | undefined>(undefined) }, { weight: 1, arbitrary: RAW_JSON_BODIES }),
      })
      .map(({ method, path: p, query, body: b, extras: x, encoding, arrayStyle, extraPairs, raw }) => {
        const fullBody = b === null ? null : new Obj([...b.entries, ...x])
        const r: FuzzRequest = {
          method,
          path: p,
          query,
          body: fullBody,
          encoding,
          arrayStyle,
          extraPairs: encoding === 'form' || encoding === 'multipart' ? extraPairs : [],
          ...(raw !== undefined && encoding === 'json' ? { rawBody: raw } : {}),
        }
        return r
      })
  })
}

export { Raw }
