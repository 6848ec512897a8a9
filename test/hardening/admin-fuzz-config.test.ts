/**
 * Property-based fuzzing of `POST /config` on a DB-less gateway (database=off), plus the entity
 * endpoints there (which must refuse every write). Each request has a 5 s client timeout, and:
 *
 * - never a 5xx, never a hang; 4xx bodies in Kong's format (`invalid declarative configuration`,
 *   code 14, with `fields` or `flattened_errors`);
 * - a refused configuration leaves the loaded one exactly as it was (`GET /config` compared);
 * - a loaded configuration (201) can be read back: its entities answer on their endpoints.
 *
 * Shares TURNPIKE_FUZZ_RUNS / TURNPIKE_FUZZ_SEED with admin-fuzz.test.ts (a quarter of the runs).
 */
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { learnModel, requestArb, snapshot, type AdminModel } from './fuzz/admin-model.js'
import { configRequestArb, encodeConfig, type ConfigRequest } from './fuzz/config-arbs.js'
import type { Stats } from './fuzz/harness.js'
import {
  AdminClient,
  encode,
  fuzzRun,
  FIXED_SEED,
  FUZZ_RUNS,
  RANDOM_SEED,
  sendChecked,
  type FuzzRequest,
  type Snapshot,
} from './fuzz/harness.js'

const RUNS = Math.max(2, Math.round(FUZZ_RUNS * 0.25))

let gw: TestGateway
let client: AdminClient
let model: AdminModel
let snap: Snapshot
let loaded = ''

before(async () => {
  gw = await startTestGateway({ settings: { database: 'off' } })
  client = new AdminClient(gw.adminUrl)
  model = await learnModel(client)
  snap = await snapshot(client, model)
  loaded = (await client.json('GET', '/config')).text
})

after(async () => {
  await client?.close()
  await gw?.stop()
})

type Payload = { kind: 'config'; r: ConfigRequest } | { kind: 'entity'; r: FuzzRequest }

/** The path of a loaded row: `/services/{id}`, `/upstreams/{u}/targets/{id}`. */
function rowPath(entity: string, row: Record<string, unknown>): string | null {
  const l = model.listings.get(entity)
  if (l === undefined) return null
  if ('path' in l) return `${l.path}/${String(row['id'])}`
  const parent = row[l.parent.replace(/s$/, '')] as { id?: string } | undefined
  return parent?.id === undefined ? null : `/${l.parent}/${parent.id}/${l.segment}/${String(row['id'])}`
}

async function check(p: Payload, stats: Stats): Promise<void> {
  if (p.kind === 'entity') {
    const e = encode(p.r, snap)
    const a = await sendChecked(client, e, stats)
    if (a === null || e.method === 'GET' || e.method === 'HEAD' || e.method === 'OPTIONS') return
    const now = (await client.json('GET', '/config')).text
    stats.snapshots++
    if (now !== loaded) {
      stats.partialWrites++
      loaded = now
      throw new Error(`a DB-less entity write (${a.status}) changed the configuration: ${e.method} ${e.path}`)
    }
    return
  }
  const { path, headers, body } = encodeConfig(p.r)
  const e = {
    method: 'POST',
    path,
    headers,
    body,
    request: { method: 'POST', path: [], query: [], body: null, encoding: 'json', arrayStyle: 'index', extraPairs: [] } as FuzzRequest,
  }
  const a = await sendChecked(client, e, stats)
  const now = (await client.json('GET', '/config')).text
  stats.snapshots++
  if (a.status >= 400 || a.status === 304) {
    if (now !== loaded) {
      stats.partialWrites++
      loaded = now
      throw new Error(
        `POST /config answered ${a.status} but the configuration changed: ${a.text.slice(0, 300)} body ${body.subarray(0, 300).toString()}`,
      )
    }
    return
  }
  if (a.status !== 201) throw new Error(`POST /config answered ${a.status}: ${a.text.slice(0, 200)}`)
  loaded = now
  // Read back: one row of each loaded entity answers on its endpoint with what the 201 listed.
  for (const [entity, rows] of Object.entries(a.body as Record<string, Record<string, Record<string, unknown>>>)) {
    const row = Object.values(rows)[0]
    const at = row === undefined ? null : rowPath(entity, row)
    if (at === null) continue
    const got = await client.json('GET', at)
    if (got.status !== 200 || (got.body as { id?: unknown }).id !== row?.['id'])
      throw new Error(`loaded ${entity} ${String(row?.['id'])} answers ${got.status} on ${at}: ${got.text.slice(0, 200)}`)
    stats.readBacks++
  }
  snap = await snapshot(client, model)
}

const payloadArb = (): fc.Arbitrary<Payload> =>
  fc.oneof(
    { weight: 4, arbitrary: configRequestArb(model).map((r): Payload => ({ kind: 'config', r })) },
    {
      weight: 1,
      arbitrary: requestArb(
        model,
        model.endpoints.filter((ep) => ep !== '/config'),
      ).map((r): Payload => ({ kind: 'entity', r })),
    },
  )

test('POST /config (DB-less): fixed seed', { timeout: 15 * 60_000 }, async (t) => {
  await fuzzRun('POST /config, fixed seed', FIXED_SEED, Math.ceil(RUNS / 2), payloadArb(), check, (s) => t.diagnostic(s))
})

test('POST /config (DB-less): random seed (TURNPIKE_FUZZ_SEED replays it)', { timeout: 15 * 60_000 }, async (t) => {
  t.diagnostic(`random seed ${RANDOM_SEED}: replay with TURNPIKE_FUZZ_SEED=${RANDOM_SEED}`)
  await fuzzRun('POST /config, random seed', RANDOM_SEED, Math.floor(RUNS / 2), payloadArb(), check, (s) => t.diagnostic(s))
})
