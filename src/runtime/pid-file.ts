/**
 * The primary's pid file (`<prefix>/pids/turnpike.pid`, Kong's `<prefix>/pids/nginx.pid`) and the
 * check `start`, `stop` and `health` make with it. Kong asks `kill -0`; that also says yes for a
 * primary killed with -9 whose parent has not reaped it yet (a zombie) and for an unrelated
 * process that got the pid after a crash, and `start` then refused to run. On Linux the process
 * is also looked at in /proc: a zombie is dead, and it must be our command line and must have
 * started no later than the pid file was written.
 *
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'

/** Where the primary's pid is written (Kong: `<prefix>/pids/nginx.pid`). */
export function pidFile(prefix: string): string {
  return join(prefix, 'pids', 'turnpike.pid')
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1')
  } catch {
    return null
  }
}

function readProc(pid: number, file: string): string | null {
  return readText(`/proc/${pid}/${file}`)
}

/** Linux clock ticks per second (`getconf CLK_TCK`): 100 on every mainstream architecture. */
const CLK_TCK = 100
/**
 * A process that started after the pid file was written is not the one that wrote it (seconds of
 * slack for a wall clock stepped forward in between).
 */
const START_SLACK_S = 5

function bootTime(): number | null {
  const stat = readText('/proc/stat')
  const m = stat === null ? null : /^btime (\d+)$/m.exec(stat)
  return m === null ? null : Number(m[1])
}

/** Whether this command line is `turnpike start` (any way of invoking the CLI). */
function isOurCommandLine(cmdline: string): boolean {
  const args = cmdline.split('\0')
  return args.some((a) => basename(a) === 'turnpike' || a.endsWith('/cli/main.js')) && args.includes('start')
}

function stateOf(stat: string): { state: string | undefined; fields: string[] } {
  // Fields after the command name (which may hold spaces and parentheses): state is the first.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { state: fields[0], fields }
}

const DEAD_STATES = new Set(['Z', 'X', 'x'])

/** Whether pid is a running process: `kill -0`, and on Linux not a zombie (exited, not yet reaped). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const stat = readProc(pid, 'stat')
  if (stat === null) return !existsSync('/proc/self/stat')
  return !DEAD_STATES.has(stateOf(stat).state ?? '')
}

/**
 * Whether pid is a live turnpike primary that may have written `file`. Without /proc (not Linux)
 * only `kill -0` is asked, as Kong does.
 */
export function isLivePrimary(pid: number, file: string): boolean {
  if (!isAlive(pid)) return false
  const stat = readProc(pid, 'stat')
  if (stat === null) return !existsSync('/proc/self/stat') // no /proc: kill -0 only, as Kong
  const { fields } = stateOf(stat)
  const cmdline = readProc(pid, 'cmdline')
  if (cmdline !== null && !isOurCommandLine(cmdline)) return false
  // starttime is field 22 of stat, the 20th after the state.
  const startTicks = Number(fields[19])
  const boot = bootTime()
  if (boot !== null && Number.isFinite(startTicks)) {
    const started = boot + startTicks / CLK_TCK
    let written: number
    try {
      written = statSync(file).mtimeMs / 1000
    } catch {
      return false
    }
    if (started > written + START_SLACK_S) return false
  }
  return true
}

/** The pid recorded in the prefix, if that process is a live turnpike primary. */
export function runningPid(prefix: string): number | null {
  const file = pidFile(prefix)
  if (!existsSync(file)) return null
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return null
  }
  const pid = Number(text.trim())
  if (!Number.isInteger(pid) || pid <= 0) return null
  return isLivePrimary(pid, file) ? pid : null
}
