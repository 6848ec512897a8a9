/**
 * jwt's request logic, as Kong 3.9's `kong/plugins/jwt/handler.lua` and `jwt_parser.lua`: find the
 * token (query, cookies, then headers with the `Bearer` scheme), read its header and claims, find
 * the credential named by `key_claim_name`, check the algorithm, the signature, the registered
 * claims and the maximum lifetime, then authenticate the credential's consumer.
 *
 * Reading the token and checking its signature go through `jose` (`decodeProtectedHeader`,
 * `decodeJwt`, `compactVerify`); nothing here parses base64url or does cryptography. The claim
 * checks are Kong's own rules (only the claims named in `claims_to_verify`, Kong's messages), which
 * `jose`'s `jwtVerify` cannot express: it checks `exp` and `nbf` whenever present.
 *
 * Every refusal returns Kong's status, body and `WWW-Authenticate`, and writes one `notice` line
 * saying why: where the plugin looked, which credential, which claim and value. Tokens and
 * secrets are never logged; a token appears at most as a short SHA-256 fingerprint.
 *
 * @module
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import { compactVerify, decodeJwt, decodeProtectedHeader, errors as joseErrors } from 'jose'
import type { Consumer, Credential, EntityRow, HeaderValue, Pdk } from '../../pdk/types.js'
import { consumerLabel, fingerprint } from '../shared/consumer.js'
import { JWT_ALGORITHMS } from './entities.js'
import { jwtSchema, type JwtConfig } from './schema.js'
import { orDefault } from '../../schema/index.js'

const fields = jwtSchema.config

// ---------------------------------------------------------------------------------------------
// Finding the token
// ---------------------------------------------------------------------------------------------

/** A token as found: a string, or `true` for a bare `?jwt` query flag (Kong: "Unrecognizable token"). */
export type FoundToken = string | true

export interface TokenSearch {
  /** Distinct tokens found, in the order first seen. */
  readonly tokens: readonly FoundToken[]
  /** Where each distinct token was found (`query 'jwt'`, `cookie 'c'`, `header 'authorization'`). */
  readonly sources: readonly string[]
  /** Headers that were present but did not carry a `Bearer` token. */
  readonly notBearer: readonly string[]
}

/** What token retrieval reads from the request. */
export interface TokenRequest {
  getQuery(): Readonly<Record<string, string | true | (string | true)[]>>
  getHeaders(): Readonly<Record<string, HeaderValue | undefined>>
}

/**
 * Kong's pattern `\s*[Bb]earer\s+(.+)`, not anchored (as `ngx.re.gmatch`), without its leading
 * `\s*`: the same capture, but no quadratic rescans of a long run of spaces.
 */
const BEARER = /[Bb]earer\s+(.+)/

/** nginx's `$cookie_<name>`: the first cookie of that name (case-insensitive) in the Cookie header(s). */
export function cookieValue(cookieHeader: HeaderValue | undefined, name: string): string | undefined {
  if (cookieHeader === undefined) return undefined
  const lower = name.toLowerCase()
  for (const line of Array.isArray(cookieHeader) ? cookieHeader : [cookieHeader]) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=')
      if (eq === -1) continue
      if (pair.slice(0, eq).trim().toLowerCase() === lower) return pair.slice(eq + 1).trim()
    }
  }
  return undefined
}

/** Header lookup as Kong's `get_headers()` table: case-insensitive, `_` read as `-`. */
function headerKey(name: string): string {
  return name.toLowerCase().replace(/_/g, '-')
}

/**
 * Kong's `retrieve_tokens`: every non-empty token from the query parameters, the cookies and the
 * headers (first value of each, `Bearer` scheme), de-duplicated. One distinct token is used; none
 * is `Unauthorized`; several different ones are `Multiple tokens provided`.
 */
