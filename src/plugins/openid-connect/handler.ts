/**
 * openid-connect's access phase: find the bearer token, verify its signature against the issuer's
 * cached JWKS (refreshing it, rate-limited, when the token names an unknown `kid`), check its
 * claims, map a consumer and pass claims upstream. Every refusal says why in the error log at
 * `notice` (never the token: at most a fingerprint) and answers Kong's status, message and
 * `WWW-Authenticate`.
 *
 * @module
 */
import { compactVerify, decodeProtectedHeader } from 'jose'
import type { Consumer, Credential, Pdk } from '../../pdk/types.js'
import { consumerLabel, fingerprint, routeLabel, setConsumer, useAnonymous } from '../shared/consumer.js'
import { checkClaims, claimAt, headerValue, parseRequirements, type ClaimFailure, type ClaimRules, type Claims } from './claims.js'
import { configuredIssuer } from './discovery.js'
import { keyFits, keyTypeFor, storeFor, type IssuerKeyStore, type KeyEntry, type StoreOptions } from './jwks-cache.js'
import { orDefault } from '../../schema/index.js'
import { OIDC_CONFIG_FIELDS as F, type OidcConfig } from './schema.js'

/** Signature algorithms accepted (asymmetric only: a JWKS publishes public keys). */
export const ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]

/** What requests need, derived once per configuration change. */
export interface Prepared {
  readonly conf: OidcConfig
  readonly storeOptions: StoreOptions
  readonly rules: Omit<ClaimRules, 'issuers'>
  readonly headers: readonly (readonly [claim: string, header: string])[]
  readonly sources: readonly ('header' | 'query' | 'body')[]
  /** `realm` of WWW-Authenticate: the issuer's host. */
  readonly realm: string
}

export function prepare(conf: OidcConfig): Prepared {
  const claims = conf.upstream_headers_claims ?? []
  const names = conf.upstream_headers_names ?? []
  if (claims.length !== names.length)
    throw new Error('upstream_headers_claims and upstream_headers_names must have the same number of elements')
  let realm: string
  try {
    realm = new URL(conf.issuer).host
  } catch {
    realm = conf.issuer
  }
  const prepared: Prepared = {
    conf,
    storeOptions: {
      timeoutMs: orDefault(conf.timeout, F.timeout),
      cacheTtlMs: orDefault(conf.cache_ttl, F.cache_ttl) * 1000,
      rediscoveryMs: orDefault(conf.rediscovery_lifetime, F.rediscovery_lifetime) * 1000,
    },
    rules: {
      leeway: orDefault(conf.leeway, F.leeway),
      audienceClaim: orDefault(conf.audience_claim, F.audience_claim),
      audienceRequired: parseRequirements(conf.audience_required),
      scopesClaim: orDefault(conf.scopes_claim, F.scopes_claim),
      scopesRequired: parseRequirements(conf.scopes_required),
    },
    headers: claims.map((c, i) => [c, names[i] as string] as const),
    sources: orDefault(conf.bearer_token_param_type, F.bearer_token_param_type),
    realm,
  }
  return prepared
}

/** Starts discovery and the first JWKS load in the background, so the first request is fast. */
export function warm(p: Prepared): void {
  storeFor(p.conf.issuer, p.storeOptions)
    .ensureLoaded(p.storeOptions)
    .catch(() => {}) // reported by the store; requests retry
}

type Found = { readonly token: string; readonly where: 'header' | 'query' | 'body' }

const SOURCE_LABEL = {
  header: 'the Authorization header (Bearer)',
  query: 'the access_token query argument',
  body: 'the access_token body field',
} as const

function bearerFromHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(value)
  return m?.[1]
}

const BODY_TYPES = /^(application\/x-www-form-urlencoded|multipart\/form-data|application\/json)\b/i

async function findToken(kong: Pdk, sources: Prepared['sources']): Promise<Found | undefined> {
  for (const where of sources) {
    if (where === 'header') {
      const t = bearerFromHeader(kong.request.getHeader('authorization'))
      if (t !== undefined) return { token: t, where }
    } else if (where === 'query') {
      const t = kong.request.getQueryArg('access_token')
      if (typeof t === 'string' && t !== '') return { token: t, where }
    } else {
      if (!BODY_TYPES.test(kong.request.getHeader('content-type') ?? '')) continue
      const body = await kong.request.getBody()
      const t = body?.args['access_token']
      if (typeof t === 'string' && t !== '') return { token: t, where }
    }
  }
  return undefined
}

async function hideToken(kong: Pdk, where: Found['where']): Promise<void> {
  if (where === 'header') {
    kong.service.request.clearHeader('authorization')
    return
  }
  if (where === 'query') {
    const q = { ...kong.request.getQuery() }
    delete q['access_token']
    kong.service.request.setQuery(q)
    return
  }
  const ct = kong.request.getHeader('content-type') ?? ''
  const body = await kong.request.getBody()
  if (body === null) return
  const args = { ...body.args }
  delete args['access_token']
  if (/^application\/json/i.test(ct)) kong.service.request.setRawBody(JSON.stringify(args))
  else if (/^application\/x-www-form-urlencoded/i.test(ct)) {
    const form = new URLSearchParams()
    for (const [k, v] of Object.entries(args)) for (const one of Array.isArray(v) ? v : [v]) form.append(k, String(one))
    kong.service.request.setRawBody(form.toString())
  }
  // multipart: left as sent (rewriting parts is not supported).
}

