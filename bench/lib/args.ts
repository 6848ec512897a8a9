/** Command-line options of `npm run bench -- ...`. Pure. */

export const TARGETS = ['direct', 'nginx', 'reference', 'fast-gateway', 'bun', 'turnpike'] as const
export type TargetName = (typeof TARGETS)[number]
export const SCENARIOS = [
  'bare',
  'shared-core',
  'workers',
  'routes-10k',
  'plugins',
  'body-1m',
  'paced',
  'https',
  'postgres',
  'propagation',
] as const
export type ScenarioName = (typeof SCENARIOS)[number]

export interface BenchOptions {
  readonly help: boolean
  readonly micro: boolean
  /** seconds per measured run */
  readonly duration: number
  /** seconds per measured paced run */
  readonly pacedDuration: number
  readonly warmup: number
  readonly repeats: number
  readonly connections: number
  readonly pacedConnections: number
  readonly pacedRate: number
  readonly threads: number
  /** processes for the `workers` scenario */
  readonly workers: number
  readonly routes: number
  /** Admin writes through node A in the `propagation` figure */
  readonly writes: number
  readonly only: readonly TargetName[]
  readonly scenarios: readonly ScenarioName[]
  /** extra Turnpike settings (TURNPIKE_<NAME>) */
  readonly turnpikeSettings: Readonly<Record<string, string>>
  readonly pin: boolean
  /** where the JSON goes; null: bench/results/<date>.json */
  readonly out: string | null
  /** when set, every Turnpike runs with `node --cpu-prof --cpu-prof-dir <dir>` (primary and workers) */
  readonly profileDir: string | null
}

export const USAGE = `usage: npm run bench -- [options]
  --micro                 run the micro-benchmarks (router matches/s, plugin iteration) only
  --only a,b              proxies: ${TARGETS.join(', ')} (default: all)
  --scenario a,b          scenarios: ${SCENARIOS.join(', ')} (default: all)
  --duration S            seconds per measured run (default 5)
  --repeats N             measured runs per case, interleaved (default 3)
  --warmup S              seconds of unmeasured load per case first (default 2)
  --long                  --duration 30 --repeats 5 --paced-duration 60
  --connections N         wrk connections (default 50)
  --threads N             wrk threads (default 1)
  --workers N             processes in the workers scenario (default: CPU count)
  --routes N              routes in the routes-10k scenario (default 10000)
  --writes N              Admin writes timed in the propagation figure (default 120)
  --paced-rate R          requests/s of the paced run (default 1000)
  --paced-duration S      seconds per paced run (default 10)
  --paced-connections N   wrk connections of the paced run (default 10)
  --set name=value        a Turnpike setting for every Turnpike started (repeatable),
                          e.g. --set proxy_access_log=off
  --profile DIR           CPU-profile every Turnpike process (node --cpu-prof) into DIR
                          (.cpuprofile files, open in Chrome DevTools or speedscope)
  --no-pin                do not pin with taskset
  --out FILE              JSON results file (default bench/results/<date>.json)`

function positive(name: string, v: string | undefined, integer: boolean): number {
  const n = Number(v)
  if (v === undefined || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`${name} needs a positive ${integer ? 'integer' : 'number'}, got ${v ?? 'nothing'}`)
  return n
}

function list<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T[] {
  if (v === undefined || v === '') throw new Error(`${name} needs a comma-separated list of: ${allowed.join(', ')}`)
  const out: T[] = []
  for (const item of v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    if (!(allowed as readonly string[]).includes(item)) throw new Error(`${name}: unknown "${item}"; one of: ${allowed.join(', ')}`)
    out.push(item as T)
  }
  return out
}

export function parseArgs(argv: readonly string[], cpuCount: number): BenchOptions {
  const o = {
    help: false,
    micro: false,
    duration: 5,
    pacedDuration: 10,
    warmup: 2,
    repeats: 3,
    connections: 50,
    pacedConnections: 10,
    pacedRate: 1000,
    threads: 1,
    workers: Math.max(2, cpuCount),
    routes: 10_000,
    writes: 120,
    only: [...TARGETS] as TargetName[],
    scenarios: [...SCENARIOS] as ScenarioName[],
    turnpikeSettings: {} as Record<string, string>,
    pin: true,
    out: null as string | null,
    profileDir: null as string | null,
  }
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string
    const eq = raw.indexOf('=')
    const flag = raw.startsWith('--') && eq > 0 && raw !== '--set' ? raw.slice(0, eq) : raw
    const inline = flag !== raw ? raw.slice(eq + 1) : undefined
    const value = (): string | undefined => inline ?? argv[++i]
    switch (flag) {
      case '-h':
      case '--help':
        o.help = true
        break
      case '--micro':
        o.micro = true
        break
      case '--long':
        o.duration = 30
        o.repeats = 5
        o.pacedDuration = 60
        break
      case '--no-pin':
        o.pin = false
        break
      case '--duration':
        o.duration = positive(flag, value(), false)
        break
      case '--paced-duration':
        o.pacedDuration = positive(flag, value(), false)
        break
      case '--warmup': {
        const v = value()
        o.warmup = v === '0' ? 0 : positive(flag, v, false)
        break
      }
      case '--repeats':
        o.repeats = positive(flag, value(), true)
        break
      case '--connections':
        o.connections = positive(flag, value(), true)
        break
      case '--paced-connections':
        o.pacedConnections = positive(flag, value(), true)
        break
      case '--paced-rate':
        o.pacedRate = positive(flag, value(), false)
        break
      case '--threads':
        o.threads = positive(flag, value(), true)
        break
      case '--workers':
        o.workers = positive(flag, value(), true)
        break
      case '--routes':
        o.routes = positive(flag, value(), true)
        break
      case '--writes':
        o.writes = positive(flag, value(), true)
        break
      case '--only':
        o.only = list(flag, value(), TARGETS)
        break
      case '--scenario':
      case '--scenarios':
        o.scenarios = list(flag, value(), SCENARIOS)
        break
      case '--out': {
        const v = value()
        if (v === undefined) throw new Error('--out needs a file')
        o.out = v
        break
      }
      case '--profile': {
        const v = value()
        if (v === undefined) throw new Error('--profile needs a folder')
        o.profileDir = v
        break
      }
      case '--set': {
        const v = value()
        const m = v === undefined ? null : /^([a-z0-9_]+)=(.*)$/i.exec(v)
        if (m === null) throw new Error(`--set needs name=value, got ${v ?? 'nothing'}`)
        o.turnpikeSettings[(m[1] as string).toLowerCase()] = m[2] as string
        break
      }
      default:
        throw new Error(`unknown option ${raw}\n${USAGE}`)
    }
  }
  return o
}
