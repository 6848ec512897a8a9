/**
 * `npm run bench`: Turnpike side by side with nginx, a minimal Node proxy, fast-gateway and a minimal
 * Bun proxy, in one run, interleaved and repeated. See bench/README.md.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { type BenchOptions, parseArgs, type ScenarioName, type TargetName, USAGE } from './lib/args.js'
import { BODY_1M_BYTES, BODY_1M_PATH, type TlsFiles, UPSTREAM_BODY } from './lib/nginx.js'
import { cpuTicks, processTree, rssKb, ticksPerSecond } from './lib/procfs.js'
import { checkDefs, checkTable, evaluateChecks, type RunSample, summarizeVariant, type VariantResult, variantTable } from './lib/report.js'
import { benchPaths, benchRoutes } from './lib/routes.js'
import {
  benchCertificate,
  type Env,
  findBun,
  type Instance,
  mustCreate,
  newTmp,
  ROOT,
  sleep,
  startBun,
  startFastGateway,
  startNginxProxy,
  seedRoutes,
  startReference,
  startTurnpike,
  startUpstream,
  tryPlugin,
  type TurnpikeInstance,
  waitForHttp,
} from './lib/targets.js'
import { errorCount, parseWrkOutput, type WrkResult, wrkScript } from './lib/wrk.js'
// The PostgreSQL scenarios reuse the integration tests' throwaway server and multi-node code.
import type { TestGateway } from '../test/helpers/gateway.js'
import { bootstrappedDatabase, measurePropagation, quantile, startNodes } from '../test/helpers/pg-nodes.js'
import { hasPostgres, startPostgres, type TestPostgres } from '../test/helpers/postgres.js'

interface Variant {
  readonly id: string
  readonly label: string
  readonly instance: Instance | null
  readonly unavailable?: string
  readonly path: string
  readonly paths?: readonly string[]
  readonly headers?: Readonly<Record<string, string>>
}

interface ScenarioPlan {
  readonly name: ScenarioName
  readonly description: string
  readonly pinned: boolean
  readonly variants: readonly Variant[]
  readonly paced: boolean
  /** All variants loaded at the same time (each by its own wrk), instead of one after the other. */
  readonly concurrent: boolean
  readonly connections: number
  readonly duration: number
}

const log = (msg: string): void => void process.stdout.write(`${msg}\n`)

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

function versionOf(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]?.trim() ?? ''
}

/** One wrk run against a variant, with the CPU time and RSS of the proxy's processes. */
async function wrkRun(
  v: Variant,
  o: { duration: number; connections: number; threads: number; rate: number | null; cpus: string | null; dir: string },
): Promise<{ wrk: WrkResult; cpuUsPerReq: number; rssLoadKb: number; rssMaxProcKb: number }> {
  const inst = v.instance as Instance
  const script = join(o.dir, `${v.id}-${o.rate ?? 'max'}.lua`)
  writeFileSync(
    script,
    wrkScript({
      ...(v.paths !== undefined ? { paths: v.paths } : {}),
      ...(v.headers !== undefined ? { headers: v.headers } : {}),
      ...(o.rate !== null ? { ratePerThread: o.rate / o.threads } : {}),
    }),
  )
  const pids = processTree(inst.pid)
  const args = [
    '-t',
    String(o.threads),
    '-c',
    String(o.connections),
    '-d',
    `${o.duration}s`,
    '--timeout',
    '10s',
    '-s',
    script,
    `${inst.url}${v.path}`,
  ]
  const [file, argv] = o.cpus !== null ? ['taskset', ['-c', o.cpus, 'wrk', ...args]] : ['wrk', args]
  const t0 = cpuTicks(pids)
  let rssLoadKb = 0
  let rssMaxProcKb = 0
  const sampler = setInterval(() => {
    rssLoadKb = Math.max(rssLoadKb, rssKb(pids))
    for (const p of pids) rssMaxProcKb = Math.max(rssMaxProcKb, rssKb([p]))
  }, 250)
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    let s = ''
    child.stdout.on('data', (c: Buffer) => (s += c.toString()))
    child.stderr.on('data', (c: Buffer) => (s += c.toString()))
    const kill = setTimeout(() => child.kill('SIGKILL'), (o.duration + 30) * 1000)
    child.once('error', reject)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve(s)
    })
  })
  clearInterval(sampler)
  const t1 = cpuTicks(pids)
  const wrk = parseWrkOutput(out)
  const cpuUsPerReq = wrk.requests > 0 ? (((t1 - t0) / ticksPerSecond()) * 1e6) / wrk.requests : Number.NaN
  return { wrk, cpuUsPerReq, rssLoadKb, rssMaxProcKb }
}

