/**
 * key-auth's access handler, as Kong 3.9's `kong/plugins/key-auth/handler.lua`:
 *
 * - for each of `key_names` in order: the header (`key_in_header`), then the query argument
 *   (`key_in_query`), then the body field (`key_in_body`: form, JSON or multipart); the first
 *   string found is the key, a repeated one is `Duplicate API key found`;
 * - `hide_credentials` removes that name from the upstream headers, query string and body;
 * - a missing key is 401 `No API key found in request`, an unknown (or expired) one 401
 *   `Unauthorized`, each with `WWW-Authenticate: Key` (or `Key realm="…"`);
 * - with `anonymous`, a failure continues as that consumer instead ("logical OR": a request
 *   another auth plugin already authenticated is left alone).
 *
 * Every refusal is logged at `notice` (seen at the default log level) with the route and the reason — the places searched, the
 * name that was repeated, a fingerprint of the unknown key — never the key itself.
 *
 * @module
 */
import type { Consumer, Credential, Pdk } from '../../pdk/types.js'
import { keyFingerprint, routeLabel, setConsumer, useAnonymous, wwwAuthenticate } from '../shared/consumer.js'
import type { KeyAuthConfig } from './schema.js'
import { decodeFlatPairs } from '../../codec/form-decode.js'
import { JSON_MAX_DEPTH, jsonDeeperThan } from '../../codec/json-depth.js'
import { PDK_MAX_ARGS } from '../../pdk/pdk.js'

export const ERR_DUPLICATE_API_KEY = 'Duplicate API key found'
export const ERR_NO_API_KEY = 'No API key found in request'
export const ERR_INVALID_AUTH_CRED = 'Unauthorized'

/** What a request needs, derived once per configuration. */
export interface KeyAuthPrepared extends KeyAuthConfig {
  /** `Key` or `Key realm="…"`. */
  readonly www: string
  /** Where keys are looked for, for log lines: `header, query string`. */
  readonly places: string
}

export function prepareKeyAuth(conf: KeyAuthConfig): KeyAuthPrepared {
  const places: string[] = []
  if (conf.key_in_header) places.push('headers')
  if (conf.key_in_query) places.push('query string')
  if (conf.key_in_body) places.push('body (form, JSON or multipart)')
  return {
    ...conf,
    www: wwwAuthenticate('Key', conf.realm),
    places: places.length === 0 ? 'nowhere (key_in_header, key_in_query and key_in_body are all false)' : places.join(', '),
  }
}

/** The request body as key-auth reads it (`key_in_body`). */
export interface BodyView {
  readonly kind: 'json' | 'form' | 'multipart'
  readonly args: Readonly<Record<string, unknown>>
  readonly raw: Buffer
  readonly contentType: string
}

type Source = 'header' | 'query' | 'body'

/** The outcome of looking for the key. */
export type KeySearch =
  | { readonly found: 'key'; readonly key: string; readonly name: string; readonly source: Source }
  | { readonly found: 'duplicate'; readonly name: string; readonly source: Source }
  | { readonly found: 'none' }

/** An own value only: a key name such as `constructor` never finds something inherited. */
function own(args: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(args, name) ? args[name] : undefined
}

/** Kong's search order: for each name, header, then query argument, then body field. */
export function findKey(
  conf: Pick<KeyAuthConfig, 'key_names' | 'key_in_header' | 'key_in_query' | 'key_in_body'>,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  query: Readonly<Record<string, unknown>>,
  body: Readonly<Record<string, unknown>> | null,
): KeySearch {
  for (const name of conf.key_names) {
    let v: unknown
    let source: Source = 'header'
    if (conf.key_in_header) v = own(headers, name.toLowerCase())
    if ((v === undefined || v === null) && conf.key_in_query) {
      v = own(query, name)
      source = 'query'
    }
    if ((v === undefined || v === null) && conf.key_in_body && body !== null) {
      v = own(body, name)
      source = 'body'
    }
    if (typeof v === 'string') return { found: 'key', key: v, name, source }
    // Lua's `type(v) == "table"`: a repeated argument, or a JSON object/array in the body.
    if (v !== null && typeof v === 'object') return { found: 'duplicate', name, source }
  }
  return { found: 'none' }
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return s
  }
}

/**
 * Removes every `name` argument from a raw query string (or form body), keeping the others as
 * they were sent and in their order (Kong 3.9's `clear_query_arg`).
 */
