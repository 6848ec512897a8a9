/**
 * Kong's plugin model: a plugin is a plain object with a name, a priority, a config schema, phase
 * handlers (Kong's `handler.lua`), the entities it owns (`daos.lua`) and the endpoints it adds to
 * the Admin API (`api.lua`) and the status listener (`status_api.lua`). Bundled and custom
 * plugins share this one shape. Node services reach a plugin through its contexts only: workers
 * hand them to `init`, the primary to `api`/`statusApi`.
 *
 * @module
 */
import type { HttpRequester } from '../codec/outbound.js'
import type { NodeCounters } from '../counters/client.js'
import type { EntityCheck, EntitySchema, Field, FieldCheck } from '../schema/index.js'
import type { Pdk } from '../pdk/types.js'
import type { ApiRoute, PluginApiContext } from './endpoints.js'

/** A plugin's schema: its `config` record, and which scopes and protocols it accepts. */
export interface PluginSchema {
  /** Fields of `config` (Kong's `config = { type = "record", fields = … }`). */
  readonly config: Readonly<Record<string, Field>>
  /** Checks over `config` (Kong's `entity_checks` inside the config record). */
  readonly config_checks?: readonly EntityCheck[]
  /**
   * Kong's `custom_validator` on the `config` record itself: its message is reported under
   * `config` (`fields.config = "<message>"`), as Kong does.
   */
  readonly config_validator?: FieldCheck
  /** Kong's `typedefs.no_consumer`: cannot be scoped to a consumer (auth plugins, cors…). */
  readonly no_consumer?: boolean
  readonly no_route?: boolean
  readonly no_service?: boolean
  /**
   * Fields of `config` replaced when the node runs without a database (`database = off`): Kong's
   * schemas that read `kong.configuration.database` when they load (rate-limiting's `policy`
   * has no `cluster` there).
   */
  readonly dbless_config?: Readonly<Record<string, Field>>
  /** Default `protocols` for instances of this plugin (Kong: grpc, grpcs, http, https). */
  readonly protocols?: readonly string[]
}

/** What a proxy worker hands a plugin once (the plugin may keep it for the worker's life). */
export interface PluginInitContext {
  /** Id of this node (stable across restarts). */
  readonly nodeId: string
  /** Writes to the error log with the plugin's name. */
  readonly log: Pdk['log']
  /**
   * The node-wide counters (exact across the node's workers: hits are leased from the primary,
   * src/counters), as rate-limiting's `local` policy uses them.
   */
  readonly counters: NodeCounters
  /**
   * The node's outbound HTTP client (`src/http/outbound.ts`: deadlines to the millisecond, bounded
   * bodies, typed failures, pooled keep-alive), for calls a plugin makes itself: http-log's log
   * server, openid-connect's discovery and JWKS. Plugins do not import `src/http/`.
   */
  readonly http: HttpRequester
  /**
   * Answers `op` when the plugin's endpoints on the primary ask every worker
   * (`PluginApiContext.workers.call`): `answer` gets the call's arguments and returns (or
   * resolves to) a value that can be sent between processes. Ops are the plugin's own: another
   * plugin's `op` of the same name is a different one.
   */
  onPrimaryCall(op: string, answer: (args: unknown) => unknown): void
}

/**
 * A plugin. `Conf` is the validated `config` (defaults filled in). `Prepared` is what
 * {@link Plugin.prepare} derives from it once per configuration change (compiled regexes,
 * parsed keys…); handlers receive it. Without `prepare`, handlers receive `Conf`.
 *
 * Handlers may be synchronous or return a promise; synchronous handlers cost less.
 */
export interface Plugin<Conf = Record<string, unknown>, Prepared = Conf> {
  readonly name: string
  readonly version: string
  /** Higher runs first, as in Kong (key-auth 1250, rate-limiting 910…). */
  readonly priority: number
  readonly schema: PluginSchema
  /**
   * Entities the plugin owns (Kong's `daos.lua`): credentials such as `keyauth_credentials`. They
   * join the entity registry (Admin API, store, declarative format) when the plugin is enabled.
   */
  readonly entities?: readonly EntitySchema[]
  /**
   * Kong's `api.lua`: endpoints added to the Admin API when the plugin is loaded, made once in the
   * primary with the node services they may use (store, worker calls…).
   */
  api?(ctx: PluginApiContext): readonly ApiRoute[]
  /** Kong's `status_api.lua`: endpoints added to the status listener (`status_listen`). */
  statusApi?(ctx: PluginApiContext): readonly ApiRoute[]
  /** Once per worker, before the first request. */
  init?(ctx: PluginInitContext): void | Promise<void>
  /**
   * Once per configuration change and instance: derive what requests need. `instance` is the
   * plugin row (its id, route, service, consumer scope). Throwing leaves the instance out (logged).
   */
  prepare?(conf: Conf, instance: Readonly<Record<string, unknown>>): Prepared
  /** Global instances only: before routing. */
  rewrite?(kong: Pdk, conf: Prepared): void | Promise<void>
  /** After routing; auth plugins set the consumer here. `kong.response.exit` short-circuits. */
  access?(kong: Pdk, conf: Prepared): void | Promise<void>
  /** Response headers from the upstream (or the exit) are known and still mutable. */
  headerFilter?(kong: Pdk, conf: Prepared): void
  /**
   * Each body chunk on its way to the client; `eof` on the last call (chunk may be empty).
   * Return the bytes to send instead (empty to hold them back), or undefined to pass the chunk.
   */
  bodyFilter?(kong: Pdk, conf: Prepared, chunk: Buffer, eof: boolean): Buffer | undefined
  /** After the response was sent; must not throw (errors are logged). */
  log?(kong: Pdk, conf: Prepared): void | Promise<void>
}

/** A plugin of any configuration type, as the registry holds them. */
export type AnyPlugin = Plugin<any, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** The phases, for ordering and error messages (Kong's spelling; handler names: `PHASE_HANDLERS`). */
export type { Phase } from './phases.js'
