/**
 * Collects setting values from their layers — file < environment < overrides — and rejects
 * unknown names.
 *
 * @module
 */

import { ConfigError, type SettingSource } from './errors.js'
import type { ConfEntry } from './conf-file.js'
import { suggest } from './did-you-mean.js'
import {
  KONG_DYNAMIC_PREFIXES,
  KONG_ENTERPRISE_PREFIXES,
  KONG_ENTERPRISE_SETTINGS,
  KONG_UNIMPLEMENTED_SETTINGS,
  isKongEnterpriseSetting,
  isKongPassThrough,
} from './kong-settings.js'
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

/** Every name a configuration may use: ours, their Kong aliases, and Kong's other settings (Enterprise's included). */
function isKnown(name: string): boolean {
  return OWN_NAMES.has(name) || ALIAS_NAMES.has(name) || isKongPassThrough(name) || isKongEnterpriseSetting(name)
}

/** One name and where it was given (` line 3`, or '' for an override). */
function describeUnknown(name: string, where: string): string {
  // Suggest among names people type by hand; Kong's dynamic nginx_* space is open-ended.
  const hint = suggest(name, [...OWN_NAMES, ...ALIAS_NAMES, ...KONG_UNIMPLEMENTED_SETTINGS])
  const tail = hint === undefined ? '' : ` (did you mean ${JSON.stringify(hint)}?)`
  return `${JSON.stringify(name)}${where}${tail}`
}

/** Every unknown name of one source at once: `unknown setting in FILE line 3: "x"`, or `unknown settings in FILE: "x" line 3, "y" line 9`. */
function unknownSettings(found: readonly { name: string; where: string }[], source: string): ConfigError {
  const first = found[0] as { name: string; where: string }
  if (found.length === 1) return new ConfigError(`unknown setting${source}${first.where}: ${describeUnknown(first.name, '')}`, first.name)
  const list = found.map((u) => describeUnknown(u.name, u.where)).join(', ')
  return new ConfigError(`unknown settings${source}: ${list}`, first.name)
}

/**
 * Reads the environment for every known name: `TURNPIKE_<NAME>` first, then `KONG_<NAME>` so
 * existing deployments keep working. Unknown variables are ignored (`KONG_VERSION` and the like
 * are common in container images).
 */
function fromEnv(env: NodeJS.ProcessEnv, out: Map<string, LayeredValue>): void {
  const names = new Set<string>([...OWN_NAMES, ...ALIAS_NAMES, ...KONG_UNIMPLEMENTED_SETTINGS, ...KONG_ENTERPRISE_SETTINGS])
  // Dynamic namespaces (nginx_http_*, vault_*, Enterprise families ...) can only be found by scanning the variables.
  const prefixes = [...KONG_DYNAMIC_PREFIXES, ...KONG_ENTERPRISE_PREFIXES]
  for (const key of Object.keys(env)) {
    const m = /^(?:TURNPIKE|KONG)_(.+)$/.exec(key)
    const name = m?.[1]?.toLowerCase()
    if (name !== undefined && prefixes.some((p) => name.startsWith(p))) names.add(name)
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
    const unknown = [...file.entries].filter(([name]) => !isKnown(name)).map(([name, entry]) => ({ name, where: ` line ${entry.line}` }))
    if (unknown.length > 0) throw unknownSettings(unknown, ` in ${file.path}`)
    for (const [name, entry] of file.entries) {
      values.set(name, {
        value: entry.value,
        source: { kind: 'file', path: file.path, line: entry.line },
        rank: RANK_FILE,
      })
    }
  }
  fromEnv(env, values)
  const unknown = Object.keys(overrides)
    .map((n) => n.toLowerCase())
    .filter((n) => !isKnown(n))
    .map((name) => ({ name, where: '' }))
  if (unknown.length > 0) throw unknownSettings(unknown, '')
  for (const [rawName, value] of Object.entries(overrides)) {
    const name = rawName.toLowerCase()
    values.set(name, { value: value.trim(), source: { kind: 'override' }, rank: RANK_OVERRIDE })
  }
  return values
}
