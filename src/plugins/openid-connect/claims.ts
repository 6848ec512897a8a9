/**
 * Pure checks of a verified token's claims: issuer, expiry (`exp`, `nbf`, `iat` with leeway),
 * audience and scopes (Kong's AND/OR requirement lists), and claim lookup by path. Each failure
 * carries the status (401: the token is not valid; 403: valid but not allowed here) and a reason
 * worded for the error log (never the token itself).
 *
 * @module
 */

export type Claims = Readonly<Record<string, unknown>>

/** A refused token: status, RFC 6750 error code and the reason for the log. */
export interface ClaimFailure {
  readonly status: 401 | 403
  readonly error: 'invalid_token' | 'insufficient_scope'
  readonly reason: string
}

export interface ClaimRules {
  /** Accepted `iss` values. */
  readonly issuers: readonly string[]
  readonly leeway: number
  readonly audienceClaim: readonly string[]
  readonly audienceRequired: readonly (readonly string[])[] | null
  readonly scopesClaim: readonly string[]
  readonly scopesRequired: readonly (readonly string[])[] | null
}

/** A claim by path (`["realm_access", "roles"]`); undefined when any step is missing. */
export function claimAt(claims: unknown, path: readonly string[]): unknown {
  let v: unknown = claims
  for (const step of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
    v = (v as Record<string, unknown>)[step]
  }
  return v
}

/**
 * Kong's requirement lists: each entry is a space-separated set that must all be present (AND);
 * the entries are alternatives (OR). `["read write", "admin"]` = (read AND write) OR admin.
 */
export function parseRequirements(list: readonly string[] | null): (readonly string[])[] | null {
  if (list === null || list.length === 0) return null
  const out = list.map((e) => e.split(/\s+/).filter((s) => s !== '')).filter((e) => e.length > 0)
  return out.length === 0 ? null : out
}

/** The values a claim holds: a space-separated string (OAuth `scope`), an array, or one value. */
export function claimValues(v: unknown): string[] {
  if (typeof v === 'string') return v.split(/\s+/).filter((s) => s !== '')
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string' || typeof x === 'number').map(String)
  if (typeof v === 'number') return [String(v)]
  return []
}

/** Whether `have` satisfies one of the alternatives; returns the missing values of the closest one. */
export function satisfies(
  have: readonly string[],
  required: readonly (readonly string[])[],
): { ok: true } | { ok: false; missing: readonly string[] } {
  const set = new Set(have)
  let best: readonly string[] | null = null
  for (const alt of required) {
    const missing = alt.filter((r) => !set.has(r))
    if (missing.length === 0) return { ok: true }
    if (best === null || missing.length < best.length) best = missing
  }
  return { ok: false, missing: best ?? [] }
}

const iso = (s: number): string => {
  const d = new Date(s * 1000)
  return Number.isNaN(d.getTime()) ? String(s) : d.toISOString()
}

function describeRequirements(required: readonly (readonly string[])[]): string {
  return required.map((alt) => alt.join(' AND ')).join(' OR ')
}

function normIssuer(s: string): string {
  return s.replace(/\/+$/, '')
}

/** Checks `claims` at time `now` (seconds); undefined when the token may pass. */
export function checkClaims(claims: Claims, rules: ClaimRules, now: number): ClaimFailure | undefined {
  const invalid = (reason: string): ClaimFailure => ({ status: 401, error: 'invalid_token', reason })
  const forbidden = (reason: string): ClaimFailure => ({ status: 403, error: 'insufficient_scope', reason })

  const iss = claims['iss']
  if (typeof iss !== 'string') return invalid(`token has no "iss" claim (expected ${rules.issuers.map((i) => `"${i}"`).join(' or ')})`)
  if (!rules.issuers.some((i) => normIssuer(i) === normIssuer(iss))) {
    return invalid(`token issuer "${iss}" is not allowed (expected ${rules.issuers.map((i) => `"${i}"`).join(' or ')})`)
  }

  const leeway = rules.leeway
  const exp = claims['exp']
  if (exp !== undefined) {
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return invalid('token "exp" claim is not a number')
    if (now >= exp + leeway) return invalid(`token expired at ${iso(exp)} (exp=${exp}, ${Math.round(now - exp)} s ago, leeway ${leeway} s)`)
  }
  const nbf = claims['nbf']
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) return invalid('token "nbf" claim is not a number')
    if (now + leeway < nbf)
      return invalid(`token not valid before ${iso(nbf)} (nbf=${nbf}, ${Math.round(nbf - now)} s from now, leeway ${leeway} s)`)
  }
  const iat = claims['iat']
  if (iat !== undefined) {
    if (typeof iat !== 'number' || !Number.isFinite(iat)) return invalid('token "iat" claim is not a number')
    if (now + leeway < iat)
      return invalid(`token issued in the future at ${iso(iat)} (iat=${iat}, ${Math.round(iat - now)} s from now, leeway ${leeway} s)`)
  }

  if (rules.audienceRequired !== null) {
    const raw = claimAt(claims, rules.audienceClaim)
    // `aud` is a single string or an array; a string is one audience (not space-separated).
    const have = typeof raw === 'string' ? [raw] : claimValues(raw)
    const r = satisfies(have, rules.audienceRequired)
    if (!r.ok) {
      return forbidden(
        `token audience ${have.length === 0 ? `(claim "${rules.audienceClaim.join('.')}" missing)` : JSON.stringify(have)} does not match the required audience ${describeRequirements(rules.audienceRequired)} (missing: ${r.missing.join(', ')})`,
      )
    }
  }
  if (rules.scopesRequired !== null) {
    const have = claimValues(claimAt(claims, rules.scopesClaim))
    const r = satisfies(have, rules.scopesRequired)
    if (!r.ok) {
      return forbidden(
        `token scopes ${have.length === 0 ? `(claim "${rules.scopesClaim.join('.')}" missing)` : JSON.stringify(have)} do not include the required scopes ${describeRequirements(rules.scopesRequired)} (missing: ${r.missing.join(', ')})`,
      )
    }
  }
  return undefined
}

/** A claim value as an upstream header: strings as they are, numbers/booleans printed, others base64 JSON. */
export function headerValue(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return Buffer.from(JSON.stringify(v), 'utf8').toString('base64')
}
