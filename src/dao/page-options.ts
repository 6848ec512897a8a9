/**
 * Paging options as Kong checks them: page size bounds and the `tags` filter syntax, with
 * Kong's error messages (codes 9 and 11).
 *
 * @module
 */
import type { TagFilter } from '../store/index.js'
import { invalidOptions, invalidSize } from './dao-errors.js'

export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000
/** Kong refuses tag queries with more tags than this. */
export const MAX_QUERY_TAGS = 5

// Printable ASCII except ',' and '/', plus bytes of non-ASCII UTF-8 (Kong's TAGS_*_REGEX).
const TAG_CHAR = '[\\x20-\\x2B\\x2D\\x2E\\x30-\\x7E\\u0080-\\u{10FFFF}]'
const TAGS_AND = new RegExp(`^(${TAG_CHAR}+(?:,|$))+$`, 'u')
const TAGS_OR = new RegExp(`^(${TAG_CHAR}+(?:/|$))+$`, 'u')

/** Checks a page size: an integer in 1..1000, else code 9. Returns the default for undefined. */
export function checkPageSize(size: number | undefined): number {
  if (size === undefined) return DEFAULT_PAGE_SIZE
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw invalidSize(`size must be an integer between 1 and ${MAX_PAGE_SIZE}`)
  }
  return size
}

/** Parses the `size` query argument (`size must be a number` when it is not numeric). */
export function parseSizeParam(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  const trimmed = raw.trim()
  const n = trimmed === '' ? Number.NaN : Number(trimmed)
  if (Number.isNaN(n)) throw invalidSize('size must be a number')
  return checkPageSize(n)
}

/**
 * Parses `?tags=`: `a,b` means every tag (AND), `a/b` any of them (OR). A tag is any printable
 * text but `,` and `/` (spaces and non-ASCII included, as Kong 3.9 accepts in tags); an empty
 * value, mixing both separators or too many tags are code 11 errors with Kong's words.
 */
export function parseTagsParam(raw: string): TagFilter {
  if (raw === '') throw invalidOptions({ tags: 'cannot be null' })
  let filter: TagFilter
  if (TAGS_AND.test(raw)) filter = { tags: raw.split(',').filter((t) => t !== ''), mode: 'and' }
  else if (TAGS_OR.test(raw)) filter = { tags: raw.split('/').filter((t) => t !== ''), mode: 'or' }
  else throw invalidOptions({ tags: 'invalid filter syntax' })
  if (filter.tags.length > MAX_QUERY_TAGS) throw invalidOptions({ tags: `cannot query more than ${MAX_QUERY_TAGS} tags` })
  return filter
}