export function retrieveTokens(req: TokenRequest, conf: Pick<JwtConfig, 'uri_param_names' | 'cookie_names' | 'header_names'>): TokenSearch {
  const tokens: FoundToken[] = []
  const sources: string[] = []
  const notBearer: string[] = []
  const add = (token: FoundToken, where: string): void => {
    const i = tokens.indexOf(token)
    if (i === -1) {
      tokens.push(token)
      sources.push(where)
    } else if (!(sources[i] ?? '').split(', ').includes(where)) sources[i] = `${sources[i] ?? ''}, ${where}`
  }
  const query = req.getQuery()
  for (const name of orDefault(conf.uri_param_names, fields.uri_param_names)) {
    if (!Object.hasOwn(query, name)) continue
    const v = query[name]
    for (const one of Array.isArray(v) ? v : [v]) if (one !== undefined && one !== '') add(one, `query '${name}'`)
  }
  const headers = req.getHeaders()
  for (const name of orDefault(conf.cookie_names, fields.cookie_names)) {
    const v = cookieValue(headers['cookie'], name)
    if (v !== undefined && v !== '') add(v, `cookie '${name}'`)
  }
  for (const name of orDefault(conf.header_names, fields.header_names)) {
    const raw = headers[headerKey(name)]
    const value = Array.isArray(raw) ? raw[0] : raw
    if (value === undefined) continue
    const m = BEARER.exec(value)
    if (m?.[1] !== undefined && m[1] !== '') add(m[1], `header '${name}'`)
    else notBearer.push(name)
  }
  return { tokens, sources, notBearer }
}

/** Names the places the plugin looks, for "no token" explanations. */
export function describeSources(conf: Pick<JwtConfig, 'uri_param_names' | 'cookie_names' | 'header_names'>): string {
  const list = (label: string, names: readonly string[]): string | undefined =>
    names.length === 0 ? undefined : `${label} ${names.map((n) => `'${n}'`).join(', ')}`
  const parts = [
    list('query parameter', orDefault(conf.uri_param_names, fields.uri_param_names)),
    list('cookie', orDefault(conf.cookie_names, fields.cookie_names)),
    list('header', orDefault(conf.header_names, fields.header_names))?.concat(' (Bearer scheme)'),
  ].filter((p): p is string => p !== undefined)
  return parts.length === 0 ? 'nowhere (uri_param_names, cookie_names and header_names are all empty)' : parts.join('; ')
}

// ---------------------------------------------------------------------------------------------
// Reading the token
// ---------------------------------------------------------------------------------------------

export type DecodedToken =
  | {
      readonly ok: true
      readonly header: Readonly<Record<string, unknown>>
      readonly claims: Readonly<Record<string, unknown>>
      readonly alg: string
    }
  /** `error` is Kong's (`Bad token; <error>`); `detail` explains it for the log. */
  | { readonly ok: false; readonly error: string; readonly detail: string }

const SUPPORTED_ALGS: ReadonlySet<string> = new Set(JWT_ALGORITHMS)

/**
 * Kong's `jwt_parser:new`: header and claims must be JSON (`invalid JSON`), `alg` one Kong
 * supports (`invalid alg`), claims an object (`invalid claims`), and the signature part present
 * and free of separators (`invalid signature`). The reading is jose's.
 */
