/**
 * Request body parsing by Content-Type, as Kong's Admin API: JSON, urlencoded and multipart
 * forms are accepted; a non-empty body of any other type is 415; unparsable JSON is 400
 * `Cannot parse JSON body`.
 *
 * @module
 */
import type { AdminRequest } from './types.js'
import { AdminHttpError, badRequest } from './errors.js'
import { ADMIN_MAX_ARGS, countFields, decodeFormPairs } from '../codec/form-decode.js'
import { JSON_MAX_DEPTH, jsonDeeperThan } from '../codec/json-depth.js'

/** Kong's 400 when a form or query string has more than {@link ADMIN_MAX_ARGS} arguments. */
export function tooManyArguments(): AdminHttpError {
  return badRequest('Too many arguments')
}

/** A parsed body: JSON is used as is, form input still needs schema-driven coercion. */
export interface ParsedBody {
  readonly kind: 'none' | 'json' | 'form'
  readonly value: Record<string, unknown>
}

const EMPTY: ParsedBody = { kind: 'none', value: {} }

/** The first value of a header. */
export function headerValue(req: AdminRequest, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** How many times the boundary delimiter occurs, counted up to `stop` (a cheap bound on the parts). */
function delimiters(body: Buffer, contentType: string, stop: number): number {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  const value = boundary?.[1] ?? boundary?.[2]
  if (value === undefined) return 0
  const delimiter = Buffer.from(`--${value}`)
  let count = 0
  for (let at = body.indexOf(delimiter); at !== -1 && count < stop; at = body.indexOf(delimiter, at + delimiter.length)) count++
  return count
}

async function parseMultipart(contentType: string, body: Buffer): Promise<Record<string, unknown>> {
  // n parts have n + 1 delimiters (the last one closes): refuse before parsing them all.
  if (delimiters(body, contentType, ADMIN_MAX_ARGS + 2) > ADMIN_MAX_ARGS + 1) throw tooManyArguments()
  // The WHATWG Request of Node's bundled undici parses multipart for us: no extra dependency.
  const request = new Request('http://admin.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body })
  const form = await request.formData()
  const pairs: [string, string][] = []
  for (const [key, value] of form.entries()) {
    if (pairs.length >= ADMIN_MAX_ARGS) throw tooManyArguments()
    pairs.push([key, typeof value === 'string' ? value : await value.text()])
  }
  return decodeFormPairs(pairs)
}

/**
 * Parses the body of a POST, PUT or PATCH request. Throws {@link AdminHttpError} with 400 or 415.
 */
export async function parseRequestBody(req: AdminRequest): Promise<ParsedBody> {
  const contentType = headerValue(req, 'content-type')
  if (contentType === undefined || contentType.trim() === '') {
    if (req.body.length === 0) return EMPTY
    throw new AdminHttpError(415)
  }
  const type = contentType.toLowerCase()
  if (type.startsWith('application/json')) {
    const text = req.body.toString('utf8')
    if (jsonDeeperThan(text, JSON_MAX_DEPTH)) throw badRequest('Cannot parse JSON body')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw badRequest('Cannot parse JSON body')
    }
    if (!isPlainObject(parsed)) throw badRequest('Cannot parse JSON body')
    return { kind: 'json', value: parsed }
  }
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const text = req.body.toString('utf8')
    if (countFields(text) > ADMIN_MAX_ARGS) throw tooManyArguments()
    return { kind: 'form', value: decodeFormPairs(new URLSearchParams(text)) }
  }
  if (type.startsWith('multipart/form-data')) {
    try {
      return { kind: 'form', value: await parseMultipart(contentType, req.body) }
    } catch (err) {
      if (err instanceof AdminHttpError) throw err
      throw badRequest('Cannot parse multipart body')
    }
  }
  if (req.body.length === 0) return EMPTY
  throw new AdminHttpError(415)
}
