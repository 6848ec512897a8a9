/**
 * Starts the real gateway (`bin/turnpike start`) as a child process on free loopback ports with a
 * throwaway prefix, exactly as a user would, and stops it after the test.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { freePort } from './ports.js'

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const BIN = join(ROOT, 'bin', 'turnpike')

export interface GatewayOptions {
  /** Extra settings as TURNPIKE_* environment variables, by setting name. */
  readonly settings?: Readonly<Record<string, string>>
  readonly workers?: number
  /** Flags after the proxy listener's address (`reuseport backlog=16384`, as Kong's default). */
  readonly proxyListenFlags?: string
  /** Reuse a prefix (restart tests). */
  readonly prefix?: string
  readonly args?: readonly string[]
  /** Extra environment variables of the gateway process (vault references read them). */
  readonly env?: Readonly<Record<string, string>>
}

export interface TestGateway {
  readonly prefix: string
  readonly proxyPort: number
  readonly adminPort: number
  readonly statusPort: number
  readonly proxyUrl: string
  readonly adminUrl: string
  readonly statusUrl: string
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** The proxy error log's content so far. */
  errorLog(): string
  /** Waits until the error log matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** Graceful stop (SIGTERM) and cleanup. */
  stop(): Promise<number | null>
  /** SIGKILL the whole process group (crash test). */
  kill(): Promise<void>
}

export async function startTestGateway(opts: GatewayOptions = {}): Promise<TestGateway> {
  const prefix = opts.prefix ?? mkdtempSync(join(tmpdir(), 'turnpike-test-'))
  // A port freePort() returned can be taken by a parallel test's server before the gateway binds
  // it; the gateway then exits saying so, and we start it again on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnGateway(prefix, opts)
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Error) || !err.message.includes('address already in use')) throw err
    }
  }
}

async function spawnGateway(prefix: string, opts: GatewayOptions): Promise<TestGateway> {
  const [proxyPort, adminPort, statusPort] = [await freePort(), await freePort(), await freePort()]
  const settings: Record<string, string> = {
    prefix,
    proxy_listen: `127.0.0.1:${proxyPort}${opts.proxyListenFlags !== undefined ? ` ${opts.proxyListenFlags}` : ''}`,
    admin_listen: `127.0.0.1:${adminPort}`,
    status_listen: `127.0.0.1:${statusPort}`,
    worker_processes: String(opts.workers ?? 1),
    log_level: 'info',
    ...opts.settings,
  }
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('TURNPIKE_') || k.startsWith('KONG_')) delete env[k]
  for (const [k, v] of Object.entries(settings)) env[`TURNPIKE_${k.toUpperCase()}`] = v
  Object.assign(env, opts.env)
  const child = spawn(process.execPath, [BIN, 'start', ...(opts.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  let err = ''
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in 30s\nstdout: ${out}\nstderr: ${err}`)), 30_000)
    const check = (): void => {
      if (out.includes(' started ')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`gateway exited with ${String(code)} during start\nstdout: ${out}\nstderr: ${err}`))
    })
  })
  const errorLogPath = join(prefix, 'logs', 'error.log')
  const readLog = (): string => (existsSync(errorLogPath) ? readFileSync(errorLogPath, 'utf8') : '')
  let stopped = false
  const gw: TestGateway = {
    prefix,
    proxyPort,
    adminPort,
    statusPort,
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    statusUrl: `http://127.0.0.1:${statusPort}`,
    child,
    stdout: () => out,
    stderr: () => err,
    errorLog: readLog,
    async waitForLog(pattern, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const log = readLog()
        const m = log.split('\n').find((line) => pattern.test(line))
        if (m !== undefined) return m
        if (Date.now() > deadline) throw new Error(`no error-log line matching ${String(pattern)}; log:\n${log}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    async stop() {
      if (stopped) return null
      stopped = true
      child.kill('SIGTERM')
      const code = await exited
      if (opts.prefix === undefined) rmSync(prefix, { recursive: true, force: true })
      return code
    },
    async kill() {
      stopped = true
      try {
        process.kill(-(child.pid as number), 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
      await exited
    },
  }
  return gw
}

export interface JsonResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string
}

/** One HTTP call; JSON bodies are serialised, JSON answers parsed. */
export async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const h: Record<string, string> = { ...headers }
  let payload: string | undefined
  if (body !== undefined) {
    if (typeof body === 'string') payload = body
    else {
      payload = JSON.stringify(body)
      h['content-type'] ??= 'application/json'
    }
  }
  const res = await request(url, { method: method as 'GET', headers: h, body: payload ?? null })
  const text = await res.body.text()
  let parsed: unknown = undefined
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.statusCode, headers: res.headers, body: parsed, text }
}

/** Polls until `fn` returns true (config propagation etc.). */
export async function eventually(fn: () => Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await fn()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
