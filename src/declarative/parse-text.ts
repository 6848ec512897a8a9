/**
 * Declarative text → a plain object, as Kong's `parse_string`: JSON when the name ends in
 * `json` (or no name is given, tried first), YAML when it ends in `yml`/`yaml` (or no name).
 *
 * @module
 */
import { parse as parseYaml } from 'yaml'
import { DeclarativeError } from './errors.js'

/**
 * Deepest nesting a declarative document may have: Kong parses it with lua-cjson, whose
 * `decode_max_depth` is 1,000 (deeper JSON fails to parse). A deeper document would exhaust the
 * stack of the validator (a 500 instead of Kong's 400).
 */
export const MAX_DECLARATIVE_DEPTH = 1_000

/** Kong's message for a document nested deeper than {@link MAX_DECLARATIVE_DEPTH}. */
export const TOO_DEEP = `failed parsing declarative configuration: Found too many nested data structures (${MAX_DECLARATIVE_DEPTH + 1})`

/**
 * True when objects and arrays in `value` nest deeper than `limit`, counted without recursion. A
 * YAML alias is walked wherever it appears (the parser bounds how far aliases expand), so a
 * document that contains itself is infinitely deep: true.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]]
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, depth] = item
    if (v === null || typeof v !== 'object') continue
    if (depth > limit) return true
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
  // Kong's parser (cjson, lyaml) refuses such text; nothing recursive may see it here.
  if (value !== null && typeof value === 'object' && nestsDeeperThan(value, MAX_DECLARATIVE_DEPTH)) throw fail(TOO_DEEP)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (!triedOne) throw fail(`unknown file type: ${filename ?? 'nil'}. (Accepted types: json, yaml)`)
    throw fail(`failed parsing declarative configuration${err === undefined ? '' : `: ${err}`}`)
  }
  return value as Record<string, unknown>
}