export function removeArg(raw: string, name: string): string {
  if (raw === '') return raw
  return raw
    .split('&')
    .filter((part) => {
      if (part === '') return false
      const eq = part.indexOf('=')
      return decode(eq === -1 ? part : part.slice(0, eq)) !== name
    })
    .join('&')
}

/** The boundary parameter of a multipart content type. */
export function multipartBoundary(contentType: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return m?.[1] ?? m?.[2]
}

interface Part {
  readonly text: string
  /** The field name from Content-Disposition, if any. */
  readonly name: string | undefined
  readonly value: string
}

/** Splits a multipart body (latin1 text) at its boundary; pieces[0] is the preamble, the last the epilogue. */
function multipartPieces(raw: Buffer, contentType: string): { delimiter: string; pieces: string[]; parts: (Part | null)[] } | null {
  const boundary = multipartBoundary(contentType)
  if (boundary === undefined) return null
  const delimiter = `--${boundary}`
  const pieces = raw.toString('latin1').split(delimiter)
  if (pieces.length < 3) return null
  const parts = pieces.map((piece, i): Part | null => {
    if (i === 0 || piece.startsWith('--')) return null
    const headerEnd = piece.indexOf('\r\n\r\n')
    const head = headerEnd === -1 ? piece : piece.slice(0, headerEnd)
    const m = /content-disposition:[^\r\n]*;\s*name=(?:"([^"]*)"|([^;\s\r\n]+))/i.exec(head)
    const file = /content-disposition:[^\r\n]*;\s*filename=/i.test(head)
    const value = headerEnd === -1 ? '' : piece.slice(headerEnd + 4).replace(/\r\n$/, '')
    return { text: piece, name: file ? undefined : (m?.[1] ?? m?.[2]), value: Buffer.from(value, 'latin1').toString('utf8') }
  })
  return { delimiter, pieces, parts }
}

/** The text fields of a multipart body (files are skipped); a repeated field becomes an array. */
export function parseMultipartFields(raw: Buffer, contentType: string): Record<string, string | string[]> | null {
  const split = multipartPieces(raw, contentType)
  if (split === null) return null
  const out = Object.create(null) as Record<string, string | string[]>
  for (const part of split.parts) {
    if (part === null || part.name === undefined) continue
    const prev = out[part.name]
    out[part.name] = prev === undefined ? part.value : Array.isArray(prev) ? [...prev, part.value] : [prev, part.value]
  }
  return out
}

/** Removes the parts named `name` from a multipart body, byte for byte otherwise. */
export function removeMultipartField(raw: Buffer, contentType: string, name: string): Buffer {
  const split = multipartPieces(raw, contentType)
  if (split === null) return raw
  const kept = split.pieces.filter((_, i) => split.parts[i]?.name !== name)
  return kept.length === split.pieces.length ? raw : Buffer.from(kept.join(split.delimiter), 'latin1')
}

/** Parses a body for `key_in_body`; a string explains why it could not be read. */
export function parseBody(raw: Buffer, contentType: string | undefined): BodyView | string {
  const ct = contentType ?? ''
  const mime = ct.split(';')[0]?.trim().toLowerCase() ?? ''
  if (mime === '') return 'missing content type'
  if (mime === 'application/json' || mime.endsWith('+json')) {
    try {
      const text = raw.toString('utf8')
      if (jsonDeeperThan(text, JSON_MAX_DEPTH)) return 'the JSON body could not be parsed'
      const parsed: unknown = JSON.parse(text)
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'the JSON body is not an object'
      return { kind: 'json', args: parsed as Record<string, unknown>, raw, contentType: ct }
    } catch {
      return 'the JSON body could not be parsed'
    }
  }
  if (mime === 'application/x-www-form-urlencoded') {
    const args = decodeFlatPairs(new URLSearchParams(raw.toString('utf8')), PDK_MAX_ARGS)
    return { kind: 'form', args, raw, contentType: ct }
  }
  if (mime === 'multipart/form-data') {
    const fields = parseMultipartFields(raw, ct)
    if (fields === null) return 'the multipart body could not be parsed (no boundary, or no parts)'
    return { kind: 'multipart', args: fields, raw, contentType: ct }
  }
  return `unsupported content type '${mime}'`
}

