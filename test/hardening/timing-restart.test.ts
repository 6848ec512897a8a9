/**
 * Hardening, restart after kill -9: `turnpike start` on the prefix of a primary killed with -9
 * must start, even while the dead primary is still a zombie (its parent has not reaped it), and a
 * pid file naming an unrelated live process must not block it. A live primary still blocks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
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

/**
 * Starts `turnpike start` on a new prefix under `sleep` (the shell exec's it), which never waits
 * for its children: once the primary exits it stays a zombie until the group is torn down.
 */
async function startUnreaped(): Promise<{ prefix: string; pid: number; env: NodeJS.ProcessEnv; teardown(): void }> {
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
  const group = spawn('/bin/sh', ['-c', `"$0" "$1" start >/dev/null 2>&1 & exec sleep 60`, process.execPath, BIN], {
    env,
    stdio: 'ignore',
    detached: true,
  })
  const pgid = group.pid as number
  const teardown = (): void => {
    try {
      process.kill(-pgid, 'SIGKILL') // sleep (and any worker left); init reaps the zombie
    } catch {}
    rmSync(prefix, { recursive: true, force: true })
  }
  try {
    await eventually(async () => pidIn(prefix) !== null, 30_000, 'the primary writes its pid file')
  } catch (err) {
    teardown()
    throw err
  }
  return { prefix, pid: pidIn(prefix) as number, env, teardown }
}

const HAS_PROC = existsSync('/proc/self/stat')

test('start after kill -9 while the dead primary is still a zombie', { skip: !HAS_PROC && 'needs /proc' }, async () => {
  const first = await startUnreaped()
  try {
    process.kill(first.pid, 'SIGKILL')
    await eventually(async () => procState(first.pid) === 'Z', 5000, `pid ${first.pid} becomes a zombie`)

    const gw = await startTestGateway({ prefix: first.prefix })
    try {
      assert.notEqual(pidIn(first.prefix), first.pid)
      assert.equal(procState(first.pid), 'Z', 'the old primary was still a zombie when the new one started')
    } finally {
      await gw.stop()
    }
  } finally {
    first.teardown()
  }
})

test('stop returns once the primary has exited, even if its parent leaves it a zombie', { skip: !HAS_PROC && 'needs /proc' }, async () => {
  const gw = await startUnreaped()
  try {
    const t = Date.now()
    const stop = spawnSync(process.execPath, [BIN, 'stop'], { env: gw.env, encoding: 'utf8', timeout: 15_000 })
    assert.equal(stop.status, 0, stop.stderr)
    assert.match(stop.stdout, /turnpike stopped/)
    // shutdown_timeout is 10 s: the old check waited 20 s for a zombie to go away, then failed.
    assert.ok(Date.now() - t < 8000, `stop took ${Date.now() - t} ms`)
    assert.equal(procState(gw.pid), 'Z')
  } finally {
    gw.teardown()
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
