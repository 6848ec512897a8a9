/**
 * CRUD endpoints generated from the entity registry (Kong's `api/endpoints.lua` shapes):
 *
 * - `/{e}` GET (paginated) POST; `/{e}/{id or key}` GET PUT PATCH DELETE;
 * - for each foreign field `f` of `e` referencing `p`: `/{e}/{e}/{f}` GET PUT PATCH (DELETE 405),
 *   `/{p}/{p}/{e}` GET POST and `/{p}/{p}/{e}/{e}` GET PUT PATCH DELETE.
 *
 * The URL segment of an entity is its `admin_path` when it has one (Kong's `admin_api_name`:
 * `keyauth_credentials` → `/key-auths`), and under a parent its `admin_nested_path.segment`
 * (Kong's `admin_api_nested_name`: `/consumers/{consumers}/key-auth`). Path parameters keep the
 * entity names, as Kong's `/endpoints` shows them (`/key-auths/{keyauth_credentials}`).
 *
 * Under a parent, an entity whose cache key is (parent field, x) and that has no endpoint key can
 * be addressed by x: `/consumers/bob/acls/admins` (Kong's `acl/api.lua`).
 *
 * @module
 */
import { escapeUri } from '../codec/escape-uri.js'
import { randomUUID } from 'node:crypto'
import type { Dao } from '../dao/index.js'
import { foreignFields } from '../dao/index.js'
import { isUuid } from '../ids/uuid.js'
import { deprecatedShorthandWarnings, shownRow, type EntitySchema } from '../schema/index.js'
import type { Row } from '../store/index.js'
import type { EntityWriter } from './entity-writer.js'
import { methodNotAllowed, notFound } from './errors.js'
import { created, daoQuery, inputFor, noContent, ok, pageArgs, pageBody, takeTtl } from './respond.js'
import type { AdminContext, AdminHandler, AdminRoute } from './router.js'

/**
 * Collections that accept an exact lookup on one unique field in the query string; Kong
 * special-cases `/consumers?custom_id=`.
 */
const QUERY_LOOKUP_FIELDS: Readonly<Record<string, string>> = { consumers: 'custom_id' }

export interface EntityRouteDeps {
  readonly dao: Dao
  readonly writer: EntityWriter
  /** Kong's deprecation warnings (kong.deprecation) for the deprecated shorthands a write uses. */
  readonly warn?: (message: string) => void
}

function param(ctx: AdminContext, name: string): string {
  return ctx.params[name] ?? ''
}

function foreignId(row: Row, field: string): string | undefined {
  const value = row[field]
  if (typeof value !== 'object' || value === null) return undefined
  const id = (value as Record<string, unknown>)['id']
  return typeof id === 'string' ? id : undefined
}

async function mustSelect(dao: Dao, entity: string, key: string): Promise<Row> {
  const row = await dao.select(entity, key)
  if (row === null) throw notFound()
  return row
}

function hasTags(schema: EntitySchema): boolean {
  return 'tags' in schema.fields
}

/** The collection segment of an entity: `services`, `key-auths`. */
export function adminSegment(schema: EntitySchema): string {
  return schema.admin_path ?? schema.name
}

/** The segment of `child` under `parent` through `field`: `/consumers/{consumers}/key-auth`. */
export function nestedSegment(parent: EntitySchema, child: EntitySchema, field: string): string {
  const nested = child.admin_nested_path
  if (nested !== undefined && nested.parent === parent.name && nested.field === field) return nested.segment
  return adminSegment(child)
}

/**
 * The field addressable by name under a parent: the second element of a `(parent field, x)`
 * cache key, for entities without an endpoint key (acls: `group`).
 */
function nestedLookupField(child: EntitySchema, field: string): string | undefined {
  const key = child.cache_key
  if (child.endpoint_key !== undefined || key === undefined || key.length !== 2 || key[0] !== field) return undefined
  return key[1]
}

/** Resolves a child key given under its parent: ids as they are, names through the cache key. */
async function nestedChildKey(
  dao: Dao,
  child: EntitySchema,
  field: string,
  ownerId: string,
  key: string,
): Promise<{ id: string | null; lookup?: [string, string] }> {
  const lookupField = nestedLookupField(child, field)
  if (isUuid(key) || lookupField === undefined) return { id: key }
  const row = await dao.store.selectByCacheKey(child.name, [ownerId, key])
  return { id: row === null ? null : row.id, lookup: [lookupField, key] }
}

