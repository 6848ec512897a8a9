/**
 * hmac-auth's access handler, as Kong 3.9's `kong/plugins/hmac-auth/access.lua`, in Kong's order:
 *
 * 1. neither `Authorization` nor `Proxy-Authorization` → 401 `Unauthorized`;
 * 2. `X-Date`, else `Date`, must be an HTTP date within `clock_skew` seconds of the gateway's
 *    clock → else 401 `HMAC signature cannot be verified, a valid date or x-date header is
 *    required for HMAC Authentication`;
 * 3. `hmac username="…", algorithm="…", headers="…", signature="…"` is read from
 *    `Proxy-Authorization`, else from `Authorization` (`hide_credentials` removes the header
 *    used: Authorization unless Proxy-Authorization named a username, as Kong); a header that
 *    does not parse, leaves out one of `enforce_headers` or names an algorithm outside
 *    `algorithms` → 401 `HMAC signature cannot be verified`, as does an unknown username;
 * 4. the signature is the HMAC, with the credential's secret, of the signing string built from
 *    the listed headers (`name: value` lines; `request-line` and `@request-target` when the
 *    request has no such header), compared in constant time → else 401 `HMAC signature does not
 *    match`;
 * 5. `validate_request_body`: `Digest: SHA-256=<base64>` must be the body's digest (no Digest:
 *    the body must be empty) → else 401 `HMAC signature does not match`.
 *
 * Every 401 carries `WWW-Authenticate: hmac realm="<realm>"` (`hmac` without a realm). With
 * `anonymous` a failure continues as that consumer. The error log (notice) says why each request
 * was refused, never with the secret or the signature.
 *
 * Bounded where Kong is not: the header read is at most {@link MAX_AUTHORIZATION_LENGTH}
 * characters and may list at most {@link MAX_SIGNED_HEADERS} headers; past either the request is
 * refused as a header that does not parse.
 *
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { parseHttpTime } from '../../codec/http-time.js'
import type { Consumer, Credential, Pdk } from '../../pdk/types.js'
import { routeLabel, setConsumer, useAnonymous, wwwAuthenticate } from '../shared/consumer.js'
import { HMAC_ALGORITHMS, type HmacAlgorithm, type HmacAuthConfig } from './schema.js'

/** The longest Authorization / Proxy-Authorization value read (longer: refused as unparsable). */
export const MAX_AUTHORIZATION_LENGTH = 8192
/** The most headers a signature may list (more: refused as unparsable). */
export const MAX_SIGNED_HEADERS = 100

/** Kong's messages. */
export const UNAUTHORIZED = 'Unauthorized'
export const DATE_REQUIRED = 'HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication'
export const SIGNATURE_NOT_VALID = 'HMAC signature cannot be verified'
export const SIGNATURE_NOT_SAME = 'HMAC signature does not match'

export interface HmacAuthPrepared extends HmacAuthConfig {
  /** `hmac realm="…"`, or `hmac` without a realm. */
  readonly www: string
}

export function prepareHmacAuth(conf: HmacAuthConfig): HmacAuthPrepared {
  return { ...conf, www: wwwAuthenticate('hmac', conf.realm) }
}

/** The four parameters of an `hmac` authorization header. */
export interface HmacParams {
  readonly username: string
  readonly algorithm: string
  /** The `headers` list split on single spaces, as Kong's `split(headers, " ")`. */
  readonly headers: readonly string[]
  readonly signature: string
}

// PCRE's `\s` without Unicode: ASCII white space only.
const WS = '[ \\t\\n\\v\\f\\r]*'
const START = new RegExp(`[Hh]mac${WS}username="`)
const ALGORITHM = new RegExp(`",${WS}algorithm="`, 'g')
const HEADERS = new RegExp(`",${WS}headers="`, 'g')
const SIGNATURE = new RegExp(`",${WS}signature="`, 'g')

/** Start and end of every match of `re` (overlapping ones too) from `from` on. */
function markers(re: RegExp, s: string, from: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = []
  re.lastIndex = from
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    out.push({ start: m.index, end: m.index + m[0].length })
    re.lastIndex = m.index + 1
  }
  return out
}

/** The last marker that starts at or after `from` and ends before `limit`. */
function lastBefore(list: readonly { start: number; end: number }[], from: number, limit: number): { start: number; end: number } | null {
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i] as { start: number; end: number }
    if (m.start >= from && m.end < limit) return m
  }
  return null
}

/**
 * Kong's `\s*[Hh]mac\s*username="(.+)",\s*algorithm="(.+)",\s*headers="(.+)",\s*signature="(.+)"`
 * with its greedy groups (each takes as much as the rest allows: a username may contain `",`),
 * found without backtracking: the last `"` ends the signature, then the last `", signature="`
 * before it, the last `", headers="` before that and the last `", algorithm="` before that.
 * Null when the header does not match.
 */
