/**
 * Regex route paths. Kong strips the leading `~`, anchors the pattern with `^` and runs it with
 * Rust's `regex` crate (linear time) against the normalized path; here the same pattern runs as a
 * bounded JS RegExp (see src/regex/bounded-regex.ts).
 *
 * @module
 */

import { boundedRegex, type BoundedRegex } from '../../regex/bounded-regex.js'

/** Thrown when a route path regex cannot be compiled. */
export class RoutePathRegexError extends Error {
  override readonly name = 'RoutePathRegexError'
  readonly path: string
  constructor(path: string, cause: unknown) {
    super(`invalid regex path ${JSON.stringify(path)}: ${cause instanceof Error ? cause.message : String(cause)}`)
    this.path = path
  }
}

/** Turns UTF-8 text into the one-char-per-byte form request paths are matched in. */
export function toByteString(text: string): string {
  // Fast path: plain ASCII needs no conversion.
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return Buffer.from(text, 'utf8').toString('latin1')
  }
  return text
}

/**
 * Compiles a `~`-prefixed route path into an anchored RegExp.
 * Rust/PCRE spellings JS lacks are rewritten: `(?P<name>` becomes `(?<name>`, and a leading
 * `(?i)` becomes the `i` flag.
 */
export function compilePathRegex(path: string): BoundedRegex {
  let source = toByteString(path.slice(1)).replace(/\(\?P</g, '(?<')
  let flags = ''
  if (source.startsWith('(?i)')) {
    source = source.slice(4)
    flags = 'i'
  }
  try {
    return boundedRegex('^' + source, flags)
  } catch (err) {
    throw new RoutePathRegexError(path, err)
  }
}

const META = new Set(['\\', '.', '[', ']', '(', ')', '*', '+', '?', '{', '}', '|', '^', '$'])
const OPTIONAL_QUANTIFIERS = new Set(['*', '?', '{'])

/**
 * The literal text every match of the regex path must start with, used to index regex routes
 * by prefix so that only plausible ones are executed. Conservative: returns `''` (always try)
 * when an alternation could make the prefix unsound; scanning stops at the first group, class
 * or quantified char, so inline flags never precede the returned text.
 */
export function literalPrefixOf(path: string): string {
  const source = toByteString(path.slice(1))
  // A top-level alternative would not be anchored by the leading `^`; any `|` disables indexing.
  if (source.includes('|')) return ''
  let i = 0
  while (source.charAt(i) === '^') i++
  let prefix = ''
  while (i < source.length) {
    const ch = source.charAt(i)
    if (ch === '\\') {
      const next = source.charAt(i + 1)
      // Only escaped punctuation is a literal; `\d`, `\w`, `\b`… are classes or assertions.
      if (next === '' || /[A-Za-z0-9]/.test(next)) break
      if (OPTIONAL_QUANTIFIERS.has(source.charAt(i + 2))) break
      prefix += next
      i += 2
      continue
    }
    if (META.has(ch)) break
    if (OPTIONAL_QUANTIFIERS.has(source.charAt(i + 1))) break
    prefix += ch
    i++
  }
  return prefix
}
