/**
 * Which store a node (or a CLI command) opens for its settings: the SQLite file, the in-memory
 * store of DB-less mode, or PostgreSQL from Kong's `pg_*` settings (the `pg_ro_*` replica, when
 * `pg_ro_host` is set, inherits every `pg_*` value it does not override, as Kong's connector does).
 *
 * @module
 */
import type { GatewayConfig } from '../config/index.js'
import type { PostgresConnection, StoreOptions } from '../store/index.js'

/** Pool size when neither `pg_max_concurrent_queries` nor `pg_pool_size` bounds it. */
const DEFAULT_POOL = 10

/** The most connections: `pg_max_concurrent_queries` (0 = unlimited) and `pg_pool_size`, the smaller. */
function poolSize(maxQueries: number, poolSize: number | null): number {
  const bounds = [maxQueries > 0 ? maxQueries : null, poolSize !== null && poolSize > 0 ? poolSize : null].filter((n) => n !== null)
  return bounds.length === 0 ? DEFAULT_POOL : Math.min(...bounds)
}

/** Kong's `pg_*` settings as a connection. */
export function postgresConnection(config: GatewayConfig): PostgresConnection {
  return {
    host: config.pg_host,
    port: config.pg_port,
    user: config.pg_user,
    password: config.pg_password ?? undefined,
    database: config.pg_database,
    schema: config.pg_schema ?? undefined,
    ssl: config.pg_ssl,
    sslVerify: config.pg_ssl_verify,
    timeoutMs: config.pg_timeout,
    maxConnections: poolSize(config.pg_max_concurrent_queries, config.pg_pool_size),
    idleTimeoutMs: config.pg_keepalive_timeout ?? undefined,
    backlog: config.pg_backlog ?? undefined,
  }
}

/** The `pg_ro_*` replica merged over the `pg_*` connection, or undefined without `pg_ro_host`. */
export function replicaConnection(config: GatewayConfig): PostgresConnection | undefined {
  if (config.pg_ro_host === null) return undefined
  const main = postgresConnection(config)
  return {
    host: config.pg_ro_host,
    port: config.pg_ro_port ?? main.port,
    user: config.pg_ro_user ?? main.user,
    password: config.pg_ro_password ?? main.password,
    database: config.pg_ro_database ?? main.database,
    schema: config.pg_ro_schema ?? main.schema,
    ssl: config.pg_ro_ssl ?? main.ssl,
    sslVerify: config.pg_ro_ssl_verify ?? main.sslVerify,
    timeoutMs: config.pg_ro_timeout ?? main.timeoutMs,
    maxConnections: poolSize(
      config.pg_ro_max_concurrent_queries ?? config.pg_max_concurrent_queries,
      config.pg_ro_pool_size ?? config.pg_pool_size,
    ),
    idleTimeoutMs: config.pg_ro_keepalive_timeout ?? main.idleTimeoutMs,
    backlog: config.pg_ro_backlog ?? main.backlog,
  }
}

/** The store the settings name. */
export function storeOptions(config: GatewayConfig): StoreOptions {
  switch (config.database) {
    case 'sqlite':
      return { kind: 'sqlite', path: config.sqlite_path }
    case 'off':
      return { kind: 'memory' }
    case 'postgres': {
      const readOnly = replicaConnection(config)
      return { kind: 'postgres', ...postgresConnection(config), ...(readOnly === undefined ? {} : { readOnly }) }
    }
  }
}

/** Where the store lives, for messages: the file, or `postgres://user@host:port/database`. */
export function storeLocation(config: GatewayConfig): string {
  if (config.database === 'sqlite') return config.sqlite_path
  if (config.database === 'postgres') return `postgres://${config.pg_user}@${config.pg_host}:${config.pg_port}/${config.pg_database}`
  return 'memory'
}
