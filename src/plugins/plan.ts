/**
 * Plugin plans: for every route, the plugins that may run on it, in execution order, each with
 * its configuration already chosen by Kong's scope precedence — decided when the configuration
 * changes, never per request. Only consumer-scoped configurations need a lookup at request time
 * (the consumer is known only after authentication): a few map lookups, whatever the number of
 * routes, consumers or plugins configured.
 *
 * Precedence (most specific first): route+service+consumer, route+consumer, service+consumer,
 * route+service, consumer, route, service, global.
 */
import type { PluginRow } from './entity.js'
import { type Phase, PHASE_HANDLERS } from './phases.js'
import type { AnyPlugin } from './types.js'
import type { PluginRegistry } from './registry.js'

/** One configured plugin instance, ready to run. */
export interface PluginInstance {
  readonly id: string
  readonly name: string
  readonly plugin: AnyPlugin
  /** What the handlers receive: `plugin.prepare(config)` or the config itself. */
  readonly conf: unknown
  readonly http: boolean
  readonly https: boolean
  readonly row: Readonly<Record<string, unknown>>
}

type ConsumerMap = ReadonlyMap<string, PluginInstance>

/** One plugin in a route's plan. */
export interface PlanEntry {
  readonly plugin: AnyPlugin
  /** The configuration when no consumer-scoped one applies (null: the plugin runs only for some consumers). */
  readonly instance: PluginInstance | null
  /** Consumer-scoped configurations for this route, most specific already chosen; null when none exist. */
  readonly byConsumer: ConsumerMap | null
}

export interface PluginPlan {
  /** Entries in `access` order (priority, then name descending, then `ordering`). */
  readonly entries: readonly PlanEntry[]
  readonly hasAccess: boolean
  readonly hasHeaderFilter: boolean
  readonly hasBodyFilter: boolean
  readonly hasLog: boolean
}

/** Picks the instance for a consumer (or none). */
export function resolveEntry(entry: PlanEntry, consumerId: string | null): PluginInstance | null {
  if (consumerId !== null && entry.byConsumer !== null) {
    const scoped = entry.byConsumer.get(consumerId)
    if (scoped !== undefined) return scoped
  }
  return entry.instance
}

interface Scopes {
  global: PluginInstance | null
  route: Map<string, PluginInstance>
  service: Map<string, PluginInstance>
  routeService: Map<string, Map<string, PluginInstance>>
  consumer: Map<string, PluginInstance>
  routeConsumer: Map<string, Map<string, PluginInstance>>
  serviceConsumer: Map<string, Map<string, PluginInstance>>
  routeServiceConsumer: Map<string, Map<string, Map<string, PluginInstance>>>
}

function nested<K, V>(m: Map<K, Map<string, V>>, k: K): Map<string, V> {
  let inner = m.get(k)
  if (inner === undefined) {
    inner = new Map()
    m.set(k, inner)
  }
  return inner
}

/** Kong sorts by priority, higher first; equal priorities by name, descending. */
export function byPriority(a: AnyPlugin, b: AnyPlugin): number {
  if (a.priority !== b.priority) return b.priority - a.priority
  return a.name < b.name ? 1 : a.name > b.name ? -1 : 0
}

export class PluginPlanError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PluginPlanError'
  }
}

export interface PlanCompilerOptions {
  /** Called for plugin rows that cannot run (plugin not enabled on this node, prepare failed). */
  readonly onSkip?: (row: Readonly<Record<string, unknown>>, reason: string) => void
}

/**
 * Compiles plugin rows into a planner. `planFor(routeId, serviceId)` returns the (shared, cached
 * per route/service pair) plan, or null when no plugin can run there.
 */
export class PlanCompiler {
  readonly #scopes = new Map<string, Scopes>()
  readonly #order: AnyPlugin[]
  readonly #cache = new Map<string, PluginPlan | null>()
  /** Per plugin name: instances' `ordering` (before/after lists for the access phase). */
  readonly #ordering = new Map<string, { before: string[]; after: string[] }>()

