/**
 * Property-based fuzzing of every Admin API entity endpoint (hardening: hostile input costs
 * bounded time, never another client's outcome). One real gateway (SQLite); each generated
 * request is sent with a 5 s client timeout, and:
 *
 * - the answer is never a 5xx and always comes (no hang);
 * - every 4xx body is Kong's error format (`message`; db errors with their `code` and `name`,
 *   schema violations with `fields`);
 * - a failed write leaves the store exactly as it was (a full listing of every entity, taken
 *   after every write, is compared with the previous one);
 * - a successful write answers with the row that a listing then shows.
 *
 * Half the payloads come from a fixed seed, half from a random one printed with the results
 * (`TURNPIKE_FUZZ_SEED` replays it, `TURNPIKE_FUZZ_RUNS` sets the total; `npm run fuzz` generates
 * 11,000, over 10,000 of them sent). See docs/testing.md#fuzzing-the-admin-api.
 */
import { after, before, test } from 'node:test'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { diffSnapshots, findRow, learnModel, requestArb, sameRow, snapshot, tend, type AdminModel } from './fuzz/admin-model.js'
import type { Stats } from './fuzz/harness.js'
import {
  AdminClient,
  encode,
  fuzzRun,
  FIXED_SEED,
  FUZZ_RUNS,
  RANDOM_SEED,
  sendChecked,
  describe,
  type FuzzRequest,
  type Snapshot,
} from './fuzz/harness.js'

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** The entity endpoints' share of the run; the rest goes to POST /config (admin-fuzz-config.test.ts). */
const RUNS = Math.max(2, Math.round(FUZZ_RUNS * 0.75))

let gw: TestGateway
let client: AdminClient
let model: AdminModel
let snap: Snapshot
const fixtures = { n: 0 }

before(async () => {
  gw = await startTestGateway()
  client = new AdminClient(gw.adminUrl)
  model = await learnModel(client)
  snap = await snapshot(client, model)
  while (await tend(client, model, snap, fixtures)) snap = await snapshot(client, model)
})

after(async () => {
  await client?.close()
  await gw?.stop()
})

/** Sends one request and checks every property; throws to make fast-check report it. */
async function check(r: FuzzRequest, stats: Stats): Promise<void> {
  const e = encode(r, snap)
  const a = await sendChecked(client, e, stats)
  if (a === null || !WRITES.has(e.method)) return
  const now = await snapshot(client, model)
  stats.snapshots++
  if (a.status >= 400) {
    const diff = diffSnapshots(snap, now)
    if (diff !== null) {
      stats.partialWrites++
      snap = now // the next payload (the other seed's run) starts from what is there
      throw new Error(`partial write: ${a.status} ${a.text.slice(0, 200)} but the store changed (${diff}) after ${describe(e)}`)
    }
  } else if (a.status < 300 && typeof a.body === 'object' && a.body !== null && typeof (a.body as { id?: unknown }).id === 'string') {
    const id = (a.body as { id: string }).id
    const found = findRow(now, id)
    if (e.method === 'DELETE') {
      if (found !== null) throw new Error(`deleted ${id} is still listed after ${describe(e)}`)
    } else {
      if (found === null) throw new Error(`written ${id} is not listed after ${describe(e)}: ${a.text.slice(0, 300)}`)
      if (!sameRow(a.body, found.row))
        throw new Error(
          `written ${id} reads back differently: answer ${a.text.slice(0, 300)} listing ${JSON.stringify(found.row).slice(0, 300)}`,
        )
      stats.readBacks++
    }
  }
  snap = now
  while (await tend(client, model, snap, fixtures)) snap = await snapshot(client, model)
}

test('Admin API entity endpoints: fixed seed', { timeout: 15 * 60_000 }, async (t) => {
  await fuzzRun('entity endpoints, fixed seed', FIXED_SEED, Math.ceil(RUNS / 2), requestArb(model), check, (s) => t.diagnostic(s))
})

test('Admin API entity endpoints: random seed (TURNPIKE_FUZZ_SEED replays it)', { timeout: 15 * 60_000 }, async (t) => {
  t.diagnostic(`random seed ${RANDOM_SEED}: replay with TURNPIKE_FUZZ_SEED=${RANDOM_SEED}`)
  await fuzzRun('entity endpoints, random seed', RANDOM_SEED, Math.floor(RUNS / 2), requestArb(model), check, (s) => t.diagnostic(s))
})
