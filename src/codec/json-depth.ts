/**
 * How deep JSON text nests, measured before parsing: the Admin API, the PDK and the body-reading
 * plugins refuse what Kong's cjson could not decode, and nothing recursive ever sees it.
 *
 * @module
 */

/** cjson's `decode_max_depth` (1000): Kong cannot parse a JSON body nested deeper. */
export const JSON_MAX_DEPTH = 1000

/**
 * Whether JSON text nests arrays/objects deeper than `max`: one pass over the text, strings
 * skipped, so that nothing recursive ever sees a deeper value.
 */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--
  }
  return false
}