export function decodeToken(token: string): DecodedToken {
  const parts = token.split('.')
  if (parts.length < 3)
    return {
      ok: false,
      error: 'invalid JSON',
      detail: `the token has ${parts.length} part${parts.length === 1 ? '' : 's'} separated by '.', a JWT has 3`,
    }
  // Kong splits at the first two dots; what follows is the signature (further dots make it invalid).
  const compact = parts.slice(0, 3).join('.')
  let header: Record<string, unknown>
  try {
    header = decodeProtectedHeader(compact) as Record<string, unknown>
  } catch (err) {
    return { ok: false, error: 'invalid JSON', detail: `the token header does not decode: ${(err as Error).message}` }
  }
  let claims: Record<string, unknown> | null = null
  try {
    claims = decodeJwt(compact) as Record<string, unknown>
  } catch (err) {
    if (!(err instanceof joseErrors.JWTInvalid) || !/Claims Set/i.test(err.message)) {
      return { ok: false, error: 'invalid JSON', detail: `the token payload does not decode: ${(err as Error).message}` }
    }
  }
  const alg = header['alg']
  if (typeof alg !== 'string' || !SUPPORTED_ALGS.has(alg)) {
    return {
      ok: false,
      error: 'invalid alg',
      detail: `header alg ${JSON.stringify(alg ?? null)} is not one of ${JWT_ALGORITHMS.join(', ')}`,
    }
  }
  if (claims === null) return { ok: false, error: 'invalid claims', detail: 'the token payload is JSON but not an object' }
  if (parts.length > 3)
    return { ok: false, error: 'invalid signature', detail: `the token has ${parts.length} parts separated by '.', a JWT has 3` }
  return { ok: true, header, claims, alg }
}

// ---------------------------------------------------------------------------------------------
// Claims (Kong's `verify_registered_claims` and `check_maximum_expiration`)
// ---------------------------------------------------------------------------------------------

/** Seconds since the epoch, as `ngx.time()`. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/** Kong's claim errors, keyed by claim, in `claims_to_verify` order; null when all pass. */
export function verifyRegisteredClaims(
  claims: Readonly<Record<string, unknown>>,
  toVerify: readonly string[] | null,
  now: number,
): Record<string, string> | null {
  const errors: Record<string, string> = {}
  for (const name of toVerify ?? []) {
    const value = claims[name]
    if (typeof value !== 'number') errors[name] = 'must be a number'
    else if (name === 'exp' && value <= now) errors[name] = 'token expired'
    else if (name === 'nbf' && value > now) errors[name] = 'token not valid yet'
  }
  return Object.keys(errors).length === 0 ? null : errors
}

/** Kong's `check_maximum_expiration`: `exp` must be set and at most `max` seconds away. */
export function checkMaximumExpiration(claims: Readonly<Record<string, unknown>>, max: number, now: number): Record<string, string> | null {
  if (max <= 0) return null
  const exp = claims['exp']
  if (typeof exp !== 'number' || exp - now > max) return { exp: 'exceeds maximum allowed expiration' }
  return null
}

/** `1700000000 (2023-11-14T22:13:20Z, 3600 s ago)` */
export function describeTime(value: unknown, now: number): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return JSON.stringify(value ?? null)
  const iso = Math.abs(value) < 8.64e12 ? new Date(value * 1000).toISOString().replace('.000Z', 'Z') : 'out of range'
  const delta = Math.round(value - now)
  return `${value} (${iso}, ${delta <= 0 ? `${-delta} s ago` : `in ${delta} s`})`
}

// ---------------------------------------------------------------------------------------------
// Keys and signatures
// ---------------------------------------------------------------------------------------------

/** Kong's `base64_decode` of a secret: standard or URL alphabet, padding optional; null if invalid. */
export function decodeBase64Secret(value: string): Buffer | null {
  let s = value.replace(/-/g, '+').replace(/_/g, '/')
  if (s.length % 4 !== 0) s += '='.repeat(4 - (s.length % 4))
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null
  return Buffer.from(s, 'base64')
}

type VerifyKey = Uint8Array | KeyObject

/** Keys derived from a credential, per stored row (rows are replaced when the configuration changes). */
const keyCache = new WeakMap<EntityRow, Map<string, VerifyKey | { readonly error: string }>>()

/**
 * The key a credential verifies with: the HMAC secret (bytes; base64-decoded with
 * `secret_is_base64`), or `rsa_public_key` parsed once. `{ error }` says why there is none.
 */
