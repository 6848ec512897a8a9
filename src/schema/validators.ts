/**
 * Kong's custom validators for typedefs (`kong/db/schema/typedefs.lua`), returning Kong's
 * messages. Each returns undefined when the value is valid.
 *
 * @module
 */
import { isValidIp, isValidIpOrCidr, normalizeIp } from './net.js'
import { normalizeUri } from './uri.js'

/** A plain host: no port. */
export function validateHost(host: string): string | undefined {
  const r = normalizeIp(host)
  if ('error' in r) return r.error === 'invalid port number' ? 'must not have a port' : `invalid value: ${host}`
  return r.port !== undefined ? 'must not have a port' : undefined
}

/** A host with an optional port: Kong passes the parser's message through. */
export function validateHostWithOptionalPort(host: string): string | undefined {
  const r = normalizeIp(host)
  return 'error' in r ? r.error : undefined
}

/** An SNI: a name (no IP), no port. */
export function validateSni(host: string): string | undefined {
  const r = normalizeIp(host)
  if ('error' in r) return r.error === 'invalid port number' ? 'must not have a port' : `invalid value: ${host}`
  if (r.type !== 'name') return 'must not be an IP'
  return r.port !== undefined ? 'must not have a port' : undefined
}

/** An SNI that may carry one `*` as its first or last character. */
export function validateWildcardHost(input: string): string | undefined {
  let host = input
  const idx = host.indexOf('*')
  if (idx >= 0) {
    if (idx !== 0 && idx !== host.length - 1) return 'wildcard must be leftmost or rightmost character'
    if (host.split('*').length - 1 > 1) return 'only one wildcard must be specified'
    host = host.replace(/\*/g, 'wildcard')
  }
  return validateSni(host)
}

/** A route `hosts` entry: at most one wildcard, in the leftmost or rightmost label; optional port. */
export function validateRouteHost(host: string): string | undefined {
  // Counted, not matched: `^[^*]*\*?[^*]*$` backtracks quadratically on a long host with `**`.
  if (host.indexOf('*') !== host.lastIndexOf('*')) return 'invalid wildcard: must have at most one wildcard'
  if (!(host.startsWith('*.') || host.endsWith('.*') || !host.includes('*'))) {
    return 'invalid wildcard: must be placed at leftmost or rightmost label'
  }
  return validateHostWithOptionalPort(host.replace(/\*/g, 'abc'))
}

export function validateIp(ip: string): string | undefined {
  return isValidIp(ip) ? undefined : `not an ip address: ${ip}`
}

export function validateIpOrCidr(value: string): string | undefined {
  return isValidIpOrCidr(value) ? undefined : `invalid ip or cidr range: '${value}'`
}

/** Which part of `validatePath` failed: the router only reports bad percent-encoding. */
export interface PathProblem {
  readonly message: string
  readonly code: 'rfc3986' | 'percent'
}

/** A URL path: RFC 3986 characters only, and well-formed percent-encoding. */
export function checkPath(path: string): PathProblem | undefined {
  if (!/^\/[A-Za-z0-9.\-_~/%:@!$&'()*+,;=]*$/.test(path)) {
    return { message: `invalid path: '${path}' (characters outside of the reserved list of RFC 3986 found)`, code: 'rfc3986' }
  }
  const raw = path.replace(/%[0-9A-Fa-f]{2}/g, '___')
  const at = raw.indexOf('%')
  if (at >= 0) return { message: `invalid url-encoded value: '${raw.slice(at, at + 3)}'`, code: 'percent' }
  return undefined
}

export function validatePath(path: string): string | undefined {
  return checkPath(path)?.message
}

/** PCRE syntax JavaScript spells differently (named groups), for a best-effort compile check. */
function compileRegex(source: string): string | undefined {
  try {
    new RegExp(source.replace(/\(\?P</g, '(?<'))
    return undefined
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    return msg.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')
  }
}

/** A route path: `/prefix` (must already be normalized) or `~/regex` (must compile). */
export function validateRouterPath(path: string): string | undefined {
  if (path.includes('//')) return 'must not have empty segments'
  if (!path.startsWith('/') && !path.startsWith('~/')) return 'should start with: / (fixed path) or ~/ (regex path)'
  const problem = checkPath(path)
  if (problem?.code === 'percent') return problem.message
  if (!path.startsWith('~')) {
    const normalized = normalizeUri(path, true)
    return path === normalized ? undefined : `non-normalized path, consider use '${normalized}' instead`
  }
  const regex = path.slice(1)
  const err = compileRegex(regex)
  return err === undefined ? undefined : `invalid regex: '${regex}' (PCRE returned: ${err})`
}

export function validateHeaderName(name: string): string | undefined {
  if (name === '') return 'no header name provided'
  return /^[a-zA-Z0-9\-_]+$/.test(name) ? undefined : `bad header name '${name}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`
}

/** Position (1-based, in bytes) of the first lone surrogate, which cannot be encoded as UTF-8. */
function invalidUtf8Position(s: string): number | undefined {
  let bytes = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
        continue
      }
      return bytes + 1
    }
    if (c >= 0xdc00 && c <= 0xdfff) return bytes + 1
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3
  }
  return undefined
}

/** Kong's message for text that is not valid UTF-8 (`position`: 1-based, in bytes). */
export function invalidUtf8Message(position: number): string {
  return `invalid utf-8 character sequence detected at position ${position}`
}

function utf8Error(s: string): string | undefined {
  const pos = invalidUtf8Position(s)
  return pos === undefined ? undefined : invalidUtf8Message(pos)
}

/** ASCII-only names: alphanumerics and `.-_~`. */
export function validateName(name: string): string | undefined {
  return /^[A-Za-z0-9.\-_~]+$/.test(name)
    ? undefined
    : `invalid value '${name}': it must only contain alphanumeric and '., -, _, ~' characters`
}

/** Names that may also contain any non-ASCII UTF-8 character. */
export function validateUtf8Name(name: string): string | undefined {
  const bad = utf8Error(name)
  if (bad) return bad
  return /^[A-Za-z0-9.\-_~\u0080-\u{10FFFF}]+$/u.test(name)
    ? undefined
    : `invalid value '${name}': the only accepted ascii characters are alphanumerics or ., -, _, and ~`
}

/** Tags: printable ASCII except `,` and `/` (space allowed), or any non-ASCII character. */
export function validateTag(tag: string): string | undefined {
  const bad = utf8Error(tag)
  if (bad) return bad
  return /^[ !-+\-.0-~\u0080-\u{10FFFF}]+$/u.test(tag)
    ? undefined
    : `invalid tag '${tag}': expected printable ascii (except \`,\` and \`/\`) or valid utf-8 sequences`
}
