/**
 * Runs `bin/turnpike` as a user would: a child process of the same Node, without the
 * TURNPIKE_/KONG_ settings of the test runner's environment (only those the test passes), its
 * output collected, and a deadline after which it is killed.
 */
import { spawn, spawnSync } from 'node:child_process'
import { BIN } from './gateway.js'

/** How a run ended: the exit status (null when killed), and what it wrote. */
export interface CliRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The test runner's environment without TURNPIKE_* and KONG_* variables, plus `env`. */
export function cleanEnv(env: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TURNPIKE_') && !k.startsWith('KONG_')) clean[k] = v
  return { ...clean, ...env }
}

/**
 * `turnpike ARGS…`, waiting without blocking (the test's own servers keep answering meanwhile).
 * Its stdin is closed, or a pipe that `input` is written to (never a terminal either way).
 */
export function runTurnpike(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 30_000,
  input?: string,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: cleanEnv(env),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    if (input !== undefined) child.stdin?.end(input)
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('exit', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

/** `turnpike ARGS…`, blocking until it exits (for commands that need nothing else to run). */
export function runTurnpikeSync(args: readonly string[], env: Readonly<Record<string, string>> = {}, timeoutMs = 30_000): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: cleanEnv(env), encoding: 'utf8', timeout: timeoutMs })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** util-linux `script` is here: it runs a command on a pseudo-terminal (stdin, stdout, stderr TTYs). */
export const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0

/**
 * `turnpike ARGS…` on a pseudo-terminal (through `script`): what it printed there (stdout and
 * stderr, merged as a terminal shows them). `input` is typed once `prompt` is on the terminal, or
 * at once (stdin then ends) without a prompt.
 */
export function runOnTerminal(args: readonly string[], input: string, prompt?: RegExp, timeoutMs = 30_000): Promise<CliRun> {
  const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`
  const command = [process.execPath, BIN, ...args].map(quote).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
    if (prompt === undefined) child.stdin.end(input)
    let stdout = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
      // answer once the question is on the terminal (readline follows it with cursor moves)
      if (prompt !== undefined && prompt.test(stdout) && !child.stdin.writableEnded) child.stdin.end(input)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('exit', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr: '' })
    })
  })
}
