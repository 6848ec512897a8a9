/**
 * Kong's migration workflow on the PostgreSQL store: the schema state (needs bootstrap,
 * executed, pending, new), `bootstrap`, `up`, `finish` and `reset`, with Kong's messages (naming
 * `turnpike`). Executed migrations are recorded in `schema_migrations`; a session advisory lock
 * keeps two nodes from migrating at once (the second one aborts, as Kong's cluster mutex does).
 *
 * @module
 */
import type pg from 'pg'
import { StoreError, type StoreEntity } from '../types.js'
import { MIGRATIONS, type Migration } from './migrations/index.js'
import { LAYOUT_LOCK, type Queryable } from './pg-layout.js'
import { quoteIdent, type PostgresStore } from './pg-store.js'

/** Kong's subsystem name for the core migrations. */
const SUBSYSTEM = 'core'

/** A different key from the layout lock: migrations take it for the whole run. */
const MIGRATIONS_LOCK = LAYOUT_LOCK + 1

export const NEEDS_BOOTSTRAP_MSG =
  'Database needs bootstrapping or is older than Kong 1.0.\n\n' +
  "To start a new installation from scratch, run 'turnpike migrations bootstrap'."

export const NEW_MIGRATIONS_MSG = "New migrations available; run 'turnpike migrations up' to proceed"

const NOT_LEADER_MSG = 'aborted: another node is performing database changes'

/** A migration command that cannot proceed (printed as `Error: …`, exit code 1). */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MigrationError'
  }
}

export interface SchemaState {
  /** No `schema_migrations` table (or an empty one): `migrations bootstrap` first. */
  readonly needsBootstrap: boolean
  /** Migrations fully run. */
  readonly executed: readonly string[]
  /** Migrations whose `up` ran but whose teardown waits for `migrations finish`. */
  readonly pending: readonly string[]
  /** Migrations of this release not run yet. */
  readonly new: readonly string[]
}

/** Kong's listing of migration names (`core: 000_base, 001_x`). */
export function describeMigrations(names: readonly string[]): string {
  return `${SUBSYSTEM}: ${names.join(', ')}`
}

/** Reads the schema state of the database. */
export async function schemaState(db: Queryable, migrations: readonly Migration[] = MIGRATIONS): Promise<SchemaState> {
  const present = await db.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
  const names = migrations.map((m) => m.name)
  if (present.rows[0]?.['present'] !== true) return { needsBootstrap: true, executed: [], pending: [], new: names }
  const { rows } = await db.query('SELECT name, state FROM schema_migrations WHERE subsystem = $1', [SUBSYSTEM])
  if (rows.length === 0) return { needsBootstrap: true, executed: [], pending: [], new: names }
  const recorded = new Map(rows.map((r) => [String(r['name']), String(r['state'])]))
  return {
    needsBootstrap: false,
    executed: names.filter((n) => recorded.get(n) === 'executed'),
    pending: names.filter((n) => recorded.get(n) === 'pending'),
    new: names.filter((n) => !recorded.has(n)),
  }
}

/** What a migration command needs. */
export interface MigrationRun {
  readonly store: PostgresStore
  readonly entities: readonly StoreEntity[]
  /** Prints one line of progress (stdout). */
  readonly log: (line: string) => void
  /** The migrations to know about (tests inject more). */
  readonly migrations?: readonly Migration[]
  /** Kong's `--force`: bootstrap resets first; up and finish run the executed migrations again. */
  readonly force?: boolean
}

/** Runs `fn` holding the migrations lock on one connection; false if another node holds it. */
async function withMigrationsLock(store: PostgresStore, fn: (client: pg.PoolClient) => Promise<void>): Promise<boolean> {
  return store.withClient(async (client) => {
    const got = await client.query('SELECT pg_try_advisory_lock($1) AS ok', [MIGRATIONS_LOCK])
    if (got.rows[0]?.['ok'] !== true) return false
    try {
      await fn(client)
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK])
    }
    return true
  })
}

async function record(db: Queryable, name: string, state: 'executed' | 'pending'): Promise<void> {
  await db.query(
    `INSERT INTO schema_migrations (subsystem, name, state) VALUES ($1, $2, $3)
     ON CONFLICT (subsystem, name) DO UPDATE SET state = EXCLUDED.state, executed_at = now()`,
    [SUBSYSTEM, name, state],
  )
}

/** Kong's `run_migrations`: each step in its own transaction, logged as Kong logs it. */
async function runMigrations(
  client: pg.PoolClient,
  run: MigrationRun,
  list: readonly Migration[],
  phase: { readonly up: boolean; readonly teardown: boolean },
): Promise<void> {
  run.log(`migrating ${SUBSYSTEM} on database '${run.store.options.database}'...`)
  const context = { entities: run.entities }
  let pending = 0
  for (const m of list) {
    await client.query('BEGIN')
    try {
      let state: 'executed' | 'pending' = 'executed'
      if (phase.up) {
        await m.up(client, context)
        if (m.teardown !== undefined && !phase.teardown) state = 'pending'
      }
      if (phase.teardown && m.teardown !== undefined) await m.teardown(client, context)
      await record(client, m.name, state)
      await client.query('COMMIT')
      if (state === 'pending') pending++
      run.log(`${SUBSYSTEM} migrated up to: ${m.name} (${state})`)
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      const message = err instanceof Error ? err.message : String(err)
      throw new MigrationError(`failed to run migration '${m.name}' ${phase.up ? 'up' : 'teardown'}: ${message}`)
    }
  }
  run.log(`${list.length} migration${list.length > 1 ? 's' : ''} processed`)
  if (list.length - pending > 0) run.log(`${list.length - pending} executed`)
  if (pending > 0) run.log(`${pending} pending`)
}

