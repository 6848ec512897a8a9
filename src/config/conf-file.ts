/**
 * Parser for kong.conf syntax: `name = value` lines, `#` comments, blank lines.
 *
 * @module
 */

import { ConfigError } from './errors.js'

/** One setting read from a file, with the line it came from (for error messages). */
export interface ConfEntry {
  readonly value: string
  readonly line: number
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Removes a trailing comment: an unescaped `#` starts it, and `\#` stands for a literal `#`
 * (kong.conf's rule, so values such as colours or URL fragments can hold a `#`).
 */
function stripComment(line: string): string {
  let out = ''
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (ch === '\\' && line[i + 1] === '#') {
      out += '#'
      i++
    } else if (ch === '#') {
      break
    } else {
      out += ch
    }
  }
  return out
}

/**
 * Parses the text of a kong.conf-style file. Names are lower-cased (environment variables are
 * their upper-case form, so case carries no meaning); when a name repeats, the last line wins,
 * as in Kong. Values are trimmed; an empty value means "unset".
 *
 * @param text - the file's contents
 * @param path - the file's path, only for error messages
 * @throws ConfigError for a line that is neither blank, a comment, nor `name = value`
 */
export function parseConfFile(text: string, path: string): Map<string, ConfEntry> {
  const entries = new Map<string, ConfEntry>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1
    const content = stripComment(lines[i] ?? '').trim()
    if (content === '') continue
    const eq = content.indexOf('=')
    const name = eq < 0 ? '' : content.slice(0, eq).trim()
    if (eq < 0 || !NAME.test(name)) {
      throw new ConfigError(`invalid line in ${path} line ${lineNo}: ${JSON.stringify(content)}: expected "name = value"`)
    }
    entries.set(name.toLowerCase(), { value: content.slice(eq + 1).trim(), line: lineNo })
  }
  return entries
}
