/**
 * Declarative text → a plain object, as Kong's `parse_string`: JSON when the name ends in
 * `json` (or no name is given, tried first), YAML when it ends in `yml`/`yaml` (or no name).
 *
 * @module
 */
import { parse as parseYaml } from 'yaml'
import { DeclarativeError } from './errors.js'

/** cjson's `decode_max_depth`: Kong cannot read a configuration nested deeper. */
const MAX_DEPTH = 1000

/** How deep arrays and objects nest in a parsed value, counted without recursion up to `max + 1`. */
function depthOver(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]]
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, depth] = item
    if (v === null || typeof v !== 'object') continue
    if (depth > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
    }
  }
  return false
}

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
  if (value !== null && typeof value === 'object' && depthOver(value, MAX_DEPTH)) {
    // Kong's parser (cjson, lyaml) refuses such text; nothing recursive may see it here.
    throw fail(`failed parsing declarative configuration: Found too many nested data structures (${MAX_DEPTH + 1})`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (!triedOne) throw fail(`unknown file type: ${filename ?? 'nil'}. (Accepted types: json, yaml)`)
    throw fail(`failed parsing declarative configuration${err === undefined ? '' : `: ${err}`}`)
  }
  return value as Record<string, unknown>
}