  constructor(rows: readonly PluginRow[], registry: PluginRegistry, options: PlanCompilerOptions = {}) {
    const used = new Set<AnyPlugin>()
    for (const row of rows) {
      if (!row.enabled) continue
      const name = row.name
      const plugin = registry.get(name)
      if (plugin === undefined) {
        options.onSkip?.(row, `plugin '${name}' is not enabled on this node`)
        continue
      }
      let conf: unknown = row.config ?? {}
      if (plugin.prepare !== undefined) {
        try {
          conf = plugin.prepare(conf, row)
        } catch (err) {
          options.onSkip?.(row, `plugin '${name}' refused its configuration: ${(err as Error).message}`)
          continue
        }
      }
      const inst: PluginInstance = {
        id: row.id,
        name,
        plugin,
        conf,
        http: row.protocols.includes('http'),
        https: row.protocols.includes('https'),
        row,
      }
      used.add(plugin)
      let s = this.#scopes.get(name)
      if (s === undefined) {
        s = {
          global: null,
          route: new Map(),
          service: new Map(),
          routeService: new Map(),
          consumer: new Map(),
          routeConsumer: new Map(),
          serviceConsumer: new Map(),
          routeServiceConsumer: new Map(),
        }
        this.#scopes.set(name, s)
      }
      const r = row.route?.id ?? null
      const sv = row.service?.id ?? null
      const c = row.consumer?.id ?? null
      if (c === null) {
        if (r !== null && sv !== null) nested(s.routeService, r).set(sv, inst)
        else if (r !== null) s.route.set(r, inst)
        else if (sv !== null) s.service.set(sv, inst)
        else s.global = inst
      } else if (r !== null && sv !== null) nested(nested(s.routeServiceConsumer, r), sv).set(c, inst)
      else if (r !== null) nested(s.routeConsumer, r).set(c, inst)
      else if (sv !== null) nested(s.serviceConsumer, sv).set(c, inst)
      else s.consumer.set(c, inst)
      const ordering = row.ordering
      if (ordering !== null) {
        const o = this.#ordering.get(name) ?? { before: [], after: [] }
        o.before.push(...(ordering.before?.access ?? []))
        o.after.push(...(ordering.after?.access ?? []))
        this.#ordering.set(name, o)
      }
    }
    this.#order = orderPlugins([...used].sort(byPriority), this.#ordering)
  }

  /** Plugin names in `access` execution order (priority, then `ordering`). */
  get order(): readonly string[] {
    return this.#order.map((p) => p.name)
  }

