/**
 * Lower-cased header names, remembered. Plugins pass the same few names on every request and
 * upstreams send the same ones: one map lookup gives back the same lower-case string each time,
 * so objects keyed by it need no fresh string and no string-table lookup. Bounded, so that names
 * taken from requests or responses cannot grow it without limit (past the bound names are just
 * lower-cased).
 */
const lowerNames = new Map<string, string>()
const MAX_NAMES = 1024

/** `name.toLowerCase()`, remembered for names seen before. */
export function lowerHeaderName(name: string): string {
  let lower = lowerNames.get(name)
  if (lower === undefined) {
    lower = name.toLowerCase()
    if (lowerNames.size < MAX_NAMES) lowerNames.set(name, lower)
  }
  return lower
}

/** Whether `name` equals the lower-case `lower`, ignoring case (lengths are compared first). */
export function sameHeaderName(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower)
}

/** Removes from a flat `[name, value …]` list every pair whose name is `name`, in any case. */
export function removeHeaderPairs(list: string[], name: string): void {
  const lower = lowerHeaderName(name)
  for (let i = list.length - 2; i >= 0; i -= 2) if (sameHeaderName(list[i] as string, lower)) list.splice(i, 2)
}

/** The first value of `name` (any case) in a flat `[name, value …]` list. */
export function firstHeaderValue(list: readonly string[], name: string): string | undefined {
  const lower = lowerHeaderName(name)
  for (let i = 0; i + 1 < list.length; i += 2) if (sameHeaderName(list[i] as string, lower)) return list[i + 1]
  return undefined
}
