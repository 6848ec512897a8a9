/**
 * A throwaway Redis for tests: `redis-server` from PATH on 127.0.0.1, no persistence, killed after
 * the test. `stop()` / `start()` again simulate an outage; its port lies below the ephemeral range
 * (closedPort), so no other test's server takes it during the outage.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { connect } from 'node:net'
import { closedPort } from './ports.js'

export interface TestRedis {
  readonly port: number
  /** Stops the server (an outage); `start()` brings it back on the same port. */
  stop(): Promise<void>
  start(): Promise<void>
  /** Runs one command through `redis-cli` (returns its output). */
  cli(...args: string[]): string
}

/** Whether `redis-server` is on PATH (CI installs it; see .ci/run). */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

async function waitForPort(port: number, up: boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (open === up) return
    if (Date.now() > deadline) throw new Error(`redis on port ${port} did not ${up ? 'start' : 'stop'} in ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export async function startRedis(): Promise<TestRedis> {
  const port = await closedPort()
  let child: ChildProcess | null = null
  const start = async (): Promise<void> => {
    const c = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      { stdio: 'ignore' },
    )
    child = c
    await waitForPort(port, true)
    // Another redis on the port (a parallel test drew the same one) would answer for this one.
    await new Promise((r) => setTimeout(r, 50))
    if (c.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${c.exitCode} (port taken?)`)
  }
  const stop = async (): Promise<void> => {
    const c = child
    child = null
    if (c === null || c.exitCode !== null) return
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.kill('SIGKILL')
    await exited
    await waitForPort(port, false)
  }
  await start()
  return {
    port,
    stop,
    start,
    cli: (...args) => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim(),
  }
}
