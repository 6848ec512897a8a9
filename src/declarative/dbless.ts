/**
 * DB-less mode for the primary process: loads `declarative_config` (or
 * `declarative_config_string`) into the memory store at start, serves `/config`, reports the
 * configuration hash, and — when `declarative_config_writable = on` — writes Admin API changes
 * back to the file instead of refusing them.
 *
 * @module
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { AdminRoute } from '../admin/index.js'
import type { Store } from '../store/index.js'
import { configRoutes } from './config-routes.js'
import { describeProblems } from './errors.js'
import { kongExport, toYaml } from './export.js'
import type { FlatConfig } from './flatten.js'
import type { EntityGraph } from './graph.js'
import { countRows, EMPTY_HASH, loadDeclarativeText, md5, readAll, replaceStoreContents } from './load.js'

export interface DeclarativeNodeOptions {
  readonly store: Store
  readonly graph: EntityGraph
  readonly database: 'sqlite' | 'off' | 'postgres'
  /** `declarative_config`: the file loaded at start (and written back when writable). */
  readonly file: string | null
  /** `declarative_config_string`: used when there is no file (Kong's `declarative_config or declarative_config_string`). */
  readonly inline?: string | undefined
  /** `lmdb_map_size` as given (Kong's size syntax, default `2048m`): the most a configuration may take. */
  readonly mapSize?: string | undefined
  /** `declarative_config_writable` as given (`on`/`off`, Kong's boolean words). */
  readonly writable: string
  /** Push the store's content to the workers. */
  readonly publish: () => Promise<void>
  readonly log: { info(msg: string): void; error(msg: string): void; notice(msg: string): void; warn(msg: string): void }
}

/** Kong's `lmdb_map_size` default. */
const DEFAULT_MAP_SIZE = 2048 * 1024 * 1024

/** `lmdb_map_size` in bytes (`512k`, `10m`, `2g`, plain bytes); undefined when it is not a size. */
export function parseMapSize(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return DEFAULT_MAP_SIZE
  const m = /^(\d{1,12})\s*([kmg]?)$/i.exec(value.trim())
  if (m === null) return undefined
  const unit = (m[2] as string).toLowerCase()
  return Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1)
}

/**
 * What a configuration would take in Kong's LMDB: each entity is stored serialized under its
 * primary key and indexed under its unique keys, cache key and page list, in B-tree pages; four
 * times its JSON size is the estimate used against `lmdb_map_size`.
 */
export function storedSize(config: FlatConfig): number {
  let bytes = 0
  for (const rows of Object.values(config.entities)) for (const row of rows) bytes += Buffer.byteLength(JSON.stringify(row))
  return bytes * 4
}

function startError(message: string): Error {
  const err = new Error(message)
  err.name = 'StartError'
  return err
}

/** The DB-less side of a node. */
export class DeclarativeNode {
  readonly #o: DeclarativeNodeOptions
  #hash = EMPTY_HASH
  #persistTimer: NodeJS.Timeout | undefined
  #applying = false
  readonly #writable: boolean | undefined
  readonly #mapSize: number | undefined

  constructor(options: DeclarativeNodeOptions) {
    this.#o = options
    const w = options.writable.trim().toLowerCase()
    this.#mapSize = parseMapSize(options.mapSize)
    this.#writable = ['on', 'true', 'yes', '1'].includes(w) ? true : ['off', 'false', 'no', '0', ''].includes(w) ? false : undefined
  }

  /** Current `configuration_hash`. */
  hash(): string {
    return this.#hash
  }

  /** Whether Admin API entity writes are allowed in DB-less mode. */
  get writable(): boolean {
    return this.#o.database === 'off' && this.#writable === true && this.#o.file !== null
  }