export function parseHmacHeader(value: string): HmacParams | null {
  // PCRE's `.` stops at a line feed (which a parsed header value cannot hold anyway).
  if (value.includes('\n')) return null
  const start = START.exec(value)
  if (start === null) return null
  const from = start.index + start[0].length
  const lastQuote = value.lastIndexOf('"')
  const signature = lastBefore(markers(SIGNATURE, value, from), from, lastQuote)
  if (signature === null) return null
  const headers = lastBefore(markers(HEADERS, value, from), from, signature.start)
  if (headers === null) return null
  const algorithm = lastBefore(markers(ALGORITHM, value, from), from + 1, headers.start)
  if (algorithm === null) return null
  const list = value.slice(headers.end, signature.start)
  return {
    username: value.slice(from, algorithm.start),
    algorithm: value.slice(algorithm.end, headers.start),
    // penlight's split gives one empty name for a lone space (JavaScript's split gives two)
    headers: list === ' ' ? [''] : list.split(' '),
    signature: value.slice(signature.end, lastQuote),
  }
}

/** `ngx.decode_base64`: standard alphabet, read up to the first `=`; null when it is not base64. */
export function decodeSignature(text: string): Buffer | null {
  const body = /^[A-Za-z0-9+/]*/.exec(text)?.[0] ?? ''
  if (body.length < text.length && text[body.length] !== '=') return null
  if (body.length % 4 === 1) return null
  return Buffer.from(body, 'base64')
}

const NODE_DIGEST: Readonly<Record<HmacAlgorithm, string>> = {
  'hmac-sha1': 'sha1',
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
}

/** What a request's signing string is built from. */
export interface SigningRequest {
  readonly method: string
  /** The request target as received (path and query). */
  readonly pathWithQuery: string
  /** `1.0`, `1.1`, `2.0`… */
  readonly httpVersion: string
  header(name: string): string | undefined
}

/**
 * Kong's signing string: one line per listed header, `name: value` (the name as listed); a
 * header the request lacks is `name:`, except `@request-target` (`@request-target: get /path?q`)
 * and `request-line` (`GET /path?q HTTP/1.1`).
 */
export function signingString(req: SigningRequest, headers: readonly string[]): string {
  const lines: string[] = []
  for (const name of headers) {
    const value = req.header(name)
    if (value !== undefined) lines.push(`${name}: ${value}`)
    else if (name === '@request-target') lines.push(`${name}: ${req.method.toLowerCase()} ${req.pathWithQuery}`)
    else if (name === 'request-line') lines.push(`${req.method} ${req.pathWithQuery} HTTP/${Number(req.httpVersion).toFixed(1)}`)
    else lines.push(`${name}:`)
  }
  return lines.join('\n')
}

/** The HMAC of `data` with `secret` by one of Kong's algorithms. */
export function hmacDigest(algorithm: HmacAlgorithm, secret: string, data: string): Buffer {
  return createHmac(NODE_DIGEST[algorithm], secret).update(data, 'latin1').digest()
}

function isAlgorithm(name: string): name is HmacAlgorithm {
  return (HMAC_ALGORITHMS as readonly string[]).includes(name)
}

/** For log lines: a client-supplied string, quoted and cut short. */
function quoted(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s)
}

type Failure = { readonly message: string; readonly why: string }
type Verified = { readonly credential: Credential; readonly username: string }

/** Which of X-Date / Date makes the request fresh enough, or why neither does. */
function checkClock(kong: Pdk, skew: number): string | null {
  const now = Math.floor(Date.now() / 1000)
  const reasons: string[] = []
  for (const name of ['X-Date', 'Date']) {
    const value = kong.request.getHeader(name)
    if (value === undefined) {
      reasons.push(`no ${name} header`)
      continue
    }
    const at = parseHttpTime(value)
    if (at === null) {
      reasons.push(`${name} ${quoted(value)} is not an HTTP date`)
      continue
    }
    const off = Math.abs(now - at)
    if (off <= skew) return null
    reasons.push(`${name} ${quoted(value)} is ${off} s away from the gateway's clock (clock_skew ${skew})`)
  }
  return reasons.join('; ')
}

/** The parameters from one header, or why there are none. */
function readHeader(value: string | undefined, label: string): HmacParams | string {
  if (value === undefined) return `no ${label} header`
  if (value.length > MAX_AUTHORIZATION_LENGTH) return `the ${label} header is longer than ${MAX_AUTHORIZATION_LENGTH} characters`
  const params = parseHmacHeader(value)
  if (params === null) return `the ${label} header is not 'hmac username="…", algorithm="…", headers="…", signature="…"'`
  if (params.headers.length > MAX_SIGNED_HEADERS)
    return `the ${label} header lists ${params.headers.length} headers (at most ${MAX_SIGNED_HEADERS} are read)`
  return params
}

