/**
 * OpenID provider discovery: where the discovery document lives for an `issuer`, fetching JSON
 * from the provider with a deadline and a size cap, and reading the fields we use.
 *
 * @module
 */
import type { HttpRequester, OutboundFailure } from '../../codec/outbound.js'
import { uninitialisedHttp } from '../shared/http-client.js'

const WELL_KNOWN = '/.well-known/openid-configuration'
const MAX_BYTES = 1024 * 1024

/** The node's outbound HTTP client, handed over by the plugin's init ({@link useHttp}). */
let http: HttpRequester = uninitialisedHttp

/** The plugin's init: provider requests go through the node's outbound client. */
export function useHttp(requester: HttpRequester): void {
  http = requester
}

/** The discovery URL for a configured `issuer` (which may already be the discovery URL). */
export function discoveryUrl(issuer: string): string {
  if (issuer.includes('/.well-known/')) return issuer
  return issuer.replace(/\/+$/, '') + WELL_KNOWN
}

/** The issuer identifier implied by the configuration (without the well-known suffix). */
export function configuredIssuer(issuer: string): string {
  const i = issuer.indexOf(WELL_KNOWN)
  return (i === -1 ? issuer : issuer.slice(0, i)).replace(/\/+$/, '')
}

/** What we use of a discovery document. */
export interface Discovery {
  readonly issuer: string
  readonly jwks_uri: string
}

/** A provider request that failed, worded for the error log. */
export class ProviderFetchError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ProviderFetchError'
  }
}

/** GET `url` expecting a JSON object; throws {@link ProviderFetchError} with a precise reason. */
export async function fetchJson(url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let u: URL
  try {
    u = new URL(url)
  } catch (err) {
    throw new ProviderFetchError(`GET ${url} failed: ${(err as Error).message}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ProviderFetchError(`GET ${url} failed: unsupported protocol ${u.protocol}`)
  const res = await http.request({
    method: 'GET',
    origin: u.origin,
    path: `${u.pathname}${u.search}`,
    headers: { accept: 'application/json' },
    connectTimeoutMs: timeoutMs,
    readTimeoutMs: timeoutMs,
    totalTimeoutMs: timeoutMs,
    maxBodyBytes: MAX_BYTES,
  })
  if (!res.ok) {
    const f = res.failure
    if (f.kind === 'too_large') throw new ProviderFetchError(`GET ${url}: response larger than ${MAX_BYTES} bytes`)
    throw new ProviderFetchError(
      f.phase === 'body'
        ? `GET ${url} failed while reading the body: ${describe(f, timeoutMs)}`
        : `GET ${url} failed: ${describe(f, timeoutMs)}`,
    )
  }
  if (res.status !== 200) throw new ProviderFetchError(`GET ${url} answered HTTP ${res.status}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(res.body.toString('utf8'))
  } catch {
    throw new ProviderFetchError(`GET ${url} did not answer JSON`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ProviderFetchError(`GET ${url} did not answer a JSON object`)
  return parsed as Record<string, unknown>
}

function describe(f: OutboundFailure, timeoutMs: number): string {
  if (f.kind === 'timeout') return `timed out after ${timeoutMs} ms`
  return f.code !== undefined && !f.message.includes(f.code) ? `${f.code}: ${f.message}` : f.message
}

/** Fetches and checks the discovery document for `issuer`. */
export async function discover(issuer: string, timeoutMs: number): Promise<Discovery> {
  const url = discoveryUrl(issuer)
  const doc = await fetchJson(url, timeoutMs)
  const jwks = doc['jwks_uri']
  if (typeof jwks !== 'string' || jwks === '') throw new ProviderFetchError(`discovery document ${url} has no jwks_uri`)
  try {
    new URL(jwks)
  } catch {
    throw new ProviderFetchError(`discovery document ${url} has an invalid jwks_uri`)
  }
  const iss = typeof doc['issuer'] === 'string' && doc['issuer'] !== '' ? doc['issuer'] : configuredIssuer(issuer)
  return { issuer: iss, jwks_uri: jwks }
}
