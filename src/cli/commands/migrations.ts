/**
 * `turnpike migrations bootstrap | up | finish | list | reset --yes`: Kong's commands, messages
 * and exit codes (kong/cmd/migrations.lua) on the PostgreSQL store. With `database = sqlite` the
 * embedded store creates and upgrades its tables by itself, so the commands report it up to date
 * (and `reset --yes` deletes the file); `database = off` has no database to migrate.
 *
 * @module
 */
import { rmSync } from 'node:fs'
import type { GatewayConfig } from '../../config/index.js'
import { entityRegistry } from '../../plugins/entity.js'
import { loadPlugins } from '../../plugins/registry.js'
import { runningPid } from '../../runtime/pid-file.js'
import { storeLocation, storeOptions } from '../../runtime/store-options.js'
import { storeEntity } from '../../schema/index.js'
import { createStore, PostgresStore, pgMigrations, StoreError, type StoreEntity } from '../../store/index.js'
import type { ParsedArgs } from '../args.js'

export const MIGRATIONS_USAGE = `Usage: turnpike migrations COMMAND [OPTIONS]

Manage database schema migrations (database = postgres).

The available commands are:
  bootstrap                         Bootstrap the database and run all migrations.
  up                                Run any new migrations.
  finish                            Finish running any pending migrations after 'up'.
  list                              List executed migrations.
  reset                             Reset the database: erases all of the data and the schema (needs --yes).

Options:
 -y,--yes                           Assume "yes" to prompts and run non-interactively.
 -q,--quiet                         Suppress all output.
 -f,--force                         Run migrations even if database reports as already executed
                                    (bootstrap: reset the database first).
 --db-timeout     (optional number) Timeout, in seconds, for all database operations.
 --lock-timeout   (default 60)      Accepted for Kong's scripts: a node finding another one
                                    migrating stops at once.
 -c,--conf        (optional string) Configuration file.
 -p,--prefix      (optional string) Override prefix directory.
`

const COMMANDS = ['bootstrap', 'up', 'finish', 'list', 'reset'] as const

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

function fail(message: string, code = 1): number {
  process.stderr.write(`Error: ${message}\n`)
  return code
}

async function entitiesOf(config: GatewayConfig): Promise<StoreEntity[]> {
  return Object.values(entityRegistry(await loadPlugins(config.plugins, config.plugins_path))).map((e) => storeEntity(e))
}

/** `list` on PostgreSQL: Kong's listing and exit codes (3 needs bootstrap, 4 pending, 5 new). */
function list(state: pgMigrations.SchemaState, out: (line: string) => void): number {
  if (state.needsBootstrap) {
    out(pgMigrations.NEEDS_BOOTSTRAP_MSG)
    return 3
  }
  let sep = ''
  if (state.executed.length > 0) {
    out(`Executed migrations:\n${pgMigrations.describeMigrations(state.executed)}`)
    sep = '\n'
  }
  if (state.pending.length > 0) {
    out(`${sep}Pending migrations:\n${pgMigrations.describeMigrations(state.pending)}`)
    sep = '\n'
  }
  if (state.new.length > 0) out(`${sep}New migrations available:\n${pgMigrations.describeMigrations(state.new)}`)
  if (state.pending.length > 0 && state.new.length > 0) {
    out('')
    out('Database has pending migrations from a previous upgrade, and new migrations from this upgrade')
    out("\nRun 'turnpike migrations finish' when ready to complete pending migrations")
    return 4
  }
  if (state.pending.length > 0) {
    out("\nRun 'turnpike migrations finish' when ready")
    return 4
  }
  if (state.new.length > 0) {
    out("\nRun 'turnpike migrations up' to proceed")
    return 5
  }
  return 0
}

async function onPostgres(sub: (typeof COMMANDS)[number], config: GatewayConfig, args: ParsedArgs): Promise<number> {
  // Kong's --db-timeout (seconds) replaces pg_timeout for this command.
  const timeout = args.dbTimeout === undefined ? {} : { pg_timeout: Number(args.dbTimeout) * 1000 }
  const store = createStore(storeOptions({ ...config, ...timeout }))
  if (!(store instanceof PostgresStore)) throw new Error('unreachable: database = postgres opened another store')
  const yes = args.yes
  try {
    const run = { store, entities: await entitiesOf(config), log: args.quiet ? () => {} : say, force: args.force }
    switch (sub) {
      case 'list':
        return list(await store.withClient((client) => pgMigrations.schemaState(client)), run.log)
      case 'bootstrap':
        await pgMigrations.bootstrap(run)
        return 0
      case 'up':
        await pgMigrations.up(run)
        // Entities new in this release (a plugin's own table) need no migration file: add them now.
        await store.init(run.entities)
        return 0
      case 'finish':
        await pgMigrations.finish(run)
        return 0
      case 'reset':
        if (!yes) return fail("invoke 'reset' non-interactively with the --yes flag (it erases all of the data in the database)")
        return (await pgMigrations.reset(run)) ? 0 : 1
    }
  } finally {
    await store.close().catch(() => {})
  }
}

async function onSqlite(sub: (typeof COMMANDS)[number], config: GatewayConfig, args: ParsedArgs): Promise<number> {
  const yes = args.yes
  const out = args.quiet ? () => {} : say
  if (sub === 'reset') {
    if (!yes) return fail("invoke 'reset' non-interactively with the --yes flag (it erases all of the data in the database)")
    const pid = runningPid(config.prefix)
    if (pid !== null) return fail(`turnpike is running in ${config.prefix} (pid ${pid}): stop it before resetting its database`)
    out('Resetting database...')
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${config.sqlite_path}${suffix}`, { force: true })
    out('Database successfully reset')
    return 0
  }
  if (sub === 'finish') {
    out('No pending migrations to finish')
    return 0
  }
  // The embedded store creates and upgrades its layout whenever it is opened.
  const store = createStore(storeOptions(config))
  try {
    await store.init(await entitiesOf(config))
  } finally {
    await store.close().catch(() => {})
  }
  out(
    `Database is up-to-date (database = sqlite at ${storeLocation(config)}: the embedded store creates and upgrades its tables by itself; migrations are for database = postgres)`,
  )
  return 0
}

/** Runs `turnpike migrations <sub>`; returns the exit code. */
export async function migrationsCommand(args: ParsedArgs, loadGatewayConfig: () => GatewayConfig): Promise<number> {
  const sub = args.positional[0]
  if (sub === undefined || args.help) {
    process.stdout.write(MIGRATIONS_USAGE)
    return sub === undefined && !args.help ? 2 : 0
  }
  const command = COMMANDS.find((c) => c === sub)
  if (command === undefined) {
    process.stderr.write(`Error: unknown migrations command '${sub}'\n\n${MIGRATIONS_USAGE}`)
    return 2
  }
  for (const [flag, value] of [
    ['--db-timeout', args.dbTimeout],
    ['--lock-timeout', args.lockTimeout],
  ] as const) {
    if (value !== undefined && !(Number(value) > 0)) return fail(`${flag} must be a number of seconds greater than 0`, 2)
  }
  const config = loadGatewayConfig()
  try {
    if (config.database === 'postgres') return await onPostgres(command, config, args)
    if (config.database === 'sqlite') return await onSqlite(command, config, args)
    return fail('migrations apply to a database: database is off (DB-less mode has none)')
  } catch (err) {
    if (err instanceof StoreError || (err instanceof Error && err.name === 'MigrationError')) return fail(err.message)
    throw err
  }
}