/** Steps 1-4: the credential whose secret signed the request, or why none did. */
function verify(kong: Pdk, conf: HmacAuthPrepared): Verified | Failure {
  const authorization = kong.request.getHeader('authorization')
  const proxyAuthorization = kong.request.getHeader('proxy-authorization')
  if (authorization === undefined && proxyAuthorization === undefined) {
    return { message: UNAUTHORIZED, why: 'no Authorization or Proxy-Authorization header' }
  }
  const stale = checkClock(kong, conf.clock_skew ?? 300)
  if (stale !== null) return { message: DATE_REQUIRED, why: stale }

  let params = readHeader(proxyAuthorization, 'Proxy-Authorization')
  const fromProxy = params
  if (typeof params === 'string') {
    params = readHeader(authorization, 'Authorization')
    if (conf.hide_credentials) kong.service.request.clearHeader('authorization')
  } else if (conf.hide_credentials) kong.service.request.clearHeader('proxy-authorization')
  if (typeof params === 'string') {
    const why = proxyAuthorization === undefined ? params : `${fromProxy as string}; ${params}`
    return { message: SIGNATURE_NOT_VALID, why }
  }

  const signed = new Set(params.headers)
  const left = (conf.enforce_headers ?? []).find((h) => !signed.has(h))
  if (left !== undefined) return { message: SIGNATURE_NOT_VALID, why: `enforced header ${quoted(left)} not used for signature creation` }
  const algorithm = params.algorithm
  const allowed = conf.algorithms ?? []
  if (!allowed.includes(algorithm as HmacAlgorithm) || !isAlgorithm(algorithm)) {
    return { message: SIGNATURE_NOT_VALID, why: `algorithm ${quoted(algorithm)} not supported (config.algorithms: ${allowed.join(', ')})` }
  }

  // Header text reaches us one character per byte; stored usernames are UTF-8 text, as in Kong's byte compare.
  const username = /[^\x00-\x7f]/.test(params.username) ? Buffer.from(params.username, 'latin1').toString('utf8') : params.username
  const credential = kong.entities.selectByUnique('hmacauth_credentials', 'username', username) as Credential | null
  if (credential === null)
    return { message: SIGNATURE_NOT_VALID, why: `no hmac-auth credential has the username ${quoted(params.username)}` }
  const secret = credential['secret']
  const given = decodeSignature(params.signature)
  if (given === null) return { message: SIGNATURE_NOT_SAME, why: `the signature for the username ${quoted(params.username)} is not base64` }
  const req: SigningRequest = {
    method: kong.request.getMethod(),
    pathWithQuery: kong.request.getPathWithQuery(),
    httpVersion: kong.request.getHttpVersion(),
    // Kong's get_header: dashes may be written as underscores
    header: (name) => kong.request.getHeader(name.replaceAll('_', '-')),
  }
  const wanted = typeof secret === 'string' ? hmacDigest(algorithm, secret, signingString(req, params.headers)) : null
  if (wanted === null || wanted.length !== given.length || !timingSafeEqual(wanted, given)) {
    return {
      message: SIGNATURE_NOT_SAME,
      why: `the ${algorithm} signature of the headers ${quoted(params.headers.join(' '))} does not match the secret of the username ${quoted(params.username)}`,
    }
  }
  return { credential, username }
}

/** Step 5: the Digest header against the body, or why it does not match. */
async function checkBody(kong: Pdk): Promise<string | null> {
  let body: Buffer
  try {
    body = await kong.request.getRawBody()
  } catch (err) {
    return `validate_request_body: the body could not be read (${(err as Error).message})`
  }
  const digest = kong.request.getHeader('digest')
  if (digest === undefined) return body.length === 0 ? null : 'validate_request_body: no Digest header, and the body is not empty'
  const wanted = `SHA-256=${createHash('sha256').update(body).digest('base64')}`
  return digest === wanted ? null : "validate_request_body: the Digest header is not the body's SHA-256=<base64>"
}

function refuse(kong: Pdk, conf: HmacAuthPrepared, failure: Failure): void {
  if (typeof conf.anonymous === 'string') {
    kong.log.info(
      `authentication failed on ${routeLabel(kong)} (${failure.message}: ${failure.why}); continuing as the anonymous consumer "${conf.anonymous}"`,
    )
    useAnonymous(kong, conf.anonymous)
    return
  }
  kong.log.notice(`401 "${failure.message}" on ${routeLabel(kong)}: ${failure.why}`)
  kong.response.error(401, failure.message, { 'WWW-Authenticate': conf.www })
}

function accept(kong: Pdk, verified: Verified): void {
  const consumerId = verified.credential.consumer?.id
  const consumer = consumerId === undefined ? null : (kong.entities.select('consumers', consumerId) as Consumer | null)
  setConsumer(kong, consumer, verified.credential, { credentialIdentifier: verified.username })
}

export function hmacAuthAccess(kong: Pdk, conf: HmacAuthPrepared): void | Promise<void> {
  // "Logical OR" between auth plugins: already authenticated by a credential, nothing to do.
  if (typeof conf.anonymous === 'string' && kong.client.getCredential() !== null) return
  const verified = verify(kong, conf)
  if ('why' in verified) return refuse(kong, conf, verified)
  if (!conf.validate_request_body) return accept(kong, verified)
  return checkBody(kong).then((why) => (why === null ? accept(kong, verified) : refuse(kong, conf, { message: SIGNATURE_NOT_SAME, why })))
}
