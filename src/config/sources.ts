/**
 * Collects setting values from their layers — file < environment < overrides — and rejects
 * unknown names.
 *
 * @module
 */

import { ConfigError, type SettingSource } from './errors.js'
import type { ConfEntry } from './conf-file.js'
import { suggest } from './did-you-mean.js'
import { KONG_DYNAMIC_PREFIXES, KONG_UNIMPLEMENTED_SETTINGS, isKongPassThrough } from './kong-settings.js'
import { ALIASES, SETTING_NAMES } from './settings.js'

/** A value with its origin; `rank` orders layers (higher wins). */
export interface LayeredValue {
  /** The name the value was given under (a Kong alias such as `nginx_worker_processes`). */
  readonly name?: string
  readonly value: string
  readonly source: SettingSource
  readonly rank: number
}

const RANK_FILE = 1
const RANK_ENV = 2
const RANK_OVERRIDE = 3

const OWN_NAMES: ReadonlySet<string> = new Set(SETTING_NAMES)
const ALIAS_NAMES: ReadonlySet<string> = new Set(Object.values(ALIASES).flat())

/** Every name a configuration may use: ours, their Kong aliases, and Kong's other settings. */
function isKnown(name: string): boolean {
  return OWN_NAMES.has(name) || ALIAS_NAMES.has(name) || isKongPassThrough(name)
}

function unknownSetting(name: string, where: string): ConfigError {
  // Suggest among names people type by hand; Kong's dynamic nginx_* space is open-ended.
  const hint = suggest(name, [...OWN_NAMES, ...ALIAS_NAMES, ...KONG_UNIMPLEMENTED_SETTINGS])
  const tail = hint === undefined ? '' : ` (did you mean ${JSON.stringify(hint)}?)`
  return new ConfigError(`unknown setting${where}: ${JSON.stringify(name)}${tail}`, name)
}

/**
 * Reads the environment for every known name: `TURNPIKE_<NAME>` first, then `KONG_<NAME>` so
 * existing deployments keep working. Unknown variables are ignored (`KONG_VERSION` and the like
 * are common in container images).
 */
function fromEnv(env: NodeJS.ProcessEnv, out: Map<string, LayeredValue>): void {
  const names = new Set<string>([...OWN_NAMES, ...ALIAS_NAMES, ...KONG_UNIMPLEMENTED_SETTINGS])
  // Dynamic namespaces (nginx_http_*, vault_* ...) can only be found by scanning the variables.
  for (const key of Object.keys(env)) {
    const m = /^(?:TURNPIKE|KONG)_(.+)$/.exec(key)
    const name = m?.[1]?.toLowerCase()
    if (name !== undefined && KONG_DYNAMIC_PREFIXES.some((p) => name.startsWith(p))) names.add(name)
  }
  for (const name of names) {
    for (const prefix of ['TURNPIKE_', 'KONG_']) {
      const variable = prefix + name.toUpperCase()
      const value = env[variable]
      if (value !== undefined) {
        out.set(name, { value: value.trim(), source: { kind: 'env', variable }, rank: RANK_ENV })
        break
      }
    }
  }
}

/**
 * Merges the layers into one value per given name (defaults are applied later).
 *
 * @throws ConfigError for an unknown name in the file or the overrides
 */
export function collectValues(
  file: { path: string; entries: Map<string, ConfEntry> } | undefined,
  env: NodeJS.ProcessEnv,
  overrides: Readonly<Record<string, string>>,
): Map<string, LayeredValue> {
  const values = new Map<string, LayeredValue>()
  if (file !== undefined) {
    for (const [name, entry] of file.entries) {
      if (!isKnown(name)) throw unknownSetting(name, ` in ${file.path} line ${entry.line}`)
      values.set(name, {
        value: entry.value,
        source: { kind: 'file', path: file.path, line: entry.line },
        rank: RANK_FILE,
      })
    }
  }
  fromEnv(env, values)
  for (const [rawName, value] of Object.entries(overrides)) {
    const name = rawName.toLowerCase()
    if (!isKnown(name)) throw unknownSetting(name, '')
    values.set(name, { value: value.trim(), source: { kind: 'override' }, rank: RANK_OVERRIDE })
  }
  return values
}
