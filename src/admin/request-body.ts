/**
 * Request body parsing by Content-Type, as Kong's Admin API: JSON, urlencoded and multipart
 * forms are accepted; a non-empty body of any other type is 415; unparsable JSON is 400
 * `Cannot parse JSON body`.
 *
 * @module
 */
import type { AdminRequest } from './types.js'
import { AdminHttpError, badRequest } from './errors.js'
import { decodeFormPairs } from './form-decode.js'

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

async function parseMultipart(contentType: string, body: Buffer): Promise<Record<string, unknown>> {
  // The WHATWG Request of Node's bundled undici parses multipart for us: no extra dependency.
  const request = new Request('http://admin.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body })
  const form = await request.formData()
  const pairs: [string, string][] = []
  for (const [key, value] of form.entries()) {
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
    let parsed: unknown
    try {
      parsed = JSON.parse(req.body.toString('utf8'))
    } catch {
      throw badRequest('Cannot parse JSON body')
    }
    if (!isPlainObject(parsed)) throw badRequest('Cannot parse JSON body')
    return { kind: 'json', value: parsed }
  }
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return { kind: 'form', value: decodeFormPairs(new URLSearchParams(req.body.toString('utf8'))) }
  }
  if (type.startsWith('multipart/form-data')) {
    try {
      return { kind: 'form', value: await parseMultipart(contentType, req.body) }
    } catch {
      throw badRequest('Cannot parse multipart body')
    }
  }
  if (req.body.length === 0) return EMPTY
  throw new AdminHttpError(415)
}
