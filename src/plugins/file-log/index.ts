/**
 * The `file-log` plugin (Kong 3.9, priority 9, log phase): appends each request's log (Kong's
 * serializer shape, `authorization` redacted) as one JSON line to `path`. Writes are
 * asynchronous and batched per file, after the client has its answer; a slow disk delays log
 * lines, never requests (at most {@link MAX_PENDING} lines wait per file, then the oldest go,
 * with a warning). `reopen` closes the file after each write so rotated files are picked up.
 *
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises'
import { typedefs } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import { customFieldsByLuaField, warnCustomFieldsIgnored } from '../shared/custom-fields.js'
import type { Pdk, PdkLog } from '../../pdk/types.js'
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin, PluginSchema } from '../types.js'

export const fileLogConfigFields = {
  path: {
    type: 'string',
    required: true,
    match: /^[^*&%\\`]+$/,
    match_message: 'not a valid filename',
    description: "The file path of the output log file. The plugin creates the log file if it doesn't exist yet.",
  },
  reopen: {
    type: 'boolean',
    required: true,
    default: false,
    description: 'Determines whether the log file is closed and reopened on every request.',
  },
  custom_fields_by_lua: customFieldsByLuaField,
} as const satisfies Record<string, Field>

export const fileLogSchema: PluginSchema = {
  config: fileLogConfigFields,
  protocols: typedefs.PROTOCOLS,
}

/** The validated `config`, inferred from its schema. */
export type FileLogConfig = InferFields<typeof fileLogConfigFields>

/** Lines that may wait for one file before the oldest are dropped. */
export const MAX_PENDING = 100_000

/** One output file: lines are queued and written in order, one write at a time. */
export class LogFile {
  readonly path: string
  #handle: FileHandle | null = null
  #pending: string[] = []
  #writing = false
  #warnedFull = false
  #lastError: string | null = null
  reopen: boolean
  log: Pick<PdkLog, 'warn' | 'err'> | null = null

  constructor(path: string, reopen: boolean) {
    this.path = path
    this.reopen = reopen
  }

  write(line: string): void {
    if (this.#pending.length >= MAX_PENDING) {
      this.#pending.shift()
      if (!this.#warnedFull) {
        this.#warnedFull = true
        this.log?.warn(`[file-log] ${this.path}: ${MAX_PENDING} lines waiting for the disk, dropping the oldest`)
      }
    }
    this.#pending.push(line)
    if (!this.#writing) void this.#drain()
  }

  /** Resolves once every queued line was written (tests, shutdown). */
  async flushed(): Promise<void> {
    for (let i = 0; i < 1000 && (this.#writing || this.#pending.length > 0); i++) await new Promise((r) => setTimeout(r, 5))
  }

  async #drain(): Promise<void> {
    this.#writing = true
    try {
      while (this.#pending.length > 0) {
        const lines = this.#pending
        this.#pending = []
        try {
          // Kong: O_CREAT|O_APPEND|O_WRONLY, mode 0644.
          this.#handle ??= await open(this.path, 'a', 0o644)
          await this.#handle.write(lines.join(''))
          this.#lastError = null
          this.#warnedFull = false
        } catch (err) {
          const why = (err as Error).message
          // One line per distinct failure, not per request.
          if (why !== this.#lastError) this.log?.err(`[file-log] failed to open the file: ${why} ${this.path}`)
          this.#lastError = why
          await this.#close()
        }
        if (this.reopen) await this.#close()
      }
    } finally {
      this.#writing = false
    }
  }

  async #close(): Promise<void> {
    const h = this.#handle
    this.#handle = null
    await h?.close().catch(() => {})
  }
}

const files = new Map<string, LogFile>()

export function logFile(path: string, reopen: boolean): LogFile {
  let f = files.get(path)
  if (f === undefined) {
    f = new LogFile(path, reopen)
    files.set(path, f)
  }
  f.reopen = reopen
  return f
}

let workerLog: Pick<PdkLog, 'warn' | 'err'> | null = null

export function fileLogLog(kong: Pdk, conf: FileLogConfig): void {
  const f = logFile(conf.path, conf.reopen)
  f.log ??= workerLog ?? kong.log
  warnCustomFieldsIgnored(kong, conf.custom_fields_by_lua, `file-log ${conf.path}`)
  f.write(`${JSON.stringify(kong.serialize())}\n`)
}

export const fileLog: Plugin<FileLogConfig> = {
  name: 'file-log',
  version: KONG_COMPAT_VERSION,
  priority: 9,
  schema: fileLogSchema,
  init(ctx) {
    workerLog = ctx.log
  },
  log: fileLogLog,
}

export default fileLog