class Bench {
  readonly env: Env
  readonly o: BenchOptions
  readonly pin: boolean
  upstream: Instance | null = null
  readonly started: Instance[] = []
  /** The 1-worker set shared by bare, body-1m and paced (and the routes-10k baseline). */
  #oneWorker: Map<TargetName, Variant> | null = null
  readonly notes: string[] = []
  /** The throwaway PostgreSQL of the postgres and propagation scenarios, started on first use. */
  #pg: Promise<TestPostgres> | null = null
  /** The propagation figure, when measured. */
  propagation: { writes: number; nodes: number; p50Ms: number; p99Ms: number; maxMs: number; late: string[] } | null = null

  constructor(env: Env, o: BenchOptions, pin: boolean) {
    this.env = env
    this.o = o
    this.pin = pin
  }

  get nodeArgs(): string[] {
    return this.o.profileDir === null ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(this.o.profileDir)]
  }
  get proxyCpus(): string | null {
    return this.pin ? '0' : null
  }
  get loadCpus(): string | null {
    return this.pin ? '1' : null
  }
  get upstreamUrl(): string {
    return (this.upstream as Instance).url
  }
  get upstreamPort(): number {
    return Number(new URL(this.upstreamUrl).port)
  }

  async track<T extends Instance>(p: Promise<T>): Promise<T> {
    const i = await p
    this.started.push(i)
    return i
  }

  async stop(i: Instance): Promise<void> {
    const k = this.started.indexOf(i)
    if (k >= 0) this.started.splice(k, 1)
    await i.stop()
  }

  async stopAll(): Promise<void> {
    for (const i of [...this.started].reverse()) await this.stop(i).catch(() => {})
    const pg = this.#pg
    this.#pg = null
    if (pg !== null) await (await pg.catch(() => null))?.stop()
  }

  /** The throwaway PostgreSQL server (Debian's binaries, as the tests start it), unpinned. */
  postgres(): Promise<TestPostgres> {
    this.#pg ??= startPostgres()
    return this.#pg
  }

  /** A Turnpike with one service and the route `/` to the upstream (over TLS with `tls`; `settings` over --set ones). */
  async turnpikeBare(
    name: string,
    workers: number,
    cpus: string | null,
    tls?: TlsFiles,
    settings: Readonly<Record<string, string>> = {},
  ): Promise<TurnpikeInstance> {
    const tp = await this.track(
      startTurnpike({
        workers,
        cpus,
        settings: { ...this.o.turnpikeSettings, ...settings },
        tmp: this.env.tmp,
        nodeArgs: this.nodeArgs,
        name,
        ...(tls !== undefined ? { tls } : {}),
      }),
    )
    await mustCreate(tp, '/services', { name: 'bench', url: this.upstreamUrl })
    await mustCreate(tp, '/services/bench/routes', { name: 'root', paths: ['/'] })
    await waitForHttp(`${tp.url}/`, null, { timeoutMs: 15_000 })
    return tp
  }

  /** Starts one selected target; a target that cannot start is reported, not fatal. */
  async variant(target: TargetName, id: string, label: string, start: () => Promise<Instance>, path = '/'): Promise<Variant> {
    try {
      return { id, label, instance: await start(), path }
    } catch (err) {
      const why = (err as Error).message.split('\n')[0] ?? 'failed to start'
      log(`  ! ${label}: not measured: ${why}`)
      return { id, label, instance: null, unavailable: why, path }
    }
  }

  async oneWorkerSet(): Promise<Map<TargetName, Variant>> {
    if (this.#oneWorker !== null) return this.#oneWorker
    const m = new Map<TargetName, Variant>()
    const c = this.proxyCpus
    const sel = (t: TargetName): boolean => this.o.only.includes(t)
    if (sel('direct')) m.set('direct', { id: 'direct', label: 'upstream direct', instance: this.upstream, path: '/' })
    if (sel('nginx'))
      m.set(
        'nginx',
        await this.variant('nginx', 'nginx', 'nginx proxy', () => this.track(startNginxProxy(this.env, this.upstreamPort, 1, c))),
      )
    if (sel('reference'))
      m.set(
        'reference',
        await this.variant('reference', 'reference', 'reference node proxy', () => this.track(startReference(this.upstreamUrl, 1, c))),
      )
    if (sel('fast-gateway'))
      m.set(
        'fast-gateway',
        await this.variant('fast-gateway', 'fast-gateway', 'fast-gateway', () => this.track(startFastGateway(this.upstreamUrl, c))),
      )
    if (sel('bun')) {
      if (this.env.bun === null)
        m.set('bun', { id: 'bun', label: 'bun proxy', instance: null, unavailable: 'Bun is not installed (npm package `bun`)', path: '/' })
      else m.set('bun', await this.variant('bun', 'bun', 'bun proxy', () => this.track(startBun(this.env, this.upstreamUrl, c))))
    }
    if (sel('turnpike'))
      m.set('turnpike', await this.variant('turnpike', 'turnpike', 'turnpike 1 worker', () => this.turnpikeBare('1w', 1, c)))
    this.#oneWorker = m
    return m
  }

  async plan(name: ScenarioName): Promise<ScenarioPlan | null> {
    const o = this.o
    const sel = (t: TargetName): boolean => o.only.includes(t)
    const base = { name, paced: false, concurrent: false, connections: o.connections, duration: o.duration }
    switch (name) {
      case 'bare': {
        const set = await this.oneWorkerSet()
        return {
          ...base,
          pinned: this.pin,
          description: 'one route to the upstream, 100-byte answers, 1 worker/process',
          variants: [...set.values()],
        }
      }
      case 'shared-core': {
        // The Node proxies at once on the same core, each loaded by its own wrk: whatever else the
        // machine does (steal time, a noisy neighbour) slows them alike, so their ratio holds
        // where the one-after-the-other runs of `bare` swing with the machine.
        const set = await this.oneWorkerSet()
        const v = (['turnpike', 'reference', 'fast-gateway'] as const).map((t) => set.get(t)).filter((x): x is Variant => x !== undefined)
        if (v.length < 2) return null
        return {
          ...base,
          concurrent: true,
          pinned: this.pin,
          description: 'the Node proxies (1 worker/process) loaded at the same time on one shared core, one wrk each',
          variants: v,
        }
      }
      case 'body-1m': {
        const set = await this.oneWorkerSet()
        return {
          ...base,
          pinned: this.pin,
          description: '1 MB answers (a static file on the upstream), 1 worker/process',
          variants: [...set.values()].map((v) => ({ ...v, path: BODY_1M_PATH })),
        }
      }
      case 'paced': {
        const set = await this.oneWorkerSet()
        return {
          ...base,
          paced: true,
          connections: o.pacedConnections,
          duration: o.pacedDuration,
          pinned: this.pin,
          description: `latency at a fixed ${o.pacedRate} requests/s (wrk paced by its Lua delay hook), 1 worker/process`,
          variants: [...set.values()],
        }
      }
      case 'workers': {
        const n = o.workers
        const v: Variant[] = []
        if (sel('direct')) v.push({ id: 'direct', label: 'upstream direct', instance: this.upstream, path: '/' })
        if (sel('nginx'))
          v.push(
            await this.variant('nginx', 'nginx', `nginx proxy ×${n}`, () =>
              this.track(startNginxProxy(this.env, this.upstreamPort, n, null)),
            ),
          )
        if (sel('reference'))
          v.push(
            await this.variant('reference', 'reference', `reference node proxy ×${n}`, () =>
              this.track(startReference(this.upstreamUrl, n, null)),
            ),
          )
        if (sel('turnpike'))
          v.push(await this.variant('turnpike', 'turnpike', `turnpike ${n} workers`, () => this.turnpikeBare(`${n}w`, n, null)))
        return { ...base, pinned: false, description: `${n} processes per proxy, nothing pinned but the upstream (core 1)`, variants: v }
      }
      case 'https': {
        // TLS termination with keep-alive clients (wrk opens its connections once): nginx and
        // Turnpike serve the same openssl-made certificate, 1 worker each, on the pinned core.
        const tls = benchCertificate(this.env)
        const c = this.proxyCpus
        const v: Variant[] = []
        if (sel('nginx'))
          v.push(
            await this.variant('nginx', 'nginx-tls', 'nginx proxy, TLS', () =>
              this.track(startNginxProxy(this.env, this.upstreamPort, 1, c, tls)),
            ),
          )
        if (sel('turnpike'))
          v.push(await this.variant('turnpike', 'turnpike-tls', 'turnpike 1 worker, TLS', () => this.turnpikeBare('tls', 1, c, tls)))
        if (v.length === 0) return null
        return {
          ...base,
          pinned: this.pin,
          description: 'TLS termination (TLSv1.3, RSA 2048, keep-alive clients) to the plain upstream, 1 worker/process',
          variants: v,
        }
      }
      case 'postgres': {
        // The same node and route as `bare`, its configuration in PostgreSQL instead of SQLite.
        // Both are loaded at the same time on the same core (as shared-core): what else the
        // machine does slows them alike, so their ratio holds where one-after-the-other runs swing.
        if (!sel('turnpike') || !hasPostgres()) return null
        const set = await this.oneWorkerSet()
        const sqlite = set.get('turnpike') as Variant
        const pg = await this.variant('turnpike', 'turnpike-pg', 'turnpike 1 worker, postgres store', async () => {
          const server = await this.postgres()
          return this.turnpikeBare('pg', 1, this.proxyCpus, undefined, server.settings(await bootstrappedDatabase(server)))
        })
        return {
          ...base,
          pinned: this.pin,
          concurrent: true,
          description:
            'the bare route with `database = postgres` vs the SQLite store, 1 worker each, loaded together on one shared core (PostgreSQL unpinned, idle)',
          variants: [{ ...sqlite, label: 'turnpike 1 worker, sqlite store' }, pg],
        }
      }
      case 'propagation':
        return null // not a load run: Bench.measurePropagation
      case 'routes-10k': {
        if (!sel('turnpike')) return null
        const paths = benchPaths(o.routes)
        const set = await this.oneWorkerSet()
        const one = set.get('turnpike') as Variant
        const many = await this.variant(
          'turnpike',
          'turnpike-10k',
          `turnpike 1 worker, ${o.routes.toLocaleString('en-US')} routes`,
          async () => {
            let seconds = 0
            const t0 = performance.now()
            const beforeStart = async (prefix: string): Promise<void> =>
              void (seconds = await seedRoutes(prefix, this.upstreamUrl, benchRoutes(o.routes)))
            const tp = await this.track(
              startTurnpike({
                workers: 1,
                cpus: this.proxyCpus,
                settings: o.turnpikeSettings,
                tmp: this.env.tmp,
                nodeArgs: this.nodeArgs,
                name: '10k',
                beforeStart,
              }),
            )
            // no catch-all route here: a path answers 200 only once its route is live
            const lastPath = (o.routes - 1) % 2 === 0 ? `/p${o.routes - 1}/x` : `/r${o.routes - 1}/7`
            await waitForHttp(`${tp.url}${lastPath}`, null, { timeoutMs: 120_000 })
            this.notes.push(
              `routes-10k: ${o.routes} routes written into the SQLite store through Turnpike's DAO before start in ${seconds.toFixed(1)} s; node serving them ${((performance.now() - t0) / 1000).toFixed(1)} s after the seeding began`,
            )
            return tp
          },
        )
        return {
          ...base,
          pinned: this.pin,
          description: `${o.routes.toLocaleString('en-US')} routes (half prefix, half regex) vs 1 route, requests cycling over 200 of them`,
          variants: [
            { ...one, label: 'turnpike 1 worker, 1 route', paths },
            { ...many, paths },
          ],
        }
      }
      case 'plugins': {
        if (!sel('turnpike')) return null
        const v: Variant[] = []
        let tp: TurnpikeInstance | null = null
        try {
          tp = await this.turnpikeBare('plugins', 1, this.proxyCpus)
        } catch (err) {
          log(`  ! turnpike (plugins): not started: ${(err as Error).message.split('\n')[0] ?? ''}`)
          return null
        }
        v.push({ id: 'turnpike', label: 'turnpike, no plugin', instance: tp, path: '/' })
        await mustCreate(tp, '/services', { name: 'ka', url: this.upstreamUrl })
        await mustCreate(tp, '/services/ka/routes', { name: 'ka', paths: ['/ka'] })
        await mustCreate(tp, '/services', { name: 'karl', url: this.upstreamUrl })
        await mustCreate(tp, '/services/karl/routes', { name: 'karl', paths: ['/karl'] })
        const headers = { apikey: 'bench-key' }
        let why = await tryPlugin(tp, '/routes/ka/plugins', { name: 'key-auth' })
        if (why === null) {
          why = await tryPlugin(tp, '/consumers', { username: 'bench' })
          if (why === null) why = await tryPlugin(tp, '/consumers/bench/key-auth', { key: 'bench-key' })
        }
        v.push({
          id: 'turnpike-key-auth',
          label: 'turnpike + key-auth',
          instance: why === null ? tp : null,
          path: '/ka',
          headers,
          ...(why !== null ? { unavailable: why } : {}),
        })
        let whyRl = why ?? (await tryPlugin(tp, '/routes/karl/plugins', { name: 'key-auth' }))
        if (whyRl === null)
          whyRl = await tryPlugin(tp, '/routes/karl/plugins', { name: 'rate-limiting', config: { second: 1_000_000_000, policy: 'local' } })
        v.push({
          id: 'turnpike-key-auth-rl',
          label: 'turnpike + key-auth + rate-limiting (local)',
          instance: whyRl === null ? tp : null,
          path: '/karl',
          headers,
          ...(whyRl !== null ? { unavailable: whyRl } : {}),
        })
        for (const x of v) if (x.instance !== null) await waitForHttp(`${tp.url}${x.path}`, null, { timeoutMs: 15_000, headers })
        return {
          ...base,
          pinned: this.pin,
          description: 'key-auth, and key-auth + rate-limiting (policy local), on a route; vs no plugin on the same node',
          variants: v,
        }
      }
    }
  }

  /**
   * Three nodes on one PostgreSQL database (1 worker each, unpinned): `writes` Admin writes through
   * node A, each timed until nodes B and C both proxy it (the integration test's measurement).
   */
  async measurePropagation(): Promise<void> {
    const o = this.o
    log(`\n== propagation: ${o.writes} Admin writes through node A of 3 on one PostgreSQL, each timed until B and C proxy it`)
    const server = await this.postgres()
    const { gws } = await startNodes(server, 3)
    try {
      const [a, ...others] = gws as [TestGateway, ...TestGateway[]]
      const { sorted, late } = await measurePropagation(a, others, this.upstreamUrl, o.writes)
      this.propagation = {
        writes: o.writes,
        nodes: gws.length,
        p50Ms: quantile(sorted, 0.5),
        p99Ms: quantile(sorted, 0.99),
        maxMs: sorted.at(-1) ?? Number.NaN,
        late,
      }
      const f = this.propagation
      const line = `propagation: write through node A -> proxied by B and C, ${sorted.length}/${o.writes} writes: p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms, max ${f.maxMs.toFixed(1)} ms${late.length > 0 ? `; ${late.length} not within 3 s` : ''}`
      log(`  ${line}`)
      this.notes.push(line)
    } finally {
      await Promise.all(gws.map((gw) => gw.stop()))
    }
  }

  async runScenario(plan: ScenarioPlan, dir: string): Promise<VariantResult[]> {
    const o = this.o
    log(`\n== ${plan.name}: ${plan.description}`)
    const runnable = plan.variants.filter((v) => v.instance !== null)
    const results = new Map<string, { v: Variant; samples: RunSample[]; rssIdleKb: number; processes: number; failed?: string }>()
    await sleep(1000)
    for (const v of plan.variants) {
      const pids = v.instance === null ? [] : processTree(v.instance.pid)
      results.set(v.id, {
        v,
        samples: [],
        rssIdleKb: rssKb(pids),
        processes: pids.length,
        ...(v.unavailable !== undefined ? { failed: v.unavailable } : {}),
      })
    }
    const cpusLoad = plan.pinned ? this.loadCpus : null
    const rate = plan.paced ? o.pacedRate : null
    const threads = plan.paced ? 1 : o.threads
    if (o.warmup > 0) {
      // Loaded together, each proxy gets a share of the core: its warm-up lasts as many times longer.
      const warmup = plan.concurrent ? o.warmup * runnable.length : o.warmup
      const warm = (v: Variant): ReturnType<typeof wrkRun> =>
        wrkRun(v, { duration: warmup, connections: plan.connections, threads, rate, cpus: cpusLoad, dir })
      await eachRun(runnable, plan.concurrent, warm, (v, w) => {
        const bad = errorCount(w.wrk)
        const expectBytes = plan.name === 'body-1m' ? BODY_1M_BYTES : UPSTREAM_BODY.length
        if (w.wrk.requests === 0 || bad > w.wrk.requests * 0.01 || w.wrk.bytes < w.wrk.requests * expectBytes) {
          const why = `warm-up failed: ${w.wrk.requests} requests, ${bad} errors (${JSON.stringify(w.wrk.errors)}), ${w.wrk.bytes} bytes`
          log(`  ! ${v.label}: ${why}`)
          const r = results.get(v.id)
          if (r !== undefined) r.failed = why
        }
      })
    }
    const live = runnable.filter((v) => results.get(v.id)?.failed === undefined)
    for (let rep = 0; rep < o.repeats; rep++) {
      const order = live.map((_, i) => live[(i + rep) % live.length] as Variant)
      const measure = (v: Variant): ReturnType<typeof wrkRun> =>
        wrkRun(v, { duration: plan.duration, connections: plan.connections, threads, rate, cpus: cpusLoad, dir })
      await eachRun(order, plan.concurrent, measure, (v, r) => {
        const errors = errorCount(r.wrk)
        const sample: RunSample = {
          repeat: rep,
          rps: r.wrk.rps,
          p50Us: r.wrk.p50Us,
          p99Us: r.wrk.p99Us,
          requests: r.wrk.requests,
          errors,
          cpuUsPerReq: r.cpuUsPerReq,
          rssLoadKb: r.rssLoadKb,
          rssLoadMaxProcKb: r.rssMaxProcKb,
        }
        results.get(v.id)?.samples.push(sample)
        log(
          `  ${plan.name} #${rep + 1} ${v.label.padEnd(44)} ${Math.round(r.wrk.rps).toLocaleString('en-US').padStart(7)} req/s  p50 ${(r.wrk.p50Us / 1000).toFixed(2)} ms  p99 ${(r.wrk.p99Us / 1000).toFixed(2)} ms  cpu ${r.cpuUsPerReq.toFixed(0)} µs/req  rss ${(r.rssLoadKb / 1024).toFixed(0)} MB${errors > 0 ? `  errors ${errors}` : ''}`,
        )
      })
    }
    return [...results.values()].map((r) => ({
      scenario: plan.name,
      id: r.v.id,
      label: r.v.label,
      ...(r.failed !== undefined ? { unavailable: r.failed } : {}),
      rssIdleKb: r.rssIdleKb,
      processes: r.processes,
      samples: r.samples,
    }))
  }
}

