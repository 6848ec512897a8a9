/**
 * Stored rows made from partial input by the entities' own schemas, as the DAO writes them: auto
 * fields filled in, `validateEntity` filling every default (nested records included) and checking
 * the input, then the entity's `transform`. For unit tests that build balancers, health checkers,
 * snapshots and runloops without a store: they get the rows a worker gets, not hand-written ones.
 */
import { randomUUID } from 'node:crypto'
import { type Route, routes, type Service, services, type Target, targets, type Upstream, upstreams } from '../../src/entities/index.js'
import { type EntitySchema, validateEntity } from '../../src/schema/index.js'

type Input = Readonly<Record<string, unknown>>

/** `input` inserted as the DAO would (throws with the validation errors when it is refused). */
function insertRow(schema: EntitySchema, input: Input): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  const candidate = { id: randomUUID(), created_at: now, updated_at: now, ...input }
  const r = validateEntity(schema, candidate, { mode: 'insert' })
  if (!r.ok) throw new Error(`invalid ${schema.name} input ${JSON.stringify(input)}: ${JSON.stringify(r.errors)}`)
  return schema.transform === undefined ? r.row : schema.transform(r.row, { op: 'insert', input: candidate, existing: undefined })
}

/** An `upstreams` row as stored: `input` (a `name` at least) with the schema's defaults. */
export function upstreamRow(input: Input & { readonly name: string }): Upstream {
  // Validated with the upstreams schema just above: it has the schema's row type.
  return insertRow(upstreams, input) as Upstream
}

/** A `targets` row of `upstream` as stored (`host[:port]` normalized, weight 100 unless `input` says). */
export function targetRow(upstream: { readonly id: string }, target: string, input: Input = {}): Target {
  return insertRow(targets, { upstream: { id: upstream.id }, target, ...input }) as Target
}

/** A `services` row as stored: `input` (`host` at least) with the schema's defaults. */
export function serviceRow(input: Input & { readonly host: string }): Service {
  return insertRow(services, input) as Service
}

/** A `routes` row as stored: `input` (paths, hosts… as the route needs) with the schema's defaults. */
export function routeRow(input: Input): Route {
  return insertRow(routes, input) as Route
}
