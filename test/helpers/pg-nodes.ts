/**
 * Several gateway nodes on one PostgreSQL database, shared by the multi-node tests and the
 * bench's `propagation` figure: a bootstrapped database with nodes on it, and the time a write
 * through one node takes to be proxied by the others.
 */
import { after, before } from 'node:test'
import { runTurnpike } from './cli.js'
import { call, startTestGateway, type TestGateway } from './gateway.js'
import { settingsEnv, startPostgres, type TestPostgres } from './postgres.js'
import { startUpstream, type TestUpstream } from './upstream.js'

/** A PostgreSQL server and an upstream for the tests of one suite (started before them, stopped after). */
export function postgresSuite(): { readonly pg: TestPostgres; readonly upstream: TestUpstream } {
  const ctx: { pg?: TestPostgres; upstream?: TestUpstream } = {}
  before(async () => {
    ctx.pg = await startPostgres()
    ctx.upstream = await startUpstream()
  })
  after(async () => {
    await ctx.upstream?.close()
    await ctx.pg?.stop()
  })
  return {
    get pg(): TestPostgres {
      if (ctx.pg === undefined) throw new Error('postgresSuite: used before its before() hook ran')
      return ctx.pg
    },
    get upstream(): TestUpstream {
      if (ctx.upstream === undefined) throw new Error('postgresSuite: used before its before() hook ran')
      return ctx.upstream
    },
  }
}

/** The value below which `q` of the sorted samples fall (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN
}

/** Polls a proxied GET every few ms until it answers `status`; the ms since `since` it took, or null after `boundMs`. */
export async function statusWithin(url: string, status: number, since: number, boundMs: number): Promise<number | null> {
  for (;;) {
    const res = await call('GET', url)
    const elapsed = performance.now() - since
    if (res.status === status) return elapsed
    if (elapsed > boundMs) return null
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Like statusWithin, throwing when the status does not come. */
export async function expectStatusWithin(url: string, status: number, boundMs: number): Promise<number> {
  const ms = await statusWithin(url, status, performance.now(), boundMs)
  if (ms === null) throw new Error(`${url} did not answer ${status} within ${boundMs} ms (now ${(await call('GET', url)).status})`)
  return ms
}

/** A new database on `pg`, bootstrapped by `turnpike migrations bootstrap`; its name. */
export async function bootstrappedDatabase(pg: TestPostgres): Promise<string> {
  const database = await pg.createDatabase()
  const boot = await runTurnpike(['migrations', 'bootstrap'], settingsEnv(pg.settings(database)))
  if (boot.status !== 0) throw new Error(`migrations bootstrap failed: ${boot.stderr}`)
  return database
}

/** A new bootstrapped database on `pg` and `count` single-worker nodes on it (extra settings for each). */
export async function startNodes(
  pg: TestPostgres,
  count: number,
  settings: Readonly<Record<string, string>> = {},
): Promise<{ database: string; gws: TestGateway[] }> {
  const database = await bootstrappedDatabase(pg)
  const gws: TestGateway[] = []
  try {
    for (let i = 0; i < count; i++) gws.push(await startTestGateway({ settings: { ...pg.settings(database), ...settings }, workers: 1 }))
  } catch (err) {
    await Promise.all(gws.map((gw) => gw.stop()))
    throw err
  }
  return { database, gws }
}

/** What `measurePropagation` found. */
export interface Propagation {
  /** Per write, ms from sending it to node A until every other node proxied it (sorted). */
  readonly sorted: number[]
  /** Writes some node did not proxy within the bound. */
  readonly late: string[]
}

/**
 * `writes` Admin writes through `a` (every tenth a service and its route, the others a route on
 * the last service), each followed until every node of `others` proxies it (at most `boundMs`).
 */
export async function measurePropagation(
  a: TestGateway,
  others: readonly TestGateway[],
  upstreamUrl: string,
  writes: number,
  boundMs = 3000,
): Promise<Propagation> {
  const latencies: number[] = []
  const late: string[] = []
  for (let i = 0; i < writes; i++) {
    const started = performance.now()
    if (i % 10 === 0) {
      const svc = await call('POST', `${a.adminUrl}/services`, { name: `s${i}`, url: upstreamUrl })
      if (svc.status !== 201) throw new Error(`POST /services: ${svc.status} ${JSON.stringify(svc.body)}`)
    }
    const route = await call('POST', `${a.adminUrl}/services/s${i - (i % 10)}/routes`, { paths: [`/w${i}`] })
    if (route.status !== 201) throw new Error(`POST routes: ${route.status} ${JSON.stringify(route.body)}`)
    const seen = await Promise.all(others.map((gw) => statusWithin(`${gw.proxyUrl}/w${i}/x`, 200, started, boundMs)))
    if (seen.some((ms) => ms === null)) {
      late.push(`/w${i}: ${seen.map(String).join(' ')}`)
      continue
    }
    latencies.push(Math.max(...(seen as number[])))
  }
  return { sorted: latencies.sort((x, y) => x - y), late }
}
