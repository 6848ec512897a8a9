/**
 * A real, minimal OpenID provider on loopback for openid-connect tests: a discovery document at
 * `/.well-known/openid-configuration`, a JWKS at `/jwks`, token signing with its current key, and
 * key rotation on demand. Tokens are signed with node:crypto (independently of the gateway's JOSE
 * library), so a test checks our verification against a second implementation.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type SigningAlg = 'RS256' | 'ES256'

export interface ProviderKey {
  readonly kid: string
  readonly alg: SigningAlg
  readonly privateKey: KeyObject
  readonly publicJwk: Record<string, unknown>
}

export interface SignOptions {
  /** Sign with this key instead of the current one (an old key, a key never published…). */
  readonly key?: ProviderKey
  /** Override the `kid` header (`null` leaves it out). */
  readonly kid?: string | null
  /** Override the `alg` header (the signature is still made with the key's algorithm). */
  readonly alg?: string
}

export interface OidcProvider {
  readonly issuer: string
  readonly port: number
  readonly discoveryUrl: string
  readonly jwksUri: string
  /** The key new tokens are signed with. */
  readonly current: ProviderKey
  /** Keys published in the JWKS. */
  readonly published: readonly ProviderKey[]
  /** Requests served, by path. */
  readonly hits: { discovery: number; jwks: number }
  /** A signed JWT; `iss`, `iat` and `exp` (now + 300 s) are filled in unless given. */
  sign(claims: Record<string, unknown>, options?: SignOptions): string
  /**
   * Makes a new key current. By default the JWKS then publishes only the new key (the IdP
   * "rotated its signing certificate"); `keepOld` keeps the old one published too.
   */
  rotate(options?: { readonly alg?: SigningAlg; readonly keepOld?: boolean }): ProviderKey
  /** A key that is never published (for unknown-`kid` tests). */
  unpublishedKey(alg?: SigningAlg): ProviderKey
  /** The next `n` requests to `path` ('discovery' or 'jwks') answer this status. */
  failNext(path: 'discovery' | 'jwks', n: number, status?: number): void
  /** Delays JWKS answers by `ms` (to make concurrent refreshes overlap). */
  setJwksDelay(ms: number): void
  close(): Promise<void>
}

let keyCounter = 0

function makeKey(alg: SigningAlg): ProviderKey {
  const { privateKey, publicKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>
  const kid = `k${++keyCounter}-${createHash('sha256').update(JSON.stringify(jwk)).digest('hex').slice(0, 12)}`
  return { kid, alg, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } }
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url')
}

/** Signs `header.payload` as JWS compact serialization with node:crypto. */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: ProviderKey): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
  const sig =
    key.alg === 'RS256'
      ? sign('sha256', Buffer.from(input), key.privateKey)
      : sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${b64url(sig)}`
}

/** Starts the provider on 127.0.0.1 (random port). */
export async function startOidcProvider(options: { readonly alg?: SigningAlg; readonly issuerPath?: string } = {}): Promise<OidcProvider> {
  let current = makeKey(options.alg ?? 'RS256')
  let published: ProviderKey[] = [current]
  const hits = { discovery: 0, jwks: 0 }
  const failures: Record<'discovery' | 'jwks', { n: number; status: number }> = {
    discovery: { n: 0, status: 500 },
    jwks: { n: 0, status: 500 },
  }
  let jwksDelay = 0
  let issuer = ''
  const issuerPath = options.issuerPath ?? '/realms/test'

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/'
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    }
    if (url === `${issuerPath}/.well-known/openid-configuration`) {
      hits.discovery++
      if (failures.discovery.n > 0) {
        failures.discovery.n--
        return send(failures.discovery.status, { error: 'temporarily_unavailable' })
      }
      return send(200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
      })
    }
    if (url === `${issuerPath}/jwks`) {
      hits.jwks++
      if (failures.jwks.n > 0) {
        failures.jwks.n--
        return send(failures.jwks.status, { error: 'temporarily_unavailable' })
      }
      const body = { keys: published.map((k) => k.publicJwk) }
      if (jwksDelay > 0) {
        setTimeout(() => send(200, body), jwksDelay)
        return
      }
      return send(200, body)
    }
    send(404, { error: 'not_found' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  issuer = `http://127.0.0.1:${port}${issuerPath}`

  return {
    issuer,
    port,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    jwksUri: `${issuer}/jwks`,
    get current() {
      return current
    },
    get published() {
      return published
    },
    hits,
    sign(claims, opts = {}) {
      const key = opts.key ?? current
      const now = Math.floor(Date.now() / 1000)
      const header: Record<string, unknown> = { alg: opts.alg ?? key.alg, typ: 'JWT' }
      const kid = opts.kid === undefined ? key.kid : opts.kid
      if (kid !== null) header['kid'] = kid
      return signJwt(header, { iss: issuer, iat: now, exp: now + 300, ...claims }, key)
    },
    rotate(opts = {}) {
      const next = makeKey(opts.alg ?? current.alg)
      published = opts.keepOld === true ? [...published, next] : [next]
      current = next
      return next
    },
    unpublishedKey(alg = 'RS256') {
      return makeKey(alg)
    },
    failNext(path, n, status = 500) {
      failures[path] = { n, status }
    },
    setJwksDelay(ms) {
      jwksDelay = ms
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
