/**
 * The proxies under test, each started as its own process(es) on a free loopback port: the fixed
 * nginx upstream, nginx as a proxy, the reference Node proxy, fast-gateway, the Bun proxy and
 * Turnpike (the real `bin/turnpike start`, configured through its Admin API).
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { freePort } from '../../test/helpers/ports.js'
import { BODY_1M_BYTES, proxyConf, type TlsFiles, upstreamConf } from './nginx.js'
import { type Proc, sleep, startProc, waitForHttp, waitForOutput } from './procs.js'

/** Repository root (this file runs from build/bench/lib/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const BENCH_BUILD = fileURLToPath(new URL('../', import.meta.url))

export interface Instance {
  readonly name: string
  readonly url: string
  /** The process whose tree is measured. */
  readonly pid: number
  stop(): Promise<void>
}

export interface Env {
  readonly nginx: string
  /** null when Bun is not installed */
  readonly bun: string | null
  readonly runAsRoot: boolean
  readonly tmp: string
}

export function newTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-bench-'))
  chmodSync(dir, 0o755)
  return dir
}

function nginxDir(env: Env, name: string): string {
  const dir = join(env.tmp, name)
  mkdirSync(join(dir, 'tmp'), { recursive: true })
  return dir
}

async function startNginx(
  env: Env,
  name: string,
  conf: (dir: string) => string,
  port: number,
  cpus: string | null,
  scheme: 'http' | 'https' = 'http',
): Promise<Instance> {
  const dir = nginxDir(env, name)
  writeFileSync(join(dir, 'nginx.conf'), conf(dir))
  const p = startProc(name, env.nginx, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { cpus })
  const url = `${scheme}://127.0.0.1:${port}`
  await waitForHttp(`${url}/`, p)
  return { name, url, pid: p.pid, stop: () => p.stop('SIGTERM') }
}

export async function startUpstream(env: Env, cpus: string | null): Promise<Instance> {
  const port = await freePort()
  return startNginx(
    env,
    'upstream',
    (dir) => {
      const body = Buffer.alloc(BODY_1M_BYTES, 'x')
      writeFileSync(join(dir, '1m.bin'), body)
      chmodSync(join(dir, '1m.bin'), 0o644)
      return upstreamConf({ dir, port, runAsRoot: env.runAsRoot })
    },
    port,
    cpus,
  )
}

export async function startNginxProxy(
  env: Env,
  upstreamPort: number,
  workers: number,
  cpus: string | null,
  tls?: TlsFiles,
): Promise<Instance> {
  const port = await freePort()
  return startNginx(
    env,
    `nginx-proxy-${workers}w-${port}${tls !== undefined ? '-tls' : ''}`,
    (dir) => proxyConf({ dir, port, upstreamPort, workers, runAsRoot: env.runAsRoot, ...(tls !== undefined ? { tls } : {}) }),
    port,
    cpus,
    tls !== undefined ? 'https' : 'http',
  )
}

/**
 * A self-signed RSA 2048 certificate for `localhost` (Kong's default kind), made with openssl for
 * this run, which nginx and Turnpike both serve in the https scenario.
 */
export function benchCertificate(env: Env): TlsFiles {
  const dir = join(env.tmp, 'tls')
  mkdirSync(dir, { recursive: true })
  const files = { cert: join(dir, 'bench.crt'), key: join(dir, 'bench.key') }
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.key, '-out', files.cert, '-days', '2', '-subj', '/CN=localhost'],
    { stdio: 'ignore' },
  )
  // nginx's workers may run as another user than the one who made the files.
  chmodSync(dir, 0o755)
  chmodSync(files.key, 0o644)
  return files
}

