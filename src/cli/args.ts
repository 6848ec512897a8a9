/** Command-line parsing for `turnpike`: a command, `-c/--conf`, `-p/--prefix`, `-a`, positionals. */
import { editDistance } from '../config/index.js'

export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export interface ParsedArgs {
  command: string | undefined
  conf: string | undefined
  prefix: string | undefined
  all: boolean
  help: boolean
  positional: string[]
  /** `config` commands: `-o/--output-file`, `--select-tag` (repeatable), `--admin-url`, `--header` (repeatable), `--dry-run`, `--online`, `--with-id`, `--yes`. */
  output: string | undefined
  selectTags: string[]
  adminUrl: string | undefined
  headers: string[]
  dryRun: boolean
  online: boolean
  withId: boolean
  /** `migrations reset` and `config sync`: `-y/--yes`, confirming the erase or the deletes. */
  yes: boolean
  /** `migrations`: Kong's `-q/--quiet`, `-f/--force`, `--db-timeout SECONDS`, `--lock-timeout SECONDS`. */
  quiet: boolean
  force: boolean
  dbTimeout: string | undefined
  lockTimeout: string | undefined
  /** decK's aliases: `-s/--state FILE` (repeatable) and `--skip-consumers`. */
  state: string[]
  skipConsumers: boolean
  /** `doctor`: `--service NAME|ID`, `--route NAME|ID`, `--keepalive-wait SECONDS`; `--json` (doctor, trace). */
  service: string | undefined
  route: string | undefined
  keepaliveWait: string | undefined
  /** `trace`: `--json`, `--send`, `--body TEXT|@FILE`, `--client-ip IP` (`-H` is `headers`). */
  json: boolean
  send: boolean
  body: string | undefined
  clientIp: string | undefined
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = {
    command: undefined,
    conf: undefined,
    prefix: undefined,
    all: false,
    help: false,
    positional: [],
    output: undefined,
    selectTags: [],
    adminUrl: undefined,
    headers: [],
    dryRun: false,
    online: false,
    withId: false,
    yes: false,
    quiet: false,
    force: false,
    dbTimeout: undefined,
    lockTimeout: undefined,
    state: [],
    skipConsumers: false,
    service: undefined,
    route: undefined,
    keepaliveWait: undefined,
    json: false,
    send: false,
    body: undefined,
    clientIp: undefined,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined || v.startsWith('-')) throw new UsageError(`${a} needs a value`)
      return v
    }
    if (a === '-c' || a === '--conf') out.conf = value()
    else if (a.startsWith('--conf=')) out.conf = a.slice(7)
    else if (a === '-p' || a === '--prefix') out.prefix = value()
    else if (a.startsWith('--prefix=')) out.prefix = a.slice(9)
    else if (a === '-a' || a === '--all') out.all = true
    else if (a === '-h' || a === '--help') out.help = true
    else if (a === '-o' || a === '--output-file') out.output = value()
    else if (a === '--select-tag') out.selectTags.push(value())
    else if (a.startsWith('--select-tag=')) out.selectTags.push(a.slice(13))
    else if (a === '--admin-url' || a === '--kong-addr') out.adminUrl = value()
    else if (a.startsWith('--admin-url=')) out.adminUrl = a.slice(12)
    else if (a === '--header' || a === '-H') out.headers.push(value())
    else if (a === '--dry-run') out.dryRun = true
    else if (a === '--online') out.online = true
    else if (a === '--with-id') out.withId = true
    else if (a === '-y' || a === '--yes') out.yes = true
    else if (a === '-q' || a === '--quiet') out.quiet = true
    else if (a === '-f' || a === '--force') out.force = true
    else if (a === '--db-timeout') out.dbTimeout = value()
    else if (a === '--lock-timeout') out.lockTimeout = value()
    else if (a === '-s' || a === '--state') out.state.push(value())
    else if (a.startsWith('--state=')) out.state.push(a.slice(8))
    else if (a === '--skip-consumers') out.skipConsumers = true
    else if (a === '--service') out.service = value()
    else if (a.startsWith('--service=')) out.service = a.slice(10)
    else if (a === '--route') out.route = value()
    else if (a.startsWith('--route=')) out.route = a.slice(8)
    else if (a === '--keepalive-wait') out.keepaliveWait = value()
    else if (a.startsWith('--keepalive-wait=')) out.keepaliveWait = a.slice(17)
    else if (a === '--json') out.json = true
    else if (a === '--send') out.send = true
    else if (a === '--body' || a === '--data' || a === '-d') {
      // A body may start with '-' (a JSON array of negative numbers…): taken as is.
      const v = argv[++i]
      if (v === undefined) throw new UsageError(`${a} needs a value`)
      out.body = v
    } else if (a === '--client-ip') out.clientIp = value()
    else if (a === '--vv' || a === '--v')
      continue // Kong's verbosity flags: accepted, logs go to the error log
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`)
    else if (out.command === undefined) out.command = a
    else out.positional.push(a)
  }
  return out
}

/** The command closest to a typo (`strat` → `start`, a swap counts as two edits), or undefined. */
export function closestCommand(name: string, commands: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const c of commands) {
    const d = editDistance(name.toLowerCase(), c)
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return best
}
