/**
 * Kong's PostgreSQL settings (`pg_*`, the read-only replica's `pg_ro_*`, and the `db_update_*`
 * ones of several nodes on one database): defaults in
 * settings.ts, parsed and checked here as Kong 3.9's conf_loader does (numbers, booleans, and
 * its "must be greater than 0" / "must be an integer greater than 0" checks).
 *
 * @module
 */
import { ValueProblem } from './value-problem.js'
import { parseBoolean } from './values.js'

/** The typed `pg_*` settings; `pg_ro_*` ones are null when not set (they inherit the `pg_*` value). */
export interface PostgresSettings {
  readonly pg_host: string
  readonly pg_port: number
  readonly pg_database: string
  /** null: the server's default search path (`public`). */
  readonly pg_schema: string | null
  /** Connect and query timeout, milliseconds. */
  readonly pg_timeout: number
  readonly pg_user: string
  readonly pg_password: string | null
  readonly pg_ssl: boolean
  readonly pg_ssl_verify: boolean
  /** 0: unlimited (the pool's own size applies). */
  readonly pg_max_concurrent_queries: number
  readonly pg_semaphore_timeout: number
  readonly pg_keepalive_timeout: number | null
  readonly pg_pool_size: number | null
  readonly pg_backlog: number | null
  readonly pg_ro_host: string | null
  readonly pg_ro_port: number | null
  readonly pg_ro_database: string | null
  readonly pg_ro_schema: string | null
  readonly pg_ro_timeout: number | null
  readonly pg_ro_user: string | null
  readonly pg_ro_password: string | null
  readonly pg_ro_ssl: boolean | null
  readonly pg_ro_ssl_verify: boolean | null
  readonly pg_ro_max_concurrent_queries: number | null
  readonly pg_ro_semaphore_timeout: number | null
  readonly pg_ro_keepalive_timeout: number | null
  readonly pg_ro_pool_size: number | null
  readonly pg_ro_backlog: number | null
  /**
   * Seconds between two checks that this node applied every change of the database (the fallback
   * of the change notifications; pg-events.ts). Any number, as in Kong; below 0 counts as 0.
   */
  readonly db_update_frequency: number
  /** Seconds to wait before applying a change another node made (Kong's, for eventually consistent databases). */
  readonly db_update_propagation: number
}

/** What Lua's `tonumber` reads: a decimal with an optional exponent, or a hexadecimal integer. */
const LUA_DECIMAL = /^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/
const LUA_HEX = /^([-+]?)0[xX]([0-9a-fA-F]{1,13})$/

/**
 * Kong's `typ = "number"`: what `tonumber` accepts (`5`, `0.5`, `1e3`, `0x10`; negative ones
 * fail the checks below), else "is not a number".
 */
function kongNumber(value: string): number {
  if (LUA_DECIMAL.test(value)) return Number(value)
  const hex = LUA_HEX.exec(value)
  if (hex !== null) return (hex[1] === '-' ? -1 : 1) * parseInt(hex[2] as string, 16)
  throw new ValueProblem('is not a number')
}

/** Kong's count checks: `< 0` → "must be greater than 0", a fraction → "must be an integer greater than 0". */
function count(value: string): number {
  const n = kongNumber(value)
  if (n < 0) throw new ValueProblem('must be greater than 0')
  if (n !== Math.floor(n)) throw new ValueProblem('must be an integer greater than 0')
  return n
}

const optional =
  <T>(fn: (v: string) => T) =>
  (v: string): T | null =>
    v === '' ? null : fn(v)

const text = (v: string): string => v
const required = (v: string): string => {
  if (v === '') throw new ValueProblem('a value is required')
  return v
}

/**
 * Parses every pg setting through `parse` (which names the setting and its origin on a problem).
 * The setting names are listed here once, with their parser.
 */
export function buildPostgresSettings(parse: <T>(name: keyof PostgresSettings, fn: (value: string) => T) => T): PostgresSettings {
  return {
    pg_host: parse('pg_host', required),
    pg_port: parse('pg_port', kongNumber),
    pg_database: parse('pg_database', required),
    pg_schema: parse('pg_schema', optional(text)),
    pg_timeout: parse('pg_timeout', kongNumber),
    pg_user: parse('pg_user', required),
    pg_password: parse('pg_password', optional(text)),
    pg_ssl: parse('pg_ssl', parseBoolean),
    pg_ssl_verify: parse('pg_ssl_verify', parseBoolean),
    pg_max_concurrent_queries: parse('pg_max_concurrent_queries', count),
    pg_semaphore_timeout: parse('pg_semaphore_timeout', count),
    pg_keepalive_timeout: parse('pg_keepalive_timeout', optional(count)),
    pg_pool_size: parse('pg_pool_size', optional(count)),
    pg_backlog: parse('pg_backlog', optional(count)),
    pg_ro_host: parse('pg_ro_host', optional(text)),
    pg_ro_port: parse('pg_ro_port', optional(kongNumber)),
    pg_ro_database: parse('pg_ro_database', optional(text)),
    pg_ro_schema: parse('pg_ro_schema', optional(text)),
    pg_ro_timeout: parse('pg_ro_timeout', optional(kongNumber)),
    pg_ro_user: parse('pg_ro_user', optional(text)),
    pg_ro_password: parse('pg_ro_password', optional(text)),
    pg_ro_ssl: parse('pg_ro_ssl', optional(parseBoolean)),
    pg_ro_ssl_verify: parse('pg_ro_ssl_verify', optional(parseBoolean)),
    pg_ro_max_concurrent_queries: parse('pg_ro_max_concurrent_queries', optional(count)),
    pg_ro_semaphore_timeout: parse('pg_ro_semaphore_timeout', optional(count)),
    pg_ro_keepalive_timeout: parse('pg_ro_keepalive_timeout', optional(count)),
    pg_ro_pool_size: parse('pg_ro_pool_size', optional(count)),
    pg_ro_backlog: parse('pg_ro_backlog', optional(count)),
    db_update_frequency: parse('db_update_frequency', kongNumber),
    db_update_propagation: parse('db_update_propagation', kongNumber),
  }
}
