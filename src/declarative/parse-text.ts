/**
 * Declarative text → a plain object, as Kong's `parse_string`: JSON when the name ends in
 * `json` (or no name is given, tried first), YAML when it ends in `yml`/`yaml` (or no name).
 *
 * @module
 */
import { parse as parseYaml } from 'yaml'
import { DeclarativeError } from './errors.js'

function fail(message: string): DeclarativeError {
  return new DeclarativeError([{ location: [], errors: { error: message } }], message)
}

/**
 * Parses declarative text. Throws {@link DeclarativeError} with Kong's message
 * (`failed parsing declarative configuration: …`, `unknown file type: …`).
 */
export function parseDeclarativeText(text: string, filename?: string): Record<string, unknown> {
  let triedOne = false
  let value: unknown
  let err: string | undefined
  const lower = filename?.toLowerCase()
  if (lower === undefined || lower.endsWith('json')) {
    triedOne = true
    try {
      value = JSON.parse(text)
    } catch (e) {
      err = (e as Error).message
    }
  }
  if ((value === null || typeof value !== 'object' || Array.isArray(value)) && (lower === undefined || /ya?ml$/.test(lower))) {
    triedOne = true
    try {
      value = parseYaml(text, { merge: true, maxAliasCount: 10_000, uniqueKeys: false })
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        err = 'expected an object'
        value = undefined
      }
    } catch (e) {
      err = (e as Error).message.split('\n')[0]
      value = undefined
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (!triedOne) throw fail(`unknown file type: ${filename ?? 'nil'}. (Accepted types: json, yaml)`)
    throw fail(`failed parsing declarative configuration${err === undefined ? '' : `: ${err}`}`)
  }
  return value as Record<string, unknown>
}
