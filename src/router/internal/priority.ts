/**
 * Route splitting and ordering of Kong's `traditional_compatible` router
 * (`kong/router/transform.lua`: `split_routes_and_services_by_path`, `get_priority`).
 *
 * @module
 */

import type { RouteInput } from '../types.js'
import { uuidv5 } from '../../ids/uuid.js'

/** Kong's namespace for split-route ids (`kong/router/transform.lua`). */
const SPLIT_ROUTE_NAMESPACE = '7f145bf9-0dce-4f91-98eb-debbce4b9f6b'

/** One route as the matcher sees it: a whole route, or one path group of a split route. */
export interface SplitRoute<R extends RouteInput> {
  /** The route the user configured (what a match returns). */
  readonly route: R
  /** The id used to break priority ties: the route id, or the derived UUIDv5 of a split part. */
  readonly id: string
  readonly paths: readonly string[] | null
}

/** The priority fields, most significant first; compared lexicographically, higher wins. */
export interface PriorityKey {
  /** Number of non-empty fields among methods, hosts, headers, snis, paths (Kong's bits 61-63). */
  readonly weight: number
  /** Hosts set and none contains `*` (bit 60). */
  readonly plainHostOnly: boolean
  /** Number of header names, capped at 255 (bits 52-59). */
  readonly headerCount: number
  /** The path group is regex (bit 51). */
  readonly regex: boolean
  /** `regex_priority`, counted for regex path groups only (bits 19-50). */
  readonly regexPriority: number
  /** Byte length of the prefix paths of the group (bits 0-18). */
  readonly prefixLength: number
}

const MAX_HEADER_COUNT = 255
const MAX_LENGTH_MASK = 0x7ffff

/** True for a `~`-prefixed (regex) route path. */
export function isRegexPath(path: string): boolean {
  return path.charCodeAt(0) === 0x7e
}

function isEmpty(list: readonly unknown[] | null | undefined): boolean {
  return list === null || list === undefined || list.length === 0
}

/**
 * Splits a route whose paths mix regexes and prefixes, or prefixes of several lengths, into one
 * sub-route per group (all regexes form one group; prefixes group by byte length), in order of
 * first appearance. Sub-route ids are `uuidv5(ns, "<route id>#<group index>")` as in Kong.
 */
export function splitRoute<R extends RouteInput>(route: R): SplitRoute<R>[] {
  const paths = route.paths
  if (paths === null || paths.length <= 1) return [{ route, id: route.id, paths }]
  const groups = new Map<number, string[]>()
  for (const p of paths) {
    const key = isRegexPath(p) ? -1 : Buffer.byteLength(p, 'utf8')
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [p])
    else group.push(p)
  }
  if (groups.size === 1) return [{ route, id: route.id, paths }]
  const out: SplitRoute<R>[] = []
  let index = 0
  for (const group of groups.values()) {
    index++
    out.push({ route, id: uuidv5(SPLIT_ROUTE_NAMESPACE, `${route.id}#${index}`), paths: group })
  }
  return out
}

/** Computes the priority fields of a (split) route. */
export function priorityOf(split: SplitRoute<RouteInput>): PriorityKey {
  const r = split.route
  let weight = 0
  if (!isEmpty(r.methods)) weight++
  if (!isEmpty(r.hosts)) weight++
  let headerCount = r.headers === null ? 0 : Object.keys(r.headers).length
  if (headerCount > 0) weight++
  if (headerCount > MAX_HEADER_COUNT) headerCount = MAX_HEADER_COUNT
  if (!isEmpty(r.snis)) weight++
  // Kong tests `type(hosts) == "table"`: an empty (non-null) list counts as plain.
  const plainHostOnly = r.hosts !== null && r.hosts.every((h) => !h.includes('*'))
  let regex = false
  let prefixLength = 0
  const first = split.paths?.[0]
  if (first !== undefined) {
    weight++
    if (isRegexPath(first)) regex = true
    else prefixLength = Buffer.byteLength(first, 'utf8') & MAX_LENGTH_MASK
  }
  return {
    weight,
    plainHostOnly,
    headerCount,
    regex,
    regexPriority: regex ? r.regex_priority : 0,
    prefixLength,
  }
}

/**
 * Orders two prioritized routes: negative when `a` must be tried before `b`.
 * Equal priorities fall back to the greater id first (Kong's `(priority, uuid)` key);
 * `created_at` plays no part under `traditional_compatible`.
 */
export function comparePriority(a: PriorityKey, aId: string, b: PriorityKey, bId: string): number {
  if (a.weight !== b.weight) return b.weight - a.weight
  if (a.plainHostOnly !== b.plainHostOnly) return a.plainHostOnly ? -1 : 1
  if (a.headerCount !== b.headerCount) return b.headerCount - a.headerCount
  if (a.regex !== b.regex) return a.regex ? -1 : 1
  if (a.regexPriority !== b.regexPriority) return b.regexPriority - a.regexPriority
  if (a.prefixLength !== b.prefixLength) return b.prefixLength - a.prefixLength
  if (aId === bId) return 0
  return aId > bId ? -1 : 1
}