export function credentialKey(cred: EntityRow, alg: string, secretIsBase64: boolean): VerifyKey | { readonly error: string } {
  const hmac = alg.startsWith('HS')
  const cacheKey = `${hmac ? 'hs' : 'pk'}|${secretIsBase64 ? 'b64' : 'raw'}`
  let perRow = keyCache.get(cred)
  const hit = perRow?.get(cacheKey)
  if (hit !== undefined) return hit
  const material = hmac ? cred['secret'] : cred['rsa_public_key']
  let result: VerifyKey | { readonly error: string }
  if (typeof material !== 'string' || material === '') {
    result = { error: hmac ? 'the credential has no secret' : 'the credential has no rsa_public_key' }
  } else {
    const bytes = secretIsBase64 ? decodeBase64Secret(material) : Buffer.from(material, 'utf8')
    if (bytes === null)
      result = { error: `secret_is_base64 is set but the credential's ${hmac ? 'secret' : 'rsa_public_key'} is not valid base64` }
    else if (hmac) result = new Uint8Array(bytes)
    else {
      try {
        result = createPublicKey(secretIsBase64 ? bytes : material)
      } catch (err) {
        result = { error: `the credential's rsa_public_key does not parse as a public key (${(err as Error).message})` }
      }
    }
  }
  if (perRow === undefined) {
    perRow = new Map()
    keyCache.set(cred, perRow)
  }
  perRow.set(cacheKey, result)
  return result
}

/** Checks the signature with jose, allowing only `alg`. Returns undefined when valid, else why not. */
export async function verifySignature(token: string, alg: string, key: VerifyKey): Promise<string | undefined> {
  try {
    await compactVerify(token, key, { algorithms: [alg] })
    return undefined
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "the signature does not match the credential's key"
    return `the signature cannot be checked with the credential's key: ${(err as Error).message}`
  }
}

// ---------------------------------------------------------------------------------------------
// The access phase
// ---------------------------------------------------------------------------------------------

/** Kong's `WWW-Authenticate` values: `Bearer[ realm="x"]`, plus ` error="invalid_token"` once a token was seen. */
export function wwwAuthenticate(realm: string | null, withError: boolean): string {
  const base = realm === null ? 'Bearer' : `Bearer realm="${realm}"`
  return withError ? `${base} error="invalid_token"` : base
}

export type AuthResult =
  | { readonly ok: true; readonly consumer: Consumer; readonly credential: Credential; readonly token: string; readonly log: string }
  | {
      readonly ok: false
      readonly status: number
      /** Kong's body: `{ message }` or the claim errors object. */
      readonly body: Readonly<Record<string, unknown>>
      readonly wwwAuthenticate: string | null
      /** Why, for the error log (no secrets). */
      readonly log: string
    }

function fail(status: number, message: string, www: string | null, log: string): AuthResult {
  return { ok: false, status, body: { message }, wwwAuthenticate: www, log }
}