function collectionRoute({ dao, writer }: EntityRouteDeps, schema: EntitySchema): AdminRoute {
  const name = schema.name
  const segment = adminSegment(schema)
  return {
    path: `/${segment}`,
    methods: {
      GET: async (ctx) => {
        const args = pageArgs(ctx, hasTags(schema))
        const lookup = QUERY_LOOKUP_FIELDS[name]
        const where = lookup !== undefined && ctx.query.has(lookup) ? { field: lookup, value: ctx.query.get(lookup) } : undefined
        const page = await dao.page(name, { ...daoQuery(args), ...(where === undefined ? {} : { where }) })
        const next =
          page.offset === undefined
            ? null
            : `/${segment}?offset=${encodeURIComponent(page.offset)}` +
              (args.rawTags === undefined ? '' : `&tags=${escapeUri(args.rawTags)}`) +
              (args.rawSize === undefined ? '' : `&size=${args.rawSize}`)
        return ok(pageBody(page, next))
      },
      POST: async (ctx) => {
        const input = inputFor(ctx, schema)
        const ttl = takeTtl(schema, input)
        return created(await writer.insert(name, input, ttl))
      },
    },
  }
}

function entityRoute({ dao, writer }: EntityRouteDeps, schema: EntitySchema): AdminRoute {
  const name = schema.name
  return {
    path: `/${adminSegment(schema)}/{${name}}`,
    methods: {
      GET: async (ctx) => ok(await mustSelect(dao, name, param(ctx, name))),
      PUT: async (ctx) => {
        const input = inputFor(ctx, schema)
        const ttl = takeTtl(schema, input)
        return ok(await writer.upsert(name, param(ctx, name), input, ttl))
      },
      PATCH: async (ctx) => {
        const input = inputFor(ctx, schema)
        const ttl = takeTtl(schema, input)
        return ok(await writer.update(name, param(ctx, name), input, ttl))
      },
      DELETE: async (ctx) => {
        await writer.delete(name, param(ctx, name))
        return noContent()
      },
    },
  }
}

/** `/routes/{routes}/service`: the entity a foreign field points at. */
function foreignEntityRoute({ dao, writer }: EntityRouteDeps, child: EntitySchema, field: string, parent: EntitySchema): AdminRoute {
  const withFk = async (ctx: AdminContext): Promise<{ row: Row; fk: string | undefined }> => {
    const row = await mustSelect(dao, child.name, param(ctx, child.name))
    return { row, fk: foreignId(row, field) }
  }
  return {
    path: `/${adminSegment(child)}/{${child.name}}/${field}`,
    methods: {
      GET: async (ctx) => {
        const { fk } = await withFk(ctx)
        if (fk === undefined) throw notFound()
        return ok(await mustSelect(dao, parent.name, fk))
      },
      PATCH: async (ctx) => {
        const { fk } = await withFk(ctx)
        if (fk === undefined) throw notFound()
        return ok(await writer.update(parent.name, fk, inputFor(ctx, parent)))
      },
      PUT: async (ctx) => {
        const { row, fk } = await withFk(ctx)
        if (fk !== undefined) return ok(await writer.upsert(parent.name, fk, inputFor(ctx, parent)))
        // No parent yet: create one and associate it, as Kong does (both or neither).
        return ok(
          await writer.upsertAndAssociate(parent.name, randomUUID(), inputFor(ctx, parent), { entity: child.name, id: row.id, field }),
        )
      },
      DELETE: async (ctx) => {
        const { fk } = await withFk(ctx)
        if (fk === undefined) throw notFound()
        throw methodNotAllowed()
      },
    },
  }
}

/** `/services/{services}/routes`. */
function nestedCollectionRoute({ dao, writer }: EntityRouteDeps, parent: EntitySchema, child: EntitySchema, field: string): AdminRoute {
  const segment = nestedSegment(parent, child, field)
  return {
    path: `/${adminSegment(parent)}/{${parent.name}}/${segment}`,
    methods: {
      GET: async (ctx) => {
        const owner = await mustSelect(dao, parent.name, param(ctx, parent.name))
        const args = pageArgs(ctx, hasTags(child))
        const page = await dao.pageForForeign(child.name, field, owner.id, daoQuery(args))
        const next =
          page.offset === undefined
            ? null
            : `/${adminSegment(parent)}/${ctx.rawParams[parent.name] ?? ''}/${segment}?offset=${encodeURIComponent(page.offset)}`
        return ok(pageBody(page, next))
      },
      POST: async (ctx) => {
        const owner = await mustSelect(dao, parent.name, param(ctx, parent.name))
        const input = inputFor(ctx, child)
        const ttl = takeTtl(child, input)
        input[field] = { id: owner.id }
        return created(await writer.insert(child.name, input, ttl))
      },
    },
  }
}

