/**
 * Response builders and shared request helpers for Admin API handlers.
 *
 * @module
 */
import type { Page } from '../store/index.js'
import type { EntitySchema } from '../schema/index.js'
import { coerceFormInput } from '../schema/index.js'
import { invalidOptions, parseSizeParam, parseTagsParam } from '../dao/index.js'
import { percentDecodeUtf8 } from '../codec/percent-utf8.js'
import type { TagFilter } from '../store/index.js'
import type { AdminContext } from './router.js'
import type { AdminResponse } from './types.js'

/** 200 with a JSON body. */
export function ok(body: unknown): AdminResponse {
  return { status: 200, headers: {}, body }
}

/** 201 with the created entity. */
export function created(body: unknown): AdminResponse {
  return { status: 201, headers: {}, body }
}

/** 204, no body. */
export function noContent(): AdminResponse {
  return { status: 204, headers: {} }
}

/** Kong's page body: `{ data, offset?, next }` with `next: null` on the last page. */
export function pageBody(page: Pick<Page, 'offset'> & { data: readonly unknown[] }, next: string | null): Record<string, unknown> {
  const body: Record<string, unknown> = { data: page.data }
  if (page.offset !== undefined) body['offset'] = page.offset
  body['next'] = next
  return body
}

/** The request body as entity input: form values are typed by the schema, JSON is kept as is. */
export function inputFor(ctx: AdminContext, schema: EntitySchema): Record<string, unknown> {
  if (ctx.body.kind === 'form') return { ...(coerceFormInput(schema, ctx.body.value) as Record<string, unknown>) }
  return { ...ctx.body.value }
}

/** Removes `ttl` from the input of entities that support expiry, as Kong treats it as an option. */
export function takeTtl(schema: EntitySchema, input: Record<string, unknown>): number | undefined {
  if (schema.ttl !== true || input['ttl'] === undefined || input['ttl'] === null) return undefined
  const raw = input['ttl']
  delete input['ttl']
  return typeof raw === 'number' ? raw : Number(raw)
}

/** Paging arguments of a list request (size is checked before tags, as in Kong). */
export interface PageArgs {
  readonly size: number | undefined
  readonly rawSize: string | undefined
  readonly offset: string | undefined
  readonly tags: TagFilter | undefined
  readonly rawTags: string | undefined
}

/** Whether every raw value of `name` in a query string decodes to UTF-8 (`+` is a space). */
function rawQueryValuesUtf8(query: string, name: string): boolean {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=')
    const key = eq === -1 ? pair : pair.slice(0, eq)
    if (key !== name || eq === -1) continue
    if (!percentDecodeUtf8(pair.slice(eq + 1).replaceAll('+', ' ')).ok) return false
  }
  return true
}

/** Reads `size`, `offset` and (for entities with tags) `tags` from the query string. */
export function pageArgs(ctx: AdminContext, withTags: boolean): PageArgs {
  const rawSize = ctx.query.get('size') ?? undefined
  const size = parseSizeParam(rawSize)
  const offset = ctx.query.get('offset') ?? undefined
  const rawTags = withTags ? (ctx.query.get('tags') ?? undefined) : undefined
  // URLSearchParams turns bytes that are not UTF-8 into U+FFFD: Kong's byte check refuses them.
  if (rawTags !== undefined && !rawQueryValuesUtf8(ctx.req.query, 'tags')) throw invalidOptions({ tags: 'invalid filter syntax' })
  const tags = rawTags === undefined ? undefined : parseTagsParam(rawTags)
  return { size, rawSize, offset, tags, rawTags }
}

/** Page query for the DAO from parsed arguments (only the options that are set). */
export function daoQuery(args: PageArgs): { size?: number; offset?: string; tags?: TagFilter } {
  return {
    ...(args.size === undefined ? {} : { size: args.size }),
    ...(args.offset === undefined ? {} : { offset: args.offset }),
    ...(args.tags === undefined ? {} : { tags: args.tags }),
  }
}
