/**
 * basic-auth's access handler, as Kong 3.9's `kong/plugins/basic-auth/access.lua`:
 * `Proxy-Authorization` is tried first, then `Authorization`; the password is checked against the
 * stored digest (Kong's salted SHA-1, see `entities.ts`); every failure is 401 `Unauthorized` with
 * `WWW-Authenticate: Basic realm="<realm>"`; `hide_credentials` removes the header(s) read;
 * `anonymous` turns a failure into that consumer.
 *
 * The error log (notice) says which header was read and why it failed — absent, not Basic, not
 * base64, no `user:password`, unknown username, wrong password — never the password.
 *
 * @module
 */
import type { Consumer, Credential, Pdk } from '../../pdk/types.js'
import { routeLabel, setConsumer, useAnonymous, wwwAuthenticate } from '../shared/consumer.js'
import { verifyBasicAuthPassword } from './entities.js'
import type { BasicAuthConfig } from './schema.js'

export interface BasicAuthPrepared extends BasicAuthConfig {
  /** `Basic realm="service"`. */
  readonly www: string
}

export function prepareBasicAuth(conf: BasicAuthConfig): BasicAuthPrepared {
  return { ...conf, www: wwwAuthenticate('Basic', conf.realm) }
}

/** Credentials read from one header, or why there are none. */
export type ParsedBasic = { readonly username: string; readonly password: string } | { readonly error: string }

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * Kong's `retrieve_credentials`: the first `Basic <base64>` in the header (scheme case-insensitive
 * on its first letter, as Kong's `[Bb]asic`), decoded, split at the first `:` of `user:password`.
 */
export function parseBasic(header: string): ParsedBasic {
  // Kong's `\s*[Bb]asic\s*(.+)` without its leading `\s*`: same capture, but no quadratic rescans
  // of a long run of spaces.
  const m = /[Bb]asic\s*(.+)/.exec(header)
  if (m === null) return { error: 'is not "Basic" credentials' }
  const encoded = (m[1] ?? '').trim()
  if (!BASE64.test(encoded)) return { error: 'is not valid base64 after "Basic"' }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  // `([^:]+):(.*)` searched from every position is quadratic without a `:`; anchored past the
  // leading colons it finds the same split.
  const parts = /^:*([^:]+):(.*)/.exec(decoded)
  if (parts === null) return { error: 'does not decode to "username:password" (header has unrecognized format)' }
  return { username: parts[1] ?? '', password: parts[2] ?? '' }
}

type Failure = { readonly why: string }

function shortName(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s)
}

function authenticate(kong: Pdk, conf: BasicAuthPrepared): Failure | null {
  const authorization = kong.request.getHeader('authorization')
  const proxyAuthorization = kong.request.getHeader('proxy-authorization')
  if (authorization === undefined && proxyAuthorization === undefined) {
    return { why: 'no Authorization or Proxy-Authorization header; send "Authorization: Basic base64(username:password)"' }
  }
  const reasons: string[] = []
  const read = (name: 'proxy-authorization' | 'authorization', value: string | undefined): ParsedBasic | null => {
    if (value === undefined) return null
    if (conf.hide_credentials) kong.service.request.clearHeader(name)
    const parsed = parseBasic(value)
    if ('error' in parsed) reasons.push(`the ${name === 'authorization' ? 'Authorization' : 'Proxy-Authorization'} header ${parsed.error}`)
    return parsed
  }

  let credential: Credential | null = null
  let given: ParsedBasic | null = read('proxy-authorization', proxyAuthorization)
  if (given !== null && !('error' in given)) {
    credential = kong.entities.selectByUnique('basicauth_credentials', 'username', given.username) as Credential | null
    if (credential === null) reasons.push(`no basic-auth credential has the username ${shortName(given.username)} (Proxy-Authorization)`)
  }
  if (credential === null) {
    given = read('authorization', authorization)
    if (given === null || 'error' in given) return { why: reasons.join('; ') || 'no usable credentials' }
    credential = kong.entities.selectByUnique('basicauth_credentials', 'username', given.username) as Credential | null
    if (credential === null) return { why: `no basic-auth credential has the username ${shortName(given.username)}` }
  }
  const g = given as { username: string; password: string }
  const consumerId = credential.consumer?.id
  const digest = credential['password']
  if (consumerId === undefined || typeof digest !== 'string' || !verifyBasicAuthPassword(consumerId, g.password, digest)) {
    return { why: `wrong password for the basic-auth username ${shortName(g.username)}` }
  }
  const consumer = kong.entities.select('consumers', consumerId) as Consumer | null
  setConsumer(kong, consumer, credential)
  return null
}

export function basicAuthAccess(kong: Pdk, conf: BasicAuthPrepared): void {
  // "Logical OR" between auth plugins: already authenticated by a credential, nothing to do.
  if (typeof conf.anonymous === 'string' && kong.client.getCredential() !== null) return
  const failure = authenticate(kong, conf)
  if (failure === null) return
  if (typeof conf.anonymous === 'string') {
    kong.log.info(
      `authentication failed on ${routeLabel(kong)} (Unauthorized: ${failure.why}); continuing as the anonymous consumer "${conf.anonymous}"`,
    )
    useAnonymous(kong, conf.anonymous)
    return
  }
  kong.log.notice(`401 "Unauthorized" on ${routeLabel(kong)}: ${failure.why}`)
  kong.response.error(401, 'Unauthorized', { 'WWW-Authenticate': conf.www })
}
