/**
 * Hardening, restart after kill -9: `turnpike start` on the prefix of a primary killed with -9
 * must start, even while the dead primary is still a zombie (its parent has not reaped it), and a
 * pid file naming an unrelated live process must not block it. A live primary still blocks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BIN, eventually, startTestGateway } from '../helpers/gateway.js'
import { freePort } from '../helpers/ports.js'

function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null
  } catch {
    return null
  }
}

function pidIn(prefix: string): number | null {
  const file = join(prefix, 'pids', 'turnpike.pid')
  if (!existsSync(file)) return null
  const pid = Number(readFileSync(file, 'utf8').trim())
  return Number.isInteger(pid) && pid > 0 ? pid : null
}

test('start after kill -9 while the dead primary is still a zombie', { skip: !existsSync('/proc/self/stat') && 'needs /proc' }, async () => {
  const prefix = mkdtempSync(join(tmpdir(), 'turnpike-zombie-'))
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('TURNPIKE_') || k.startsWith('KONG_')) delete env[k]
  Object.assign(env, {
    TURNPIKE_PREFIX: prefix,
    TURNPIKE_PROXY_LISTEN: `127.0.0.1:${await freePort()}`,
    TURNPIKE_ADMIN_LISTEN: `127.0.0.1:${await freePort()}`,
    TURNPIKE_STATUS_LISTEN: 'off',
    TURNPIKE_WORKER_PROCESSES: '1',
  })
  // The gateway's parent is `sleep` (the shell exec's it), which never waits for its children:
  // once killed, the primary stays a zombie until the group is torn down below.
  const group = spawn('/bin/sh', ['-c', `"$0" "$1" start >/dev/null 2>&1 & exec sleep 60`, process.execPath, BIN], { env, stdio: 'ignore', detached: true })
  const pgid = group.pid as number
  try {
    await eventually(async () => pidIn(prefix) !== null, 30_000, 'the first primary writes its pid file')
    const pid = pidIn(prefix) as number
    process.kill(pid, 'SIGKILL')
    await eventually(async () => procState(pid) === 'Z', 5000, `pid ${pid} becomes a zombie`)

    const gw = await startTestGateway({ prefix })
    try {
      assert.notEqual(pidIn(prefix), pid)
      assert.equal(procState(pid), 'Z', 'the old primary was still a zombie when the new one started')
    } finally {
      await gw.stop()
    }
  } finally {
    try {
      process.kill(-pgid, 'SIGKILL') // sleep (and any worker left); init reaps the zombie
    } catch {}
    rmSync(prefix, { recursive: true, force: true })
  }
})

test('start when the pid file names an unrelated live process', async () => {
  const prefix = mkdtempSync(join(tmpdir(), 'turnpike-pidreuse-'))
  const other = spawn('sleep', ['60'], { stdio: 'ignore' })
  try {
    mkdirSync(join(prefix, 'pids'), { recursive: true })
    writeFileSync(join(prefix, 'pids', 'turnpike.pid'), `${other.pid}\n`)
    const gw = await startTestGateway({ prefix })
    try {
      assert.equal(pidIn(prefix), gw.child.pid)
      // A live primary still blocks a second start (cli.test.ts checks the message).
    } finally {
      await gw.stop()
    }
  } finally {
    other.kill('SIGKILL')
    rmSync(prefix, { recursive: true, force: true })
  }
})