/** Kong's `do_authentication`, with the reason of each refusal. */
export async function authenticate(kong: Pdk, conf: JwtConfig): Promise<AuthResult> {
  const base = wwwAuthenticate(conf.realm, false)
  const withError = wwwAuthenticate(conf.realm, true)
  const found = retrieveTokens(kong.request, conf)

  if (found.tokens.length === 0) {
    const notBearer =
      found.notBearer.length === 0
        ? ''
        : `; header ${found.notBearer.map((n) => `'${n}'`).join(', ')} present but not in the form 'Bearer <token>'`
    return fail(401, 'Unauthorized', base, `no JWT found in the request; looked in ${describeSources(conf)}${notBearer}`)
  }
  if (found.tokens.length > 1) {
    return fail(
      401,
      'Multiple tokens provided',
      withError,
      `${found.tokens.length} different tokens found (in ${found.sources.join('; ')}); send exactly one`,
    )
  }
  const token = found.tokens[0]
  const source = found.sources[0] ?? ''
  if (typeof token !== 'string') {
    return fail(401, 'Unrecognizable token', withError, `${source} has no value (a bare flag), not a token`)
  }
  const print = `token ${fingerprint(token)} from ${source}`

  const decoded = decodeToken(token)
  if (!decoded.ok) return fail(401, `Bad token; ${decoded.error}`, withError, `${print} is not a valid JWT: ${decoded.detail}`)

  const claimName = orDefault(conf.key_claim_name, fields.key_claim_name)
  const fromClaims = decoded.claims[claimName]
  const keyValue = fromClaims !== undefined && fromClaims !== null && fromClaims !== false ? fromClaims : decoded.header[claimName]
  if (keyValue === undefined || keyValue === null || keyValue === false) {
    return fail(
      401,
      `No mandatory '${claimName}' in claims`,
      withError,
      `${print} has no '${claimName}' claim (key_claim_name) in its payload or header, so no credential can be chosen`,
    )
  }
  if (keyValue === '' || typeof keyValue !== 'string') {
    return fail(
      401,
      `Invalid '${claimName}' in claims`,
      withError,
      `${print} has '${claimName}' = ${JSON.stringify(keyValue)}; it must be a non-empty string naming a jwt credential key`,
    )
  }
  const claimShown = JSON.stringify(keyValue.length > 80 ? `${keyValue.slice(0, 80)}…` : keyValue)

  const cred = kong.entities.selectByUnique('jwt_secrets', 'key', keyValue) as (EntityRow & Credential) | null
  if (cred === null) {
    return fail(
      401,
      `No credentials found for given '${claimName}'`,
      withError,
      `${print}: no jwt credential has key ${claimShown} (the token's '${claimName}')`,
    )
  }
  const algorithm = typeof cred['algorithm'] === 'string' ? cred['algorithm'] : 'HS256'
  if (decoded.alg !== algorithm) {
    return fail(
      401,
      'Invalid algorithm',
      withError,
      `${print} is signed with ${decoded.alg} but credential ${claimShown} (id ${cred.id}) expects ${algorithm}`,
    )
  }
  const key = credentialKey(cred, algorithm, conf.secret_is_base64)
  if ('error' in key) {
    return fail(401, 'Invalid key/secret', withError, `credential ${claimShown} (id ${cred.id}) cannot verify ${print}: ${key.error}`)
  }
  const sigProblem = await verifySignature(token, algorithm, key)
  if (sigProblem !== undefined) {
    return fail(
      401,
      'Invalid signature',
      withError,
      `${print} has an invalid ${algorithm} signature for credential ${claimShown} (id ${cred.id}): ${sigProblem}`,
    )
  }

  const now = nowSeconds()
  const claimErrors = verifyRegisteredClaims(decoded.claims, conf.claims_to_verify, now)
  if (claimErrors !== null) {
    const why = Object.entries(claimErrors)
      .map(([c, e]) => `${c} ${e}: ${c} = ${describeTime(decoded.claims[c], now)}`)
      .join('; ')
    return {
      ok: false,
      status: 401,
      body: claimErrors,
      wwwAuthenticate: withError,
      log: `${print} (credential ${claimShown}) fails claims_to_verify: ${why}`,
    }
  }
  const maximumExpiration = orDefault(conf.maximum_expiration, fields.maximum_expiration)
  const maxErrors = checkMaximumExpiration(decoded.claims, maximumExpiration, now)
  if (maxErrors !== null) {
    return {
      ok: false,
      status: 401,
      body: maxErrors,
      wwwAuthenticate: withError,
      log: `${print} (credential ${claimShown}) lives too long: exp = ${describeTime(decoded.claims['exp'], now)}, maximum_expiration is ${maximumExpiration} s from now`,
    }
  }

  const consumerId = cred.consumer?.id
  const consumer = consumerId === undefined ? null : (kong.entities.select('consumers', consumerId) as Consumer | null)
  if (consumer === null) {
    return fail(
      401,
      `Could not find consumer for '${claimName}=${keyValue}'`,
      null,
      `credential ${claimShown} (id ${cred.id}) points to consumer ${consumerId ?? '(none)'}, which does not exist`,
    )
  }
  return {
    ok: true,
    consumer,
    credential: cred,
    token,
    log: `${print} authenticated ${consumerLabel(consumer)} with credential ${claimShown}`,
  }
}
