/**
 * Loads the gateway configuration the way Kong does: defaults < kong.conf-style file <
 * environment (`TURNPIKE_*`, then `KONG_*`) < overrides (CLI flags).
 *
 * @module
 */

import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { buildConfig } from './build.js'
import { parseConfFile } from './conf-file.js'
import { ConfigError } from './errors.js'
import { ALIASES, DEFAULTS, SETTING_NAMES, type SettingName } from './settings.js'
import { collectValues, type LayeredValue } from './sources.js'
import type { GatewayConfig } from './types.js'

export { ConfigError } from './errors.js'

/** Files looked for, in order, when no path is given (only if present; none is fine). */
export const DEFAULT_CONF_PATHS: readonly string[] = ['/etc/turnpike/turnpike.conf', '/etc/kong/kong.conf', '/etc/kong.conf']

export interface LoadConfigOptions {
  /** A file that must exist (`-c`); without it the search list is tried. */
  readonly confPath?: string
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv
  /** Highest-precedence values by setting name, e.g. `{ prefix: '/srv/gw' }` from `-p`. */
  readonly overrides?: Readonly<Record<string, string>>
  /** Directory relative paths are resolved against; defaults to `process.cwd()`. */
  readonly cwd?: string
  /** Files to look for when `confPath` is absent; defaults to {@link DEFAULT_CONF_PATHS}. */
  readonly searchPaths?: readonly string[]
}

/** The first existing file of the search list, or undefined. */
export function findConfFile(searchPaths: readonly string[] = DEFAULT_CONF_PATHS): string | undefined {
  return searchPaths.find((p) => existsSync(p))
}

function readConf(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new ConfigError(`configuration file not found: ${path}`)
    throw new ConfigError(`cannot read configuration file ${path}: ${code ?? String(err)}`)
  }
}

/**
 * Loads, validates and resolves the configuration.
 *
 * @throws ConfigError with a one-line message naming the setting and the problem
 */
export function loadConfig(opts: LoadConfigOptions = {}): GatewayConfig {
  const cwd = opts.cwd ?? process.cwd()
  const path = opts.confPath !== undefined ? resolve(cwd, opts.confPath) : findConfFile(opts.searchPaths)
  const file = path === undefined ? undefined : { path, entries: parseConfFile(readConf(path), path) }
  const given = collectValues(file, opts.env ?? process.env, opts.overrides ?? {})

  const final = (name: SettingName): LayeredValue => {
    let best: LayeredValue = { value: DEFAULTS[name], source: { kind: 'default' }, rank: 0 }
    // Our name first, then Kong's aliases: a strictly higher layer is needed to take over.
    for (const candidate of [name, ...(ALIASES[name] ?? [])]) {
      const v = given.get(candidate)
      if (v !== undefined && v.rank > best.rank) best = { ...v, name: candidate }
    }
    return best
  }

  const raw: Record<string, string> = {}
  for (const [name, v] of given) raw[name] = v.value
  for (const name of SETTING_NAMES) raw[name] = final(name).value

  const config = buildConfig(final, cwd, raw)
  // `raw` shows the paths actually used, not the relative defaults.
  raw.prefix = config.prefix
  raw.sqlite_path = config.sqlite_path
  return config
}