/** Non-secret facts about a token for log lines. */
function tokenLabel(token: string, header?: { kid?: unknown; alg?: unknown }, claims?: Claims): string {
  const parts = [`token ${fingerprint(token)}`]
  if (header !== undefined) {
    if (typeof header.alg === 'string') parts.push(`alg ${header.alg}`)
    parts.push(typeof header.kid === 'string' ? `kid "${header.kid}"` : 'no kid')
  }
  if (claims !== undefined && typeof claims['sub'] === 'string') parts.push(`sub "${claims['sub']}"`)
  return parts.join(', ')
}

function wwwAuthenticate(p: Prepared, error: ClaimFailure['error'] | null, description: string | null): string {
  let v = `Bearer realm="${p.realm}"`
  if (error !== null) v += `, error="${error}"`
  if (description !== null && p.conf.display_errors) v += `, error_description="${description.replace(/["\\]/g, "'")}"`
  return v
}

/**
 * Refuses the request (or continues as `anonymous`). `error` is null when no token was presented
 * (RFC 6750: no error code then).
 */
function refuse(kong: Pdk, p: Prepared, status: 401 | 403, error: ClaimFailure['error'] | null, reason: string, logDetail: string): void {
  const conf = p.conf
  if (conf.anonymous !== null) {
    kong.log.info(`${routeLabel(kong)}: ${reason}${logDetail}; continuing as the anonymous consumer "${conf.anonymous}"`)
    useAnonymous(kong, conf.anonymous)
    return
  }
  kong.log.notice(`refused with ${status} on ${routeLabel(kong)}: ${reason}${logDetail}`)
  const base = status === 401 ? conf.unauthorized_error_message : conf.forbidden_error_message
  const message = conf.display_errors ? `${base} (${reason})` : base
  kong.response.error(status, message, { 'WWW-Authenticate': wwwAuthenticate(p, error, reason) })
}

async function verifySignature(token: string, keys: readonly KeyEntry[], alg: string): Promise<Uint8Array | undefined> {
  for (const k of keys) {
    try {
      const { payload } = await compactVerify(token, k.key, { algorithms: [alg] })
      return payload
    } catch {
      // try the next candidate
    }
  }
  return undefined
}

function findConsumer(kong: Pdk, value: string, by: readonly ('id' | 'username' | 'custom_id')[]): Consumer | null {
  for (const field of by) {
    const row = field === 'id' ? kong.entities.select('consumers', value) : kong.entities.selectByUnique('consumers', field, value)
    if (row !== null) return row as Consumer
  }
  return null
}

