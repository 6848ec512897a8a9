/**
 * What every authentication plugin shares, as Kong's auth handlers do it (3.9 `set_consumer`,
 * the `anonymous` fallback, the "logical OR" between auth plugins), plus the helpers that make
 * each refusal explain itself in the error log without ever writing a secret there.
 *
 * - {@link setConsumer}: `kong.client.authenticate(consumer, credential)` and the upstream headers
 *   `X-Consumer-ID`, `X-Consumer-Custom-ID`, `X-Consumer-Username`, `X-Credential-Identifier`
 *   (set when known, cleared otherwise, so a client cannot forge them) and `X-Anonymous-Consumer:
 *   true` when no credential was presented.
 * - {@link useAnonymous}: the `anonymous` consumer, looked up by id or by username; when it does
 *   not exist the request gets a 500 naming it (Kong ≥ 3.10's message; 3.9 answered the generic
 *   `An unexpected error occurred`).
 * - {@link routeLabel}, {@link fingerprint} and {@link keyFingerprint} for log lines.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { Consumer, Credential, Pdk } from '../../pdk/types.js'

/** Kong's `constants.HEADERS` names used by the auth plugins. */
export const HEADERS = {
  CONSUMER_ID: 'X-Consumer-ID',
  CONSUMER_CUSTOM_ID: 'X-Consumer-Custom-ID',
  CONSUMER_USERNAME: 'X-Consumer-Username',
  CREDENTIAL_IDENTIFIER: 'X-Credential-Identifier',
  ANONYMOUS: 'X-Anonymous-Consumer',
  CONSUMER_GROUPS: 'X-Consumer-Groups',
  AUTHENTICATED_GROUPS: 'X-Authenticated-Groups',
} as const

export interface SetConsumerOptions {
  /**
   * The value of `X-Credential-Identifier` (default: the credential's `id`; the jwt plugin sends
   * the credential's `key`).
   */
  readonly credentialIdentifier?: string | null
}

/**
 * Kong's `set_consumer(consumer, credential)`: records who is calling and tells the upstream.
 * A null credential means the anonymous consumer is being used.
 */
export function setConsumer(kong: Pdk, consumer: Consumer | null, credential: Credential | null, options: SetConsumerOptions = {}): void {
  kong.client.authenticate(consumer, credential)
  const req = kong.service.request
  const put = (name: string, value: string | null | undefined): void => {
    if (typeof value === 'string' && value !== '') req.setHeader(name, value)
    else req.clearHeader(name)
  }
  put(HEADERS.CONSUMER_ID, consumer?.id)
  put(HEADERS.CONSUMER_CUSTOM_ID, consumer?.custom_id)
  put(HEADERS.CONSUMER_USERNAME, consumer?.username)
  put(HEADERS.CREDENTIAL_IDENTIFIER, options.credentialIdentifier !== undefined ? options.credentialIdentifier : credential?.id)
  if (credential !== null) req.clearHeader(HEADERS.ANONYMOUS)
  else req.setHeader(HEADERS.ANONYMOUS, 'true')
}

/** Kong's message when `config.anonymous` names no consumer (3.10+; 500). */
export function anonymousMissingMessage(anonymous: string): string {
  return `anonymous consumer ${anonymous} is configured but doesn't exist`
}

/**
 * Falls back to the `anonymous` consumer (by id or username). Returns false when it does not
 * exist: the request has then been answered with a 500 and the error log says why.
 */
export function useAnonymous(kong: Pdk, anonymous: string): boolean {
  const consumer = kong.entities.consumer(anonymous)
  if (consumer === null) {
    const message = anonymousMissingMessage(anonymous)
    kong.log.err(
      `${message} (${routeLabel(kong)}): config.anonymous must be the id or the username of an existing consumer; create it, or fix the plugin's config`,
    )
    kong.response.error(500, message)
    return false
  }
  setConsumer(kong, consumer, null)
  return true
}

/** `route "name" (id)` or `route <id>` for log lines; `no route` before routing. */
export function routeLabel(kong: Pdk): string {
  const route = kong.router.getRoute()
  if (route === null) return 'no route'
  const name = route['name']
  return typeof name === 'string' && name !== '' ? `route "${name}" (${route.id})` : `route ${route.id}`
}

/** A short, non-reversible fingerprint of a secret for log lines (`sha256:1a2b3c4d`). */
export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8)}`
}

/** At most this many leading characters of a key are shown, and never more than a quarter of it. */
const KEY_HINT_MAX = 4
const KEY_HINT_CHAR = /^[A-Za-z0-9._~+/=-]$/

/**
 * A key for log lines: its first characters (at most 4, at most a quarter of the key, printable
 * ones only) and a fingerprint, e.g. `"a1b2…" sha256:1a2b3c4d`, so an operator can tell which key
 * a client sent without the log holding it. A giant or binary key costs one hash, never an echo.
 */
export function keyFingerprint(key: string): string {
  const n = Math.min(KEY_HINT_MAX, Math.floor(key.length / 4))
  let hint = ''
  for (let i = 0; i < n && KEY_HINT_CHAR.test(key.charAt(i)); i++) hint += key.charAt(i)
  return hint === '' ? fingerprint(key) : `"${hint}…" ${fingerprint(key)}`
}

/** A consumer for log lines: `consumer "bob" (id)`. */
export function consumerLabel(consumer: Consumer | null): string {
  if (consumer === null) return 'no consumer'
  const name = consumer.username ?? consumer.custom_id
  return typeof name === 'string' && name !== '' ? `consumer "${name}" (${consumer.id})` : `consumer ${consumer.id}`
}

/** Kong's `WWW-Authenticate` value: `<Scheme>` or `<Scheme> realm="<realm>"`. */
export function wwwAuthenticate(scheme: string, realm: string | null | undefined): string {
  return typeof realm === 'string' ? `${scheme} realm="${realm}"` : scheme
}
