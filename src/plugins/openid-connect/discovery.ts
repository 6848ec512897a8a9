/**
 * OpenID provider discovery: where the discovery document lives for an `issuer`, fetching JSON
 * from the provider with a deadline and a size cap, and reading the fields we use.
 *
 * @module
 */
import { request } from 'undici'

const WELL_KNOWN = '/.well-known/openid-configuration'
const MAX_BYTES = 1024 * 1024

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
  const signal = AbortSignal.timeout(timeoutMs)
  let res: Awaited<ReturnType<typeof request>>
  try {
    res = await request(url, { method: 'GET', headers: { accept: 'application/json' }, signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  } catch (err) {
    throw new ProviderFetchError(`GET ${url} failed: ${describe(err, timeoutMs)}`)
  }
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length
      if (size > MAX_BYTES) {
        res.body.destroy()
        throw new ProviderFetchError(`GET ${url}: response larger than ${MAX_BYTES} bytes`)
      }
      chunks.push(chunk as Buffer)
    }
  } catch (err) {
    if (err instanceof ProviderFetchError) throw err
    throw new ProviderFetchError(`GET ${url} failed while reading the body: ${describe(err, timeoutMs)}`)
  }
  if (res.statusCode !== 200) throw new ProviderFetchError(`GET ${url} answered HTTP ${res.statusCode}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ProviderFetchError(`GET ${url} did not answer JSON`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ProviderFetchError(`GET ${url} did not answer a JSON object`)
  return parsed as Record<string, unknown>
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
    return `timed out after ${timeoutMs} ms`
  }
  const code = e.code ?? e.cause?.code
  const msg = e.message ?? String(err)
  return code !== undefined && !msg.includes(code) ? `${code}: ${msg}` : msg
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