  /** The plan for a route (null when it has no route: requests that matched nothing). */
  planFor(routeId: string | null, serviceId: string | null): PluginPlan | null {
    const key = `${routeId ?? ''}|${serviceId ?? ''}`
    if (this.#cache.has(key)) return this.#cache.get(key) ?? null
    const entries: PlanEntry[] = []
    for (const plugin of this.#order) {
      const s = this.#scopes.get(plugin.name)
      if (s === undefined) continue
      const rs = routeId !== null && serviceId !== null ? s.routeService.get(routeId)?.get(serviceId) : undefined
      const instance =
        rs ??
        (routeId !== null ? s.route.get(routeId) : undefined) ??
        (serviceId !== null ? s.service.get(serviceId) : undefined) ??
        s.global
      // Consumer-scoped, from least to most specific so the most specific wins.
      const sc = serviceId !== null ? s.serviceConsumer.get(serviceId) : undefined
      const rc = routeId !== null ? s.routeConsumer.get(routeId) : undefined
      const rsc = routeId !== null && serviceId !== null ? s.routeServiceConsumer.get(routeId)?.get(serviceId) : undefined
      let merged: ReadonlyMap<string, PluginInstance>
      if (sc === undefined && rc === undefined && rsc === undefined && rs === undefined) {
        // The common case: consumer-only configs, shared by every route (no copy per route).
        merged = s.consumer
      } else {
        const m = new Map<string, PluginInstance>()
        // A consumer-only config loses to a route+service one (Kong's order: rsc, rc, sc, rs, c, r, s, global).
        if (rs === undefined) for (const [c, i] of s.consumer) m.set(c, i)
        for (const [c, i] of sc ?? []) m.set(c, i)
        for (const [c, i] of rc ?? []) m.set(c, i)
        for (const [c, i] of rsc ?? []) m.set(c, i)
        merged = m
      }
      if (instance === null && merged.size === 0) continue
      entries.push({ plugin, instance, byConsumer: merged.size > 0 ? merged : null })
    }
    const plan: PluginPlan | null =
      entries.length === 0
        ? null
        : {
            entries,
            hasAccess: entries.some((e) => e.plugin.access !== undefined),
            hasHeaderFilter: entries.some((e) => e.plugin.headerFilter !== undefined),
            hasBodyFilter: entries.some((e) => e.plugin.bodyFilter !== undefined),
            hasLog: entries.some((e) => e.plugin.log !== undefined),
          }
    this.#cache.set(key, plan)
    return plan
  }

  /** Global instances that have a handler for `phase` (rewrite runs before routing). */
  globalsWith(phase: Phase): PluginInstance[] {
    const out: PluginInstance[] = []
    for (const plugin of this.#order) {
      const g = this.#scopes.get(plugin.name)?.global
      if (g == null) continue
      if (plugin[PHASE_HANDLERS[phase]] !== undefined) out.push(g)
    }
    return out
  }
}

/**
 * Applies `ordering` (run before/after named plugins in the access phase) on top of the priority
 * order. Only the plugin that declares an ordering moves — just before (or after) the plugins it
 * names — so every other plugin keeps Kong's priority order (acl stays after key-auth even when
 * something else is moved around them). A cycle makes the configuration invalid.
 */
export function orderPlugins(
  sorted: readonly AnyPlugin[],
  ordering: ReadonlyMap<string, { before: string[]; after: string[] }>,
): AnyPlugin[] {
  if (ordering.size === 0) return [...sorted]
  const names = new Set(sorted.map((p) => p.name))
  // a → b: a must run before b.
  const edges: { a: string; b: string; mover: string }[] = []
  for (const [name, o] of ordering) {
    for (const b of o.before) if (names.has(b) && b !== name) edges.push({ a: name, b, mover: name })
    for (const a of o.after) if (names.has(a) && a !== name) edges.push({ a, b: name, mover: name })
  }
  assertAcyclic(
    sorted.map((p) => p.name),
    edges,
  )
  const out = [...sorted]
  const index = (n: string): number => out.findIndex((p) => p.name === n)
  // Each pass fixes violated constraints by moving the declaring plugin; acyclic constraints settle.
  for (let pass = 0; pass <= edges.length * out.length; pass++) {
    let moved = false
    for (const { a, b, mover } of edges) {
      const ia = index(a)
      const ib = index(b)
      if (ia < ib) continue
      const [m] = out.splice(index(mover), 1) as [AnyPlugin]
      if (mover === a) out.splice(index(b), 0, m)
      else out.splice(index(a) + 1, 0, m)
      moved = true
    }
    if (!moved) return out
  }
  throw new PluginPlanError(`plugin ordering could not be satisfied between: ${[...ordering.keys()].join(', ')}`)
}

function assertAcyclic(nodes: readonly string[], edges: readonly { a: string; b: string }[]): void {
  const indegree = new Map<string, number>(nodes.map((n) => [n, 0]))
  for (const { b } of edges) indegree.set(b, (indegree.get(b) ?? 0) + 1)
  const queue = nodes.filter((n) => indegree.get(n) === 0)
  let seen = 0
  while (queue.length > 0) {
    const n = queue.shift() as string
    seen++
    for (const e of edges) {
      if (e.a !== n) continue
      const d = (indegree.get(e.b) ?? 1) - 1
      indegree.set(e.b, d)
      if (d === 0) queue.push(e.b)
    }
  }
  if (seen < nodes.length) {
    const stuck = nodes.filter((n) => (indegree.get(n) ?? 0) > 0)
    throw new PluginPlanError(`plugin ordering has a cycle between: ${stuck.join(', ')}`)
  }
}