/**
 * Runs `run` for every variant — all at once when the scenario loads them together, else one after
 * the other — and hands each result to `use`, in the variants' order (as soon as it is there).
 */
async function eachRun<T>(
  variants: readonly Variant[],
  together: boolean,
  run: (v: Variant) => Promise<T>,
  use: (v: Variant, result: T) => void,
): Promise<void> {
  if (!together) {
    for (const v of variants) use(v, await run(v))
    return
  }
  const results = await Promise.all(variants.map(run))
  variants.forEach((v, i) => use(v, results[i] as T))
}

function runMicro(): number {
  for (const [what, file] of [
    ['router', 'router.bench.js'],
    ['plugin iteration', 'plugins.bench.js'],
  ] as const) {
    log(`== micro-benchmarks: ${what} (build/bench/${file})`)
    const r = spawnSync(process.execPath, [join(ROOT, 'build', 'bench', file)], { stdio: 'inherit' })
    if (r.status !== 0) return r.status ?? 1
  }
  return 0
}

async function main(): Promise<number> {
  let o: BenchOptions
  try {
    o = parseArgs(process.argv.slice(2), cpus().length)
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    return 2
  }
  if (o.help) {
    log(USAGE)
    return 0
  }
  if (o.micro) return runMicro()

  const missing: string[] = []
  const wrk = which('wrk')
  const nginx = which('nginx') ?? ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0) ?? null
  if (wrk === null) missing.push('wrk')
  if (nginx === null) missing.push('nginx')
  if (wrk === null || nginx === null) {
    process.stderr.write(
      `bench: ${missing.join(' and ')} not found. On Debian/Ubuntu install with:\n  sudo apt-get install -y ${missing.join(' ')}\n` +
        `(wrk's Lua must be LuaJIT, as Debian builds it; the nginx package only needs to be installed, it is started from a temporary folder, not as a service.)\n`,
    )
    return 1
  }
  const taskset = which('taskset')
  const nproc = cpus().length
  const pin = o.pin && taskset !== null && nproc >= 2
  if (o.pin && !pin) log(`note: not pinning (${taskset === null ? 'taskset not found: apt-get install util-linux' : 'fewer than 2 CPUs'})`)
  const bun = findBun()
  if (bun.path === null && o.only.includes('bun')) log(`note: Bun skipped: ${bun.why}`)

  const tmp = newTmp()
  const env: Env = { nginx, bun: bun.path, runAsRoot: process.getuid?.() === 0, tmp }
  const bench = new Bench(env, o, pin)
  const startedAt = new Date()
  const machine = {
    cpu: cpus()[0]?.model ?? '?',
    cpus: nproc,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    nginx: versionOf(nginx, ['-v']),
    wrk: versionOf('wrk', ['-v']),
    bun: bun.path === null ? null : bun.version,
    fast_gateway: ((): string => {
      try {
        return JSON.parse(
          execFileSync('node', ['-p', 'JSON.stringify(require("fast-gateway/package.json").version)'], { cwd: ROOT, encoding: 'utf8' }),
        ) as string
      } catch {
        return '?'
      }
    })(),
    git_commit: versionOf('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    load_average_at_start: loadavg().map((x) => Number(x.toFixed(2))),
    pinned: pin ? 'proxy on core 0; wrk and upstream on core 1 (1-worker scenarios)' : 'no',
  }
  log(
    `turnpike bench: ${machine.cpus} × ${machine.cpu}, ${machine.node}, ${machine.nginx}, ${machine.wrk}${bun.path !== null ? `, bun ${bun.version}` : ''}`,
  )
  log(
    `${o.duration}s × ${o.repeats} per case (paced ${o.pacedDuration}s at ${o.pacedRate} req/s), wrk -t${o.threads} -c${o.connections}, warm-up ${o.warmup}s; scenarios: ${o.scenarios.join(', ')}; proxies: ${o.only.join(', ')}`,
  )

  const results: VariantResult[] = []
  let exit = 0
  const onSignal = (): void => {
    void bench.stopAll().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    bench.upstream = await bench.track(startUpstream(env, pin ? '1' : null))
    const order: ScenarioName[] = [
      'bare',
      'shared-core',
      'paced',
      'body-1m',
      'https',
      'postgres',
      'routes-10k',
      'plugins',
      'workers',
      'propagation',
    ]
    for (const name of order.filter((s) => o.scenarios.includes(s))) {
      const needsPg = name === 'postgres' || name === 'propagation'
      if (needsPg && !hasPostgres()) {
        log(`\n== ${name}: skipped (PostgreSQL is not installed: apt-get install postgresql)`)
        continue
      }
      if (name === 'propagation') {
        await bench.measurePropagation()
        continue
      }
      const plan = await bench.plan(name)
      if (plan === null) {
        log(`\n== ${name}: skipped (needs ${name === 'https' ? 'nginx or turnpike' : 'turnpike'} in --only)`)
        continue
      }
      results.push(...(await bench.runScenario(plan, tmp)))
      // instances private to the scenario are stopped right away; the shared 1-worker set and the upstream stay
      if (name === 'https' || name === 'postgres' || name === 'routes-10k' || name === 'plugins' || name === 'workers') {
        for (const v of plan.variants) {
          if (v.instance === null || v.instance === bench.upstream) continue
          if ((name === 'routes-10k' || name === 'postgres') && v.id === 'turnpike') continue
          if (bench.started.includes(v.instance)) await bench.stop(v.instance)
        }
      }
    }
  } catch (err) {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`)
    exit = 1
  } finally {
    await bench.stopAll()
    rmSync(tmp, { recursive: true, force: true })
  }

  const summaries = results.map(summarizeVariant)
  const checks = evaluateChecks(checkDefs(o.workers), summaries)
  log('\n## Results\n')
  log(variantTable(summaries))
  log('\n## Ratios and targets (issue 7)\n')
  log(checkTable(checks))
  for (const n of bench.notes) log(`\nnote: ${n}`)
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\..*$/, '')
  const file = o.out ?? join(ROOT, 'bench', 'results', `${stamp}.json`)
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: startedAt.toISOString(),
        machine: { ...machine, load_average_at_end: loadavg().map((x) => Number(x.toFixed(2))) },
        options: { ...o, help: undefined, micro: undefined },
        notes: bench.notes,
        propagation: bench.propagation,
        summaries,
        checks,
        runs: results,
      },
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
      2,
    )}\n`,
  )
  log(`\nJSON: ${file}`)
  return exit
}

process.exitCode = await main()