/** `/services/{services}/routes/{routes}`: 404 unless the child belongs to the parent (PUT re-parents). */
function nestedEntityRoute({ dao, writer }: EntityRouteDeps, parent: EntitySchema, child: EntitySchema, field: string): AdminRoute {
  const owned = async (ctx: AdminContext): Promise<{ owner: Row; row: Row }> => {
    const owner = await mustSelect(dao, parent.name, param(ctx, parent.name))
    const { id } = await nestedChildKey(dao, child, field, owner.id, param(ctx, child.name))
    if (id === null) throw notFound()
    const row = await mustSelect(dao, child.name, id)
    if (foreignId(row, field) !== owner.id) throw notFound()
    return { owner, row }
  }
  // The key as given (so DB-less refusals name the endpoint key), or the id found by name.
  const writeKey = (ctx: AdminContext, row: Row): string =>
    nestedLookupField(child, field) === undefined ? param(ctx, child.name) : row.id
  return {
    path: `/${adminSegment(parent)}/{${parent.name}}/${nestedSegment(parent, child, field)}/{${child.name}}`,
    methods: {
      GET: async (ctx) => ok((await owned(ctx)).row),
      PUT: async (ctx) => {
        const owner = await mustSelect(dao, parent.name, param(ctx, parent.name))
        const input = inputFor(ctx, child)
        const ttl = takeTtl(child, input)
        input[field] = { id: owner.id }
        const key = await nestedChildKey(dao, child, field, owner.id, param(ctx, child.name))
        if (key.lookup !== undefined) input[key.lookup[0]] = key.lookup[1]
        return ok(await writer.upsert(child.name, key.id ?? randomUUID(), input, ttl))
      },
      PATCH: async (ctx) => {
        const { owner, row } = await owned(ctx)
        const input = inputFor(ctx, child)
        const ttl = takeTtl(child, input)
        if (input[field] === undefined) input[field] = { id: owner.id }
        return ok(await writer.update(child.name, writeKey(ctx, row), input, ttl))
      },
      DELETE: async (ctx) => {
        const { row } = await owned(ctx)
        await writer.delete(child.name, writeKey(ctx, row))
        return noContent()
      },
    },
  }
}

/** The body as a read shows it: each row (one, or a page's `data`) through {@link shownRow}. */
function shownBody(schema: EntitySchema, body: unknown): unknown {
  if (body === null || typeof body !== 'object') return body
  const b = body as Record<string, unknown>
  if (Array.isArray(b['data'])) return { ...b, data: (b['data'] as Row[]).map((r) => shownRow(schema, r)) }
  return shownRow(schema, b)
}

/**
 * The route with its answers shown as Kong's reads show them (deprecated shorthands filled:
 * rate-limiting's `config.redis_host` …), on GET and on what POST/PUT/PATCH return. Routes of
 * entities that have none are left as they are.
 */
function showing(schema: EntitySchema, route: AdminRoute, warn: ((message: string) => void) | undefined): AdminRoute {
  if (!hasReplacedShorthands(schema)) return route
  const methods: Record<string, AdminHandler> = {}
  for (const [method, handler] of Object.entries(route.methods)) {
    if (handler === undefined) continue
    const writes = method === 'POST' || method === 'PUT' || method === 'PATCH'
    methods[method] = async (ctx) => {
      // Kong warns while validating the input, whatever the write's outcome
      if (writes && warn !== undefined) for (const w of deprecatedShorthandWarnings(schema, inputFor(ctx, schema))) warn(w)
      const res = await handler(ctx)
      return res.body === undefined ? res : { ...res, body: shownBody(schema, res.body) }
    }
  }
  return { ...route, methods }
}

/** Whether a read of `schema`'s rows shows anything beyond what is stored. */
function hasReplacedShorthands(schema: EntitySchema): boolean {
  const records = [schema.fields, ...Object.values(schema.subschemas ?? {}).map((s) => s.fields)]
  return records.some((fields) =>
    Object.values(fields).some(
      (f) => f.type === 'record' && Object.values(f.shorthand_fields ?? {}).some((sh) => sh.deprecation?.replaced_with),
    ),
  )
}

/** Every generated CRUD route for the registry held by `deps.dao`. */
export function entityRoutes(deps: EntityRouteDeps): AdminRoute[] {
  const routes: AdminRoute[] = []
  const entities = deps.dao.entities
  for (const schema of Object.values(entities)) {
    const nestedOnly = schema.admin_nested_only
    if (nestedOnly === undefined) {
      routes.push(showing(schema, collectionRoute(deps, schema), deps.warn), showing(schema, entityRoute(deps, schema), deps.warn))
    }
    for (const [field, def] of foreignFields(schema)) {
      const parent = entities[def.reference]
      if (parent === undefined) continue
      if (nestedOnly !== undefined && nestedOnly !== parent.name) continue
      if (nestedOnly === undefined) routes.push(showing(parent, foreignEntityRoute(deps, schema, field, parent), deps.warn))
      routes.push(
        showing(schema, nestedCollectionRoute(deps, parent, schema, field), deps.warn),
        showing(schema, nestedEntityRoute(deps, parent, schema, field), deps.warn),
      )
    }
  }
  return routes
}
