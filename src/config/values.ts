/**
 * Parsers for kong.conf value types. Each throws {@link ValueProblem} with the problem only;
 * the loader adds the setting's name, value and origin.
 *
 * @module
 */

import { ValueProblem } from './value-problem.js'

/** kong.conf booleans: `on`/`off`/`true`/`false` (case-insensitive here; Kong wants lower case). */
export function parseBoolean(value: string): boolean {
  const v = value.toLowerCase()
  if (v === 'on' || v === 'true') return true
  if (v === 'off' || v === 'false') return false
  throw new ValueProblem('expected on, off, true or false')
}

/** A whole number of at least `min` (Kong's `must be 0 or greater` checks). */
export function parseInteger(value: string, min: number): number {
  if (!/^[0-9]+$/.test(value)) {
    throw new ValueProblem(min > 0 ? `expected a positive integer` : `expected an integer, 0 or greater`)
  }
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new ValueProblem('number is too large')
  if (n < min) throw new ValueProblem(`must be ${min} or greater`)
  return n
}

/** One of a fixed set of values. */
export function parseEnum<T extends string>(value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value)
  if (found === undefined) throw new ValueProblem(`expected one of: ${allowed.join(', ')}`)
  return found
}

/** A comma-separated list, entries trimmed, empty entries dropped (so `a, b,` is `[a, b]`). */
export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
}

/** An nginx size: a number with an optional `k`/`m`/`g` suffix; `0` means unlimited. */
export function parseSize(value: string): string {
  if (!/^[0-9]+[kKmMgG]?$/.test(value)) throw new ValueProblem('expected a size such as 0, 8k, 10m or 1g')
  return value
}

/** Bytes in an nginx size (`0` → 0, meaning unlimited). */
export function sizeToBytes(size: string): number {
  const m = /^([0-9]+)([kKmMgG]?)$/.exec(size)
  if (m === null) throw new ValueProblem('expected a size such as 0, 8k, 10m or 1g')
  const unit = (m[2] ?? '').toLowerCase()
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1
  return Number(m[1]) * factor
}

const TIME_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
}

/**
 * An nginx time (`60s`, `500ms`, `1m30s`; a bare number is seconds) in milliseconds, at least 1
 * (nginx refuses 0 for its client timeouts' meaning "wait forever").
 */
export function parseNginxTime(value: string): number {
  // At most a handful of parts: a value is a few characters, never a loop the input can stretch.
  if (value.length > 32 || !/^(?:[0-9]+(?:ms|s|m|h|d|w|M|y)?)+$/.test(value)) {
    throw new ValueProblem('expected an nginx time such as 60s, 500ms or 1m30s')
  }
  let ms = 0
  for (const m of value.matchAll(/([0-9]+)(ms|s|m|h|d|w|M|y)?/g)) ms += Number(m[1]) * (TIME_UNITS_MS[m[2] ?? 's'] ?? 1000)
  if (!Number.isSafeInteger(ms) || ms > 2 ** 31 - 1) throw new ValueProblem('time is too large (at most 24 days)')
  if (ms < 1) throw new ValueProblem('must be greater than 0')
  return ms
}