/** The body without the field `name`, encoded as it came; null when unchanged. */
export function bodyWithout(body: BodyView, name: string): Buffer | null {
  if (!Object.hasOwn(body.args, name)) return null
  switch (body.kind) {
    case 'json': {
      const copy: Record<string, unknown> = { ...body.args }
      delete copy[name]
      return Buffer.from(JSON.stringify(copy))
    }
    case 'form':
      return Buffer.from(removeArg(body.raw.toString('utf8'), name))
    case 'multipart':
      return removeMultipartField(body.raw, body.contentType, name)
  }
}

function where(source: Source, name: string): string {
  return source === 'header' ? `header "${name}"` : source === 'query' ? `query argument "${name}"` : `body field "${name}"`
}

type Failure = { readonly status: number; readonly message: string; readonly why: string }

/** Kong's `do_authentication`: null on success, else what to answer and why. */
function authenticate(kong: Pdk, conf: KeyAuthPrepared, body: BodyView | null): Failure | null {
  const found = findKey(conf, kong.request.getHeaders(), kong.request.getQuery(), body?.args ?? null)
  if (found.found === 'duplicate') {
    return {
      status: 401,
      message: ERR_DUPLICATE_API_KEY,
      why: `${where(found.source, found.name)} was sent more than once (or as a structure); send exactly one key`,
    }
  }
  if (found.found === 'key' && conf.hide_credentials) {
    kong.service.request.clearHeader(found.name)
    const raw = kong.request.getRawQuery()
    if (raw !== '') {
      const stripped = removeArg(raw, found.name)
      if (stripped !== raw) kong.service.request.setRawQuery(stripped)
    }
    if (body !== null) {
      const replaced = bodyWithout(body, found.name)
      if (replaced !== null) kong.service.request.setRawBody(replaced)
    }
  }
  if (found.found === 'none' || found.key === '') {
    const names = conf.key_names.map((n) => `"${n}"`).join(', ')
    const empty = found.found === 'key' ? `${where(found.source, found.name)} is empty; ` : ''
    return {
      status: 401,
      message: ERR_NO_API_KEY,
      why: `${empty}looked for ${names} in ${conf.places}; send the key as e.g. "${conf.key_names[0] ?? 'apikey'}: <key>"`,
    }
  }
  const credential = kong.entities.selectByUnique('keyauth_credentials', 'key', found.key) as Credential | null
  if (credential === null) {
    return {
      status: 401,
      message: ERR_INVALID_AUTH_CRED,
      why: `the key in ${where(found.source, found.name)} (${keyFingerprint(found.key)}) matches no key-auth credential: unknown, deleted or expired key`,
    }
  }
  const consumerId = credential.consumer?.id
  const consumer = consumerId === undefined ? null : (kong.entities.select('consumers', consumerId) as Consumer | null)
  setConsumer(kong, consumer, credential)
  return null
}

function respond(kong: Pdk, conf: KeyAuthPrepared, failure: Failure | null): void {
  if (failure === null) return
  if (typeof conf.anonymous === 'string') {
    kong.log.info(
      `authentication failed on ${routeLabel(kong)} (${failure.message}: ${failure.why}); continuing as the anonymous consumer "${conf.anonymous}"`,
    )
    useAnonymous(kong, conf.anonymous)
    return
  }
  kong.log.notice(`${failure.status} "${failure.message}" on ${routeLabel(kong)}: ${failure.why}`)
  kong.response.error(failure.status, failure.message, { 'WWW-Authenticate': conf.www })
}

async function readBody(kong: Pdk): Promise<BodyView | null> {
  let raw: Buffer
  try {
    raw = await kong.request.getRawBody()
  } catch (err) {
    kong.log.info(`Cannot process request body: ${(err as Error).message}`)
    return null
  }
  if (raw.length === 0) return null
  const parsed = parseBody(raw, kong.request.getHeader('content-type'))
  if (typeof parsed === 'string') {
    kong.log.info(`Cannot process request body: ${parsed}`)
    return null
  }
  return parsed
}

export function keyAuthAccess(kong: Pdk, conf: KeyAuthPrepared): void | Promise<void> {
  if (!conf.run_on_preflight && kong.request.getMethod() === 'OPTIONS') return
  // "Logical OR" between auth plugins: already authenticated by a credential, nothing to do.
  if (typeof conf.anonymous === 'string' && kong.client.getCredential() !== null) return
  if (!conf.key_in_body) return respond(kong, conf, authenticate(kong, conf, null))
  return readBody(kong).then((body) => respond(kong, conf, authenticate(kong, conf, body)))
}