export async function access(kong: Pdk, p: Prepared): Promise<void> {
  const conf = p.conf
  if (!conf.run_on_preflight && kong.request.getMethod() === 'OPTIONS') return
  // Kong's "logical OR": with `anonymous` set, a request another auth plugin already
  // authenticated with a credential is left alone.
  if (conf.anonymous !== null && kong.client.getCredential() !== null) return

  const found = await findToken(kong, p.sources)
  if (found === undefined) {
    return refuse(kong, p, 401, null, `no bearer token found (looked in ${p.sources.map((s) => SOURCE_LABEL[s]).join(', ')})`, '')
  }
  const { token } = found

  let header: { alg?: unknown; kid?: unknown }
  try {
    if (token.split('.').length !== 3) throw new Error('not three dot-separated parts')
    header = decodeProtectedHeader(token)
  } catch {
    return refuse(
      kong,
      p,
      401,
      'invalid_token',
      'bearer token is not a signed JWT (JWS compact form)',
      ` (${tokenLabel(token)}, from ${SOURCE_LABEL[found.where]})`,
    )
  }
  const alg = typeof header.alg === 'string' ? header.alg : ''
  if (!ALGORITHMS.includes(alg) || keyTypeFor(alg) === undefined) {
    return refuse(
      kong,
      p,
      401,
      'invalid_token',
      `token algorithm "${alg}" is not accepted (accepted: ${ALGORITHMS.join(', ')})`,
      ` (${tokenLabel(token, header)})`,
    )
  }

  const store = storeFor(conf.issuer, p.storeOptions)
  if (!store.ready) {
    try {
      await store.ensureLoaded(p.storeOptions)
    } catch (err) {
      kong.log.err(`cannot verify tokens on ${routeLabel(kong)}: ${(err as Error).message}`)
      kong.response.error(500)
      return
    }
  } else store.refreshIfStale(p.storeOptions)

  const keys = await keysFor(kong, p, store, token, header, alg)
  if (keys === undefined) return // refused

  const payloadBytes = await verifySignature(token, keys, alg)
  if (payloadBytes === undefined) {
    return refuse(
      kong,
      p,
      401,
      'invalid_token',
      `token signature verification failed (${keys.length === 1 ? 'key' : `${keys.length} candidate keys`} from the JWKS of ${store.issuer})`,
      ` (${tokenLabel(token, header)})`,
    )
  }
  let claims: Claims
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(payloadBytes))
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object')
    claims = parsed as Claims
  } catch {
    return refuse(kong, p, 401, 'invalid_token', 'token payload is not a JSON object', ` (${tokenLabel(token, header)})`)
  }

  const issuers = conf.issuers_allowed ?? [store.discovery?.issuer ?? configuredIssuer(conf.issuer)]
  const failure = checkClaims(claims, { ...p.rules, issuers }, Date.now() / 1000)
  if (failure !== undefined)
    return refuse(kong, p, failure.status, failure.error, failure.reason, ` (${tokenLabel(token, header, claims)})`)

  let consumer: Consumer | null = null
  if (conf.consumer_claim !== null && conf.consumer_claim.length > 0) {
    const raw = claimAt(claims, conf.consumer_claim)
    const value = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : undefined
    const by = conf.consumer_by ?? ['username', 'custom_id']
    consumer = value === undefined ? null : findConsumer(kong, value, by)
    if (consumer === null && !conf.consumer_optional) {
      const why =
        value === undefined
          ? `token has no usable consumer claim "${conf.consumer_claim.join('.')}"`
          : `no consumer with ${by.join(' or ')} "${value}" (from claim "${conf.consumer_claim.join('.')}")`
      return refuse(
        kong,
        p,
        403,
        'insufficient_scope',
        `${why}; create the consumer or set consumer_optional`,
        ` (${tokenLabel(token, header, claims)})`,
      )
    }
  }

  for (const [claim, name] of p.headers) {
    const v = headerValue(claims[claim])
    if (v === undefined) kong.service.request.clearHeader(name)
    else kong.service.request.setHeader(name, v)
  }
  if (conf.hide_credentials) await hideToken(kong, found.where)

  const sub = typeof claims['sub'] === 'string' ? claims['sub'] : null
  const credential: Credential = { id: sub ?? fingerprint(token), consumer: consumer === null ? null : { id: consumer.id } }
  setConsumer(kong, consumer, credential, { credentialIdentifier: sub })
  if (consumer !== null)
    kong.log.debug(`authenticated ${consumerLabel(consumer)} on ${routeLabel(kong)} (${tokenLabel(token, header, claims)})`)
}

/** The keys that may verify the token, refreshing the JWKS for an unknown `kid`; undefined when refused. */
async function keysFor(
  kong: Pdk,
  p: Prepared,
  store: IssuerKeyStore,
  token: string,
  header: { kid?: unknown; alg?: unknown },
  alg: string,
): Promise<KeyEntry[] | undefined> {
  const kid = typeof header.kid === 'string' ? header.kid : undefined
  const detail = ` (${tokenLabel(token, header)})`
  if (kid === undefined) {
    const c = store.candidates(alg)
    if (c.length > 0) return c
    refuse(
      kong,
      p,
      401,
      'invalid_token',
      `token has no kid and the JWKS of ${store.issuer} has no ${alg} key (cached kids: ${store.kids().join(', ')})`,
      detail,
    )
    return undefined
  }
  let key = store.find(kid)
  if (key === undefined) {
    const r = await store.refreshForKid(kid, p.storeOptions)
    if (r.kind === 'refreshed') {
      key = r.found
      if (key === undefined) {
        refuse(
          kong,
          p,
          401,
          'invalid_token',
          `kid "${kid}" not found in JWKS after refresh (issuer ${store.issuer}; JWKS kids: ${store.kids().join(', ')})`,
          detail,
        )
        return undefined
      }
    } else if (r.kind === 'rate-limited') {
      refuse(
        kong,
        p,
        401,
        'invalid_token',
        `kid "${kid}" not found in the cached JWKS (issuer ${store.issuer}; kids: ${store.kids().join(', ')}); not refreshed: the last refresh for an unknown kid was ${(r.agoMs / 1000).toFixed(1)} s ago, next allowed in ${(r.nextInMs / 1000).toFixed(1)} s (rediscovery_lifetime ${p.conf.rediscovery_lifetime} s)`,
        detail,
      )
      return undefined
    } else {
      refuse(kong, p, 401, 'invalid_token', `kid "${kid}" not found in the cached JWKS and the refresh failed: ${r.error}`, detail)
      return undefined
    }
  }
  if (!keyFits(key, alg)) {
    refuse(
      kong,
      p,
      401,
      'invalid_token',
      `token algorithm ${alg} does not match key "${kid}" (${key.kty}${key.alg !== undefined ? `, alg ${key.alg}` : ''})`,
      detail,
    )
    return undefined
  }
  return [key]
}