  /** Loads the configured file into the store; throws a StartError naming every problem. */
  async start(): Promise<void> {
    const { file, inline, database } = this.#o
    if (database !== 'off') return
    if (this.#writable === undefined)
      throw startError(`invalid declarative_config_writable: ${JSON.stringify(this.#o.writable)} (expected on or off)`)
    if (this.#writable && file === null) throw startError('declarative_config_writable = on needs declarative_config = FILE to write to')
    if (this.#mapSize === undefined)
      throw startError(`invalid lmdb_map_size: ${JSON.stringify(this.#o.mapSize)} (expected a size such as 2048m)`)
    // Kong's `declarative_config or declarative_config_string`: the file wins when both are set
    const source =
      file !== null
        ? { text: '', name: file, filename: file }
        : inline !== undefined && inline !== ''
          ? { text: inline, name: 'declarative_config_string', filename: undefined }
          : null
    if (source === null) return
    if (source.filename !== undefined) {
      try {
        source.text = readFileSync(source.filename, 'utf8')
      } catch (err) {
        throw startError(`could not read declarative_config ${source.filename}: ${(err as Error).message}`)
      }
    }
    const started = performance.now()
    const result = loadDeclarativeText(source.text, this.#o.graph, source.filename)
    if (!result.ok) {
      const lines = describeProblems(result.problems)
      throw startError(
        `declarative config ${source.name} is invalid (${lines.length} problem${lines.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`,
      )
    }
    for (const warning of result.config.warnings ?? []) this.#o.log.warn(warning)
    await replaceStoreContents(this.#o.store, this.#o.graph, result.config)
    this.#hash = result.hash
    this.#o.log.notice(
      `loaded declarative config ${source.name}: ${countRows(result.config)} entities in ${(performance.now() - started).toFixed(0)} ms (hash ${result.hash})`,
    )
  }

  /** `/config` routes for the Admin API. */
  routes(): AdminRoute[] {
    return configRoutes({
      database: this.#o.database,
      graph: this.#o.graph,
      currentHash: () => this.#hash,
      apply: (config, hash, text) => this.#apply(config, hash, text),
      fits: (config) => {
        const fits = storedSize(config) <= (this.#mapSize ?? DEFAULT_MAP_SIZE)
        if (!fits) this.#o.log.error('not enough space for declarative config (lmdb_map_size)')
        return fits
      },
      exportYaml: async () => toYaml(kongExport(await readAll(this.#o.store, this.#o.graph), this.#o.graph)),
    })
  }

  async #apply(config: FlatConfig, hash: string, text: string): Promise<void> {
    for (const warning of config.warnings ?? []) this.#o.log.warn(warning)
    this.#applying = true
    try {
      await replaceStoreContents(this.#o.store, this.#o.graph, config)
    } finally {
      this.#applying = false
    }
    this.#hash = hash
    if (this.writable && this.#o.file !== null) this.#write(this.#o.file, text)
    this.#o.log.info(`POST /config: loaded ${countRows(config)} entities (hash ${hash})`)
    await this.#o.publish()
  }

  /** Called on every committed Admin API write: persist to the file when writable. */
  onEntityChange(): void {
    if (!this.writable || this.#applying) return
    clearTimeout(this.#persistTimer)
    this.#persistTimer = setTimeout(() => void this.#persist(), 20)
  }

  async #persist(): Promise<void> {
    const file = this.#o.file
    if (file === null) return
    try {
      const doc = kongExport(await readAll(this.#o.store, this.#o.graph), this.#o.graph)
      const text = file.toLowerCase().endsWith('.json') ? `${JSON.stringify(doc, null, 2)}\n` : toYaml(doc)
      this.#write(file, text)
      this.#hash = md5(text)
    } catch (err) {
      this.#o.log.error(`could not write the configuration back to declarative_config ${file}: ${(err as Error).message}`)
    }
  }

  #write(file: string, text: string): void {
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, text)
    renameSync(tmp, file)
  }

  /** Waits for a pending write-back (tests, shutdown). */
  async flush(): Promise<void> {
    if (this.#persistTimer === undefined) return
    clearTimeout(this.#persistTimer)
    this.#persistTimer = undefined
    await this.#persist()
  }
}
