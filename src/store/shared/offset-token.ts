/**
 * Opaque paging tokens shared by every store: base64url of a JSON array of strings (the sort
 * key of the last row returned). Decoding validates the shape so a forged or truncated token
 * fails with StoreError('INVALID_OFFSET') instead of silently restarting the listing.
 *
 * @module
 */
import { StoreError } from '../types.js'

/** Encodes the sort key of the last returned row into an opaque token. */
export function encodeOffset(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url')
}

/**
 * Decodes a token made by {@link encodeOffset} whose key has `arity` parts.
 * Throws StoreError('INVALID_OFFSET') on anything else.
 */
export function decodeOffset(token: string, arity: number): string[] {
  const invalid = (): StoreError => new StoreError('INVALID_OFFSET', 'invalid offset')
  // Buffer.from(.., 'base64url') ignores junk characters; reject them up front.
  if (token === '' || !/^[A-Za-z0-9_-]+={0,2}$/.test(token)) throw invalid()
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    throw invalid()
  }
  if (!Array.isArray(parsed) || parsed.length !== arity) throw invalid()
  const out: string[] = []
  for (const part of parsed) {
    if (typeof part !== 'string') throw invalid()
    out.push(part)
  }
  return out
}