async function startNodeScript(
  name: string,
  script: string,
  env: Record<string, string>,
  cpus: string | null,
  runtime = process.execPath,
): Promise<Instance> {
  const port = await freePort()
  const p = startProc(name, runtime, [join(BENCH_BUILD, script)], {
    cpus,
    env: { ...process.env, ...env, PORT: String(port), NODE_ENV: 'production' },
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/`, p)
  return { name, url, pid: p.pid, stop: () => p.stop('SIGTERM') }
}

export function startReference(upstream: string, workers: number, cpus: string | null): Promise<Instance> {
  return startNodeScript(`reference-${workers}w`, 'reference-proxy.js', { UPSTREAM: upstream, WORKERS: String(workers) }, cpus)
}

export function startFastGateway(upstream: string, cpus: string | null): Promise<Instance> {
  return startNodeScript('fast-gateway', 'fast-gateway-proxy.js', { UPSTREAM: upstream }, cpus)
}

export function startBun(env: Env, upstream: string, cpus: string | null): Promise<Instance> {
  if (env.bun === null) throw new Error('bun is not installed')
  return startNodeScript('bun', 'bun-proxy.js', { UPSTREAM: upstream }, cpus, env.bun)
}

/** The Bun binary of the npm package `bun` (its postinstall moves it from `@oven/bun-<platform>`), or null. */
export function findBun(): { path: string; version: string } | { path: null; why: string } {
  const candidates = [
    join(ROOT, 'node_modules', 'bun', 'bin', 'bun.exe'),
    join(ROOT, 'node_modules', '@oven', `bun-linux-${process.arch === 'arm64' ? 'aarch64' : 'x64'}`, 'bin', 'bun'),
  ]
  for (const c of candidates) {
    if (!existsSync(c)) continue
    try {
      const version = execFileSync(c, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim()
      return { path: c, version }
    } catch {
      // a placeholder (postinstall did not run) or a binary for another platform
    }
  }
  return {
    path: null,
    why: 'the npm package `bun` is not installed with its binary (npm install; its binary comes from the optional package @oven/bun-linux-x64)',
  }
}

// --- Turnpike ------------------------------------------------------------------------------------

export interface AdminAnswer {
  readonly status: number
  readonly body: unknown
  readonly text: string
}

export interface TurnpikeInstance extends Instance {
  readonly adminUrl: string
  readonly prefix: string
  admin(method: string, path: string, body?: unknown): Promise<AdminAnswer>
}

export async function startTurnpike(o: {
  workers: number
  cpus: string | null
  settings: Readonly<Record<string, string>>
  tmp: string
  name: string
  nodeArgs?: readonly string[]
  beforeStart?: (prefix: string) => Promise<void>
  /** Proxy over TLS only (`ssl` listener serving these files); the instance's url is https. */
  tls?: TlsFiles
}): Promise<TurnpikeInstance> {
  const prefix = join(o.tmp, `turnpike-${o.name}`)
  mkdirSync(prefix, { recursive: true })
  await o.beforeStart?.(prefix)
  const [proxyPort, adminPort, statusPort] = [await freePort(), await freePort(), await freePort()]
  const settings: Record<string, string> = {
    prefix,
    // Kong's default listen flags, as users' configurations have them.
    proxy_listen: `127.0.0.1:${proxyPort}${o.tls !== undefined ? ' ssl' : ''} reuseport backlog=16384`,
    ...(o.tls !== undefined ? { ssl_cert: o.tls.cert, ssl_cert_key: o.tls.key } : {}),
    admin_listen: `127.0.0.1:${adminPort}`,
    status_listen: `127.0.0.1:${statusPort}`,
    worker_processes: String(o.workers),
    ...o.settings,
  }
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' }
  for (const k of Object.keys(env)) if (k.startsWith('TURNPIKE_') || k.startsWith('KONG_')) delete env[k]
  for (const [k, v] of Object.entries(settings)) env[`TURNPIKE_${k.toUpperCase()}`] = v
  const p: Proc = startProc(`turnpike-${o.name}`, process.execPath, [...(o.nodeArgs ?? []), join(ROOT, 'bin', 'turnpike'), 'start'], {
    cpus: o.cpus,
    env,
  })
  await waitForOutput(p, ' started ', 60_000)
  const adminUrl = `http://127.0.0.1:${adminPort}`
  const pool = new Pool(adminUrl, { connections: 32 })
  const admin = async (method: string, path: string, body?: unknown): Promise<AdminAnswer> => {
    const res = await pool.request({
      method: method as 'GET',
      path,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    })
    const text = await res.body.text()
    let parsed: unknown
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = undefined
    }
    return { status: res.statusCode, body: parsed, text }
  }
  return {
    name: `turnpike-${o.name}`,
    url: `${o.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${proxyPort}`,
    adminUrl,
    prefix,
    pid: p.pid,
    admin,
    async stop() {
      await pool.close().catch(() => {})
      await p.stop('SIGTERM')
    },
  }
}

/** Creates an entity and fails loudly unless the Admin API answers 201. */
export async function mustCreate(tp: TurnpikeInstance, path: string, body: unknown): Promise<AdminAnswer> {
  const a = await tp.admin('POST', path, body)
  if (a.status !== 201) throw new Error(`POST ${path} answered ${a.status}: ${a.text.slice(0, 500)}`)
  return a
}

/**
 * Enables a plugin; null when it worked, else why it is not available: an unknown plugin is answered
 * 400 by Kong's Admin API (`plugin 'x' not enabled; add it to the 'plugins' configuration property`),
 * and a build without the plugins entity at all answers 404.
 */
export async function tryPlugin(tp: TurnpikeInstance, path: string, body: unknown): Promise<string | null> {
  const a = await tp.admin('POST', path, body)
  if (a.status === 201) return null
  if (a.status === 400 || a.status === 404) {
    const msg = (a.body as { message?: unknown } | undefined)?.message
    return `${a.status} from POST ${path}${typeof msg === 'string' ? `: ${msg}` : ''}`
  }
  throw new Error(`POST ${path} answered ${a.status}: ${a.text.slice(0, 500)}`)
}

/** Runs `fn` over the items with at most `concurrency` in flight. */
export async function parallel<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      await fn(items[i] as T, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}

export { sleep, waitForHttp }

/**
 * Writes a service and many routes into a new prefix's SQLite store before the node starts, through
 * Turnpike's own DAO (the same validation and defaults as the Admin API, without one configuration
 * reload per write). Returns the seconds it took.
 */
export async function seedRoutes(
  prefix: string,
  upstream: string,
  routes: ReadonlyArray<Readonly<Record<string, unknown>>>,
): Promise<number> {
  const [{ createStore }, { ENTITIES }, { storeEntity }, { Dao }] = await Promise.all([
    import('../../src/store/index.js'),
    import('../../src/entities/index.js'),
    import('../../src/schema/index.js'),
    import('../../src/dao/index.js'),
  ])
  mkdirSync(prefix, { recursive: true })
  const t0 = performance.now()
  const store = createStore({ kind: 'sqlite', path: join(prefix, 'turnpike.db') })
  await store.init(Object.values(ENTITIES).map((e) => storeEntity(e)))
  try {
    const dao = new Dao(store, ENTITIES)
    const service = await dao.insert('services', { name: 'bench', url: upstream })
    for (const r of routes) await dao.insert('routes', { ...r, service: { id: service.id } })
  } finally {
    await store.close()
  }
  return (performance.now() - t0) / 1000
}