function byName(run: MigrationRun, names: readonly string[]): Migration[] {
  return (run.migrations ?? MIGRATIONS).filter((m) => names.includes(m.name))
}

async function stateOf(run: MigrationRun): Promise<SchemaState> {
  return run.store.withClient((client) => schemaState(client, run.migrations))
}

/** `migrations bootstrap`: creates the schema and the version table, then runs every migration. */
export async function bootstrap(run: MigrationRun): Promise<void> {
  let state = await stateOf(run)
  if (run.force === true && !state.needsBootstrap) {
    await reset(run)
    state = await stateOf(run)
  }
  if (!state.needsBootstrap) {
    run.log('Database already bootstrapped')
    return
  }
  run.log('Bootstrapping database...')
  const schema = run.store.options.schema ?? ''
  const led = await withMigrationsLock(run.store, async (client) => {
    if (schema !== '') await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`)
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      subsystem text COLLATE "C" NOT NULL, name text COLLATE "C" NOT NULL, state text NOT NULL,
      executed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (subsystem, name))`)
    const fresh = await schemaState(client, run.migrations)
    await runMigrations(client, run, byName(run, fresh.new), { up: true, teardown: true })
    run.log('Database is up-to-date')
  })
  if (!led) run.log(NOT_LEADER_MSG)
}

/** `migrations up`: runs the new migrations' first phase. */
export async function up(run: MigrationRun): Promise<void> {
  const state = await stateOf(run)
  if (state.needsBootstrap) throw new MigrationError(`Cannot run migrations: ${NEEDS_BOOTSTRAP_MSG}`)
  const force = run.force === true
  if (!force && state.pending.length > 0) throw new MigrationError("Database has pending migrations; run 'turnpike migrations finish'")
  const led = await withMigrationsLock(run.store, async (client) => {
    let fresh = await schemaState(client, run.migrations)
    if (!force && fresh.pending.length > 0) throw new MigrationError("Database has pending migrations; run 'turnpike migrations finish'")
    if (force && fresh.executed.length > 0) {
      await runMigrations(client, run, byName(run, fresh.executed), { up: true, teardown: true })
      fresh = await schemaState(client, run.migrations)
    }
    if (fresh.new.length === 0) {
      if (!force) run.log('Database is already up-to-date')
      return
    }
    await runMigrations(client, run, byName(run, fresh.new), { up: true, teardown: false })
    if ((await schemaState(client, run.migrations)).pending.length > 0) {
      run.log("\nDatabase has pending migrations; run 'turnpike migrations finish' when ready")
    }
  })
  if (!led) run.log(NOT_LEADER_MSG)
}

/** `migrations finish`: runs the pending migrations' teardown. */
export async function finish(run: MigrationRun): Promise<void> {
  const state = await stateOf(run)
  if (state.needsBootstrap) throw new MigrationError(`Cannot run migrations: ${NEEDS_BOOTSTRAP_MSG}`)
  const led = await withMigrationsLock(run.store, async (client) => {
    let fresh = await schemaState(client, run.migrations)
    if (run.force === true && fresh.executed.length > 0) {
      await runMigrations(client, run, byName(run, fresh.executed), { up: true, teardown: true })
      fresh = await schemaState(client, run.migrations)
    }
    if (fresh.pending.length > 0) await runMigrations(client, run, byName(run, fresh.pending), { up: false, teardown: true })
    if (fresh.new.length > 0) {
      run.log(`\n${NEW_MIGRATIONS_MSG}`)
      return
    }
    if (run.force !== true && fresh.pending.length === 0) run.log('No pending migrations to finish')
  })
  if (!led) run.log(NOT_LEADER_MSG)
}

/**
 * `migrations reset`: drops the schema with everything in it and creates it again empty (or,
 * without the privilege to drop the schema, drops every table in it). False when there was
 * nothing to reset.
 */
export async function reset(run: MigrationRun): Promise<boolean> {
  const state = await stateOf(run)
  if (state.needsBootstrap) {
    run.log('Database not bootstrapped, nothing to reset')
    return false
  }
  let led = false
  await run.store.withClient(async (client) => {
    const got = await client.query('SELECT pg_try_advisory_lock($1) AS ok, current_schema() AS schema', [MIGRATIONS_LOCK])
    led = got.rows[0]?.['ok'] === true
    if (!led) return
    const schema = quoteIdent(String(got.rows[0]?.['schema']))
    run.log('Resetting database...')
    try {
      await client.query('BEGIN')
      await client.query(`DROP SCHEMA ${schema} CASCADE`)
      await client.query(`CREATE SCHEMA ${schema} AUTHORIZATION CURRENT_USER`)
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK')
      if ((err as { code?: unknown }).code !== '42501') throw err // insufficient_privilege
      const tables = await client.query('SELECT tablename FROM pg_tables WHERE schemaname = current_schema()')
      for (const r of tables.rows) await client.query(`DROP TABLE IF EXISTS ${quoteIdent(String(r['tablename']))} CASCADE`)
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK])
    }
    run.log('Database successfully reset')
  })
  if (!led) run.log(NOT_LEADER_MSG)
  return led
}

/**
 * Refuses to serve from a database that is not bootstrapped or has migrations this release
 * needs (`turnpike start`), with Kong's messages.
 */
export async function checkSchemaState(store: PostgresStore): Promise<void> {
  const state = await store.withClient((client) => schemaState(client))
  if (state.needsBootstrap) throw new StoreError('DATABASE_ERROR', NEEDS_BOOTSTRAP_MSG)
  if (state.new.length > 0) throw new StoreError('DATABASE_ERROR', NEW_MIGRATIONS_MSG)
}
