/**
 * A throwaway PostgreSQL server for tests: `initdb` into a temp dir, `postgres` on 127.0.0.1 and a
 * free port with fsync off (commits still wait for the WAL write, so they survive `interrupt()`), a trusted `kong` superuser, stopped (and its dir removed) by `stop()`.
 * PostgreSQL refuses to run as root: when the tests run as root, the server runs as the `postgres`
 * system user (Debian's package creates it), in a directory that user owns.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { closedPort } from './ports.js'

export interface TestPostgres {
  readonly host: '127.0.0.1'
  readonly port: number
  /** The superuser the server was initialised with (trust authentication). */
  readonly user: 'kong'
  /** Creates an empty database and returns its name. */
  createDatabase(name?: string): Promise<string>
  /** Runs SQL on a database (default `postgres`), returning the rows. */
  query(sql: string, database?: string): Promise<Record<string, unknown>[]>
  /** Settings pointing a gateway at `database` on this server. */
  settings(database: string): Record<string, string>
  /** Stops the server at once, keeping its data (an outage); `resume()` starts it again on the same port. */
  interrupt(): Promise<void>
  resume(): Promise<void>
  /**
   * Stops the server and its backends with SIGSTOP: connections stay open and nothing answers (a
   * network that silently drops packets) until `thaw()`.
   */
  freeze(): void
  thaw(): void
  /** SIGKILL of the server and its backends (a crashed host); `resume()` starts it again. */
  kill(): Promise<void>
  /** The pids of the backends whose application_name is `name`. */
  backends(name: string, database: string): Promise<number[]>
  /** Stops the server and removes its data. */
  stop(): Promise<void>
}

/** The directory of PostgreSQL's server binaries, or null when PostgreSQL is not installed. */
export function postgresBinDir(): string | null {
  const viaConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' })
  const candidates: string[] = []
  if (viaConfig.status === 0) candidates.push(viaConfig.stdout.trim())
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^[0-9]+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
    candidates.push(...versions.map((v) => join(root, v, 'bin')))
  }
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) ?? null
}

/** Whether the tests can run a PostgreSQL server here (CI installs it; see .ci/run). */
export function hasPostgres(): boolean {
  return postgresBinDir() !== null
}

/** uid/gid to run the server as: the `postgres` user when we are root, else ourselves. */
function serverIdentity(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (uid.status !== 0 || gid.status !== 0) throw new Error('running as root and there is no postgres user to run PostgreSQL as')
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

let counter = 0

/** `pid` and its descendants, parents first (from /proc; bounded by the processes there are). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue // exited meanwhile
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    const list = children.get(ppid) ?? []
    list.push(Number(entry))
    children.set(ppid, list)
  }
  const out: number[] = []
  const queue = [pid]
  while (queue.length > 0) {
    const p = queue.shift() as number
    out.push(p)
    queue.push(...(children.get(p) ?? []))
  }
  return out
}

/** Sends `signal` to each pid, ignoring those gone already. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, signal)
    } catch {
      // exited
    }
  }
}

/** Starts a server; resolves once it accepts connections. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir()
  if (bin === null) throw new Error('PostgreSQL is not installed (initdb/postgres not found)')
  const who = serverIdentity()
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-pg-'))
  const data = join(dir, 'data')
  if (who !== null) chownSync(dir, who.uid, who.gid)
  const asServer = who === null ? {} : { uid: who.uid, gid: who.gid }
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'kong', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
    ...asServer,
    cwd: dir,
    encoding: 'utf8',
  })
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`initdb failed: ${init.stderr}`)
  }
  // Below the ephemeral range (closedPort): no other test's socket takes it during an outage.
  const port = await closedPort()
  const args = [
    '-D',
    data,
    '-k',
    dir,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-F',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
  ]
  let child: ChildProcess | null = null
  let exited: Promise<void> = Promise.resolve()
  let log = ''

  const connect = async (database: string): Promise<pg.Client> => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'kong', database })
    try {
      await client.connect()
    } catch (err) {
      await client.end().catch(() => {})
      throw err
    }
    return client
  }
  const query = async (sql: string, database = 'postgres'): Promise<Record<string, unknown>[]> => {
    const client = await connect(database)
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[]
    } finally {
      await client.end()
    }
  }
  let frozen: number[] = []
  const thaw = (): void => {
    signalAll(frozen, 'SIGCONT')
    frozen = []
  }
  /** Immediate shutdown (what a crash leaves: committed data survives, as with a real server). */
  const halt = async (): Promise<void> => {
    thaw()
    const c = child
    child = null
    if (c !== null && c.exitCode === null && c.signalCode === null) {
      c.kill('SIGQUIT')
      await exited
    }
  }
  const stop = async (): Promise<void> => {
    await halt()
    rmSync(dir, { recursive: true, force: true })
  }
  const launch = async (): Promise<void> => {
    const c = spawn(join(bin, 'postgres'), args, { ...asServer, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    child = c
    log = ''
    c.stderr?.on('data', (chunk: Buffer) => {
      if (log.length < 20_000) log += chunk.toString('utf8')
    })
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    const deadline = Date.now() + 20_000
    for (;;) {
      if (c.exitCode !== null) throw new Error(`postgres exited with ${c.exitCode}: ${log}`)
      try {
        await query('SELECT 1')
        return
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`postgres on port ${port} did not accept connections: ${(err as Error).message}\n${log}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  }
  try {
    await launch()
  } catch (err) {
    await stop()
    throw err
  }

  return {
    host: '127.0.0.1',
    port,
    user: 'kong',
    async createDatabase(name?: string): Promise<string> {
      const db = name ?? `t${process.pid}_${++counter}`
      if (!/^[a-z][a-z0-9_]*$/.test(db)) throw new Error(`bad database name ${db}`)
      await query(`CREATE DATABASE ${db}`)
      return db
    },
    query,
    settings: (database: string) => ({
      database: 'postgres',
      pg_host: '127.0.0.1',
      pg_port: String(port),
      pg_user: 'kong',
      pg_database: database,
    }),
    interrupt: halt,
    resume: launch,
    stop,
    freeze: () => {
      if (child?.pid === undefined || frozen.length > 0) return
      frozen = processTree(child.pid)
      signalAll(frozen, 'SIGSTOP')
    },
    thaw,
    kill: async () => {
      const c = child
      if (c?.pid === undefined) return
      thaw()
      child = null
      signalAll(processTree(c.pid), 'SIGKILL')
      await exited
    },
    backends: async (name: string, database: string) =>
      (await query(`SELECT pid FROM pg_stat_activity WHERE application_name = '${name.replace(/'/g, "''")}'`, database)).map((r) =>
        Number(r['pid']),
      ),
  }
}

/** Settings as the TURNPIKE_* variables a CLI run of `turnpike` reads. */
export function settingsEnv(settings: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [`TURNPIKE_${k.toUpperCase()}`, v]))
}
