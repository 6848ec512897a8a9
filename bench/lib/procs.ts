/** Starting and stopping the processes of the bench (each in its own process group), optionally pinned with taskset. */
import { type ChildProcess, spawn } from 'node:child_process'
import { Agent, request } from 'undici'

/** For the bench's own TLS listeners: their certificate is self-signed. */
const insecure = new Agent({ connect: { rejectUnauthorized: false } })

export interface Proc {
  readonly name: string
  readonly child: ChildProcess
  readonly pid: number
  /** Last 20 kB of stdout + stderr. */
  output(): string
  readonly exited: Promise<number | null>
  stop(signal?: NodeJS.Signals): Promise<void>
}

export function startProc(
  name: string,
  cmd: string,
  args: readonly string[],
  opts: { cpus?: string | null; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Proc {
  const [file, argv] = opts.cpus != null ? ['taskset', ['-c', opts.cpus, cmd, ...args]] : [cmd, [...args]]
  const child = spawn(file, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  const keep = (c: Buffer): void => {
    out += c.toString()
    if (out.length > 40_000) out = out.slice(-20_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.once('error', () => resolve(-1))
  })
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`)
  const pid = child.pid
  let done = false
  void exited.then(() => (done = true))
  return {
    name,
    child,
    pid,
    output: () => out.slice(-20_000),
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (done) return
      try {
        process.kill(pid, signal)
      } catch {
        return
      }
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref())
      if ((await Promise.race([exited, timer])) === 'timeout') {
        try {
          process.kill(-pid, 'SIGKILL') // the group we created (detached)
        } catch {
          // gone
        }
        await exited
      }
    },
  }
}

/** Waits until the output of the process contains `text`; fails if it exits first. */
export async function waitForOutput(p: Proc, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void p.exited.then(() => (exited = true))
  while (!p.output().includes(text)) {
    if (exited) throw new Error(`${p.name} exited during start:\n${p.output()}`)
    if (Date.now() > deadline) throw new Error(`${p.name} did not print "${text}" within ${timeoutMs} ms:\n${p.output()}`)
    await sleep(50)
  }
}

/** Polls `url` until it answers `status`; fails on timeout or when the process exits. */
export async function waitForHttp(
  url: string,
  p: Proc | null,
  opts: { status?: number; timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<void> {
  const want = opts.status ?? 200
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  let exited = false
  void p?.exited.then(() => (exited = true))
  let last = ''
  for (;;) {
    if (exited) throw new Error(`${p?.name ?? '?'} exited during start:\n${p?.output() ?? ''}`)
    try {
      const res = await request(url, {
        headers: opts.headers ?? {},
        headersTimeout: 2000,
        bodyTimeout: 2000,
        // The bench's TLS listeners serve a self-signed certificate made for the run.
        ...(url.startsWith('https:') ? { dispatcher: insecure } : {}),
      })
      const body = await res.body.text()
      if (res.statusCode === want) return
      last = `${res.statusCode} ${body.slice(0, 200)}`
    } catch (err) {
      last = (err as Error).message
    }
    if (Date.now() > deadline)
      throw new Error(`${url} did not answer ${want} in time (last: ${last})${p === null ? '' : `\n${p.output()}`}`)
    await sleep(100)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
